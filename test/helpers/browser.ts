import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { requireBinary } from './binaries.js'

export const chromiumBinary = requireBinary('chromium', 'apt-get update && apt-get install -y chromium')

/** Debian's Chromium, headless, with a fresh profile and no background traffic. */
export async function launchBrowser (): Promise<{ context: BrowserContext, close (): Promise<void> }> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'prov-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumBinary.path,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  })
  return {
    context,
    async close () {
      await context.close()
      await rm(userDataDir, { recursive: true, force: true })
    },
  }
}

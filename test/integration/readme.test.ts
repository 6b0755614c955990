import { spawn } from 'node:child_process'
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startService } from '../helpers/service.js'
import { REPO_ROOT } from '../helpers/entry.js'

/**
 * Every README shell block marked ```sh runnable``` runs as pasted against the
 * embedded default (`npm start`), in order, with KEY set to the demo key the
 * service printed. Only `localhost:3000` is pointed at this test's port.
 */
t.setTimeout(240_000)

/** `npm start` runs in the repository, also when this file runs from the transpiled tree. */
const ROOT = REPO_ROOT

function runnableBlocks (markdown: string): string[] {
  return [...markdown.matchAll(/^```sh runnable\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '')
}

function run (script: string, env: Record<string, string>): Promise<{ code: number | null, out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    child.once('exit', (code) => { resolve({ code, out }) })
  })
}

t.test('the README\'s runnable shell blocks run as pasted against the embedded default', async (t) => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
  const blocks = runnableBlocks(readme)
  t.ok(blocks.length >= 3, `runnable blocks found (${blocks.length})`)
  const service = await startService({})
  t.teardown(() => service.stop('SIGKILL'))
  const port = new URL(service.url).port
  // curl exits 0 on a 4xx: this shim makes an HTTP error fail the block, as a reader would see it fail.
  const shims = await mkdtemp(join(tmpdir(), 'readme-shims-'))
  const realCurl = (await run('command -v curl', {})).out.trim()
  await writeFile(join(shims, 'curl'), `#!/bin/sh\nexec ${realCurl} --fail-with-body -sS "$@"\n`)
  await chmod(join(shims, 'curl'), 0o755)
  for (const block of blocks) {
    const script = block.replaceAll('localhost:3000', `127.0.0.1:${port}`)
    const { code, out } = await run(script, { KEY: service.demoApiKey ?? '', PATH: `${shims}:${process.env.PATH ?? ''}` })
    t.equal(code, 0, `runs: ${block.split('\n')[0] ?? ''}`, { output: out.slice(-2000) })
  }
})

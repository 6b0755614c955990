import { cp, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** tsc emits only JavaScript: Lua scripts and JSON seeds are copied next to it. */
async function copyAssets (dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await copyAssets(path)
    else if (/\.(lua|json)$/.test(entry.name)) await cp(path, join('dist', path))
  }
}

await copyAssets('src')
// Tests run dist/ instead of tsx only when this stamp is newer than every source file.
await writeFile(join('dist', '.built'), `${new Date().toISOString()}\n`)

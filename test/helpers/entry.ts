import { existsSync, readdirSync, statSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * How tests start the project's own entry points as processes: the built
 * JavaScript in dist/ when it is current (`npm test` builds first), otherwise
 * through tsx, so a single test file run by hand still tests the working tree.
 * A cold tsx start transpiles the whole service on every spawn; node on dist/
 * does not, which keeps process-heavy tests off the CPU.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Written by `npm run build` (scripts/copy-assets.ts) when it has finished. */
const STAMP = join(ROOT, 'dist', '.built')

function newestUnder (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs)
  }
  return newest
}

let fresh: boolean | undefined

/** Whether dist/ holds a finished build newer than every file under src/. */
export function builtIsCurrent (): boolean {
  fresh ??= existsSync(STAMP) && statSync(STAMP).mtimeMs >= newestUnder(join(ROOT, 'src'))
  return fresh
}

/** Node arguments that run `script` (a .ts path, absolute or from the project root). */
export function nodeArgsFor (script: string): string[] {
  const rel = relative(ROOT, isAbsolute(script) ? script : join(ROOT, script))
  if (rel.startsWith('src/') && builtIsCurrent()) return [join(ROOT, 'dist', rel.replace(/\.ts$/, '.js'))]
  return ['--import', 'tsx', script]
}

import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * How tests start the project's own entry points as processes. The suite runs
 * either from the repository (TypeScript, e.g. one file by hand with tsx) or
 * from the transpiled tree the test runner writes (scripts/test-run.ts:
 * `.build/test/`, the same tree as JavaScript). In the transpiled tree every
 * entry point has its .js twin beside it; from the repository, dist/ is used
 * when it is current and tsx otherwise. A cold tsx start transpiles the whole
 * service on every spawn; plain node does not, which keeps process-heavy
 * tests off the CPU.
 */

/** The tree this file runs in: the repository, or the transpiled tree. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Whether this tree is the transpiled one (this file itself is JavaScript). */
const TRANSPILED = import.meta.url.endsWith('.js')
/**
 * The repository itself, where `npm start` and the README's commands run: the
 * transpiled tree links package.json from it.
 */
export const REPO_ROOT = dirname(realpathSync(join(ROOT, 'package.json')))
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
  if (TRANSPILED) return [join(ROOT, rel.replace(/\.ts$/, '.js'))]
  if (rel.startsWith('src/') && builtIsCurrent()) return [join(ROOT, 'dist', rel.replace(/\.ts$/, '.js'))]
  return ['--import', 'tsx', script]
}

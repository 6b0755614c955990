import { spawn } from 'node:child_process'
import { cpus } from 'node:os'
import { build } from 'esbuild'
import { cp, mkdir, readdir, rm, symlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'

/**
 * `npm run test:fast`: the suites that start no process, no Redis and no
 * browser, run as plain JavaScript. src/, test/ and scripts/ are transpiled
 * once (esbuild, no type check: `npm run typecheck` does that) into .build/fast/
 * with the same tree, so no test process compiles TypeScript. Each file then
 * runs under plain `node`, two at a time: tap's own runner adds a module-tracking
 * hook to every test process (for coverage and `--changed`) that costs about a
 * second of CPU per file, and this run measures no coverage. Output: one line per
 * file, a failing file's whole TAP output, and tap's summary line.
 */
const OUT = '.build/fast'
const SUITES = ['test/unit', 'test/http', 'test/shapes']
/** Files the code reads from the repository root rather than beside itself. */
const LINKED = ['node_modules', 'package.json', 'openapi', '.env.example']
const FILE_TIMEOUT_MS = 120_000

async function walk (dir: string, sources: string[], assets: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await walk(path, sources, assets)
    else if (entry.name.endsWith('.ts')) sources.push(path)
    else assets.push(path)
  }
}

async function transpile (): Promise<void> {
  await rm(OUT, { recursive: true, force: true })
  await mkdir(OUT, { recursive: true })
  const sources: string[] = []
  const assets: string[] = []
  for (const dir of ['src', 'test', 'scripts']) await walk(dir, sources, assets)
  await build({ entryPoints: sources, outdir: OUT, outbase: '.', format: 'esm', platform: 'node', target: 'node20', sourcemap: 'inline', logLevel: 'warning' })
  for (const asset of assets) await cp(asset, join(OUT, asset))
  for (const name of LINKED) await symlink(resolve(name), join(OUT, name))
}

interface Counts { total: number, pass: number, fail: number, skip: number, todo: number }
interface FileResult { file: string, counts: Counts, ok: boolean, ms: number, output: string }

/** tap's closing line, e.g. `# { total: 60, pass: 59, fail: 1 }`. */
function summary (output: string): Counts {
  const line = output.split('\n').reverse().find((l) => l.startsWith('# { total: ')) ?? ''
  const count = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(line)?.[1] ?? 0)
  return { total: count('total'), pass: count('pass'), fail: count('fail'), skip: count('skip'), todo: count('todo') }
}

function runFile (file: string): Promise<FileResult> {
  const started = Date.now()
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const timer = setTimeout(() => { output += `\n# killed after ${FILE_TIMEOUT_MS} ms\n`; child.kill('SIGKILL') }, FILE_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      const counts = summary(output)
      const ok = code === 0 && counts.fail === 0 && counts.total > 0
      resolveRun({ file, counts, ok, ms: Date.now() - started, output })
    })
  })
}

async function main (): Promise<number> {
  const started = Date.now()
  await transpile()
  const files: string[] = []
  for (const suite of SUITES) {
    for (const name of (await readdir(join(OUT, suite))).sort()) if (name.endsWith('.test.js')) files.push(join(OUT, suite, name))
  }
  const results: FileResult[] = []
  let next = 0
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++] as string
      const result = await runFile(file)
      results.push(result)
      process.stdout.write(`${result.ok ? 'ok' : 'not ok'} ${results.length} - ${file.slice(OUT.length + 1)} # ${result.counts.pass}/${result.counts.total} in ${result.ms} ms\n`)
      if (!result.ok) process.stdout.write(`${result.output}\n`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(2, cpus().length) }, worker))
  const sum = results.reduce((a, r) => ({
    total: a.total + r.counts.total,
    pass: a.pass + r.counts.pass,
    fail: a.fail + r.counts.fail + (r.ok || r.counts.fail > 0 ? 0 : 1),
    skip: a.skip + r.counts.skip,
    todo: a.todo + r.counts.todo,
  }), { total: 0, pass: 0, fail: 0, skip: 0, todo: 0 })
  const extra = [sum.fail ? `fail: ${sum.fail}` : '', sum.skip ? `skip: ${sum.skip}` : '', sum.todo ? `todo: ${sum.todo}` : ''].filter(Boolean)
  process.stdout.write(`\n# ${files.length} files, ${results.filter((r) => !r.ok).length} failing\n# { total: ${sum.total}, pass: ${sum.pass}${extra.map((e) => `, ${e}`).join('')} }\n# time=${Date.now() - started}ms\n`)
  return results.every((r) => r.ok) ? 0 : 1
}

process.exitCode = await main()

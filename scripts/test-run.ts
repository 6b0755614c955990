import { spawn } from 'node:child_process'
import { cpus } from 'node:os'
import { build } from 'esbuild'
import { cp, mkdir, readdir, readFile, rm, symlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'

/**
 * The test runner behind `npm test` (every suite) and `npm run test:fast`
 * (`--fast`: the suites that start no process, no Redis and no browser).
 *
 * src/, test/ and scripts/ are transpiled once (esbuild, no type check:
 * `npm run typecheck` does that) into .build/test/ with the same tree, so no
 * test process, and no process a test starts, compiles TypeScript. Each file
 * then runs under plain `node`, a few at a time, longest first: tap's own
 * runner adds a module-tracking hook to every test process that costs about a
 * second of CPU per file. Output: one line per file, a failing file's whole TAP
 * output, and tap's summary line (`# { total: …, pass: …, fail: … }`).
 *
 * Files run without --enable-source-maps (it slows some Redis failover paths
 * severalfold): a failure's stack names the transpiled file, whose inline source
 * map `node --enable-source-maps .build/test/<file>.js` follows back to the source.
 *
 * `--coverage` collects V8 coverage from every process (tests and the services
 * they start) and checks it against the thresholds in .c8rc.json.
 */
const OUT = '.build/test'
const FAST = ['test/unit', 'test/http', 'test/shapes']
/** Slowest first, so that the long files start at once and the short ones fill the gaps. */
const ALL = ['test/integration', 'test/e2e', 'test/contract', ...FAST]
/** Files the code reads from the repository root rather than beside itself. */
const LINKED = ['node_modules', 'package.json', 'openapi', '.env.example']
const FILE_TIMEOUT_MS = 300_000

const args = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')))
/** Test files named on the command line (e.g. `npm test -- test/unit/config.test.ts`): only those run. */
const named = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const suites = args.has('--fast') ? FAST : ALL
const coverage = args.has('--coverage')
/**
 * Files at a time (TEST_JOBS to choose). Even the in-process suites wait on
 * sockets and timers part of the time, and the process-heavy ones on Redis,
 * children and failovers much of it: more files than cores keep the cores busy.
 */
const jobs = Number(process.env.TEST_JOBS ?? cpus().length + (suites === FAST ? 1 : 2))

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

/** Process groups of the files running now, stopped if this runner is interrupted. */
const running = new Set<number>()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const pgid of running) { try { process.kill(-pgid, 'SIGKILL') } catch { /* already gone */ } }
    process.exit(130)
  })
}

function runFile (file: string, env: NodeJS.ProcessEnv): Promise<FileResult> {
  const started = Date.now()
  return new Promise((resolveRun) => {
    // Its own process group: whatever it started and left running (a service, a
    // Redis) is stopped with it, so no file's leftovers load the next ones.
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true })
    const pgid = child.pid
    if (pgid !== undefined) running.add(pgid)
    const stopGroup = () => {
      if (pgid === undefined) return
      running.delete(pgid)
      try { process.kill(-pgid, 'SIGKILL') } catch { /* the group is gone */ }
    }
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const timer = setTimeout(() => { output += `\n# killed after ${FILE_TIMEOUT_MS} ms\n`; stopGroup() }, FILE_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      stopGroup()
      const counts = summary(output)
      const ok = code === 0 && counts.fail === 0 && counts.total > 0
      resolveRun({ file, counts, ok, ms: Date.now() - started, output })
    })
  })
}

/**
 * Test files of the chosen suites, in each suite the longest first as far as
 * can be told before running: a file that raises its own timeout
 * (`t.setTimeout(300_000)`) says it is long; among the rest, the larger first.
 */
async function testFiles (): Promise<string[]> {
  if (named.length > 0) return named.map((f) => join(OUT, f.replace(/\.ts$/, '.js')))
  const files: string[] = []
  for (const suite of suites) {
    const dir = join(OUT, suite)
    const costed = await Promise.all((await readdir(dir)).filter((n) => n.endsWith('.test.js')).map(async (n) => {
      const source = await readFile(join(suite, n.replace(/\.js$/, '.ts')), 'utf8')
      const declared = Number(/^t\.setTimeout\((\d[\d_]*)\)/m.exec(source)?.[1]?.replaceAll('_', '') ?? 0)
      return { path: join(dir, n), declared, size: source.length }
    }))
    files.push(...costed.sort((a, b) => b.declared - a.declared || b.size - a.size || a.path.localeCompare(b.path)).map((f) => f.path))
  }
  return files
}

/** c8's report over the V8 coverage every process wrote; fails below the thresholds in .c8rc.json. */
function reportCoverage (dir: string): Promise<boolean> {
  return new Promise((resolveReport) => {
    const c8 = spawn(process.execPath, [resolve('node_modules/c8/bin/c8.js'), 'report', '--temp-directory', dir], { stdio: 'inherit' })
    c8.on('close', (code) => resolveReport(code === 0))
  })
}

async function main (): Promise<number> {
  const started = Date.now()
  await transpile()
  const files = await testFiles()
  const coverageDir = resolve(OUT, '.coverage')
  // tap's root timeout as .taprc sets it for tap's own runner (30 s otherwise); a file's own t.setTimeout still wins.
  const env: NodeJS.ProcessEnv = { TAP_TIMEOUT: '120', ...process.env, ...(coverage ? { NODE_V8_COVERAGE: coverageDir } : {}) }
  const results: FileResult[] = []
  let next = 0
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++] as string
      const result = await runFile(file, env)
      results.push(result)
      process.stdout.write(`${result.ok ? 'ok' : 'not ok'} ${results.length} - ${file.slice(OUT.length + 1)} # ${result.counts.pass}/${result.counts.total} in ${result.ms} ms\n`)
      if (!result.ok) process.stdout.write(`${result.output}\n`)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, files.length)) }, worker))
  const covered = coverage ? await reportCoverage(coverageDir) : true
  const sum = results.reduce((a, r) => ({
    total: a.total + r.counts.total,
    pass: a.pass + r.counts.pass,
    fail: a.fail + r.counts.fail + (r.ok || r.counts.fail > 0 ? 0 : 1),
    skip: a.skip + r.counts.skip,
    todo: a.todo + r.counts.todo,
  }), { total: 0, pass: 0, fail: 0, skip: 0, todo: 0 })
  const extra = [sum.fail ? `fail: ${sum.fail}` : '', sum.skip ? `skip: ${sum.skip}` : '', sum.todo ? `todo: ${sum.todo}` : ''].filter(Boolean)
  process.stdout.write(`\n# ${files.length} files, ${results.filter((r) => !r.ok).length} failing${covered ? '' : ', coverage below its thresholds'}\n# { total: ${sum.total}, pass: ${sum.pass}${extra.map((e) => `, ${e}`).join('')} }\n# time=${Date.now() - started}ms\n`)
  return results.every((r) => r.ok) && covered ? 0 : 1
}

process.exitCode = await main()

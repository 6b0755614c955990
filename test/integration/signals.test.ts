import { spawn } from 'node:child_process'
import t, { type Test } from 'tap'
import { freePort } from '../helpers/redis.js'
import { REPO_ROOT } from '../helpers/entry.js'

/**
 * `npm start` under a supervisor: a stop signal sent to the process group (the
 * launcher and the service both get it, and npm forwards it again) or to npm's
 * pid alone ends in one graceful shutdown, a final "shutdown complete" line and
 * no process left behind.
 */
t.setTimeout(120_000)

/** `npm start` runs in the repository, also when this file runs from the transpiled tree. */
const ROOT = REPO_ROOT

function groupAlive (pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

async function npmStart (t: Test) {
  const port = await freePort()
  // Its own process group, as under a supervisor or a terminal.
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), LOG_PRETTY: 'false', LOG_LEVEL: 'info', _TAPJS_PROCESSINFO_COVERAGE_: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const pgid = child.pid ?? 0
  t.teardown(() => { if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL') })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  // 'close', not 'exit': the service holds npm's stdout too, and its last lines
  // may still be in the pipe when npm itself has exited.
  const exited = new Promise<void>((resolve) => child.once('close', () => { resolve() }))
  const deadline = Date.now() + 60_000
  while (!out.includes('"msg":"listening on') && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 100))
  t.ok(out.includes('"msg":"listening on'), 'the service started', out.includes('"msg":"listening on') ? {} : { exitCode: child.exitCode, output: out })
  return { pgid, npmPid: pgid, exited, output: () => out }
}

/** Waits until every process of the group is gone, for at most `ms`. */
async function groupGone (pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  return !groupAlive(pgid)
}

function logLines (out: string): Array<{ msg: string }> {
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string })
}

for (const target of ['process group', 'npm pid'] as const) {
  t.test(`SIGTERM to the ${target} of npm start: one graceful shutdown, nothing left running`, async (t) => {
    const s = await npmStart(t)
    process.kill(target === 'process group' ? -s.pgid : s.npmPid, 'SIGTERM')
    await s.exited
    t.ok(await groupGone(s.pgid, 20_000), 'no process of the group is left (the server is not orphaned)')
    const msgs = logLines(s.output()).map((l) => l.msg)
    t.equal(msgs.filter((m) => m === 'shutting down').length, 1, 'one shutdown')
    t.notOk(s.output().includes('second SIGTERM'), 'a duplicate signal is not taken as "force"')
    t.equal(msgs.at(-1), 'shutdown complete', 'the last line says the shutdown completed')
  })
}

import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { nodeArgsFor } from './entry.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface RunningCli {
  child: ChildProcess
  out (): string
  err (): string
  /** The exit code, once the process ends. */
  exited: Promise<number | null>
  /** Waits (at most `timeoutMs`) until `done(out, err)` holds or the process ends. */
  until (done: (out: string, err: string) => boolean, timeoutMs?: number): Promise<void>
}

/** Runs one of the project's entry points as its own process (see `nodeArgsFor`); killed at teardown. */
export function runTsx (t: Test, script: string, args: string[] = [], env: Record<string, string> = {}): RunningCli {
  // tap's coverage is switched off in the child: tsx's transform would map its lines wrongly.
  const child = spawn(process.execPath, [...nodeArgsFor(script), ...args], {
    cwd: ROOT,
    env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { err += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    async until (done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      while (!done(out, err) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50))
    },
  }
}

/**
 * One graceful shutdown per stop, whatever the supervisor does. A signal sent
 * to a process group reaches the service and its launcher (npm, a shell), and
 * launchers forward it again: the service sees the same SIGTERM twice within
 * milliseconds. Treating the second as "force" (close-with-grace does) leaves
 * jobs half-done until their locks lapse. Here every further signal during the
 * grace period is ignored; only the grace deadline forces an exit.
 */

export interface ShutdownLogger {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

export interface ShutdownOptions {
  graceMs: number
  logger: ShutdownLogger
  /** Stops intake and finishes or hands back work in flight. */
  close (): Promise<void>
  /** Called last, after the final log line; `process.exit` in the process. */
  exit (code: number): void
  /** Flushes buffered log output before `exit`. */
  flush?: () => Promise<void>
  now?: () => number
}

export interface Shutdown {
  /** Starts the shutdown (first call) or notes and ignores a duplicate. */
  begin (reason: { signal?: string, err?: unknown }): void
  /** Resolves once the shutdown has finished (or the grace period forced it). */
  readonly done: Promise<void>
}

export function createShutdown (opts: ShutdownOptions): Shutdown {
  const now = opts.now ?? Date.now
  let started: number | undefined
  let resolveDone: () => void = () => {}
  const done = new Promise<void>((resolve) => { resolveDone = resolve })

  async function finish (code: number, message: string, fields: object): Promise<void> {
    if (code === 0) opts.logger.info(fields, message)
    else opts.logger.error(fields, message)
    await opts.flush?.().catch(() => {})
    resolveDone()
    opts.exit(code)
  }

  return {
    done,
    begin ({ signal, err }) {
      if (started !== undefined) {
        opts.logger.info({ signal, elapsedMs: now() - started }, 'already shutting down; signal ignored')
        return
      }
      started = now()
      const t0 = started
      if (err !== undefined) opts.logger.error({ err }, 'shutting down after an unexpected error')
      else opts.logger.info({ signal, graceMs: opts.graceMs }, 'shutting down')
      let settled = false
      const timer = setTimeout(() => {
        if (settled) return
        settled = true
        void finish(1, 'shutdown grace period elapsed; exiting with work still in flight', { graceMs: opts.graceMs })
      }, opts.graceMs)
      opts.close().then(
        () => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          void finish(err === undefined ? 0 : 1, 'shutdown complete', { durationMs: now() - t0 })
        },
        (closeErr: unknown) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          void finish(1, 'shutdown failed', { err: closeErr, durationMs: now() - t0 })
        },
      )
    },
  }
}

/** The signals that ask this process to stop. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

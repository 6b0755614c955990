import type { FastifyBaseLogger } from 'fastify'
import { errors } from '../errors.js'
import { asError } from '../lib/failure-log.js'

/**
 * Whether Genesys Cloud accepts this service's OAuth client. Checked once at
 * startup and again every interval: while the token endpoint refuses the
 * client, intake answers 503 with Retry-After (work accepted now would only
 * wait) and readiness fails; when the credentials work again, both recover
 * without a restart.
 */
export interface CredentialsCheck {
  /** Asks the token endpoint once and records the answer. */
  check (): Promise<void>
  /** Throws the 503 intake answers while the credentials are refused. */
  assertAccepted (): void
  /** For readiness. */
  state (): 'unknown' | 'accepted' | 'refused'
  start (): void
  stop (): void
}

export interface CredentialsCheckOptions {
  /** Obtains a token (cached tokens count: they were accepted). */
  probe: () => Promise<unknown>
  /** True for an error that means "the token endpoint refuses this client". */
  isRefusal: (err: unknown) => boolean
  logger: Pick<FastifyBaseLogger, 'error' | 'info' | 'warn'>
  intervalMs: number
  /** Names the client and the login origin in log lines, never the secret. */
  describe: string
  /** What an operator fixes, e.g. "GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET". */
  variables?: string
}

export function createCredentialsCheck (opts: CredentialsCheckOptions): CredentialsCheck {
  let state: 'unknown' | 'accepted' | 'refused' = 'unknown'
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  const retryAfterSeconds = Math.ceil(opts.intervalMs / 1000)

  async function once (): Promise<void> {
    try {
      await opts.probe()
      if (state === 'refused') opts.logger.info({ genesys: opts.describe }, 'Genesys Cloud accepts the OAuth client credentials again; intake is open')
      state = 'accepted'
    } catch (err) {
      if (!opts.isRefusal(err)) {
        // Unreachable or slow is not a verdict on the credentials; jobs retry on their own.
        opts.logger.warn({ err: asError(err), genesys: opts.describe }, 'Genesys credentials could not be checked')
        return
      }
      if (state !== 'refused') {
        opts.logger.error({ err: asError(err), genesys: opts.describe }, `Genesys Cloud refuses the OAuth client credentials (${opts.describe}): fix ${opts.variables ?? 'GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET'}; until then the work going out with it is not accepted and intake answers 503 (checked again every ${retryAfterSeconds} s)`)
      }
      state = 'refused'
    }
  }

  return {
    check () {
      running ??= once().finally(() => { running = undefined })
      return running
    },
    assertAccepted () {
      if (state === 'refused') {
        throw errors.unavailable('Genesys Cloud currently refuses the OAuth client credentials this work goes out with; nothing was accepted. Retry later.', retryAfterSeconds)
      }
    },
    state: () => state,
    start () {
      void this.check()
      timer = setInterval(() => { void this.check() }, opts.intervalMs)
      timer.unref()
    },
    stop () {
      clearInterval(timer)
    },
  }
}

import { isGenesysError, type GenesysError } from '../../src/genesys/errors.js'
import type { FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import { createGenesysConnection, type GenesysConnection, type GenesysConnectionOptions } from '../../src/genesys/connection.js'
import { createMemoryRateBudget } from '../../src/genesys/budget/memory.js'
import { createMemoryTokenProvider } from '../../src/genesys/token/memory.js'
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js'

export interface SimAndClient {
  sim: Simulator
  genesys: GenesysConnection
  events: string[]
  close (): Promise<void>
}

/** A simulator and a Genesys connection to it over real HTTP (memory token provider and budget unless overridden). */
export async function simAndClient (opts: {
  sim?: SimulatorOptions
  perMinute?: number
  logger?: FastifyBaseLogger
  connection?: Partial<GenesysConnectionOptions>
  credentials?: { clientId: string, clientSecret: string }
} = {}): Promise<SimAndClient> {
  const sim = await createSimulator(opts.sim)
  const events: string[] = []
  const genesys = connectionTo(sim, { ...opts, onEvent: (e, op) => events.push(`${e} ${op}`) })
  return {
    sim,
    genesys,
    events,
    async close () {
      await genesys.close()
      await sim.close()
    },
  }
}

/** The environment that points a service process at a simulator, with a budget that never paces a test. */
/** A Genesys connection to a running simulator, with its own memory token cache and budget. */
export function connectionTo (sim: Pick<Simulator, 'url' | 'credentials'>, opts: { perMinute?: number, logger?: FastifyBaseLogger, connection?: Partial<GenesysConnectionOptions>, credentials?: { clientId: string, clientSecret: string }, onEvent?: (e: string, op: string) => void } = {}) {
  return createGenesysConnection({
    apiUrl: sim.url,
    loginUrl: sim.url,
    ...(opts.credentials ?? sim.credentials),
    timeouts: { connectMs: 2000, headersMs: 5000, bodyMs: 5000 },
    maxConnections: 16,
    logger: opts.logger ?? pino({ enabled: false }),
    tokenProvider: (fetchToken) => createMemoryTokenProvider({ fetchToken }),
    budget: createMemoryRateBudget({ perMinute: opts.perMinute ?? 100_000 }),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...opts.connection,
  })
}

export function simulatorEnv (sim: Pick<Simulator, 'url' | 'credentials'>, clientSecret = sim.credentials.clientSecret): Record<string, string> {
  return {
    GENESYS_API_URL: sim.url,
    GENESYS_LOGIN_URL: sim.url,
    GENESYS_CLIENT_ID: sim.credentials.clientId,
    GENESYS_CLIENT_SECRET: clientSecret,
    GENESYS_RATE_LIMIT_PER_MINUTE: '100000',
  }
}

/** The GenesysError a promise rejects with (anything else is re-thrown; fulfilment fails the test). */
export async function rejection (p: Promise<unknown>): Promise<GenesysError> {
  try {
    await p
  } catch (err) {
    if (isGenesysError(err)) return err
    throw err
  }
  throw new Error('expected a GenesysError')
}

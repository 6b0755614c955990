import type { FastifyBaseLogger } from 'fastify'
import { createGenesysClient, type GenesysClient } from './client.js'
import { createApiCaller, createPools, type ApiCallerOptions, type ApiEvent, type GenesysTimeouts } from './http.js'
import type { FetchToken, RateBudget, TokenProvider } from './ports.js'
import { createTokenFetch } from './token/fetch.js'

export interface GenesysConnectionOptions {
  apiUrl: string
  loginUrl: string
  clientId: string
  clientSecret: string
  /** The variables holding the credentials, named when Genesys refuses them. */
  credentialsVariables?: string
  timeouts: GenesysTimeouts
  maxConnections: number
  logger: FastifyBaseLogger
  /** Builds the token provider twin (memory or Redis) around the real fetch. */
  tokenProvider: (fetchToken: FetchToken) => TokenProvider
  budget: RateBudget
  /** How long one call may wait for a rate-budget slot. */
  budgetWaitMs?: number
  /** Counts calls, 429s, 401 retries, errors and token fetches (the metrics layer listens). */
  onEvent?: (e: ApiEvent | 'token-fetch', operation: string) => void
  onCall?: ApiCallerOptions['onCall']
  onBudgetWait?: ApiCallerOptions['onBudgetWait']
}

export interface GenesysConnection {
  client: GenesysClient
  tokens: TokenProvider
  budget: RateBudget
  close (): Promise<void>
}

/** Pools, token provider, rate budget and operations for one Genesys OAuth client. */
export function createGenesysConnection (opts: GenesysConnectionOptions): GenesysConnection {
  const logger = opts.logger.child({ module: 'genesys' })
  const pools = createPools([opts.apiUrl, opts.loginUrl], { timeouts: opts.timeouts, maxConnections: opts.maxConnections })
  const fetchToken = createTokenFetch({
    pools,
    loginUrl: opts.loginUrl,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    ...(opts.credentialsVariables !== undefined ? { variables: opts.credentialsVariables } : {}),
    onFetch: () => opts.onEvent?.('token-fetch', 'oauth.token'),
  })
  const tokens = opts.tokenProvider(fetchToken)
  const call = createApiCaller({
    pools,
    apiUrl: opts.apiUrl,
    tokens,
    budget: opts.budget,
    logger,
    budgetWaitMs: opts.budgetWaitMs,
    onEvent: opts.onEvent,
    onCall: opts.onCall,
    onBudgetWait: opts.onBudgetWait,
  })
  return {
    client: createGenesysClient(call),
    tokens,
    budget: opts.budget,
    async close () {
      await tokens.close()
      await opts.budget.close()
      await pools.close()
    },
  }
}

import type { FaultController } from './faults.js'
import type { TokenStore } from './oauth.js'
import type { SimRequestLog } from './request-log.js'
import type { SimState } from './state.js'

/** What every route module needs, built once in `createSimulator`. */
export interface SimContext {
  state: SimState
  clock: () => number
  /** The clock as an ISO timestamp (created/modified dates). */
  nowIso (): string
  faults: FaultController
  tokens: TokenStore
  /** `http://127.0.0.1:<port>`: known once listening; used in `meta.location` and `selfUri`. */
  baseUrl (): string
  scimMaxCount: number | null
  tokenLifetimeSeconds: number
}

/** Per-request bookkeeping set by the simulator's onRequest hook. */
export interface RequestContext {
  correlationId: string
  start: number
  kind: 'admin' | 'token' | 'api' | 'other'
  auth: 'basic' | 'bearer' | 'none'
  clientId?: string
  /** The caller's granted permissions (API requests with a valid token). */
  permissions?: readonly string[]
  /** Faults apply to this request (the `match` filter passed). */
  faulted: boolean
  fault?: SimRequestLog['fault']
}

declare module 'fastify' {
  interface FastifyRequest {
    genesysSim: RequestContext
  }
  interface FastifyContextConfig {
    /** The permission a route needs, checked before its handler. */
    permission?: string
  }
}

import type { FastifyRequest } from 'fastify'
import type { FaultController } from './faults.js'
import { holdsIn, missingPermissionIn, type TokenStore } from './tokens.js'
import type { SimRequestLog } from './request-log.js'
import type { SeedClient } from './seed.js'
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

/**
 * The OAuth client needs `permission` in `divisionId` (a create, edit or grant
 * there): 403 naming both when its grants do not cover that division.
 */
export function requireInDivision (ctx: SimContext, req: FastifyRequest, permission: string, divisionId: string): void {
  const client = req.genesysSim.client
  const division = ctx.state.divisions.get(divisionId)
  if (client === undefined || division === undefined) return
  if (!holdsIn(client, permission, division.name)) throw missingPermissionIn(permission, division)
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
  /** The calling OAuth client (API requests with a valid token): handlers check per-division permissions on it. */
  client?: SeedClient
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

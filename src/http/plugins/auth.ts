import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuthenticatedClient, ClientRegistry, Scope } from '../../config/clients.js'
import { errors } from '../../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The API client behind the bearer key; set on every authenticated route. */
    client?: AuthenticatedClient
  }
  interface FastifyContextConfig {
    /**
     * `false`: the route is public (health, docs). Otherwise the scope the caller
     * needs; `null` means any authenticated client. Scopes are independent: no
     * scope implies another.
     */
    scope?: Scope | null | false
  }
}

export const BEARER_SECURITY = [{ bearerAuth: [] }]

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/i

export function bearerKey (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header !== 'string') return undefined
  return BEARER.exec(header)?.[1]
}

/**
 * Authenticates every route that does not opt out with `config.scope: false`:
 * 401 without a key or with an unknown one, 403 when the client lacks the scope.
 */
export function registerAuth (app: FastifyInstance, opts: { clients: ClientRegistry }): void {
  app.decorateRequest('client', undefined)
  app.addHook('onRequest', async (request) => {
    const configured = request.routeOptions.config.scope
    // Default-deny for the API surface: a /v1 or /admin route without a declared
    // scope still needs a valid key. Docs, health and unknown paths are public.
    const url = request.routeOptions.url ?? ''
    const scope = configured === undefined && (url.startsWith('/v1/') || url.startsWith('/admin')) ? null : configured
    if (scope === false || scope === undefined) return
    const key = bearerKey(request)
    const client = key === undefined ? undefined : opts.clients.authenticate(key)
    if (!client) throw errors.unauthenticated()
    request.client = client
    request.log = request.log.child({ clientId: client.id })
    if (scope !== null && !client.scopes.includes(scope)) {
      throw errors.forbidden(`This API key lacks the "${scope}" scope.`)
    }
  })
}

/** The authenticated client of a route that requires one (auth ran in onRequest). */
export function requireClient (request: FastifyRequest): AuthenticatedClient {
  if (!request.client) throw errors.unauthenticated()
  return request.client
}

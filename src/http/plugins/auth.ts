import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthenticatedClient, ClientRegistry, Scope } from '../../config/clients.js'
import { errors, isProvisioningError } from '../../errors.js'
import { sendProblem } from './errors.js'
import { looksLikeJwt, type JwtVerifier } from './jwt.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The API client behind the bearer key or JWT; set on every authenticated route. */
    client?: AuthenticatedClient
  }
  interface FastifyContextConfig {
    /**
     * `false`: the route is public (health, docs). Otherwise the scope the caller
     * needs, or a list of which it needs any one; `null` means any authenticated
     * client. Scopes are independent: no scope implies another.
     */
    scope?: Scope | readonly Scope[] | null | false
    /**
     * On a public route: a presented key is still looked up, so the handler can
     * show more to an authenticated caller. A missing or unknown key is no error.
     */
    identifyIfPresent?: boolean
  }
}

export const BEARER_SECURITY = [{ bearerAuth: [] }]

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/i

/** Identity providers' JWTs run past an API key's 512 characters. */
const BEARER_JWT = /^Bearer ([A-Za-z0-9_.-]{1,8192})$/i

const BASIC = /^Basic ([A-Za-z0-9+/=]{1,1400})$/i

/** Operator pages a browser opens directly: they also take the key as a Basic password. */
const BROWSER_PAGES = '/admin/'

export function bearerKey (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header !== 'string') return undefined
  return BEARER.exec(header)?.[1]
}

/** The key a request presents: a bearer key, or on operator pages the password of Basic credentials. */
function presentedKey (request: FastifyRequest, url: string): string | undefined {
  const bearer = bearerKey(request)
  if (bearer !== undefined || !url.startsWith(BROWSER_PAGES)) return bearer
  const basic = BASIC.exec(request.headers.authorization ?? '')?.[1]
  if (basic === undefined) return undefined
  const decoded = Buffer.from(basic, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon === -1 ? undefined : decoded.slice(colon + 1)
}

/** A bearer JWT, when JWT authentication is on and the bearer value has a JWT's shape. */
function presentedJwt (request: FastifyRequest): string | undefined {
  const token = BEARER_JWT.exec(request.headers.authorization ?? '')?.[1]
  return token !== undefined && looksLikeJwt(token) ? token : undefined
}

/**
 * Authenticates every route that does not opt out with `config.scope: false`:
 * 401 without a key or with an unknown one, 403 when the client lacks the scope.
 * With `jwt`, a bearer value shaped like a JWT is verified as one instead of
 * being looked up as an API key (generated keys never contain a dot).
 */
export function registerAuth (app: FastifyInstance, opts: { clients: ClientRegistry, jwt?: JwtVerifier, onRefused?: (request: FastifyRequest, reply: FastifyReply) => Promise<void> }): void {
  app.decorateRequest('client', undefined)
  app.addHook('onRequest', async (request, reply) => {
    try {
      await authenticate(request, reply)
    } catch (err) {
      if (!isProvisioningError(err)) throw err
      let answer = err
      // Key guessing is limited per IP: past the limit a refused key gets 429.
      if (err.status === 401 && opts.onRefused) {
        try {
          await opts.onRefused(request, reply)
        } catch (limited) {
          if (isProvisioningError(limited)) answer = limited
          else throw limited
        }
      }
      // Answered here rather than thrown: plugins with their own error handler
      // (the queue dashboard) would otherwise turn a 401 into their own 500.
      return sendProblem(reply, answer, request.id)
    }
  })

  async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const configured = request.routeOptions.config.scope
    // Default-deny for the API surface: a /v1 or /admin route without a declared
    // scope still needs a valid key. Docs, health and unknown paths are public.
    const url = request.routeOptions.url ?? ''
    const scope = configured === undefined && (url.startsWith('/v1/') || url.startsWith('/admin')) ? null : configured
    if (scope === false || scope === undefined) {
      if (request.routeOptions.config.identifyIfPresent === true && request.headers.authorization !== undefined) {
        request.client = await identify(request, url).catch(() => undefined)
        // A refused key counts against the caller's key-guessing limit here too
        // (past it: 429); below it the request goes on as anonymous.
        if (!request.client) await opts.onRefused?.(request, reply)
      }
      return
    }
    const client = await identify(request, url)
    if (!client) {
      // A browser shows its login prompt for a Basic challenge.
      throw url.startsWith(BROWSER_PAGES)
        ? errors.unauthenticated('An admin API key is required: as a bearer key, or in a browser as the password of the login prompt.', 'Basic realm="Genesys provisioning operators", charset="UTF-8"')
        : errors.unauthenticated()
    }
    request.client = client
    request.log = request.log.child({ clientId: client.id })
    const accepted: readonly Scope[] = scope === null ? [] : typeof scope === 'string' ? [scope] : scope
    if (accepted.length > 0 && !accepted.some((a) => client.scopes.includes(a))) {
      throw errors.forbidden(`This ${client.id.startsWith('jwt:') ? 'token' : 'API key'} lacks the ${accepted.map((a) => `"${a}"`).join(' or ')} scope.`)
    }
  }

  async function identify (request: FastifyRequest, url: string): Promise<AuthenticatedClient | undefined> {
    const token = opts.jwt ? presentedJwt(request) : undefined
    if (opts.jwt && token !== undefined) {
      const outcome = await opts.jwt(token).catch((err: unknown) => {
        // The JWKS is unreachable or broken: the operator must hear of it, the caller gets a 503.
        request.log.error({ err }, 'bearer JWT could not be verified')
        throw err
      })
      if ('client' in outcome) return outcome.client
      request.log.info({ reason: outcome.refused }, 'bearer JWT refused')
      return undefined
    }
    const key = presentedKey(request, url)
    return key === undefined ? undefined : opts.clients.authenticate(key)
  }
}

/** The authenticated client of a route that requires one (auth ran in onRequest). */
export function requireClient (request: FastifyRequest): AuthenticatedClient {
  if (!request.client) throw errors.unauthenticated()
  return request.client
}

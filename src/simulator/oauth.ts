import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { rateLimitError, SimError } from './errors.js'
import type { SimContext } from './context.js'

/**
 * The login host: client-credentials grant only, credentials in Basic auth,
 * opaque tokens with a per-client lifetime, revocable on demand.
 */

export type AuthKind = 'basic' | 'bearer' | 'none'

export function authKind (header: string | undefined): AuthKind {
  if (header === undefined) return 'none'
  const scheme = header.slice(0, header.indexOf(' ')).toLowerCase()
  return scheme === 'basic' ? 'basic' : scheme === 'bearer' ? 'bearer' : 'none'
}

const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

// OAuth errors on the login host are RFC 6749 bodies, not ErrorBody.
const oauthError = (status: number, error: string, description: string) => ({ status, body: { error, description } })

function parseBasic (header: string | undefined): { id: string, secret: string } | undefined {
  if (header === undefined || authKind(header) !== 'basic') return undefined
  const decoded = Buffer.from(header.slice(header.indexOf(' ') + 1).trim(), 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i <= 0) return undefined
  return { id: decoded.slice(0, i), secret: decoded.slice(i + 1) }
}

export function registerOAuth (app: FastifyInstance, ctx: SimContext): void {
  app.post('/oauth/token', async (req, reply) => {
    const outage = ctx.faults.current.tokenOutage
    if (outage !== 0 && req.genesysSim.faulted) {
      req.genesysSim.fault = 'tokenOutage'
      if (outage === 429) throw rateLimitError(ctx.faults.current.retryAfterSeconds)
      throw new SimError(outage, outage >= 500 ? 'service.unavailable' : 'bad.request', `The login service answered ${outage} (simulated outage)`)
    }
    const creds = parseBasic(req.headers.authorization)
    const fail = (e: { status: number, body: unknown }) => reply.code(e.status).send(e.body)
    if (creds === undefined) return fail(oauthError(400, 'invalid_client', 'client authentication required (HTTP Basic)'))
    const client = ctx.state.clients.find((c) => c.clientId === creds.id)
    if (client === undefined) return fail(oauthError(400, 'invalid_client', 'client not found'))
    req.genesysSim.clientId = client.clientId
    if (!safeEqual(client.clientSecret, creds.secret)) return fail(oauthError(400, 'invalid_client', 'authentication failed'))
    const body = req.body as Record<string, unknown> | undefined
    const grant = body?.grant_type
    if (grant === undefined) return fail(oauthError(400, 'invalid_request', 'grant_type is required'))
    if (grant !== 'client_credentials') return fail(oauthError(400, 'unsupported_grant_type', `grant type ${String(grant)} is not supported`))
    const issued = ctx.tokens.issue(client, client.tokenLifetimeSeconds ?? ctx.tokenLifetimeSeconds)
    reply.header('cache-control', 'no-store')
    return { access_token: issued.token, token_type: 'bearer', expires_in: issued.expiresIn }
  })
}

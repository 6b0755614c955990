import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import { SCOPES, sha256Hex, type AuthenticatedClient, type Scope } from '../../config/clients.js'
import type { JwtAuthConfig } from '../../config/load-config.js'
import { ProvisioningError } from '../../errors.js'

/**
 * Bearer JWTs issued by the enterprise's identity provider, as a second way in
 * besides API keys. The token names the client, its scopes and its divisions;
 * the identity provider's JWKS (fetched and cached) proves it.
 */

/** Most `exp`/`nbf` skew accepted between the identity provider's clock and ours. */
export const JWT_CLOCK_TOLERANCE_SECONDS = 30

const JWKS_TIMEOUT_MS = 5_000
/** Least time between two JWKS fetches, so unknown `kid`s cannot hammer the identity provider. */
const JWKS_COOLDOWN_MS = 30_000

/** Three base64url parts; the last may be empty (an unsigned token, refused later). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/

export function looksLikeJwt (value: string): boolean {
  return JWT_SHAPE.test(value)
}

/** Token problems the caller can fix: 401. Anything else (JWKS unreachable or broken) is ours: 503. */
const TOKEN_ERRORS: ReadonlyArray<new (...args: never[]) => Error> = [
  joseErrors.JWTClaimValidationFailed,
  joseErrors.JWTExpired,
  joseErrors.JWTInvalid,
  joseErrors.JWSInvalid,
  joseErrors.JWSSignatureVerificationFailed,
  joseErrors.JOSEAlgNotAllowed,
  joseErrors.JOSENotSupported,
  joseErrors.JWKSNoMatchingKey,
  joseErrors.JWKSMultipleMatchingKeys,
]

export type JwtOutcome =
  | { client: AuthenticatedClient }
  /** `reason` is for logs: a jose error code or which claim was wrong, never token content. */
  | { refused: string }

export type JwtVerifier = (token: string) => Promise<JwtOutcome>

/**
 * Verifies signature (keys from the JWKS, algorithms from the allow-list only),
 * `iss`, `aud`, `exp` (required), `nbf` and, when configured, the `typ` header.
 * Throws a 503 problem when the JWKS cannot be fetched.
 */
export function createJwtVerifier (config: JwtAuthConfig): JwtVerifier {
  const jwks = createRemoteJWKSet(new URL(config.jwksUrl), {
    timeoutDuration: JWKS_TIMEOUT_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
  })
  return async (token) => {
    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: config.algorithms,
        clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp'],
        ...(config.typ !== undefined ? { typ: config.typ } : {}),
      }))
    } catch (err) {
      if (TOKEN_ERRORS.some((type) => err instanceof type)) return { refused: (err as joseErrors.JOSEError).code }
      throw new ProvisioningError('PROV_ERR_UNAVAILABLE', 503, 'Service unavailable', 'The identity provider\'s signing keys could not be fetched; retry later.', { retryAfter: 30, cause: err })
    }
    return clientFromClaims(payload, config)
  }
}

/** The client a verified token stands for; exported for table tests. */
export function clientFromClaims (payload: JWTPayload, config: Pick<JwtAuthConfig, 'clientClaim' | 'divisionsClaim'>): JwtOutcome {
  const name = payload[config.clientClaim]
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024) return { refused: `claim ${config.clientClaim} missing or not a string` }
  const divisions = divisionsOf(payload[config.divisionsClaim])
  if (divisions === undefined) return { refused: `claim ${config.divisionsClaim} is neither "*" nor an array of division names` }
  return {
    client: {
      id: clientId(name),
      name: name.slice(0, 200),
      scopes: scopesOf(payload),
      divisions,
    },
  }
}

/**
 * `jwt:` keeps these ids apart from the clients file's (whose pattern has no
 * colon). A claim that does not fit the id pattern is folded into it, with a
 * digest of the original so that two distinct claims never share an id (and so
 * never see each other's requests).
 */
function clientId (claim: string): string {
  if (ID_PATTERN.test(claim)) return `jwt:${claim}`
  const folded = claim.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').slice(0, 48).replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
  const digest = sha256Hex(claim).slice(0, 12)
  return `jwt:${folded === '' ? '' : `${folded}.`}${digest}`
}

/** `scope` (space-separated, RFC 9068) or else `scp` (string or array); unknown scopes are dropped. */
function scopesOf (payload: JWTPayload): Scope[] {
  const raw = payload.scope ?? payload.scp
  const values = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw : []
  return SCOPES.filter((scope) => values.includes(scope))
}

function divisionsOf (claim: unknown): AuthenticatedClient['divisions'] | undefined {
  if (claim === undefined) return []
  if (claim === '*') return '*'
  if (!Array.isArray(claim) || !claim.every((d): d is string => typeof d === 'string' && d.length > 0 && d.length <= 200)) return undefined
  return [...new Set(claim)]
}

import { createHmac, createPublicKey, type JsonWebKey as NodeJwk } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose'
import Provider from 'oidc-provider'
import t, { type Test } from 'tap'
import { createClientRegistry, sha256Hex, type ApiClient } from '../../src/config/clients.js'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import type { DryRunResult } from '../../src/provisioning/model.js'
import { clientFromClaims, looksLikeJwt } from '../../src/http/plugins/jwt.js'
import { staticChecks } from '../../src/provisioning/checks/static-checks.js'
import { createProvisioningService } from '../../src/provisioning/service.js'
import { createMemoryIdempotencyStore, createMemoryRequestStore, createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'
import { buildTestApp } from '../helpers/app.js'
import { INTAKE_ANSWERS } from '../../src/http/views/provisioning.js'

/**
 * Bearer JWTs end to end: a real OAuth 2 authorization server (oidc-provider)
 * issues RFC 9068 JWT access tokens with the client-credentials grant; the
 * service verifies them against the server's JWKS over loopback. Tokens the
 * server would never issue (expired, unsigned, forged) are made here and signed
 * with keys served from a second, minimal JWKS endpoint.
 */

const AUDIENCE = 'https://provisioning.example.test/'
const API_KEY = 'gpk_jwt_suite_key_0123456789abcdefghijklmnopq'
const FILE_CLIENTS: ApiClient[] = [
  { id: 'hris-file', name: 'File client', keySha256: sha256Hex(API_KEY), scopes: ['provisioning:read'], divisions: '*' },
]
const IDP_CLIENTS = {
  writer: { id: 'hris-writer', secret: 'writer-secret-0123456789abcdefghijklmnop', divisions: ['BPO Alpha'] },
  nodiv: { id: 'hris-nodiv', secret: 'nodiv-secret-0123456789abcdefghijklmnopq' },
}
const BOUND = { signal: () => AbortSignal.timeout(5_000) }

async function listen (server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function close (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** The identity provider: client credentials, resource indicators, JWT access tokens signed RS256. */
async function startIdp (t: Test) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'idp-rs256-1', alg: 'RS256', use: 'sig' }
  const server = createServer()
  const issuer = await listen(server)
  t.teardown(() => close(server))
  const provider = new Provider(issuer, {
    clients: Object.values(IDP_CLIENTS).map((c) => ({
      client_id: c.id,
      client_secret: c.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [signingKey] },
    cookies: { keys: ['jwt-suite-cookie-key-0123456789abcdef'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        // `reports:export` is a scope the service does not know: it must be dropped.
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== AUDIENCE) throw new Error('unknown resource')
          return { scope: 'provisioning:read provisioning:write reports:export', audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } }
        },
      },
    },
    extraTokenClaims: (_ctx, token) => {
      const client = Object.values(IDP_CLIENTS).find((c) => c.id === token.clientId)
      return client && 'divisions' in client ? { divisions: client.divisions } : undefined
    },
  })
  server.on('request', provider.callback())

  async function token (client: { id: string, secret: string }, scope: string): Promise<string> {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: AUDIENCE, scope }).toString(),
      signal: BOUND.signal(),
    })
    const body = await res.json() as { access_token?: string, token_type?: string, error?: string, error_description?: string }
    if (res.status !== 200 || body.access_token === undefined) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`)
    return body.access_token
  }
  async function publicJwk (): Promise<JWK> {
    const res = await fetch(`${issuer}/jwks`, { signal: BOUND.signal() })
    const { keys } = await res.json() as { keys: JWK[] }
    const key = keys.find((k) => k.kid === signingKey.kid)
    if (!key) throw new Error('signing key not in the JWKS')
    return key
  }
  const jwksUrl = await discoverJwksUrl(issuer)
  return { issuer, jwksUrl, token, publicJwk }
}

async function discoverJwksUrl (issuer: string): Promise<string> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: BOUND.signal() })
  return (await res.json() as { jwks_uri: string }).jwks_uri
}

/** A minimal JWKS endpoint for tokens signed here. */
async function startOwnJwks (t: Test) {
  const served = await generateKeyPair('RS256', { extractable: true })
  const unserved = await generateKeyPair('RS256', { extractable: true })
  const publicJwk = { ...(await exportJWK(served.publicKey)), kid: 'own-1', alg: 'RS256', use: 'sig' }
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ keys: [publicJwk] }))
  })
  const origin = await listen(server)
  t.teardown(() => close(server))
  const issuer = `${origin}/own-issuer`
  const now = () => Math.floor(Date.now() / 1000)
  async function sign (opts: { claims?: JWTPayload, header?: Record<string, unknown>, key?: 'served' | 'unserved', kid?: string, exp?: number | null, nbf?: number } = {}): Promise<string> {
    const jwt = new SignJWT({ client_id: 'own-client', scope: 'provisioning:read', divisions: ['BPO Alpha'], ...opts.claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: opts.kid ?? 'own-1', ...opts.header })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt()
    if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? now() + 300)
    if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf)
    return jwt.sign(opts.key === 'unserved' ? unserved.privateKey : served.privateKey)
  }
  return { issuer, jwksUrl: `${origin}/jwks`, sign, now }
}

function jwtEnv (o: { issuer: string, jwksUrl: string, audience?: string, typ?: string }): Record<string, string> {
  return {
    AUTH_JWT_ISSUER: o.issuer,
    AUTH_JWT_AUDIENCE: o.audience ?? AUDIENCE,
    AUTH_JWT_JWKS_URL: o.jwksUrl,
    ...(o.typ !== undefined ? { AUTH_JWT_TYP: o.typ } : {}),
  }
}

/** The API with provisioning intake on memory stores, so routes needing `provisioning:write` exist. */
async function app (t: Test, env: Record<string, string>) {
  const clock = { now: Date.now }
  const service = createProvisioningService({
    answers: INTAKE_ANSWERS,
    requests: createMemoryRequestStore(),
    registry: createMemoryWorkerRegistry(),
    idempotency: createMemoryIdempotencyStore(clock),
    queue: { enqueue: async () => {} },
    clock,
    staticChecks,
    config: { maxGroupDepth: 3, idempotencyTtlHours: 24 },
  })
  const instance = await buildTestApp({
    env,
    deps: {
      clients: createClientRegistry(FILE_CLIENTS),
      provisioning: {
        service,
        idempotencyTtlHours: 24,
        dryRun: async (): Promise<DryRunResult> => { throw new Error('not used') },
      },
    },
  })
  t.teardown(() => instance.close())
  const me = (bearer: string) => instance.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${bearer}` } })
  const hire = (bearer: string, division = 'BPO Alpha') => instance.inject({
    method: 'POST',
    url: '/v1/provisioning-requests',
    headers: { authorization: `Bearer ${bearer}` },
    payload: { hrId: `E${Math.floor(Math.random() * 1e6)}`, email: 'new.hire@example.com', givenName: 'New', familyName: 'Hire', division, roles: ['Agent'] },
  })
  return { instance, me, hire }
}

/** A refusal answered exactly like an unknown API key, without the token anywhere in it. */
function assertRefused (t: Test, res: { statusCode: number, body: string, headers: Record<string, unknown>, json: () => unknown }, token: string, why: string) {
  t.equal(res.statusCode, 401, why)
  t.equal(res.headers['www-authenticate'], 'Bearer', `${why}: bearer challenge`)
  t.match(res.json(), { status: 401, code: 'PROV_ERR_UNAUTHENTICATED' }, `${why}: problem body`)
  const echoed = [token, ...token.split('.')].filter((part) => part.length >= 16 && res.body.includes(part))
  t.same(echoed, [], `${why}: the token is not echoed`)
}

t.test('JWT access tokens from a real authorization server', async (t) => {
  const idp = await startIdp(t)
  const good = await app(t, jwtEnv(idp))
  const reader = await idp.token(IDP_CLIENTS.writer, 'provisioning:read reports:export')
  t.ok(looksLikeJwt(reader), 'the authorization server issues a JWT')
  t.equal(decodeProtectedHeader(reader).alg, 'RS256')
  t.ok(reader.length > 512, 'longer than any API key: the bearer length limit does not apply to JWTs')

  t.test('a valid token with provisioning:read: /v1/me shows the client from the claims', async (t) => {
    const res = await good.me(reader)
    t.equal(res.statusCode, 200, res.body)
    t.same(res.json(), { id: 'jwt:hris-writer', name: 'hris-writer', scopes: ['provisioning:read'], divisions: ['BPO Alpha'] })
  })

  t.test('a token without the route\'s scope: 403', async (t) => {
    const res = await good.hire(reader)
    t.equal(res.statusCode, 403, res.body)
    t.match(res.json(), { code: 'PROV_ERR_FORBIDDEN', detail: /provisioning:write/ })
  })

  t.test('with provisioning:write: accepted into the claimed division, refused elsewhere', async (t) => {
    const writer = await idp.token(IDP_CLIENTS.writer, 'provisioning:read provisioning:write')
    const ok = await good.hire(writer)
    t.equal(ok.statusCode, 202, ok.body)
    const other = await good.hire(writer, 'BPO Beta')
    t.equal(other.statusCode, 422, other.body)
  })

  t.test('no divisions claim: no divisions, so nowhere to provision', async (t) => {
    const nodiv = await idp.token(IDP_CLIENTS.nodiv, 'provisioning:read provisioning:write')
    const me = await good.me(nodiv)
    t.equal(me.statusCode, 200, me.body)
    t.same(me.json(), { id: 'jwt:hris-nodiv', name: 'hris-nodiv', scopes: ['provisioning:write', 'provisioning:read'], divisions: [] })
    const res = await good.hire(nodiv)
    t.equal(res.statusCode, 422, res.body)
  })

  t.test('API keys keep working alongside', async (t) => {
    const res = await good.me(API_KEY)
    t.equal(res.statusCode, 200, res.body)
    t.equal(res.json().id, 'hris-file')
    t.equal((await good.me('gpk_unknown_key_0123456789abcdefghijklmnopqr')).statusCode, 401)
  })

  t.test('the issuer must be the configured one', async (t) => {
    const other = await app(t, jwtEnv({ ...idp, issuer: 'http://127.0.0.1:9/another-issuer' }))
    assertRefused(t, await other.me(reader), reader, 'wrong issuer')
  })

  t.test('the audience must be the configured one', async (t) => {
    const other = await app(t, jwtEnv({ ...idp, audience: 'https://another-api.example.test/' }))
    assertRefused(t, await other.me(reader), reader, 'wrong audience')
  })

  t.test('an unsigned token (alg none) with valid claims', async (t) => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')
    const payload = reader.split('.')[1]
    const unsigned = `${header}.${payload}.`
    assertRefused(t, await good.me(unsigned), unsigned, 'alg none')
    // The same claims with the real signature still pass: only the algorithm differs.
    t.equal((await good.me(reader)).statusCode, 200)
  })

  t.test('key confusion: HS256 keyed with the identity provider\'s public key', async (t) => {
    const jwk = await idp.publicJwk()
    const publicKey = createPublicKey({ key: jwk as NodeJwk, format: 'jwk' })
    const secrets = {
      'SPKI PEM': Buffer.from(publicKey.export({ type: 'spki', format: 'pem' })),
      'PKCS#1 PEM': Buffer.from(publicKey.export({ type: 'pkcs1', format: 'pem' })),
      'SPKI DER': publicKey.export({ type: 'spki', format: 'der' }),
      'JWK JSON': Buffer.from(JSON.stringify(jwk)),
    }
    const payload = reader.split('.')[1]
    for (const [form, secret] of Object.entries(secrets)) {
      const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid })).toString('base64url')
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')
      const forged = `${header}.${payload}.${signature}`
      assertRefused(t, await good.me(forged), forged, `HS256 with the ${form}`)
    }
  })

  t.test('a typ other than the required one', async (t) => {
    const strict = await app(t, jwtEnv({ ...idp, typ: 'at+jwt' }))
    t.equal((await strict.me(reader)).statusCode, 200, 'the server\'s at+jwt tokens pass')
    const wrongTyp = await app(t, jwtEnv({ ...idp, typ: 'application/example+jwt' }))
    assertRefused(t, await wrongTyp.me(reader), reader, 'typ mismatch')
  })

  t.test('malformed bearer values shaped like a JWT', async (t) => {
    for (const junk of ['a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30.', `${reader.slice(0, -4)}AAAA`]) {
      assertRefused(t, await good.me(junk), junk, `"${junk.slice(0, 20)}…"`)
    }
  })
})

t.test('tokens signed here, verified against a second JWKS endpoint', async (t) => {
  const own = await startOwnJwks(t)
  const svc = await app(t, jwtEnv(own))
  const strict = await app(t, jwtEnv({ ...own, typ: 'at+jwt' }))

  t.test('control: a fresh token passes', async (t) => {
    const res = await svc.me(await own.sign())
    t.equal(res.statusCode, 200, res.body)
    t.equal(res.json().id, 'jwt:own-client')
  })

  t.test('expiry, with at most 30 s of clock tolerance', async (t) => {
    const expired = await own.sign({ exp: own.now() - 31 - 5 })
    assertRefused(t, await svc.me(expired), expired, 'expired')
    t.equal((await svc.me(await own.sign({ exp: own.now() - 10 }))).statusCode, 200, 'expired 10 s ago: within tolerance')
  })

  t.test('a token without exp', async (t) => {
    const noExp = await own.sign({ exp: null })
    assertRefused(t, await svc.me(noExp), noExp, 'no exp')
  })

  t.test('not yet valid', async (t) => {
    const early = await own.sign({ nbf: own.now() + 31 + 5 })
    assertRefused(t, await svc.me(early), early, 'nbf in the future')
    t.equal((await svc.me(await own.sign({ nbf: own.now() + 10 }))).statusCode, 200, 'nbf 10 s ahead: within tolerance')
  })

  t.test('unknown kid, and a known kid over a signature by another key', async (t) => {
    const unknownKid = await own.sign({ key: 'unserved', kid: 'not-in-jwks' })
    assertRefused(t, await svc.me(unknownKid), unknownKid, 'unknown kid')
    const wrongKey = await own.sign({ key: 'unserved' })
    assertRefused(t, await svc.me(wrongKey), wrongKey, 'known kid, other key')
  })

  t.test('typ', async (t) => {
    const plain = await own.sign({ header: { typ: 'JWT' } })
    t.equal((await svc.me(plain)).statusCode, 200, 'typ not configured: not checked')
    assertRefused(t, await strict.me(plain), plain, 'typ JWT where at+jwt is required')
    t.equal((await strict.me(await own.sign())).statusCode, 200, 'at+jwt passes')
  })

  t.test('an algorithm outside AUTH_JWT_ALGORITHMS', async (t) => {
    const rsOnly = await app(t, { ...jwtEnv(own), AUTH_JWT_ALGORITHMS: 'ES256' })
    const token = await own.sign()
    assertRefused(t, await rsOnly.me(token), token, 'RS256 when only ES256 is accepted')
  })

  t.test('claims the client cannot be built from', async (t) => {
    const noClient = await own.sign({ claims: { client_id: undefined } })
    assertRefused(t, await svc.me(noClient), noClient, 'no client_id')
    const badDivisions = await own.sign({ claims: { divisions: 'BPO Alpha' } })
    assertRefused(t, await svc.me(badDivisions), badDivisions, 'divisions neither "*" nor an array')
    const scp = await own.sign({ claims: { scope: undefined, scp: ['provisioning:write', 'unknown:scope'], divisions: '*' } })
    const res = await svc.me(scp)
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json(), { scopes: ['provisioning:write'], divisions: '*' })
  })

  t.test('a token arriving while the JWT shape is not configured is just an unknown API key', async (t) => {
    const keysOnly = await app(t, {})
    const token = await own.sign()
    t.equal((await keysOnly.me(token)).statusCode, 401)
    t.equal((await keysOnly.me(API_KEY)).statusCode, 200)
  })
})

t.test('JWKS unreachable: 503, not a refused token', async (t) => {
  const own = await startOwnJwks(t)
  const token = await own.sign()
  const closed = createServer()
  const origin = await listen(closed)
  await close(closed)
  const svc = await app(t, jwtEnv({ issuer: own.issuer, jwksUrl: `${origin}/jwks` }))
  const res = await svc.me(token)
  t.equal(res.statusCode, 503, res.body)
  t.match(res.json(), { code: 'PROV_ERR_UNAVAILABLE' })
  t.equal(res.headers['retry-after'], '30')
  t.notOk(res.body.includes(token.split('.')[2]))
})

t.test('configuration', async (t) => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env)
      return []
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      return err.problems.map((p) => p.variable)
    }
  }
  const trio = { AUTH_JWT_ISSUER: 'https://idp.example.test/', AUTH_JWT_AUDIENCE: AUDIENCE, AUTH_JWT_JWKS_URL: 'https://idp.example.test/jwks' }
  t.same(problems(trio), [])
  t.same(loadConfig(trio).auth.jwt, {
    issuer: trio.AUTH_JWT_ISSUER,
    audience: AUDIENCE,
    jwksUrl: trio.AUTH_JWT_JWKS_URL,
    algorithms: ['RS256', 'ES256', 'PS256'],
    clientClaim: 'client_id',
    divisionsClaim: 'divisions',
  })
  t.equal(loadConfig({}).auth.jwt, undefined, 'none set: API keys only')
  t.same(problems({ AUTH_JWT_ISSUER: trio.AUTH_JWT_ISSUER }), ['AUTH_JWT_AUDIENCE', 'AUTH_JWT_JWKS_URL'])
  t.same(problems({ AUTH_JWT_ISSUER: trio.AUTH_JWT_ISSUER, AUTH_JWT_JWKS_URL: trio.AUTH_JWT_JWKS_URL }), ['AUTH_JWT_AUDIENCE'])
  for (const algorithms of ['none', 'RS256,HS256', 'hs512', 'NONE']) {
    t.same(problems({ ...trio, AUTH_JWT_ALGORITHMS: algorithms }), ['AUTH_JWT_ALGORITHMS'], `${algorithms} refused`)
  }
  t.same(problems({ ...trio, AUTH_JWT_ALGORITHMS: 'RS1' }), ['AUTH_JWT_ALGORITHMS'], 'unknown algorithm')
  t.same(problems({ ...trio, AUTH_JWT_ALGORITHMS: ' , ' }), ['AUTH_JWT_ALGORITHMS'], 'an empty list')
  t.same(loadConfig({ ...trio, AUTH_JWT_ALGORITHMS: 'ES384, EdDSA' }).auth.jwt?.algorithms, ['ES384', 'EdDSA'])
  t.same(problems({ ...trio, AUTH_JWT_JWKS_URL: 'http://idp.example.test/jwks' }), ['AUTH_JWT_JWKS_URL'], 'plain http off loopback')
  t.same(problems({ ...trio, AUTH_JWT_JWKS_URL: 'http://127.0.0.1:8080/jwks' }), [], 'plain http on loopback')
  t.same(problems({ ...trio, AUTH_JWT_JWKS_URL: 'ftp://idp.example.test/jwks' }), ['AUTH_JWT_JWKS_URL'])
  t.equal(loadConfig({ ...trio, AUTH_JWT_TYP: 'at+jwt' }).auth.jwt?.typ, 'at+jwt')
})

t.test('claims to client', async (t) => {
  const config = { clientClaim: 'client_id', divisionsClaim: 'divisions' }
  const cases: Array<[string, JWTPayload, unknown]> = [
    ['plain id', { client_id: 'workday' }, { client: { id: 'jwt:workday', name: 'workday', scopes: [], divisions: [] } }],
    ['scope string wins over scp', { client_id: 'a', scope: 'admin provisioning:read', scp: ['groups:write'] }, { client: { scopes: ['provisioning:read', 'admin'] } }],
    ['scp string', { client_id: 'a', scp: 'groups:write' }, { client: { scopes: ['groups:write'] } }],
    ['divisions deduplicated', { client_id: 'a', divisions: ['X', 'X', 'Y'] }, { client: { divisions: ['X', 'Y'] } }],
    ['divisions "*"', { client_id: 'a', divisions: '*' }, { client: { divisions: '*' } }],
    ['divisions with an empty name', { client_id: 'a', divisions: ['X', ''] }, { refused: /divisions/ }],
    ['client claim not a string', { client_id: 42 }, { refused: /client_id/ }],
    ['empty client claim', { client_id: '' }, { refused: /client_id/ }],
  ]
  for (const [name, payload, expected] of cases) t.match(clientFromClaims(payload, config), expected, name)

  const folded = clientFromClaims({ client_id: 'Azure App/0af3 éé' }, config)
  const foldedAgain = clientFromClaims({ client_id: 'azure app/0af3 éé' }, config)
  t.ok('client' in folded && /^jwt:azure-app-0af3\.[0-9a-f]{12}$/.test(folded.client.id), 'folded into the id pattern')
  t.ok('client' in folded && 'client' in foldedAgain && folded.client.id !== foldedAgain.client.id, 'distinct claims never share an id')
  t.match(clientFromClaims({ azp: 'x', sub: 'y' }, { ...config, clientClaim: 'azp' }), { client: { id: 'jwt:x' } }, 'configured claim')
  t.match(clientFromClaims({ azp: 'x', sub: 'y' }, config), { refused: /client_id/ }, 'no fallback to other claims')
})

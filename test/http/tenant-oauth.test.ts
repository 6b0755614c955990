import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/http/app.js'
import { sha256Hex } from '../../src/config/clients.js'
import { loadConfig } from '../../src/config/load-config.js'
import { createDeps } from '../../src/deps.js'
import { defaultSeed, type SimulatorOptions } from '../../src/simulator/index.js'
import { captureLogs } from '../helpers/app.js'
import { simAndClient, simulatorEnv } from '../helpers/genesys.js'

/**
 * One Genesys OAuth client per tenant, through the real service (memory
 * stores) and the simulator over HTTP: each tenant's calls go out with its own
 * token, Genesys itself refuses a write into another tenant's division, and an
 * OAuth client that is refused or lacks a permission impairs only its tenant.
 */
t.setTimeout(180_000)

const KEY = {
  a: 'gpk_oauth_alpha_0123456789abcdefghijklmnopqrs',
  b: 'gpk_oauth_beta_0123456789abcdefghijklmnopqrst',
  c: 'gpk_oauth_gamma_0123456789abcdefghijklmnopqrs',
  d: 'gpk_oauth_delta_0123456789abcdefghijklmnopqrs',
  ops: 'gpk_oauth_ops_0123456789abcdefghijklmnopqrstu',
}
const scopes = ['provisioning:write', 'provisioning:read', 'groups:write']
const ALPHA = 'c0ffee00-0000-4000-8000-0000000000a1'
const BETA = 'c0ffee00-0000-4000-8000-0000000000b1'
const GAMMA = 'c0ffee00-0000-4000-8000-0000000000c1'
const secretOf = (id: string) => defaultSeed().clients.find((c) => c.clientId === id)?.clientSecret ?? ''

/** The bundled seed plus an OAuth client writing in both BPO divisions, except grants in BPO Beta. */
function seed (): NonNullable<SimulatorOptions['seed']> {
  const s = defaultSeed()
  const alpha = s.clients.find((c) => c.clientId === ALPHA)
  if (!alpha) throw new Error('the bundled seed lost the BPO Alpha OAuth client')
  const writes = alpha.divisionPermissions?.[0]?.permissions ?? []
  s.clients.push({
    clientId: GAMMA,
    clientSecret: 'sim-secret-gamma',
    name: 'Gamma provisioning (no grants in BPO Beta)',
    permissions: alpha.permissions,
    divisionPermissions: [
      { division: 'BPO Alpha', permissions: writes },
      { division: 'BPO Beta', permissions: writes.filter((p) => p !== 'authorization:grant:add') },
    ],
  })
  return s
}

async function service (t: Test, opts: { skipDivisionCheck?: boolean, simRateLimit?: number, env?: Record<string, string | undefined> } = {}) {
  const { sim, close } = await simAndClient({ sim: { seed: seed(), rateLimitPerMinute: opts.simRateLimit ?? 100_000 } })
  t.teardown(close)
  const dir = await mkdtemp(join(tmpdir(), 'prov-oauth-'))
  const clientsFile = join(dir, 'clients.json')
  const own = (prefix: string) => ({ clientIdEnv: `${prefix}_GENESYS_CLIENT_ID`, clientSecretEnv: `${prefix}_GENESYS_CLIENT_SECRET` })
  await writeFile(clientsFile, JSON.stringify({
    clients: [
      { id: 'bpo-a', name: 'BPO A', keySha256: sha256Hex(KEY.a), scopes, divisions: ['BPO Alpha'], genesys: own('BPO_A') },
      { id: 'bpo-b', name: 'BPO B', keySha256: sha256Hex(KEY.b), scopes, divisions: ['BPO Beta'], genesys: own('BPO_B') },
      { id: 'bpo-c', name: 'BPO C', keySha256: sha256Hex(KEY.c), scopes, divisions: ['BPO Alpha', 'BPO Beta'], genesys: own('BPO_C') },
      { id: 'bpo-d', name: 'BPO D', keySha256: sha256Hex(KEY.d), scopes, divisions: ['BPO Alpha'], genesys: own('BPO_D') },
      { id: 'ops', name: 'Operators', keySha256: sha256Hex(KEY.ops), scopes: ['admin'], divisions: '*' },
    ],
  }))
  const env = {
    ...simulatorEnv(sim),
    CLIENTS_FILE: clientsFile,
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1000000',
    BPO_A_GENESYS_CLIENT_ID: ALPHA,
    BPO_A_GENESYS_CLIENT_SECRET: secretOf(ALPHA),
    BPO_B_GENESYS_CLIENT_ID: BETA,
    BPO_B_GENESYS_CLIENT_SECRET: secretOf(BETA),
    BPO_C_GENESYS_CLIENT_ID: GAMMA,
    BPO_C_GENESYS_CLIENT_SECRET: 'sim-secret-gamma',
    // Not an OAuth client of this org: the token endpoint answers 400 invalid_client.
    BPO_D_GENESYS_CLIENT_ID: 'c0ffee00-0000-4000-8000-0000000000d1',
    BPO_D_GENESYS_CLIENT_SECRET: 'sim-secret-nobody-has',
    ...opts.env,
  }
  const logs = captureLogs()
  const config = loadConfig(env)
  const deps = await createDeps(config, logs.logger, { env, faults: { skipDivisionCheck: opts.skipDivisionCheck === true } })
  const app = await buildApp({ config, deps, logger: logs.logger })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close(); await deps.close() })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const call = async (key: string | undefined, method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    const text = await res.text()
    const json = (res.headers.get('content-type') ?? '').includes('json')
    return { status: res.status, body: (json && text ? JSON.parse(text) : {}) as Record<string, unknown>, text }
  }
  const hire = (key: string, body: Record<string, unknown>) => call(key, 'POST', '/v1/provisioning-requests', { givenName: 'Test', familyName: 'Person', roles: ['Agent'], ...body }, { prefer: 'wait=30' })
  type Check = { status: string, detail?: string }
  const ready = async (key?: string) => {
    const r = await call(key, 'GET', '/health/ready')
    return { status: r.status, body: r.body as { status: string, checks: Record<string, Check> }, text: r.text }
  }
  // Startup checks (credentials, then reach) settle before the tests look.
  for (let i = 0; i < 200; i++) {
    const r = await ready(KEY.ops)
    const settled = ['genesys:bpo-a', 'genesys:bpo-b', 'genesys:bpo-c', 'genesys:bpo-d'].every((n) => r.body.checks[n] !== undefined && !/not checked yet/.test(r.body.checks[n]?.detail ?? ''))
    if (settled && r.body.checks['genesys:bpo-d']?.status === 'fail') break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { sim, url, call, hire, ready, logs, deps }
}

t.test('each tenant\'s calls go out with its own OAuth client; Genesys refuses a write into another tenant\'s division', async (t) => {
  const s = await service(t, { skipDivisionCheck: true })
  const tokensBy = (id: string) => s.sim.requests().filter((r) => r.path === '/oauth/token' && r.clientId === id && r.status === 200).length
  t.equal(tokensBy(ALPHA), 1, 'one token for BPO A\'s OAuth client')
  t.equal(tokensBy(BETA), 1, 'one token for BPO B\'s OAuth client')

  for (const [key, division, client] of [[KEY.a, 'BPO Alpha', ALPHA], [KEY.b, 'BPO Beta', BETA]] as const) {
    s.sim.resetLog()
    const r = await s.hire(key, { hrId: `H-${client.slice(-2)}`, email: `own.${client.slice(-2)}@example.com`, division, groups: [] })
    t.same([r.status, r.body.status], [201, 'completed'], `the ${division} hire completed`)
    const calls = s.sim.requests()
    t.ok(calls.length >= 3, 'the hire reached Genesys')
    t.same([...new Set(calls.map((c) => c.clientId))], [client], `every call of the ${division} hire, reads included, went out with that tenant's OAuth client`)
  }

  // The service's own division check is off (a test-only fault): Genesys is the wall.
  s.sim.resetLog()
  const cross = await s.hire(KEY.a, { hrId: 'H-X', email: 'cross.division@example.com', division: 'BPO Beta' })
  t.same([cross.status, cross.body.status], [200, 'failed'], 'the cross-division hire failed')
  const issues = cross.body.issues as Array<{ code: string, message: string }>
  t.same(issues.map((i) => i.code), ['genesys.permissionDenied'])
  t.match(issues[0]?.message, /directory:user:add in division "BPO Beta"/)
  t.match(issues[0]?.message, /nothing was written/)
  const writes = s.sim.requests().filter((r) => r.method !== 'GET' && r.path !== '/oauth/token')
  t.same(writes.map((w) => [w.method, w.path, w.status, w.clientId]), [['POST', '/api/v2/scim/v2/users', 403, ALPHA]], 'one refused create, nothing else written, never retried')
  t.notOk([...s.sim.state.users.values()].some((u) => u.userName === 'cross.division@example.com'), 'no user exists')
})

t.test('a tenant whose OAuth client lacks a permission, or is refused, impairs only that tenant', async (t) => {
  const s = await service(t)
  const admin = await s.ready(KEY.ops)
  t.equal(admin.status, 200, 'still ready')
  t.equal(admin.body.status, 'degraded')
  t.equal(admin.body.checks['genesys:bpo-a']?.status, 'ok')
  t.equal(admin.body.checks['genesys:bpo-b']?.status, 'ok')
  const c = admin.body.checks['genesys:bpo-c']
  t.equal(c?.status, 'degraded')
  t.match(c?.detail, /API client "bpo-c": the Genesys OAuth client lacks authorization:grant:add in division "BPO Beta"/, 'names the tenant, the permission and the division')
  t.notMatch(c?.detail, /BPO Alpha/, 'only the gap')
  const d = admin.body.checks['genesys:bpo-d']
  t.equal(d?.status, 'fail', 'an OAuth client refused with invalid_client marks its tenant not ready')
  t.match(d?.detail, /refuses the OAuth client of API client "bpo-d"/)
  t.notMatch(admin.text, /sim-secret|c0ffee00-0000-4000-8000-0000000000[a-d]1/, 'no secret and no Genesys client id')
  const refusal = s.logs.parsed().find((l) => typeof l.msg === 'string' && l.msg.includes('refuses the OAuth client credentials') && l.msg.includes('bpo-d'))
  t.match(refusal?.msg, /fix BPO_D_GENESYS_CLIENT_ID and BPO_D_GENESYS_CLIENT_SECRET/, 'the log names the tenant\'s own variables')
  t.notMatch(s.logs.text(), /sim-secret-nobody-has/, 'never the secret')

  const anonymous = await s.ready()
  t.equal(anonymous.status, 200)
  t.equal(anonymous.body.checks.tenants?.status, 'degraded')
  t.match(anonymous.body.checks.tenants?.detail, /2 of 4 Genesys OAuth clients refused or lacking permissions/)
  t.notMatch(anonymous.text, /bpo-|BPO|authorization:grant:add/, 'without an admin key the answer names no tenant, division or permission')

  const refused = await s.hire(KEY.d, { hrId: 'D-1', email: 'd.one@example.com', division: 'BPO Alpha' })
  t.equal(refused.status, 503, 'intake of the refused tenant answers 503')
  const others = await Promise.all([
    s.hire(KEY.a, { hrId: 'A-1', email: 'a.one@example.com', division: 'BPO Alpha' }),
    s.hire(KEY.b, { hrId: 'B-1', email: 'b.one@example.com', division: 'BPO Beta' }),
    s.hire(KEY.c, { hrId: 'C-1', email: 'c.one@example.com', division: 'BPO Alpha' }),
  ])
  t.same(others.map((r) => [r.status, r.body.status]), [[201, 'completed'], [201, 'completed'], [201, 'completed']], 'the other tenants keep working (bpo-c where it holds the permissions)')
  const gap = await s.hire(KEY.c, { hrId: 'C-2', email: 'c.two@example.com', division: 'BPO Beta' })
  t.equal(gap.body.status, 'failed')
  t.match((gap.body.issues as Array<{ message: string }>)[0]?.message, /lacks permission authorization:grant:add in division "BPO Beta"/)

  const metrics = await s.call(KEY.ops, 'GET', '/metrics')
  t.match(metrics.text, /genesys_token_fetches_total\{oauth_client="bpo-a"\} 1/, 'budget and token use per OAuth client, labelled by API client id')
  t.match(metrics.text, /genesys_rate_budget_wait_seconds_count\{oauth_client="bpo-b"\} \d+/)
  t.notMatch(metrics.text, /c0ffee00/, 'never a Genesys client id in a label')
})

t.test('a 429 on one tenant\'s token holds up only that tenant\'s work', async (t) => {
  // Genesys allows 25 calls a minute per token here; this service's own budget is not the limit.
  const s = await service(t, { simRateLimit: 25 })
  // Enough hires that A's calls (two or three per hire) pass the token's 25.
  const a = await Promise.all(Array.from({ length: 16 }, (_, i) => s.call(KEY.a, 'POST', '/v1/provisioning-requests', { hrId: `RL-A${i}`, email: `rl.a${i}@example.com`, givenName: 'A', familyName: 'Burst', division: 'BPO Alpha', roles: ['Agent'] })))
  t.ok(a.every((r) => r.status === 202), 'A\'s burst is accepted')
  const limited = () => s.sim.requests().some((r) => r.status === 429 && r.clientId === ALPHA)
  for (let i = 0; i < 400 && !limited(); i++) await new Promise((resolve) => setTimeout(resolve, 25))
  t.ok(limited(), 'Genesys answered 429 to BPO A\'s token')
  const b = await s.hire(KEY.b, { hrId: 'RL-B', email: 'rl.b@example.com', division: 'BPO Beta' })
  t.same([b.status, b.body.status], [201, 'completed'], 'B\'s hire completes')
  const pending = await Promise.all(a.map(async (r) => (await s.call(KEY.a, 'GET', `/v1/provisioning-requests/${String(r.body.id)}`)).body.status))
  t.ok(pending.some((st) => st !== 'completed' && st !== 'failed' && st !== 'rejected'), `B completed while some of A's requests still wait out A's 429 (${pending.join(', ')})`)
  t.notOk(s.sim.requests().some((r) => r.status === 429 && r.clientId === BETA), 'B\'s token was never limited')
})

t.test('startup names the API client whose OAuth client variable is missing', async (t) => {
  const rejected = await service(t, { env: { BPO_B_GENESYS_CLIENT_SECRET: undefined } }).then(() => undefined, (err: unknown) => err as Error)
  t.ok(rejected, 'the service does not start')
  t.match(rejected?.message, /API client "bpo-b": environment variable BPO_B_GENESYS_CLIENT_SECRET \(genesys\.clientSecretEnv\) is not set/)
  t.notMatch(rejected?.message, /sim-secret/)
})

t.test('guessing keys on the readiness probe counts against the caller\'s limit like anywhere else', async (t) => {
  const s = await service(t, { env: { RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '3' } })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await s.call(`gpk_guess_${i}_0123456789abcdefghijklmnopqrstuvwxyz`, 'GET', '/health/ready')).status)
  t.same(statuses, [200, 200, 200, 429, 429], 'refused keys are counted; past the limit: 429')
  t.equal((await s.ready()).status, 200, 'a probe without a key is never limited')
  t.equal((await s.ready(KEY.ops)).status, 200, 'nor one with a valid key')
})

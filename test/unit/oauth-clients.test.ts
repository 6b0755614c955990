import t from 'tap'
import { clientsFileProblems } from '../../src/config/clients.js'
import { DEFAULT_OAUTH_CLIENT, planOAuthClients } from '../../src/genesys/oauth-clients.js'
import { createBudgetUse } from '../../src/genesys/budget/use.js'
import { createReachCheck, reachGaps, REQUIRED_PERMISSIONS, type ReachDirectory } from '../../src/genesys/reach.js'

const FALLBACK = { clientId: 'default-id', clientSecret: 'default-secret' }
const own = (id: string, prefix: string) => ({ id, genesys: { clientIdEnv: `${prefix}_ID`, clientSecretEnv: `${prefix}_SECRET` } })

t.test('each API client gets the OAuth client its variables name; the others share the default', async (t) => {
  const plan = planOAuthClients([own('bpo-a', 'A'), { id: 'hris' }, own('bpo-b', 'B'), own('bpo-a2', 'A2')], {
    A_ID: 'alpha', A_SECRET: 'alpha-secret', B_ID: 'beta', B_SECRET: 'beta-secret', A2_ID: 'alpha', A2_SECRET: 'alpha-secret',
  }, FALLBACK)
  t.same(plan.refs.map((r) => ({ name: r.name, clientId: r.clientId, apiClients: r.apiClients })), [
    { name: DEFAULT_OAUTH_CLIENT, clientId: 'default-id', apiClients: ['hris'] },
    { name: 'bpo-a', clientId: 'alpha', apiClients: ['bpo-a', 'bpo-a2'] },
    { name: 'bpo-b', clientId: 'beta', apiClients: ['bpo-b'] },
  ], 'one OAuth client per Genesys client id: bpo-a2 names the same one as bpo-a and shares its token and budget')
  t.equal(plan.nameOf('bpo-a2'), 'bpo-a')
  t.equal(plan.nameOf('hris'), DEFAULT_OAUTH_CLIENT)
  t.equal(plan.nameOf('jwt:someone'), DEFAULT_OAUTH_CLIENT, 'ids not in the file (JWT callers) use the default')
})

t.test('variables naming the default client id share the default OAuth client', async (t) => {
  const plan = planOAuthClients([own('bpo-a', 'A')], { A_ID: 'default-id', A_SECRET: 'default-secret' }, FALLBACK)
  t.equal(plan.refs.length, 1)
  t.equal(plan.nameOf('bpo-a'), DEFAULT_OAUTH_CLIENT)
})

t.test('a missing or empty variable is reported with the API client and the field, never a value', async (t) => {
  const err = (() => {
    try {
      planOAuthClients([own('bpo-a', 'A'), own('bpo-b', 'B'), own('bpo-c', 'C')], { A_ID: 'alpha', B_ID: '  ', B_SECRET: 'beta-secret-value', C_ID: 'alpha', C_SECRET: 'another-secret-value' }, FALLBACK)
    } catch (e) { return e as Error }
    return undefined
  })()
  t.ok(err, 'startup refuses')
  t.match(err?.message, /API client "bpo-a": environment variable A_SECRET \(genesys\.clientSecretEnv\) is not set/)
  t.match(err?.message, /API client "bpo-b": environment variable B_ID \(genesys\.clientIdEnv\) is empty/)
  t.notMatch(err?.message, /beta-secret-value|another-secret-value|alpha/, 'no value appears')
})

t.test('two API clients naming one Genesys client id with different secrets are refused', async (t) => {
  t.throws(() => planOAuthClients([own('bpo-a', 'A'), own('bpo-b', 'B')], { A_ID: 'same', A_SECRET: 's1', B_ID: 'same', B_SECRET: 's2' }, FALLBACK),
    /API client "bpo-b": its OAuth client is also used by API client "bpo-a", with a different secret in B_SECRET/)
})

t.test('the clients file: "genesys" holds variable names', async (t) => {
  const base = { id: 'bpo-a', name: 'A', keySha256: 'a'.repeat(64), scopes: ['provisioning:write'], divisions: ['BPO Alpha'] }
  t.same(clientsFileProblems({ clients: [{ ...base, genesys: { clientIdEnv: 'BPO_A_GENESYS_CLIENT_ID', clientSecretEnv: 'BPO_A_GENESYS_CLIENT_SECRET' } }] }), [])
  const problems = clientsFileProblems({ clients: [{ ...base, genesys: { clientId: 'c0ffee', clientSecret: 'plain secret' } }] })
  t.equal(problems.length, 1)
  t.match(problems[0], /client "bpo-a" \(clients\[0\]\): "genesys" must be \{"clientIdEnv": "NAME", "clientSecretEnv": "NAME"\}/)
  t.notMatch(problems[0], /plain secret/)
})

const division = (name: string) => ({ id: `id-${name}`, name })

t.test('reach gaps: every required permission in every division the API clients may use', async (t) => {
  const permitted = new Map(REQUIRED_PERMISSIONS.map((p) => [p, { names: new Set(['bpo alpha']), all: false }]))
  permitted.set('authorization:grant:add', { names: new Set(), all: false })
  t.same(reachGaps([{ apiClient: 'bpo-a', divisions: ['BPO Alpha'] }], permitted, []), [
    { apiClient: 'bpo-a', permission: 'authorization:grant:add', division: 'BPO Alpha' },
  ])
  t.same(reachGaps([{ apiClient: 'hris', divisions: '*' }], new Map(REQUIRED_PERMISSIONS.map((p) => [p, { names: new Set(), all: true }])), ['Home', 'BPO Alpha']), [], 'org-wide grants cover "*"')
  const everywhere = reachGaps([{ apiClient: 'hris', divisions: '*' }], new Map(REQUIRED_PERMISSIONS.map((p) => [p, { names: new Set(['home']), all: false }])), ['Home', 'BPO Alpha'])
  t.same(new Set(everywhere.map((g) => g.division)), new Set(['BPO Alpha']), '"*" needs every division of the org')
  t.equal(everywhere.length, REQUIRED_PERMISSIONS.length)
})

t.test('the reach check reads once, and again only while a gap remains', async (t) => {
  let grantInBeta = false
  let calls = 0
  const directory: ReachDirectory = {
    divisions: {
      list: async () => [division('BPO Alpha'), division('BPO Beta')],
      permitted: async (permission) => {
        calls++
        return { divisions: permission === 'authorization:grant:add' && !grantInBeta ? [division('BPO Alpha')] : [division('BPO Alpha'), division('BPO Beta')], all: false }
      },
    },
  }
  const warnings: string[] = []
  const check = createReachCheck({
    directory,
    needs: [{ apiClient: 'bpo-c', divisions: ['BPO Alpha', 'BPO Beta'] }],
    logger: { info: () => {}, warn: (_o: unknown, msg?: string) => { warnings.push(msg ?? '') } },
    oauthClient: 'bpo-c',
    retryMs: 20,
  })
  t.teardown(() => check.stop())
  t.same(check.state(), { status: 'unknown' })
  await check.check()
  t.same(check.state(), { status: 'gaps', gaps: [{ apiClient: 'bpo-c', permission: 'authorization:grant:add', division: 'BPO Beta' }] })
  t.equal(warnings.length, 1)
  t.match(warnings[0], /bpo-c.*lacks authorization:grant:add in division "BPO Beta"/)
  check.start()
  grantInBeta = true
  while (check.state().status !== 'ok') await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(check.state(), { status: 'ok' }, 'the fixed grant is seen without a restart')
  const after = calls
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(calls, after, 'no further reads once nothing is missing')
})

t.test('budget use: calls of the last 60 s per OAuth client', async (t) => {
  let now = 1_000_000
  const use = createBudgetUse(['_default', 'bpo-a'], () => now)
  for (let i = 0; i < 5; i++) use.record('bpo-a')
  use.record('unknown')
  now += 30_000
  use.record('bpo-a')
  use.record('_default')
  t.same(use.snapshot(), [{ oauthClient: '_default', lastMinute: 1 }, { oauthClient: 'bpo-a', lastMinute: 6 }])
  now += 31_000
  t.same(use.snapshot(), [{ oauthClient: '_default', lastMinute: 1 }, { oauthClient: 'bpo-a', lastMinute: 1 }], 'calls older than a minute drop out')
  now += 60_000
  t.same(use.snapshot().map((s) => s.lastMinute), [0, 0])
})

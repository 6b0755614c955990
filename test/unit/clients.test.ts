import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createClientRegistry, createDemoClient, generateApiKey, loadClientsFile, sha256Hex } from '../../src/config/clients.js'

t.test('keys are looked up by hash; the registry never hands out key material', async (t) => {
  const key = generateApiKey()
  t.match(key, /^gpk_[A-Za-z0-9_-]{43}$/)
  const registry = createClientRegistry([{ id: 'a', name: 'A', keySha256: sha256Hex(key), scopes: ['provisioning:read'], divisions: '*', webhook: { url: 'https://hr.example/hooks', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] } }])
  const client = registry.authenticate(key)
  t.equal(client?.id, 'a')
  t.notOk(client && 'keySha256' in client)
  t.same(client?.webhook, { url: 'https://hr.example/hooks', events: undefined })
  t.equal(registry.authenticate(key + 'x'), undefined)
  t.equal(registry.authenticate(''), undefined)
})

t.test('duplicate ids or shared keys are configuration errors', async (t) => {
  const base = { name: 'A', keySha256: sha256Hex('k1'), scopes: ['admin' as const], divisions: '*' as const }
  t.throws(() => createClientRegistry([{ id: 'a', ...base }, { id: 'a', ...base, keySha256: sha256Hex('k2') }]), /Duplicate API client id/)
  t.throws(() => createClientRegistry([{ id: 'a', ...base }, { id: 'b', ...base }]), /share one key/)
})

t.test('clients file is validated with paths', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'clients-'))
  const good = join(dir, 'good.json')
  await writeFile(good, JSON.stringify({ clients: [{ id: 'workday', name: 'Workday', keySha256: sha256Hex('x'), scopes: ['provisioning:write'], divisions: ['BPO-A'] }] }))
  t.equal(loadClientsFile(good)[0]?.id, 'workday')
  const bad = join(dir, 'bad.json')
  await writeFile(bad, JSON.stringify({ clients: [{ id: 'Workday!', name: 'W', key: 'plaintext', scopes: ['root'], divisions: [] }] }))
  t.throws(() => loadClientsFile(bad), /client "Workday!" \(clients\[0\]\)/)
  const quota = join(dir, 'quota.json')
  await writeFile(quota, JSON.stringify({ clients: [{ id: 'workday', name: 'Workday', keySha256: sha256Hex('x'), scopes: ['provisioning:write'], divisions: ['BPO-A'], upstream: { share: 0.5, maxCallsPerDryRun: 20 } }] }))
  t.same(loadClientsFile(quota)[0]?.upstream, { share: 0.5, maxCallsPerDryRun: 20 }, 'an upstream quota is read')
  for (const upstream of [{ share: 0 }, { share: 1.5 }, { maxCallsPerDryRun: 0 }, { calls: 3 }]) {
    await writeFile(quota, JSON.stringify({ clients: [{ id: 'workday', name: 'Workday', keySha256: sha256Hex('x'), scopes: ['provisioning:write'], divisions: ['BPO-A'], upstream }] }))
    t.throws(() => loadClientsFile(quota), /client "workday" \(clients\[0\]\).*upstream/, `refused: ${JSON.stringify(upstream)}`)
  }
  const notJson = join(dir, 'broken.json')
  await writeFile(notJson, '{')
  t.throws(() => loadClientsFile(notJson), /is not valid JSON/)
})

t.test('clients file problems: one sentence each, naming the client and the field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'clients-'))
  const missing = join(dir, 'nope.json')
  t.throws(() => loadClientsFile(missing), { message: `CLIENTS_FILE ${missing} does not exist; create it with npm run client:add -- --file ${missing} (see the README, "API clients")` })
  const bad = join(dir, 'bad.json')
  await writeFile(bad, JSON.stringify({ clients: [
    { id: 'workday', name: 'Workday', keySha256: sha256Hex('x'), scopes: ['provisioning:write', 'provisioning:admin'], divisions: 'BPO Alpha' },
  ] }))
  const err = t.throws(() => loadClientsFile(bad)) as Error
  t.same(err.message.split('\n').slice(1), [
    '  - client "workday" (clients[0]): scope "provisioning:admin" unknown; valid scopes are provisioning:write, provisioning:read, groups:write, admin',
    '  - client "workday" (clients[0]): "divisions" must be "*" (every division) or a non-empty list of distinct division names',
  ])
  t.notMatch(err.message, /Expected|union|anyOf/i, 'no raw schema noise')
})

t.test('the demo client has every scope and a fresh key each time', async (t) => {
  const a = createDemoClient()
  const b = createDemoClient()
  t.not(a.apiKey, b.apiKey)
  t.equal(a.client.keySha256, sha256Hex(a.apiKey))
  t.equal(a.client.divisions, '*')
  t.same(a.client.scopes, ['provisioning:write', 'provisioning:read', 'groups:write', 'admin'])
})

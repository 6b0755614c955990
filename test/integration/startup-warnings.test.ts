import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { createSimulator } from '../../src/simulator/index.js'
import { simulatorEnv } from '../helpers/genesys.js'
import { startService } from '../helpers/service.js'

/** Misconfigurations that would otherwise show only when traffic arrives are named at startup. */
t.setTimeout(120_000)

async function clientsFile (clients: unknown[]): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'prov-warn-')), 'clients.json')
  await writeFile(path, JSON.stringify({ clients }))
  return path
}

async function startupLines (t: Test, clients: unknown[], text: RegExp): Promise<string[]> {
  const sim = await createSimulator({ rateLimitPerMinute: 100_000 })
  t.teardown(() => sim.close())
  const service = await startService({ ...simulatorEnv(sim), CLIENTS_FILE: await clientsFile(clients), LOG_PRETTY: 'false' })
  t.teardown(() => service.stop('SIGKILL'))
  const deadline = Date.now() + 10_000
  while (!text.test(service.output()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  return service.output().split('\n').filter((l) => text.test(l))
}

t.test('a client webhook URL the SSRF rules always refuse is warned about', async (t) => {
  const lines = await startupLines(t, [{
    id: 'hris', name: 'HRIS', keySha256: sha256Hex('k'), scopes: ['provisioning:write'], divisions: '*',
    webhook: { url: 'http://127.0.0.1:8080/hooks?token=canary-q', secrets: ['whsec_' + Buffer.from('startup warning test secret, 32b').toString('base64')] },
  }], /will always be refused/)
  t.equal(lines.length, 1)
  t.match(lines[0], /client \\"hris\\": webhooks to http:\/\/127\.0\.0\.1:8080 will always be refused \(127\.0\.0\.1 is in the loopback range\)/)
  t.notMatch(lines[0], /canary-q/, 'the URL\'s query is not logged')
})

t.test('an empty clients file is warned about', async (t) => {
  const lines = await startupLines(t, [], /lists no clients/)
  t.equal(lines.length, 1)
  t.match(lines[0], /every API call will be answered 401/)
})

t.test('a tenant\'s OAuth client variables reach the service from its environment; a missing one stops it, naming the client', async (t) => {
  const sim = await createSimulator({ rateLimitPerMinute: 100_000 })
  t.teardown(() => sim.close())
  const alpha = sim.state.clients.find((c) => c.name.startsWith('BPO Alpha'))
  if (!alpha) throw new Error('the seed lost its BPO Alpha OAuth client')
  const key = 'gpk_startup_tenant_0123456789abcdefghijklmnopq'
  const file = await clientsFile([{ id: 'bpo-a', name: 'BPO A', keySha256: sha256Hex(key), scopes: ['admin'], divisions: ['BPO Alpha'], genesys: { clientIdEnv: 'GENESYS_BPO_A_CLIENT_ID', clientSecretEnv: 'GENESYS_BPO_A_CLIENT_SECRET' } }])
  const env = { ...simulatorEnv(sim), CLIENTS_FILE: file, LOG_PRETTY: 'false', LOG_LEVEL: 'info' }
  const service = await startService({ ...env, GENESYS_BPO_A_CLIENT_ID: alpha.clientId, GENESYS_BPO_A_CLIENT_SECRET: alpha.clientSecret })
  t.teardown(() => service.stop('SIGKILL'))
  let check: { status?: string } | undefined
  for (let i = 0; i < 100 && check?.status !== 'ok'; i++) {
    const ready = await (await fetch(`${service.url}/health/ready`, { headers: { authorization: `Bearer ${key}` } })).json() as { checks: Record<string, { status: string }> }
    check = ready.checks['genesys:bpo-a']
    if (check?.status !== 'ok') await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(check?.status, 'ok', 'the tenant\'s own OAuth client is in use')
  t.notMatch(service.output(), /GENESYS_BPO_A_CLIENT_ID is not a variable this service reads/, 'its variables are not called unknown')
  t.notMatch(service.output(), new RegExp(alpha.clientSecret), 'never its secret')

  const failed = await startService({ ...env, GENESYS_BPO_A_CLIENT_ID: alpha.clientId }).then(() => undefined, (err: unknown) => err as Error)
  t.match(failed?.message, /exited with 1/)
  t.match(failed?.message, /API client "bpo-a": environment variable GENESYS_BPO_A_CLIENT_SECRET \(genesys\.clientSecretEnv\) is not set/)
})

t.test('ROLE=api without Redis refuses to start: nothing would ever run what it accepts', async (t) => {
  const failed = await startService({ ROLE: 'api' }).then(async (s) => { await s.stop('SIGKILL'); return undefined }, (err: unknown) => err as Error)
  t.match(failed?.message, /exited with 1/)
  t.match(failed?.message, /ROLE: ROLE=api needs Redis \(REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES\)/)
})

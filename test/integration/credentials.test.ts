import { randomUUID } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { createSimulator } from '../../src/simulator/index.js'
import { simulatorEnv } from '../helpers/genesys.js'
import { startService } from '../helpers/service.js'

/**
 * Wrong Genesys credentials are found at startup: a clear error, the process
 * stays up but not ready, and intake answers 503 with Retry-After instead of
 * accepting hires that would fail on the first Genesys call.
 */
t.setTimeout(120_000)

const KEY = 'gpk_credentials_test_key_0123456789abcdefghij'

t.test('refused credentials: logged at startup, not ready, intake 503 with Retry-After', async (t) => {
  const sim = await createSimulator({ rateLimitPerMinute: 100_000 })
  t.teardown(() => sim.close())
  const dir = await mkdtemp(join(tmpdir(), 'prov-creds-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({ clients: [{ id: 'hris', name: 'HRIS', keySha256: sha256Hex(KEY), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*' }] }))
  const service = await startService({ ...simulatorEnv(sim, 'not-the-secret-canary-31'), CLIENTS_FILE: clientsFile, LOG_LEVEL: 'info', LOG_PRETTY: 'false' })
  t.teardown(() => service.stop('SIGKILL'))

  const deadline = Date.now() + 20_000
  while (!service.output().includes('refuses the OAuth client credentials') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  const line = service.output().split('\n').find((l) => l.includes('refuses the OAuth client credentials'))
  t.ok(line, 'a clear error at startup')
  t.match(line, /"level":50/, 'at error level')
  t.match(line, /GENESYS_CLIENT_ID/, 'naming what to fix')
  t.notOk(service.output().includes('not-the-secret-canary-31'), 'never the secret')

  const ready = await fetch(`${service.url}/health/ready`)
  t.equal(ready.status, 503, 'not ready')
  t.equal((await fetch(`${service.url}/health/live`)).status, 200, 'but alive')

  const res = await fetch(`${service.url}/v1/provisioning-requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ hrId: 'CR-1', email: 'cr.1@example.com', givenName: 'Cred', familyName: 'Refused', division: 'BPO Alpha', roles: ['Agent'] }),
  })
  t.equal(res.status, 503, 'intake refuses work that would fail')
  t.equal((await res.json() as { code: string }).code, 'PROV_ERR_UNAVAILABLE')
  t.ok(Number(res.headers.get('retry-after')) >= 1, 'with a Retry-After')
  const list = await fetch(`${service.url}/v1/provisioning-requests`, { headers: { authorization: `Bearer ${KEY}` } })
  t.same((await list.json() as { items: unknown[] }).items, [], 'nothing was accepted')
})

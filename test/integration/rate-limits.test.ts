import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { redisBinary, startRedis } from '../helpers/redis.js'
import { startService, type RunningService } from '../helpers/service.js'

t.setTimeout(120_000)

const KEY_A = 'gpk_rate_limit_a_0123456789abcdefghijklmnopqr'
const KEY_B = 'gpk_rate_limit_b_0123456789abcdefghijklmnopqr'

t.test('a client over its limit gets 429 on every replica; another client is unaffected', { skip: redisBinary.skip }, async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const dir = await mkdtemp(join(tmpdir(), 'prov-rl-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({
    clients: [
      { id: 'a', name: 'A', keySha256: sha256Hex(KEY_A), scopes: ['provisioning:read'], divisions: '*', rateLimit: { max: 10, timeWindowSeconds: 60 } },
      { id: 'b', name: 'B', keySha256: sha256Hex(KEY_B), scopes: ['provisioning:read'], divisions: '*' },
    ],
  }))
  const env = { REDIS_URL: redis.url, CLIENTS_FILE: clientsFile, ROLE: 'api', RATE_LIMIT_PER_MINUTE: '1000', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1000' }
  const replicas: RunningService[] = await Promise.all([startService(env), startService(env), startService(env)])
  t.teardown(() => Promise.all(replicas.map((r) => r.stop())))
  const get = async (r: RunningService, key: string) => (await fetch(`${r.url}/v1/me`, { headers: { authorization: `Bearer ${key}` } })).status
  const a: number[] = []
  for (let i = 0; i < 15; i++) a.push(await get(replicas[i % 3] as RunningService, KEY_A))
  t.equal(a.filter((s) => s === 200).length, 10, 'exactly the 10 a minute allowed, across three replicas')
  t.equal(a.filter((s) => s === 429).length, 5, 'the rest refused')
  t.same(a.slice(10), [429, 429, 429, 429, 429])
  for (const r of replicas) t.equal(await get(r, KEY_B), 200, 'client B is unaffected on every replica')
})

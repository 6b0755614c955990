import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { createRedisTokenProvider } from '../../src/genesys/token/redis.js'
import { sealKeyFor } from '../../src/genesys/token/seal.js'
import { redisBinary, startRedis } from '../helpers/redis.js'

const KEY = sealKeyFor('fallback-client', 'fallback-secret')

/**
 * A replica whose Redis was only slow (a stall past the 500 ms bound) fetched
 * a token in-process; once Redis answers, the token is offered to the fleet, so
 * the next replica adopts it instead of fetching its own.
 */
t.test('a token fetched while Redis stalled is shared once Redis answers again', { skip: redisBinary.skip }, async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const conn = () => {
    const r = new Redis(server.url, { enableOfflineQueue: false, commandTimeout: 400, maxRetriesPerRequest: 1, retryStrategy: () => 200 })
    r.on('error', () => {})
    return r
  }
  const one = conn()
  const two = conn()
  t.teardown(() => { one.disconnect(); two.disconnect() })
  await Promise.all([one, two].map((r) => new Promise<void>((resolve) => { if (r.status === 'ready') resolve(); else r.once('ready', () => resolve()) })))
  let fetches = 0
  const fetchToken = async () => {
    fetches++
    // Slow enough that Redis is back before the fetched token is stored.
    await sleep(800)
    return { accessToken: `tok-${fetches}`, expiresInSeconds: 3600 }
  }
  const events: string[] = []
  const first = createRedisTokenProvider({ redis: one, clientId: 'fallback-client', sealKey: KEY, fetchToken, onEvent: (e) => events.push(e) })
  const second = createRedisTokenProvider({ redis: two, clientId: 'fallback-client', sealKey: KEY, fetchToken })
  t.teardown(async () => { await first.close(); await second.close() })

  server.pause()
  const token = first.getToken()
  // Past the bound (the first replica falls back), well before its fetch ends.
  await sleep(650)
  server.resume()
  t.equal(await token, 'tok-1')
  t.ok(events.includes('fallback'), 'the first replica fell back to an in-process fetch')
  // The offer is made in the background, after the token was handed out.
  for (let i = 0; i < 40 && (await one.keys('genesys:token:*')).length === 0; i++) await sleep(25)
  t.equal(await second.getToken(), 'tok-1', 'the next replica adopts it from Redis')
  t.equal(fetches, 1, 'one fetch for both')
})

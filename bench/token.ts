/**
 * Cached getToken() cost: the memory twin against the Redis twin (whose cached
 * path serves a local copy until the refresh point), with a bare async function
 * returning a constant as the baseline, in one process.
 *
 *   npx tsx bench/token.ts [--calls 1000000]
 */
import { Redis } from 'ioredis'
import { parseArgs } from 'node:util'
import type { TokenProvider } from '../src/genesys/ports.js'
import { createMemoryTokenProvider } from '../src/genesys/token/memory.js'
import { createRedisTokenProvider } from '../src/genesys/token/redis.js'
import { sealKeyFor } from '../src/genesys/token/seal.js'
import { startRedis } from '../test/helpers/redis.js'
import { machine, median } from './lib.js'

const { values } = parseArgs({ options: { calls: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' } } })
const calls = Number(values.calls)
const rounds = Number(values.rounds)

async function opsPerSecond (get: () => Promise<string>): Promise<number> {
  const started = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) await get()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return calls / seconds
}

async function main (): Promise<void> {
  const redisServer = await startRedis()
  const redis = new Redis(redisServer.url, { enableOfflineQueue: false, commandTimeout: 500, maxRetriesPerRequest: 1 })
  await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())))
  const fetchToken = async () => ({ accessToken: 'bench-token', expiresInSeconds: 86_400 })
  const memory: TokenProvider = createMemoryTokenProvider({ fetchToken })
  const shared: TokenProvider = createRedisTokenProvider({ redis, clientId: 'bench', sealKey: sealKeyFor('bench', 'bench-secret'), fetchToken })
  await memory.getToken()
  await shared.getToken()
  const baseline = async () => 'bench-token'
  const results = { baseline: [] as number[], memory: [] as number[], redis: [] as number[] }
  try {
    for (let r = 0; r < rounds; r++) {
      results.baseline.push(await opsPerSecond(baseline))
      results.memory.push(await opsPerSecond(() => memory.getToken()))
      results.redis.push(await opsPerSecond(() => shared.getToken()))
    }
    // One uncached read straight from Redis, for scale: what every call would cost without the local copy.
    const started = process.hrtime.bigint()
    for (let i = 0; i < 10_000; i++) await redis.get('genesys:bench-probe')
    const redisGet = 10_000 / (Number(process.hrtime.bigint() - started) / 1e9)
    const m = (xs: number[]) => median(xs)
    console.log([
      `cached getToken() (${new Date().toISOString().slice(0, 10)}, ${machine()}; ${rounds} rounds × ${calls} sequential calls, medians)`,
      `  baseline async fn : ${(m(results.baseline) / 1e6).toFixed(2)} M ops/s`,
      `  memory twin       : ${(m(results.memory) / 1e6).toFixed(2)} M ops/s (${(m(results.memory) / m(results.baseline)).toFixed(2)} × baseline)`,
      `  Redis twin        : ${(m(results.redis) / 1e6).toFixed(2)} M ops/s (${(m(results.redis) / m(results.baseline)).toFixed(2)} × baseline, ${(m(results.redis) / m(results.memory)).toFixed(2)} × memory)`,
      `  one Redis GET     : ${(redisGet / 1e3).toFixed(1)} k ops/s (what a cache read per call would cost)`,
    ].join('\n'))
  } finally {
    await memory.close()
    await shared.close()
    redis.disconnect()
    await redisServer.stop()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})

import { parseArgs } from 'node:util'
import { validateFaults } from '../simulator/faults.js'
import { createSimulator } from '../simulator/index.js'
import { defaultSeed, loadSeedFile } from '../simulator/seed.js'

/**
 * Standalone simulator: `npm run simulator -- --port 4010 [--seed file.json]
 * [--rate-limit 300] [--host 127.0.0.1] [--faults '{"latencyMs":50}']`.
 * Prints the URL and the seeded OAuth clients, then runs until SIGINT/SIGTERM.
 */

const usage = 'usage: npm run simulator -- [--port 4010] [--host 127.0.0.1] [--seed seed.json] [--rate-limit 300] [--token-lifetime 86400] [--scim-max-count 25] [--faults JSON]'

function intOption (raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`)
  return n
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string' },
      'rate-limit': { type: 'string' },
      'token-lifetime': { type: 'string' },
      'scim-max-count': { type: 'string' },
      faults: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help === true) {
    console.log(usage)
    return
  }
  const seed = values.seed === undefined ? defaultSeed() : loadSeedFile(values.seed)
  const sim = await createSimulator({
    seed,
    port: intOption(values.port, 'port'),
    host: values.host,
    rateLimitPerMinute: intOption(values['rate-limit'], 'rate-limit'),
    tokenLifetimeSeconds: intOption(values['token-lifetime'], 'token-lifetime'),
    scimMaxCount: intOption(values['scim-max-count'], 'scim-max-count') ?? null,
    faults: values.faults === undefined ? undefined : validateFaults(JSON.parse(values.faults)),
  })
  // The simulator's clients are test fixtures, not secrets: printing them is the point.
  console.log(`Genesys Cloud simulator listening on ${sim.url}`)
  console.log(`  GENESYS_API_URL=${sim.url}`)
  console.log(`  GENESYS_LOGIN_URL=${sim.url}`)
  console.log(`  GENESYS_CLIENT_ID=${sim.credentials.clientId}`)
  console.log(`  GENESYS_CLIENT_SECRET=${sim.credentials.clientSecret}`)
  for (const c of seed.clients.slice(1)) console.log(`  other client: ${c.name}: ${c.clientId} / ${c.clientSecret}`)
  console.log(`  admin: ${sim.url}/__sim/state, /__sim/requests, /__sim/counters, PUT /__sim/faults`)

  let closing = false
  const stop = (signal: string) => {
    if (closing) return
    closing = true
    console.log(`${signal}: closing the simulator`)
    sim.close().then(() => process.exit(0), (err: unknown) => {
      console.error('error while closing the simulator', err)
      process.exit(1)
    })
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  console.error(usage)
  process.exit(1)
})

import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { serveEmbedded } from './embedded.js'
import { simAndClient, simulatorEnv } from './genesys.js'
import { startReceiver } from './receiver.js'
import type { SimulatorOptions } from '../../src/simulator/index.js'

/**
 * The real service (memory stores) over the simulator, for the API clients
 * `clients` lists (given the URL of a webhook receiver started for them),
 * with the simulator's writes at hand. Torn down with the test.
 */
export async function serveTenants (t: Test, clients: (receiverUrl: string) => object[], opts: { env?: Record<string, string>, sim?: SimulatorOptions } = {}) {
  const { sim, genesys, close } = await simAndClient({ sim: { rateLimitPerMinute: 100_000, ...opts.sim } })
  t.teardown(close)
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const dir = await mkdtemp(join(tmpdir(), 'prov-tenants-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({ clients: clients(receiver.url) }))
  const served = await serveEmbedded(t, { ...simulatorEnv(sim), CLIENTS_FILE: clientsFile, ...opts.env })
  /** Upstream writes seen by the simulator (anything but GET and the token). */
  const writes = () => sim.requests().filter((r) => r.method !== 'GET' && r.path !== '/oauth/token')
  return { sim, genesys, receiver, writes, ...served }
}

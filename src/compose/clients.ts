import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { createDemoClient, loadClientsFile, type ApiClient } from '../config/clients.js'
import type { Config } from '../config/load-config.js'
import { startReceiver } from '../dev/webhook-receiver.js'
import { checkDestination, parseAllowedNetworks, WebhookDestinationRefused } from '../webhooks/ssrf.js'
import type { Closers } from './closers.js'

export interface LoadedClients {
  clients: ApiClient[]
  /** Set only in embedded demo mode without CLIENTS_FILE: shown once at startup. */
  demoApiKey?: string
  /** Networks the webhook sender must reach besides WEBHOOK_ALLOWED_NETWORKS (the demo receiver's loopback). */
  demoAllowed: string[]
}

/**
 * The API clients: the clients file, or in simulator mode without one a demo
 * client (with the bundled webhook receiver in processes that send webhooks).
 */
export async function loadClients (config: Readonly<Config>, logger: FastifyBaseLogger, closers: Closers): Promise<LoadedClients> {
  if (config.clientsFile) {
    const clients = loadClientsFile(config.clientsFile)
    if (clients.length === 0) {
      logger.warn({ clientsFile: config.clientsFile }, `CLIENTS_FILE ${config.clientsFile} lists no clients: every API call will be answered 401; add one with npm run client:add -- --file ${config.clientsFile}`)
    }
    return warned(config, logger, { clients, demoAllowed: [] })
  }
  if (config.genesys.mode !== 'simulator') {
    throw new Error('CLIENTS_FILE is required when talking to a real Genesys Cloud org (GENESYS_CLIENT_ID is set).')
  }
  const demo = createDemoClient()
  const demoAllowed: string[] = []
  if (config.demoWebhookReceiver && config.role !== 'api') {
    const receiver = await startDemoReceiver(logger)
    closers.push(() => receiver.close())
    demo.client.webhook = { url: receiver.url, secrets: [receiver.secret] }
    // The demo receiver listens on loopback, which the webhook SSRF guard otherwise refuses.
    demoAllowed.push('127.0.0.1/32')
  }
  return warned(config, logger, { clients: [demo.client], demoApiKey: demo.apiKey, demoAllowed })
}

/** A webhook URL the SSRF rules refuse would dead-letter every event: said at startup. */
function warned (config: Readonly<Config>, logger: FastifyBaseLogger, loaded: LoadedClients): LoadedClients {
  if (config.role !== 'api') void warnRefusedWebhooks(loaded.clients, parseAllowedNetworks(config.webhookAllowedNetworks), logger)
  return loaded
}

/** The bundled receiver for the embedded demo: loopback, a fresh secret, each verified event logged. */
async function startDemoReceiver (logger: FastifyBaseLogger): Promise<{ url: string, secret: string, close (): Promise<void> }> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const log = logger.child({ module: 'demo-receiver' })
  const receiver = await startReceiver({
    port: 0,
    host: '127.0.0.1',
    secrets: [secret],
    toleranceSeconds: 300,
    out: (line) => log.info({ webhook: JSON.parse(line) as unknown }, 'demo receiver: verified webhook received'),
    err: (line) => log.warn({ refused: JSON.parse(line) as unknown }, 'demo receiver: webhook refused'),
  })
  log.info({ url: receiver.url }, 'demo webhook receiver listening')
  return { url: receiver.url, secret, close: () => receiver.close() }
}

/** Warns about each client webhook whose destination the SSRF guard refuses (names that do not resolve are left to delivery). */
async function warnRefusedWebhooks (clients: readonly ApiClient[], allowed: ReturnType<typeof parseAllowedNetworks>, logger: FastifyBaseLogger): Promise<void> {
  for (const client of clients) {
    if (!client.webhook) continue
    let url: URL
    try {
      url = new URL(client.webhook.url)
    } catch {
      logger.warn({ clientId: client.id }, `client "${client.id}": the webhook URL is not a URL; every event will be dead-lettered`)
      continue
    }
    try {
      await checkDestination(url, allowed)
    } catch (err) {
      if (!(err instanceof WebhookDestinationRefused)) continue
      logger.warn({ clientId: client.id, webhookOrigin: url.origin, reason: err.reason }, `client "${client.id}": webhooks to ${url.origin} will always be refused (${err.reason}); use https to a public host, or add its network to WEBHOOK_ALLOWED_NETWORKS`)
    }
  }
}

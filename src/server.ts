import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { buildApp } from './http/app.js'
import { ConfigError, loadConfig, unknownVariables } from './config/load-config.js'
import { createDeps } from './deps.js'
import { loggerOptions } from './lib/logger.js'
import { createShutdown, STOP_SIGNALS } from './lib/shutdown.js'

/** Process entry: config → deps → app → listen, and an orderly close on signals. */
async function main (): Promise<void> {
  let config
  try {
    config = loadConfig(process.env, { isTTY: process.stdout.isTTY })
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(1)
    }
    throw err
  }

  const options = loggerOptions({ level: config.logLevel, pretty: config.logPretty })
  // JSON lines go to stdout synchronously: in order, and none lost when the
  // process exits right after its last line ("shutdown complete").
  const logger = options.transport === undefined ? pino(options, pino.destination({ dest: 1, sync: true })) : pino(options)
  const deps = await createDeps(config, logger, { env: process.env })
  // The clients file may name variables of its own (a tenant's Genesys OAuth client).
  for (const { variable, closest } of unknownVariables(process.env, deps.variablesRead)) {
    logger.warn({ variable, closest }, `${variable} is not a variable this service reads and is ignored; did you mean ${closest}?`)
  }
  const running: { app?: FastifyInstance } = {}

  const shutdown = createShutdown({
    graceMs: config.shutdownGraceMs,
    logger,
    async close () {
      await running.app?.close()
      await deps.close()
    },
    flush: () => new Promise<void>((resolve) => { logger.flush(() => { resolve() }) }),
    exit: (code) => process.exit(code),
  })
  for (const signal of STOP_SIGNALS) process.on(signal, () => { shutdown.begin({ signal }) })
  process.on('uncaughtException', (err) => { shutdown.begin({ err }) })
  process.on('unhandledRejection', (err) => { shutdown.begin({ err }) })

  const app = await buildApp({ config, deps, logger, surface: config.role === 'worker' ? 'health' : 'all' })
  running.app = app
  const address = await app.listen({ port: config.port, host: config.host })
  const { genesysOrigin, redis } = deps.describe()
  logger.info({ role: config.role, genesys: config.genesys.mode, genesysOrigin, redis }, `listening on ${address} (role ${config.role}, Genesys ${config.genesys.mode} at ${genesysOrigin}, Redis ${redis})`)

  if (deps.demoApiKey) {
    // Printed once to the terminal, outside the structured log.
    console.log([
      '',
      '  Embedded demo mode: in-memory state and a built-in Genesys Cloud simulator.',
      `  Swagger UI:        ${address.replace('127.0.0.1', 'localhost')}/docs`,
      `  Demo API key:      ${deps.demoApiKey}`,
      '  (demo only: a new key is made at every start; set CLIENTS_FILE for real clients)',
      '',
    ].join('\n'))
  }
}

main().catch((err: unknown) => {
  console.error('startup failed:', err instanceof Error ? err.message : err)
  process.exit(1)
})

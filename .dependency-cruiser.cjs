/**
 * Import rules of src/ (see the README's architecture section). Run by
 * `npm run lint`; a violation fails it.
 */
const FEATURES = '(provisioning|groups|batches|imports|drift|webhooks|genesys|jobs)'
/** Adapters that may speak Redis: the plumbing, each feature's Redis twin, the BullMQ queue. */
const REDIS_ADAPTER = '^src/(redis/|jobs/bullmq-queue[.]ts$|.*/(redis|keys)[.]ts$)'

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import circles, types included.', from: {}, to: { circular: true } },
    { name: 'lib-is-a-leaf', severity: 'error', comment: 'lib/ holds dependency-free helpers: it imports nothing else from src/.', from: { path: '^src/lib/' }, to: { path: '^src/', pathNot: '^src/lib/' } },
    { name: 'domain-not-http', severity: 'error', comment: 'Features, config, lib and Redis plumbing never import the HTTP layer.', from: { path: `^src/(${FEATURES.slice(1, -1)}|config|lib|redis|simulator)/` }, to: { path: '^src/http/' } },
    { name: 'domain-not-redis', severity: 'error', comment: 'Use cases and ports speak to ports; only adapters, the composition root and the health probe know Redis.', from: { path: `^src/${FEATURES}/`, pathNot: REDIS_ADAPTER }, to: { path: REDIS_ADAPTER } },
    { name: 'domain-not-redis-client', severity: 'error', comment: 'ioredis and bullmq are imported by adapters only.', from: { path: `^src/${FEATURES}/`, pathNot: REDIS_ADAPTER }, to: { path: 'node_modules/(ioredis|bullmq)/' } },
    { name: 'webhooks-know-no-producer', severity: 'error', comment: 'Producers build their events on webhooks/; webhooks/ imports none of them.', from: { path: '^src/webhooks/' }, to: { path: '^src/(provisioning|groups|batches|imports|drift)/' } },
    { name: 'features-know-no-simulator', severity: 'error', comment: 'The simulator is wired in by the composition root (compose/) only.', from: { path: `^src/${FEATURES}/` }, to: { path: '^src/(simulator|dev)/' } },
    { name: 'dev-tools-not-in-production', severity: 'error', comment: 'Dev-only CLIs are started by the composition root in embedded mode, never imported by features or HTTP.', from: { path: '^src/', pathNot: '^src/(dev/|compose/)' }, to: { path: '^src/dev/' } },
    { name: 'no-test-code-in-src', severity: 'error', comment: 'Production code never imports a test helper.', from: { path: '^src/' }, to: { path: '^(test|bench)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
}

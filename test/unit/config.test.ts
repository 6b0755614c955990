import t from 'tap'
import { ConfigError, loadConfig, unknownVariables } from '../../src/config/load-config.js'

function problemsOf (env: Record<string, string>): Array<{ variable: string, reason: string }> {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('defaults: embedded mode with the simulator', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.role, 'all')
  t.equal(config.genesys.mode, 'simulator')
  t.equal(config.genesys.rateLimitPerMinute, 300)
  t.equal(config.maxGroupDepth, 5)
  t.equal(config.http.bodyLimit, 65536)
  t.same(config.webhookAllowedNetworks, [])
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.genesys) && Object.isFrozen(config.genesys.timeouts))
})

t.test('coerces numbers and booleans, derives hosts from the region', async (t) => {
  const config = loadConfig({ PORT: '8080', LOG_PRETTY: 'false', GENESYS_REGION: 'eu-west-1', GENESYS_CLIENT_ID: 'abc', GENESYS_CLIENT_SECRET: 's3cret', CLIENTS_FILE: '/x.json', REDIS_URL: 'redis://127.0.0.1:6379', WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32, fd00::/8' })
  t.equal(config.port, 8080)
  t.equal(config.logPretty, false)
  t.equal(config.genesys.mode, 'remote')
  t.equal(config.genesys.apiUrl, 'https://api.mypurecloud.ie')
  t.equal(config.genesys.loginUrl, 'https://login.mypurecloud.ie')
  t.same(config.webhookAllowedNetworks, ['127.0.0.1/32', 'fd00::/8'])
})

t.test('explicit URLs override the region', async (t) => {
  const config = loadConfig({ GENESYS_REGION: 'us-east-1', GENESYS_API_URL: 'http://127.0.0.1:4010', GENESYS_LOGIN_URL: 'http://127.0.0.1:4010', GENESYS_CLIENT_ID: 'a', GENESYS_CLIENT_SECRET: 'b' })
  t.equal(config.genesys.apiUrl, 'http://127.0.0.1:4010')
})

t.test('every invalid variable is reported at once, by name, without its value', async (t) => {
  const problems = problemsOf({ PORT: 'abc', GENESYS_REGION: 'mars', ROLE: 'boss', LOG_LEVEL: 'loud', MAX_GROUP_DEPTH: '0' })
  const names = problems.map((p) => p.variable).sort()
  t.same(names, ['GENESYS_CLIENT_ID', 'GENESYS_REGION', 'LOG_LEVEL', 'MAX_GROUP_DEPTH', 'PORT', 'ROLE'])
  t.match(problems.find((p) => p.variable === 'ROLE')?.reason, /one of all, api, worker/)
  t.match(problems.find((p) => p.variable === 'GENESYS_REGION')?.reason, /eu-west-1/)
})

t.test('pairs and cross-field rules', async (t) => {
  t.same(problemsOf({ GENESYS_CLIENT_ID: 'a' }).map((p) => p.variable).sort(), ['GENESYS_CLIENT_SECRET', 'GENESYS_REGION'])
  t.same(problemsOf({ GENESYS_API_URL: 'http://x', GENESYS_CLIENT_ID: 'a', GENESYS_CLIENT_SECRET: 'b' }).map((p) => p.variable), ['GENESYS_LOGIN_URL'])
  t.same(problemsOf({ WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/33' }).map((p) => p.variable), ['WEBHOOK_ALLOWED_NETWORKS'])
  t.match(problemsOf({ WEBHOOK_ALLOWED_NETWORKS: '10.0.0.1/8' })[0]?.reason, /host bits set/, 'a CIDR with host bits is named as such')
  t.same(problemsOf({ WEBHOOK_RETRY_SCHEDULE: '5s,forever' }).map((p) => p.variable), ['WEBHOOK_RETRY_SCHEDULE'])
  t.same(problemsOf({ HR_TIME_ZONE: 'Mars/Olympus_Mons' }).map((p) => p.variable), ['HR_TIME_ZONE'], 'an unknown time zone')
  t.same(problemsOf({ HR_TIME_ZONE: 'Europe/Dublin' }), [])
  t.same(problemsOf({ WEBHOOK_TIMEOUT_MS: '60000' }).map((p) => p.variable), ['WEBHOOK_TIMEOUT_MS'], 'a webhook POST never waits longer than 30 s')
  t.same(problemsOf({ REDIS_URL: 'http://localhost' }).map((p) => p.variable), ['REDIS_URL'])
  t.same(problemsOf({ GENESYS_API_URL: 'http://user:pw@host', GENESYS_LOGIN_URL: 'http://host', GENESYS_CLIENT_ID: 'a', GENESYS_CLIENT_SECRET: 'b' }).map((p) => p.variable), ['GENESYS_API_URL'])
})

t.test('a secret in a wrong place is never echoed in the error', async (t) => {
  try {
    loadConfig({ PORT: 'super-secret-value' })
    t.fail('should throw')
  } catch (err) {
    t.notMatch((err as Error).message, /super-secret-value/)
    t.match((err as Error).message, /PORT/)
  }
})

t.test('a real Genesys org without Redis is refused, naming a misspelt REDIS_URL', async (t) => {
  const real = { GENESYS_REGION: 'eu-west-1', GENESYS_CLIENT_ID: 'abc', GENESYS_CLIENT_SECRET: 's3cret', CLIENTS_FILE: '/x.json' }
  const err = t.throws(() => loadConfig({ ...real, REDIS_ULR: 'redis://10.0.0.5:6379', NODE_ENV: 'production' })) as ConfigError
  t.match(err.problems, [{ variable: 'REDIS_URL', reason: /required with a real Genesys org.*ALLOW_IN_MEMORY_STATE=true.*REDIS_ULR is set: did you mean REDIS_URL\?/ }])
  t.notOk(err.message.includes('10.0.0.5'), 'the misspelt variable\'s value is not echoed')
  t.throws(() => loadConfig({ GENESYS_API_URL: 'https://api.example.com', GENESYS_LOGIN_URL: 'https://login.example.com', GENESYS_CLIENT_ID: 'a', GENESYS_CLIENT_SECRET: 'b' }), ConfigError, 'explicit origins off this machine are a real org too')
  t.equal(loadConfig({ ...real, ALLOW_IN_MEMORY_STATE: 'true' }).redis, undefined, 'an explicit opt-in allows it for a demo')
  t.same(loadConfig({ ...real, REDIS_URL: 'redis://127.0.0.1:6379' }).redis?.topology, { kind: 'standalone', url: 'redis://127.0.0.1:6379' })
  t.equal(loadConfig({ ...real, REDIS_CLUSTER_NODES: '10.0.0.5:6379' }).redis?.topology.kind, 'cluster', 'a cluster is Redis too')
  t.equal(loadConfig({ GENESYS_API_URL: 'http://127.0.0.1:4010', GENESYS_LOGIN_URL: 'http://127.0.0.1:4010', GENESYS_CLIENT_ID: 'a', GENESYS_CLIENT_SECRET: 'b' }).genesys.mode, 'remote', 'a Genesys on loopback is a simulator: memory is fine')
})

t.test('unknown variables with this service\'s prefixes are named with the closest known one', async (t) => {
  t.same(unknownVariables({ REDIS_ULR: 'x', LOG_LEVL: 'debug', GENESYS_REGON: 'eu-west-1', RATE_LIMIT_PER_MINUT: '5', PORT: '1', HOME: '/root', PATH: '/bin', NODE_ENV: 'production', WEBHOOK_TIMEOUT_MS: '2000' }), [
    { variable: 'GENESYS_REGON', closest: 'GENESYS_REGION' },
    { variable: 'LOG_LEVL', closest: 'LOG_LEVEL' },
    { variable: 'RATE_LIMIT_PER_MINUT', closest: 'RATE_LIMIT_PER_MINUTE' },
    { variable: 'REDIS_ULR', closest: 'REDIS_URL' },
  ])
  t.same(unknownVariables({ SHUTDOWN_GRACE_SM: '1', WORKER_CONCURENCY: '3' }).map((u) => u.closest), ['SHUTDOWN_GRACE_MS', 'WORKER_CONCURRENCY'])
  t.same(unknownVariables({ MAX_GROUP_DEPHT: '3' }), [{ variable: 'MAX_GROUP_DEPHT', closest: 'MAX_GROUP_DEPTH' }], 'one edit from a known name counts without a prefix')
  t.same(unknownVariables({ GENESYS_BPO_A_CLIENT_ID: 'x', GENESYS_BPO_A_SECRET: 'y' }, ['GENESYS_BPO_A_CLIENT_ID', 'GENESYS_BPO_A_SECRET']), [], 'variables the clients file names are read, not unknown')
})

t.test('Redis topologies: exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES, each list well formed', async (t) => {
  const sentinel = loadConfig({ REDIS_SENTINELS: '10.0.0.5:26379, [fd00::7]:26380', REDIS_SENTINEL_NAME: 'prov', REDIS_SENTINEL_PASSWORD: 'sp', REDIS_PASSWORD: 'dp' }).redis
  t.same(sentinel?.topology, { kind: 'sentinel', sentinels: [{ host: '10.0.0.5', port: 26379 }, { host: 'fd00::7', port: 26380 }], masterName: 'prov' })
  t.equal(sentinel?.password, 'dp')
  t.equal(sentinel?.sentinelPassword, 'sp')
  t.equal(sentinel?.minReplicaAcks, 1, 'acknowledged writes wait for one replica by default')
  t.equal(sentinel?.tls, false)
  const cluster = loadConfig({ REDIS_CLUSTER_NODES: 'redis-0.redis:6379,redis-1.redis:6379', REDIS_TLS_CA_FILE: '/etc/ca.pem', REDIS_MIN_REPLICAS_ACKS: '0' }).redis
  t.same(cluster?.topology, { kind: 'cluster', nodes: [{ host: 'redis-0.redis', port: 6379 }, { host: 'redis-1.redis', port: 6379 }] })
  t.equal(cluster?.tls, true, 'a private CA implies TLS')
  t.equal(cluster?.minReplicaAcks, 0)
  t.equal(loadConfig({ REDIS_URL: 'rediss://h:6380' }).redis?.tls, true, 'rediss:// is TLS')

  t.match(problemsOf({ REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 'b:26379', REDIS_SENTINEL_NAME: 'm' }), [{ variable: 'REDIS_SENTINELS', reason: /conflicts with REDIS_URL/ }])
  t.match(problemsOf({ REDIS_SENTINELS: 'b:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'c:6379' }), [{ variable: 'REDIS_CLUSTER_NODES', reason: /conflicts with REDIS_SENTINELS/ }])
  t.match(problemsOf({ REDIS_SENTINELS: 'b:26379,nope', REDIS_SENTINEL_NAME: 'm' }), [{ variable: 'REDIS_SENTINELS', reason: /"nope" is not host:port/ }])
  t.match(problemsOf({ REDIS_CLUSTER_NODES: 'c:99999' }), [{ variable: 'REDIS_CLUSTER_NODES', reason: /"c:99999" is not host:port/ }])
  t.match(problemsOf({ REDIS_SENTINELS: 'b:26379' }), [{ variable: 'REDIS_SENTINEL_NAME', reason: /required with REDIS_SENTINELS/ }])
  t.match(problemsOf({ REDIS_URL: 'redis://a:6379', REDIS_SENTINEL_NAME: 'm' }), [{ variable: 'REDIS_SENTINEL_NAME', reason: /only means something with REDIS_SENTINELS/ }])
  t.match(problemsOf({ REDIS_PASSWORD: 'x' }), [{ variable: 'REDIS_PASSWORD', reason: /without any Redis/ }])
  t.notOk(JSON.stringify(problemsOf({ REDIS_PASSWORD: 'hunter2-secret' })).includes('hunter2'), 'a password is never echoed')
})

t.test('ROLE=api or ROLE=worker without Redis refuses to start: nothing would ever run what it accepts', async (t) => {
  t.match(problemsOf({ ROLE: 'api' }), [{ variable: 'ROLE', reason: /ROLE=api needs Redis \(REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES\).*never seen by a worker/ }])
  t.match(problemsOf({ ROLE: 'worker' }), [{ variable: 'ROLE', reason: /ROLE=worker needs Redis/ }])
  t.equal(loadConfig({ ROLE: 'api', REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm' }).role, 'api')
  t.equal(loadConfig({ ROLE: 'all' }).redis, undefined, 'ROLE=all runs embedded')
})

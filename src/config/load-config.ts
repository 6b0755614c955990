import { isTimeZone } from '../provisioning/effective-time.js'
import { Value } from 'typebox/value'
import { REGIONS, resolveHosts } from '../genesys/hosts.js'
import { DEFAULT_DENIED_PERMISSIONS, parsePermission } from '../provisioning/checks/permissions.js'
import { parseSchedule } from '../webhooks/schedule.js'
import { parseAllowedNetworks } from '../webhooks/ssrf.js'
import { parseHostList, REDIS_TOPOLOGY_VARIABLES, type RedisSettings, type RedisTopology } from './redis.js'
import { EnvSchema, type Env, type LOG_LEVELS, type ROLES } from './schema.js'

export interface Config {
  port: number
  host: string
  logLevel: typeof LOG_LEVELS[number]
  /** Pretty logs: explicit LOG_PRETTY, else only when stdout is a terminal. */
  logPretty: boolean
  role: typeof ROLES[number]
  /** Absent: embedded in-memory mode (ROLE=all only). */
  redis?: RedisSettings
  genesys: {
    /** `simulator`: no credentials given, the process runs its own Genesys Cloud simulator. */
    mode: 'simulator' | 'remote'
    apiUrl?: string
    loginUrl?: string
    clientId?: string
    clientSecret?: string
    rateLimitPerMinute: number
    timeouts: { connectMs: number, headersMs: number, bodyMs: number }
    maxConnections: number
  }
  clientsFile?: string
  maxGroupDepth: number
  webhookAllowedNetworks: string[]
  /** Embedded demo: a bundled receiver on loopback gets the demo client's webhooks. */
  demoWebhookReceiver: boolean
  groups: {
    maxRemovalsPercent: number
  }
  directoryCacheTtlMs: number
  webhooks: {
    /** Gaps between delivery attempts, ms (each ±20 %); one more attempt than gaps. */
    retryScheduleMs: number[]
    timeoutMs: number
    concurrency: number
  }
  provisioning: {
    /** `domain:entity:action` patterns no granted role may cover. */
    deniedPermissions: string[]
    idempotencyTtlHours: number
    /** Terminations and moves per client per hour beyond which further ones are held for a confirm. */
    brake: { percent: number, count: number }
    /** The IANA zone a date-only effectiveAt starts its day in. */
    hrTimeZone: string
    /** Days after a termination when its user is deleted for good; undefined = never. */
    deleteAfterDays?: number
    workerConcurrency: number
    /** Most Genesys calls one dry run may make. */
    dryRunMaxUpstreamCalls: number
    /** Drift reconciliation: interval (0 = on demand only), mode, share of the budget. */
    reconcile: { intervalMinutes: number, mode: 'report' | 'repair', budgetPercent: number }
    jobMaxAttempts: number
    jobLockMs: number
  }
  http: {
    bodyLimit: number
    /** The body limit of POST /v1/worker-batches. */
    batchBodyLimit: number
    requestTimeoutMs: number
    connectionTimeoutMs: number
    keepAliveTimeoutMs: number
    /** Fastify's trustProxy: false, true, a hop count, or proxy addresses. */
    trustProxy: boolean | number | string
    rateLimit: { perClientPerMinute: number, unauthenticatedPerMinute: number }
  }
  auth: {
    /** Bearer JWTs from the enterprise's identity provider, besides API keys; absent = API keys only. */
    jwt?: JwtAuthConfig
  }
  shutdownGraceMs: number
}

export interface JwtAuthConfig {
  issuer: string
  audience: string
  jwksUrl: string
  /** Asymmetric JWS algorithms only. */
  algorithms: string[]
  /** Required `typ` header, when set. */
  typ?: string
  clientClaim: string
  divisionsClaim: string
}

/** Accepted JWS algorithms: asymmetric signatures only, so a public key can never sign. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const

export class ConfigError extends Error {
  readonly problems: Array<{ variable: string, reason: string }>
  constructor (problems: Array<{ variable: string, reason: string }>) {
    super('Invalid configuration:\n' + problems.map((p) => `  - ${p.variable}: ${p.reason}`).join('\n'))
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type Problem = { variable: string, reason: string }

/**
 * Reads the environment once: coerces strings, applies defaults, reports every
 * invalid variable (name and reason) in one error, and returns a frozen object.
 * Values are never echoed back in messages, so a misplaced secret is not printed.
 */
export function loadConfig (env: Record<string, string | undefined>, opts: { isTTY?: boolean } = {}): Readonly<Config> {
  const picked: Record<string, string> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key]
    // An empty assignment (FOO=) means "not set", as in most .env tooling.
    if (value !== undefined && value.trim() !== '') picked[key] = value.trim()
  }
  const value = Value.Default(EnvSchema, Value.Convert(EnvSchema, picked)) as Env
  const problems: Problem[] = []
  const seen = new Set<string>()
  for (const error of Value.Errors(EnvSchema, value)) {
    const variable = error.instancePath.replace(/^\//, '') || '(environment)'
    if (seen.has(variable)) continue
    seen.add(variable)
    problems.push({ variable, reason: describe(error.keyword, error.params, error.message) })
  }
  problems.push(...crossChecks(value, seen))
  // A misspelt variable is the likeliest cause of a "required" problem: say so there.
  const unknown = unknownVariables(env)
  for (const p of problems) {
    const near = unknown.filter((u) => u.closest === p.variable)
    if (near.length > 0) p.reason += ` (${near.map((u) => u.variable).join(', ')} ${near.length === 1 ? 'is' : 'are'} set: did you mean ${p.variable}?)`
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return deepFreeze(toConfig(value, opts.isTTY ?? false))
}

function describe (keyword: string, params: unknown, message: string): string {
  const p = (params ?? {}) as Record<string, unknown>
  if (keyword === 'enum' && Array.isArray(p.allowedValues)) return `must be one of ${p.allowedValues.join(', ')}`
  if (keyword === 'type') return `must be ${String(p.type === 'integer' ? 'an integer' : p.type)}`
  if (keyword === 'pattern') return `has the wrong form (expected ${String(p.pattern)})`
  return message
}

function crossChecks (env: Env, alreadyInvalid: Set<string>): Problem[] {
  const problems: Problem[] = []
  if (env.GENESYS_REGION !== undefined && !Object.hasOwn(REGIONS, env.GENESYS_REGION)) {
    problems.push({ variable: 'GENESYS_REGION', reason: `unknown region; one of ${Object.keys(REGIONS).join(', ')}` })
  }
  if ((env.GENESYS_API_URL === undefined) !== (env.GENESYS_LOGIN_URL === undefined) && !alreadyInvalid.has('GENESYS_API_URL') && !alreadyInvalid.has('GENESYS_LOGIN_URL')) {
    problems.push({ variable: env.GENESYS_API_URL === undefined ? 'GENESYS_API_URL' : 'GENESYS_LOGIN_URL', reason: 'GENESYS_API_URL and GENESYS_LOGIN_URL must be set together' })
  }
  const hasHosts = env.GENESYS_REGION !== undefined || env.GENESYS_API_URL !== undefined
  if (env.GENESYS_CLIENT_ID !== undefined && env.GENESYS_CLIENT_SECRET === undefined) {
    problems.push({ variable: 'GENESYS_CLIENT_SECRET', reason: 'required when GENESYS_CLIENT_ID is set' })
  }
  if (env.GENESYS_CLIENT_SECRET !== undefined && env.GENESYS_CLIENT_ID === undefined) {
    problems.push({ variable: 'GENESYS_CLIENT_ID', reason: 'required when GENESYS_CLIENT_SECRET is set' })
  }
  if (env.GENESYS_CLIENT_ID !== undefined && !hasHosts) {
    problems.push({ variable: 'GENESYS_REGION', reason: 'set GENESYS_REGION (or GENESYS_API_URL and GENESYS_LOGIN_URL) with GENESYS_CLIENT_ID' })
  }
  if (env.GENESYS_CLIENT_ID === undefined && hasHosts) {
    problems.push({ variable: 'GENESYS_CLIENT_ID', reason: 'required when a Genesys region or URL is set (without it the built-in simulator is used)' })
  }
  // Judged only on a Genesys configuration that is otherwise valid.
  const genesysValid = ![...alreadyInvalid, ...problems.map((p) => p.variable)].some((v) => v.startsWith('GENESYS_'))
  const redisNamed = REDIS_TOPOLOGY_VARIABLES.some((v) => env[v] !== undefined || alreadyInvalid.has(v))
  if (genesysValid && env.GENESYS_CLIENT_ID !== undefined && !redisNamed && !env.ALLOW_IN_MEMORY_STATE && realOrg(env)) {
    problems.push({ variable: 'REDIS_URL', reason: 'required with a real Genesys org (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES): without Redis every accepted hire lives in this process\'s memory and is lost at a restart (set ALLOW_IN_MEMORY_STATE=true to run a demo that way)' })
  }
  if (!redisNamed && (env.ROLE === 'api' || env.ROLE === 'worker')) {
    problems.push({ variable: 'ROLE', reason: `ROLE=${env.ROLE} needs Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): without it ${env.ROLE === 'api' ? 'the requests this process accepts are never seen by a worker' : 'this process sees no request to work on'}; use ROLE=all for the embedded in-memory mode` })
  }
  problems.push(...redisChecks(env, alreadyInvalid))
  const badPattern = splitList(env.DENIED_PERMISSIONS ?? '').find((p) => parsePermission(p) === undefined)
  if (badPattern !== undefined) {
    problems.push({ variable: 'DENIED_PERMISSIONS', reason: `"${badPattern}" is not a domain:entity:action pattern (use * as a wildcard)` })
  }
  problems.push(...jwtChecks(env, alreadyInvalid))
  if (!alreadyInvalid.has('HR_TIME_ZONE') && !isTimeZone(env.HR_TIME_ZONE)) {
    problems.push({ variable: 'HR_TIME_ZONE', reason: `"${env.HR_TIME_ZONE}" is not a time zone this runtime knows; use an IANA name such as Europe/Dublin or America/New_York` })
  }
  try {
    parseAllowedNetworks(splitList(env.WEBHOOK_ALLOWED_NETWORKS))
  } catch (err) {
    problems.push({ variable: 'WEBHOOK_ALLOWED_NETWORKS', reason: `${(err as Error).message}; use CIDRs such as 10.0.0.0/8 or fd00::/8` })
  }
  try {
    parseSchedule(env.WEBHOOK_RETRY_SCHEDULE)
  } catch (err) {
    problems.push({ variable: 'WEBHOOK_RETRY_SCHEDULE', reason: (err as Error).message })
  }
  return problems
}

/**
 * A real org: a region, or explicit origins off this machine. A Genesys on
 * loopback is a simulator (tests, benches, the standalone simulator).
 */
function realOrg (env: Env): boolean {
  if (env.GENESYS_API_URL === undefined) return true
  try {
    return !LOOPBACK_HOSTS.has(new URL(env.GENESYS_API_URL).hostname)
  } catch {
    return true
  }
}

/** Prefixes of this service's variables: a variable with one of them that the service does not know is likely a typo. */
export const VARIABLE_PREFIXES = ['GENESYS_', 'REDIS_', 'WEBHOOK_', 'AUTH_', 'RATE_LIMIT_', 'LOG_', 'JOB_', 'WORKER_', 'IDEMPOTENCY_', 'GROUP_SYNC_', 'DIRECTORY_', 'SHUTDOWN_', 'CLIENTS_', 'DENIED_', 'ALLOW_', 'TRUST_', 'BODY_', 'KEEP_ALIVE_'] as const

/**
 * Variables that look like this service's (a known prefix, or one edit from a
 * known name) but are not among them, each with the closest known name. Only
 * names are read, never values.
 */
export function unknownVariables (env: Record<string, string | undefined>, alsoRead: readonly string[] = []): Array<{ variable: string, closest: string }> {
  const known = Object.keys(EnvSchema.properties)
  const found: Array<{ variable: string, closest: string }> = []
  for (const name of Object.keys(env).sort()) {
    if (known.includes(name) || alsoRead.includes(name)) continue
    const prefixed = VARIABLE_PREFIXES.some((p) => name.startsWith(p))
    if (!prefixed && name.length < 6) continue
    // An unprefixed name counts only within one edit of a known one, and a name
    // whose length differs by two or more is at least two edits away.
    const candidates = prefixed ? known : known.filter((k) => Math.abs(k.length - name.length) <= 1)
    let closest = known[0] ?? ''
    let best = Infinity
    for (const k of candidates) {
      const d = editDistance(name, k)
      if (d < best) { best = d; closest = k }
    }
    if (prefixed || best <= 1) found.push({ variable: name, closest })
  }
  return found
}

/** Levenshtein distance, with a transposition costing one edit (REDIS_ULR → REDIS_URL). */
export function editDistance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[]
      const prev = d[i - 1] as number[]
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1)
      row[j] = v
    }
  }
  return (d[a.length] as number[])[b.length] as number
}

function redisChecks (env: Env, alreadyInvalid: Set<string>): Problem[] {
  const problems: Problem[] = []
  const named = REDIS_TOPOLOGY_VARIABLES.filter((v) => env[v] !== undefined || alreadyInvalid.has(v))
  if (named.length > 1) {
    problems.push({ variable: named[1] ?? '', reason: `conflicts with ${named[0] ?? ''}: name Redis one way only (REDIS_URL for one endpoint, REDIS_SENTINELS for a Sentinel setup, REDIS_CLUSTER_NODES for a cluster)` })
  }
  for (const variable of ['REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const) {
    const value = env[variable]
    if (value === undefined || alreadyInvalid.has(variable)) continue
    const parsed = parseHostList(value)
    if (!parsed.ok) problems.push({ variable, reason: `"${parsed.bad}" is not host:port; give a comma-separated list such as 10.0.0.5:${variable === 'REDIS_SENTINELS' ? 26379 : 6379},10.0.0.6:${variable === 'REDIS_SENTINELS' ? 26379 : 6379}` })
  }
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_NAME === undefined && !alreadyInvalid.has('REDIS_SENTINEL_NAME')) {
    problems.push({ variable: 'REDIS_SENTINEL_NAME', reason: 'required with REDIS_SENTINELS: the name of the master the sentinels monitor' })
  }
  for (const variable of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
    if (env[variable] !== undefined && env.REDIS_SENTINELS === undefined && !alreadyInvalid.has('REDIS_SENTINELS')) {
      problems.push({ variable, reason: 'only means something with REDIS_SENTINELS' })
    }
  }
  if ((env.REDIS_PASSWORD !== undefined || env.REDIS_TLS || env.REDIS_TLS_CA_FILE !== undefined) && named.length === 0) {
    const variable = env.REDIS_PASSWORD !== undefined ? 'REDIS_PASSWORD' : env.REDIS_TLS_CA_FILE !== undefined ? 'REDIS_TLS_CA_FILE' : 'REDIS_TLS'
    problems.push({ variable, reason: 'set without any Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)' })
  }
  return problems
}

function redisSettings (env: Env): RedisSettings | undefined {
  const hosts = (value: string) => { const p = parseHostList(value); return p.ok ? p.hosts : [] }
  let topology: RedisTopology
  if (env.REDIS_URL !== undefined) topology = { kind: 'standalone', url: env.REDIS_URL }
  else if (env.REDIS_SENTINELS !== undefined) topology = { kind: 'sentinel', sentinels: hosts(env.REDIS_SENTINELS), masterName: env.REDIS_SENTINEL_NAME ?? '' }
  else if (env.REDIS_CLUSTER_NODES !== undefined) topology = { kind: 'cluster', nodes: hosts(env.REDIS_CLUSTER_NODES) }
  else return undefined
  return {
    topology,
    ...(env.REDIS_PASSWORD !== undefined ? { password: env.REDIS_PASSWORD } : {}),
    ...(env.REDIS_SENTINEL_PASSWORD !== undefined ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
    tls: env.REDIS_TLS || env.REDIS_TLS_CA_FILE !== undefined || env.REDIS_URL?.startsWith('rediss://') === true,
    ...(env.REDIS_TLS_CA_FILE !== undefined ? { tlsCaFile: env.REDIS_TLS_CA_FILE } : {}),
    minReplicaAcks: env.REDIS_MIN_REPLICAS_ACKS,
    replicaAckTimeoutMs: env.REDIS_REPLICAS_ACK_TIMEOUT_MS,
  }
}

const JWT_TRIO = ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'AUTH_JWT_JWKS_URL'] as const
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

function jwtChecks (env: Env, alreadyInvalid: Set<string>): Problem[] {
  const problems: Problem[] = []
  const set = JWT_TRIO.filter((name) => env[name] !== undefined || alreadyInvalid.has(name))
  if (set.length > 0) {
    for (const name of JWT_TRIO.filter((n) => !set.includes(n))) {
      problems.push({ variable: name, reason: `required when ${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set (AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE and AUTH_JWT_JWKS_URL go together)` })
    }
  }
  if (env.AUTH_JWT_JWKS_URL !== undefined && !alreadyInvalid.has('AUTH_JWT_JWKS_URL')) {
    let url: URL | undefined
    try {
      url = new URL(env.AUTH_JWT_JWKS_URL)
    } catch {
      problems.push({ variable: 'AUTH_JWT_JWKS_URL', reason: 'is not a URL' })
    }
    // Keys fetched over plain http could be swapped by anyone on the path.
    if (url && url.protocol !== 'https:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      problems.push({ variable: 'AUTH_JWT_JWKS_URL', reason: 'must use https (plain http is accepted only for a loopback address)' })
    }
  }
  const algorithms = splitList(env.AUTH_JWT_ALGORITHMS)
  const refused = algorithms.find((alg) => alg.toLowerCase() === 'none' || /^HS/i.test(alg))
  const unknown = algorithms.find((alg) => !(JWT_ALGORITHMS as readonly string[]).includes(alg))
  if (refused !== undefined) {
    problems.push({ variable: 'AUTH_JWT_ALGORITHMS', reason: `"${refused}" is refused: unsigned and shared-secret (HS*) tokens are never accepted` })
  } else if (unknown !== undefined) {
    problems.push({ variable: 'AUTH_JWT_ALGORITHMS', reason: `"${unknown}" is not supported; use ${JWT_ALGORITHMS.join(', ')}` })
  } else if (algorithms.length === 0) {
    problems.push({ variable: 'AUTH_JWT_ALGORITHMS', reason: 'must name at least one algorithm' })
  }
  return problems
}

function parseTrustProxy (value: string): boolean | number | string {
  const v = value.trim()
  if (v === '' || v === 'false') return false
  if (v === 'true') return true
  if (/^\d+$/.test(v)) return Number(v)
  return splitList(v).join(',')
}

function splitList (value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

function toConfig (env: Env, isTTY: boolean): Config {
  const redis = redisSettings(env)
  const remote = env.GENESYS_CLIENT_ID !== undefined
  const hosts = remote
    ? resolveHosts({ region: env.GENESYS_REGION, apiUrl: env.GENESYS_API_URL, loginUrl: env.GENESYS_LOGIN_URL })
    : undefined
  return {
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL as Config['logLevel'],
    logPretty: env.LOG_PRETTY ?? isTTY,
    role: env.ROLE as Config['role'],
    ...(redis ? { redis } : {}),
    genesys: {
      mode: remote ? 'remote' : 'simulator',
      apiUrl: hosts?.apiUrl,
      loginUrl: hosts?.loginUrl,
      clientId: env.GENESYS_CLIENT_ID,
      clientSecret: env.GENESYS_CLIENT_SECRET,
      rateLimitPerMinute: env.GENESYS_RATE_LIMIT_PER_MINUTE,
      timeouts: {
        connectMs: env.GENESYS_CONNECT_TIMEOUT_MS,
        headersMs: env.GENESYS_HEADERS_TIMEOUT_MS,
        bodyMs: env.GENESYS_BODY_TIMEOUT_MS,
      },
      maxConnections: env.GENESYS_MAX_CONNECTIONS,
    },
    clientsFile: env.CLIENTS_FILE,
    demoWebhookReceiver: env.DEMO_WEBHOOK_RECEIVER,
    maxGroupDepth: env.MAX_GROUP_DEPTH,
    webhookAllowedNetworks: splitList(env.WEBHOOK_ALLOWED_NETWORKS),
    groups: { maxRemovalsPercent: env.GROUP_SYNC_MAX_REMOVALS_PERCENT },
    directoryCacheTtlMs: env.DIRECTORY_CACHE_TTL_SECONDS * 1000,
    webhooks: {
      retryScheduleMs: parseSchedule(env.WEBHOOK_RETRY_SCHEDULE),
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      concurrency: env.WEBHOOK_CONCURRENCY,
    },
    provisioning: {
      deniedPermissions: env.DENIED_PERMISSIONS === undefined ? [...DEFAULT_DENIED_PERMISSIONS] : splitList(env.DENIED_PERMISSIONS),
      idempotencyTtlHours: env.IDEMPOTENCY_TTL_HOURS,
      brake: { percent: env.LIFECYCLE_BRAKE_PERCENT, count: env.LIFECYCLE_BRAKE_COUNT },
      hrTimeZone: env.HR_TIME_ZONE,
      ...(env.TERMINATION_DELETE_AFTER_DAYS !== undefined ? { deleteAfterDays: env.TERMINATION_DELETE_AFTER_DAYS } : {}),
      workerConcurrency: env.WORKER_CONCURRENCY,
      dryRunMaxUpstreamCalls: env.DRY_RUN_MAX_UPSTREAM_CALLS,
      reconcile: { intervalMinutes: env.RECONCILE_INTERVAL_MINUTES, mode: env.RECONCILE_MODE, budgetPercent: env.RECONCILE_BUDGET_PERCENT },
      jobMaxAttempts: env.JOB_MAX_ATTEMPTS,
      jobLockMs: env.JOB_LOCK_MS,
    },
    http: {
      bodyLimit: env.BODY_LIMIT_BYTES,
      batchBodyLimit: env.WORKER_BATCH_BODY_LIMIT_BYTES,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      connectionTimeoutMs: env.CONNECTION_TIMEOUT_MS,
      keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      rateLimit: { perClientPerMinute: env.RATE_LIMIT_PER_MINUTE, unauthenticatedPerMinute: env.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE },
    },
    auth: {
      ...(env.AUTH_JWT_ISSUER !== undefined && env.AUTH_JWT_AUDIENCE !== undefined && env.AUTH_JWT_JWKS_URL !== undefined
        ? {
            jwt: {
              issuer: env.AUTH_JWT_ISSUER,
              audience: env.AUTH_JWT_AUDIENCE,
              jwksUrl: env.AUTH_JWT_JWKS_URL,
              algorithms: splitList(env.AUTH_JWT_ALGORITHMS),
              ...(env.AUTH_JWT_TYP !== undefined ? { typ: env.AUTH_JWT_TYP } : {}),
              clientClaim: env.AUTH_JWT_CLIENT_CLAIM,
              divisionsClaim: env.AUTH_JWT_DIVISIONS_CLAIM,
            },
          }
        : {}),
    },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  }
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

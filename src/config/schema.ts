import { Type, type Static, type TSchema } from 'typebox'
import { DEFAULT_RETRY_SCHEDULE } from '../webhooks/schedule.js'

/**
 * The environment the service reads, as a TypeBox schema. Every variable the
 * process understands is here (and in `.env.example`), except those a clients
 * file names for a tenant's own Genesys OAuth client. The entry point hands
 * `process.env` to `loadConfig` (and to `createDeps` for those).
 */

function oneOf<const T extends readonly string[]> (values: T, opts: { default?: T[number], description: string }): TSchema {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts })
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const ROLES = ['all', 'api', 'worker'] as const

const Millis = (def: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 600_000, default: def, description })

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'HTTP port.' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Interface to bind; 0.0.0.0 in containers.' }),
  LOG_LEVEL: oneOf(LOG_LEVELS, { default: 'info', description: 'pino log level.' }),
  LOG_PRETTY: Type.Optional(Type.Boolean({ description: 'Human-readable logs; defaults to true only on a TTY.' })),
  ROLE: oneOf(ROLES, { default: 'all', description: 'api serves HTTP, worker consumes jobs, all does both.' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'One Redis endpoint for durable jobs and shared state (rediss:// for TLS); absent with the two below = embedded in-memory mode.' })),
  REDIS_SENTINELS: Type.Optional(Type.String({ minLength: 1, description: 'Sentinels watching the master, host:port,host:port (instead of REDIS_URL).' })),
  REDIS_SENTINEL_NAME: Type.Optional(Type.String({ minLength: 1, description: 'The master name the sentinels monitor; required with REDIS_SENTINELS.' })),
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'Password of the sentinels themselves, when they require one.' })),
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ minLength: 1, description: 'Some nodes of a Redis Cluster, host:port,host:port (instead of REDIS_URL); the rest are discovered.' })),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'Data password (ACL user "default"); overrides one in REDIS_URL.' })),
  REDIS_TLS: Type.Boolean({ default: false, description: 'TLS to the sentinels, masters and cluster nodes (REDIS_URL says it with rediss://).' }),
  REDIS_TLS_CA_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of a private CA that signed the Redis certificates; implies TLS.' })),
  REDIS_MIN_REPLICAS_ACKS: Type.Integer({ minimum: 0, maximum: 16, default: 1, description: 'Replicas that must confirm an acknowledged write (accepted request, idempotency outcome, webhook outbox) before the answer, when the master has replicas; 0 = off.' }),
  REDIS_REPLICAS_ACK_TIMEOUT_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000, description: 'How long a write waits for its replica confirmations before the request is answered 503.' }),
  DEMO_WEBHOOK_RECEIVER: Type.Boolean({ default: false, description: 'Embedded demo only: run the bundled webhook receiver on loopback and give the demo client a webhook to it; received events are logged.' }),
  ALLOW_IN_MEMORY_STATE: Type.Boolean({ default: false, description: 'Allow in-memory (non-durable) state with a real Genesys org, for a demo; without it a real org requires REDIS_URL.' }),

  GENESYS_REGION: Type.Optional(Type.String({ minLength: 1, description: 'Genesys Cloud region, e.g. eu-west-1; derives both hosts.' })),
  GENESYS_API_URL: Type.Optional(Type.String({ pattern: '^https?://[^/@]+$', description: 'Explicit API origin (overrides the region).' })),
  GENESYS_LOGIN_URL: Type.Optional(Type.String({ pattern: '^https?://[^/@]+$', description: 'Explicit login origin (overrides the region).' })),
  GENESYS_CLIENT_ID: Type.Optional(Type.String({ minLength: 1, description: 'OAuth client-credentials client id; absent = built-in simulator.' })),
  GENESYS_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1, description: 'OAuth client secret.' })),
  GENESYS_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 100_000, default: 300, description: 'Upstream request budget shared by all replicas.' }),
  GENESYS_CONNECT_TIMEOUT_MS: Millis(5_000, 'TCP/TLS connect timeout towards Genesys.'),
  GENESYS_HEADERS_TIMEOUT_MS: Millis(15_000, 'Time to wait for response headers from Genesys.'),
  GENESYS_BODY_TIMEOUT_MS: Millis(15_000, 'Time allowed between body chunks from Genesys.'),
  GENESYS_MAX_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 1024, default: 32, description: 'Connection cap per Genesys origin.' }),

  CLIENTS_FILE: Type.Optional(Type.String({ minLength: 1, description: 'JSON file of API clients (hashed keys, scopes, divisions).' })),
  MAX_GROUP_DEPTH: Type.Integer({ minimum: 1, maximum: 50, default: 5, description: 'Maximum depth of an HR group path.' }),
  WEBHOOK_ALLOWED_NETWORKS: Type.String({ default: '', description: 'Comma-separated CIDRs exempt from the private-address block.' }),
  WEBHOOK_RETRY_SCHEDULE: Type.String({ default: DEFAULT_RETRY_SCHEDULE, description: 'Gaps between webhook attempts (ms, s, m, h), each varied ±20 %; after the last, a delivery is dead-lettered.' }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 30_000, default: 15_000, description: 'Total time allowed for one webhook POST.' }),
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'Webhook deliveries in flight at once per worker process.' }),
  LIFECYCLE_BRAKE_PERCENT: Type.Integer({ minimum: 0, maximum: 100, default: 10, description: 'Terminations and moves of one client within an hour beyond this share of its managed workers wait in status held for an admin confirm.' }),
  TERMINATION_DELETE_AFTER_DAYS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3650, description: 'Days (fractions allowed, e.g. 0.5) after a termination takes effect when the terminated Genesys user is deleted for good (a scheduled change; unset = never).' })),
  HR_TIME_ZONE: Type.String({ minLength: 1, maxLength: 64, default: 'UTC', description: 'IANA time zone (e.g. Europe/Dublin) in which an effectiveAt given as a bare date (2027-01-04) starts.' }),
  WORKER_BATCH_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 4 * 1024 * 1024, description: 'Largest body POST /v1/worker-batches accepts (up to 1,000 records); the rest of the API keeps BODY_LIMIT_BYTES.' }),
  RECONCILE_INTERVAL_MINUTES: Type.Integer({ minimum: 0, maximum: 10_080, default: 60, description: 'How often every managed worker is compared with Genesys (drift reconciliation); 0 = only on demand (POST /v1/reconciliations).' }),
  RECONCILE_MODE: Type.Union([Type.Literal('report'), Type.Literal('repair')], { default: 'report', description: 'report: record drift and send worker.drift.detected; repair: also queue the change that restores the desired state (braked).' }),
  RECONCILE_BUDGET_PERCENT: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'The share of GENESYS_RATE_LIMIT_PER_MINUTE a reconciliation may use (its calls are spaced accordingly), so provisioning keeps priority.' }),
  DRY_RUN_MAX_UPSTREAM_CALLS: Type.Integer({ minimum: 5, maximum: 1000, default: 50, description: 'Most Genesys calls one dry run may make; past it the dry run answers 422 PROV_ERR_TOO_COSTLY and sends nothing more.' }),
  LIFECYCLE_BRAKE_COUNT: Type.Integer({ minimum: 0, maximum: 100_000, default: 25, description: 'Terminations and moves of one client within an hour beyond this count wait in status held for an admin confirm.' }),
  GROUP_SYNC_MAX_REMOVALS_PERCENT: Type.Integer({ minimum: 0, maximum: 100, default: 20, description: 'A membership sync removing more than this share of a group waits for ?confirm=true.' }),
  DIRECTORY_CACHE_TTL_SECONDS: Type.Integer({ minimum: 0, maximum: 3600, default: 60, description: 'How long roles, divisions, groups and queues found by name are reused (0 = every hire reads them).' }),
  DENIED_PERMISSIONS: Type.Optional(Type.String({ description: 'Comma-separated domain:entity:action patterns (* wildcards) a granted role must not cover; replaces the built-in list.' })),
  IDEMPOTENCY_TTL_HOURS: Type.Integer({ minimum: 24, maximum: 720, default: 24, description: 'How long an Idempotency-Key outcome is kept and replayed.' }),
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 16, description: 'Provisioning jobs run at once per worker process.' }),
  JOB_LOCK_MS: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000, description: 'A killed worker\'s jobs run again after at most twice this (BullMQ lock and stalled check).' }),
  JOB_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Attempts per provisioning job before the request is failed.' }),

  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 10 * 1024 * 1024, default: 65_536, description: 'Largest accepted request body.' }),
  REQUEST_TIMEOUT_MS: Millis(30_000, 'Whole-request deadline for a client (headers and body).'),
  CONNECTION_TIMEOUT_MS: Millis(10_000, 'Idle socket deadline before the first request completes.'),
  KEEP_ALIVE_TIMEOUT_MS: Millis(5_000, 'Idle keep-alive socket deadline.'),
  SHUTDOWN_GRACE_MS: Millis(10_000, 'Time allowed for in-flight work on SIGTERM.'),
  TRUST_PROXY: Type.String({ default: '', pattern: '^(|true|false|\\d{1,2}|[0-9a-fA-F.:/, ]+)$', description: 'Behind a TLS-terminating proxy: "true" (trust all), a hop count, or comma-separated proxy addresses/CIDRs; empty = no proxy. Client IPs and https (for HSTS) come from X-Forwarded-* only when set.' }),
  RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 600, description: 'Requests per minute per API client without its own rateLimit in the clients file.' }),
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 120, description: 'Requests per minute per IP address, before authentication (health probes exempt).' }),

  AUTH_JWT_ISSUER: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'JWT bearer tokens: the required "iss" (set with AUTH_JWT_AUDIENCE and AUTH_JWT_JWKS_URL; all unset = API keys only).' })),
  AUTH_JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'JWT bearer tokens: the "aud" value this service must be among.' })),
  AUTH_JWT_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://[^@\\s]+$', maxLength: 2048, description: 'JWT bearer tokens: the identity provider\'s JWKS (https; plain http only on loopback).' })),
  AUTH_JWT_ALGORITHMS: Type.String({ default: 'RS256,ES256,PS256', description: 'Comma-separated JWS algorithms accepted (asymmetric only; "none" and HS* are refused).' }),
  AUTH_JWT_TYP: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.+/-]{1,100}$', description: 'Required "typ" header of JWT bearer tokens, e.g. at+jwt; unset = not checked.' })),
  AUTH_JWT_CLIENT_CLAIM: Type.String({ pattern: '^[A-Za-z0-9_:./-]{1,100}$', default: 'client_id', description: 'Claim naming the calling client; a token without it is refused.' }),
  AUTH_JWT_DIVISIONS_CLAIM: Type.String({ pattern: '^[A-Za-z0-9_:./-]{1,100}$', default: 'divisions', description: 'Claim with the division names the client may provision into, or "*"; absent = none.' }),
})

export type Env = Static<typeof EnvSchema>

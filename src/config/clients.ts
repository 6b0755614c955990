import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

/**
 * API clients: who may call the service, with which scopes, into which divisions.
 * The clients file never holds a key, only its SHA-256; a key is shown once when
 * it is made (`npm run client:add`) and cannot be recovered from the file.
 */

export const SCOPES = ['provisioning:write', 'provisioning:read', 'groups:write', 'admin'] as const
export type Scope = typeof SCOPES[number]

/** An environment variable name, as POSIX shells accept it. */
const ENV_NAME = '^[A-Za-z_][A-Za-z0-9_]{0,127}$'

const ScopeSchema = Type.Unsafe<Scope>({ type: 'string', enum: [...SCOPES] })

export const ApiClientSchema = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'Stable client id; scopes its requests and idempotency keys.' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  keySha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 (hex) of the API key.' }),
  scopes: Type.Array(ScopeSchema, { minItems: 1, uniqueItems: true }),
  divisions: Type.Union([
    Type.Literal('*'),
    Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, uniqueItems: true }),
  ], { description: 'Division names the client may provision into, or "*" for all.' }),
  roles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { uniqueItems: true, description: 'Role names the client may grant; absent = any role the policy allows.' })),
  webhook: Type.Optional(Type.Object({
    url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
    secrets: Type.Array(Type.String({ pattern: '^whsec_[A-Za-z0-9+/=]{24,}$' }), { minItems: 1, maxItems: 5 }),
    events: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true })),
  }, { additionalProperties: false })),
  externalIdPrefix: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9._:-]{0,32}$',
    description: 'Prefix that namespaces this client\'s HR ids in the Genesys `externalId`; default "<id>:". "" keeps bare HR ids (an org migrating from another provisioner).',
  })),
  matchBareHrIds: Type.Optional(Type.Boolean({ description: 'Whether an import (POST /v1/imports) may match a Genesys user carrying this client\'s HR id in bare form (the form another provisioner wrote) to a roster record (default false).' })),
  groupFallback: Type.Optional(Type.Boolean({ description: 'Whether an unmapped HR group path may feed a Genesys group named like its last segment that this client\'s division owns (default true).' })),
  genesys: Type.Optional(Type.Object({
    clientIdEnv: Type.String({ pattern: ENV_NAME, description: 'Environment variable holding the Genesys OAuth client id this client\'s work goes out with.' }),
    clientSecretEnv: Type.String({ pattern: ENV_NAME, description: 'Environment variable holding that OAuth client\'s secret.' }),
  }, { additionalProperties: false, description: 'The Genesys OAuth client (by environment variable names, never values) for this client\'s work; absent = GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET.' })),
  upstream: Type.Optional(Type.Object({
    share: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'The share of a worker process\'s job slots this client\'s jobs may hold at once (terminations excepted). Default: 1/4 when several clients provision, else all.' })),
    maxCallsPerDryRun: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Most Genesys calls one dry run of this client may make, when lower than DRY_RUN_MAX_UPSTREAM_CALLS.' })),
  }, { additionalProperties: false, description: 'This client\'s quota of the shared Genesys rate budget.' })),
  rateLimit: Type.Optional(Type.Object({
    max: Type.Integer({ minimum: 1 }),
    timeWindowSeconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
  }, { additionalProperties: false })),
}, { additionalProperties: false })

export type ApiClient = Static<typeof ApiClientSchema>

export const ClientsFileSchema = Type.Object({
  clients: Type.Array(ApiClientSchema),
}, { additionalProperties: false })

/** The view of a client that request handlers get: no key material at all. */
export type AuthenticatedClient = Omit<ApiClient, 'keySha256' | 'webhook'> & { webhook?: { url: string, events?: string[] } }

export interface ClientRegistry {
  /** Finds the client whose key this is; undefined for an unknown key. */
  authenticate (apiKey: string): AuthenticatedClient | undefined
  get (id: string): ApiClient | undefined
  list (): readonly ApiClient[]
}

export function sha256Hex (value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex')
}

/** A new API key: prefixed so secret scanners and humans recognise it. */
export function generateApiKey (): string {
  return `gpk_${randomBytes(32).toString('base64url')}`
}

/** The namespace of a client's HR ids in Genesys: its prefix, by default `<client id>:`. */
export function externalIdPrefixOf (client: Pick<ApiClient, 'id' | 'externalIdPrefix'>): string {
  return client.externalIdPrefix ?? `${client.id}:`
}

/** The Genesys SCIM `externalId` of one of a client's HR ids. */
export function externalIdFor (client: Pick<ApiClient, 'id' | 'externalIdPrefix'>, hrId: string): string {
  return externalIdPrefixOf(client) + hrId
}

export function createClientRegistry (clients: readonly ApiClient[]): ClientRegistry {
  const byHash = new Map<string, ApiClient>()
  const byId = new Map<string, ApiClient>()
  for (const client of clients) {
    if (byId.has(client.id)) throw new Error(`Duplicate API client id "${client.id}"`)
    if (byHash.has(client.keySha256)) throw new Error(`API clients "${byHash.get(client.keySha256)?.id}" and "${client.id}" share one key`)
    byId.set(client.id, client)
    byHash.set(client.keySha256, client)
  }
  // Two namespaces where one starts with the other could form one externalId
  // from two HR ids; only the bare namespace ("") may coexist with others (its
  // HR ids are then refused where they would collide, see the README).
  const prefixes = clients.map((c) => ({ id: c.id, prefix: externalIdPrefixOf(c) })).filter((p) => p.prefix !== '')
  for (const a of prefixes) {
    for (const b of prefixes) {
      if (a.id !== b.id && b.prefix.startsWith(a.prefix)) {
        throw new Error(`API clients "${a.id}" and "${b.id}" have overlapping externalIdPrefix values ("${a.prefix}", "${b.prefix}")`)
      }
    }
  }
  return {
    authenticate (apiKey) {
      if (apiKey.length === 0 || apiKey.length > 512) return undefined
      const presented = Buffer.from(sha256Hex(apiKey), 'hex')
      const client = byHash.get(presented.toString('hex'))
      // The map lookup is by hash; the compare guards against a lookup that
      // matched by anything but the full digest.
      if (!client || !timingSafeEqual(presented, Buffer.from(client.keySha256, 'hex'))) return undefined
      return toAuthenticated(client)
    },
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
  }
}

function toAuthenticated (client: ApiClient): AuthenticatedClient {
  const { keySha256: _k, webhook, ...rest } = client
  return webhook ? { ...rest, webhook: { url: webhook.url, events: webhook.events } } : rest
}

/**
 * Reads and validates a clients file: one sentence per problem, naming the
 * client and the field (`client "workday" (clients[0]): ...`), at most 20.
 */
export function loadClientsFile (path: string): ApiClient[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(code === 'ENOENT'
      ? `CLIENTS_FILE ${path} does not exist; create it with npm run client:add -- --file ${path} (see the README, "API clients")`
      : `CLIENTS_FILE ${path} cannot be read (${code ?? (err as Error).message})`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new Error(`CLIENTS_FILE ${path} is not valid JSON: ${(err as Error).message}`)
  }
  const problems = clientsFileProblems(raw)
  if (problems.length > 0) {
    throw new Error(`CLIENTS_FILE ${path} is invalid:\n  - ${problems.slice(0, 20).join('\n  - ')}`)
  }
  return (raw as Static<typeof ClientsFileSchema>).clients
}

const FIELD_RULES: Record<string, string> = {
  id: 'must be 1–64 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit',
  name: 'must be a non-empty string (at most 200 characters)',
  keySha256: 'must be the SHA-256 of the key as 64 lower-case hex digits (the file never holds a key; npm run client:add makes one)',
  scopes: `must be a non-empty list of distinct scopes among ${SCOPES.join(', ')}`,
  divisions: 'must be "*" (every division) or a non-empty list of distinct division names',
  roles: 'must be a list of distinct role names',
  webhook: 'must be {"url": "https://…", "secrets": ["whsec_…"], "events"?: [...]} with 1–5 secrets of the form whsec_ + base64',
  genesys: 'must be {"clientIdEnv": "NAME", "clientSecretEnv": "NAME"}: the names of environment variables (letters, digits, "_"), never the values',
  rateLimit: 'must be {"max": n ≥ 1, "timeWindowSeconds": 1–86400}',
}

/** The problems of a parsed clients file, as sentences naming the client and the field. */
export function clientsFileProblems (raw: unknown): string[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || !Array.isArray((raw as { clients?: unknown }).clients)) {
    return ['the file must be an object {"clients": [...]} with a list of clients']
  }
  const problems: string[] = []
  const extra = Object.keys(raw).filter((k) => k !== 'clients')
  if (extra.length > 0) problems.push(`unknown top-level field${extra.length === 1 ? '' : 's'} ${extra.map((k) => `"${k}"`).join(', ')}; only "clients" is allowed`)
  const clients = (raw as { clients: unknown[] }).clients
  clients.forEach((client, i) => {
    const obj = client !== null && typeof client === 'object' && !Array.isArray(client) ? client as Record<string, unknown> : undefined
    const who = `client ${typeof obj?.id === 'string' ? `"${obj.id}" ` : ''}(clients[${i}])`
    if (!obj) { problems.push(`${who} must be an object`); return }
    const fields = new Set<string>()
    for (const e of Value.Errors(ApiClientSchema, obj)) {
      const segment = e.instancePath.split('/')[1]
      if (segment !== undefined && segment !== '') { fields.add(segment); continue }
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties
      for (const m of missing ?? []) fields.add(m)
    }
    for (const key of Object.keys(obj)) {
      if (!Object.hasOwn(ApiClientSchema.properties, key)) problems.push(`${who}: "${key}" is not a client field (${key === 'key' ? 'store keySha256, never the key' : `fields: ${Object.keys(ApiClientSchema.properties).join(', ')}`})`)
    }
    for (const field of fields) {
      if (!Object.hasOwn(ApiClientSchema.properties, field)) continue
      if (!(field in obj)) { problems.push(`${who}: "${field}" is missing; it ${FIELD_RULES[field] ?? 'is required'}`); continue }
      if (field === 'scopes' && Array.isArray(obj.scopes)) {
        const unknown = obj.scopes.filter((sc) => !(SCOPES as readonly unknown[]).includes(sc))
        if (unknown.length > 0) { problems.push(`${who}: scope${unknown.length === 1 ? '' : 's'} ${unknown.map((u) => JSON.stringify(u)).join(', ')} unknown; valid scopes are ${SCOPES.join(', ')}`); continue }
      }
      problems.push(`${who}: "${field}" ${FIELD_RULES[field] ?? 'is invalid'}`)
    }
  })
  return problems
}

/** The embedded demo's client: every scope, every division, a fresh key per start. */
export function createDemoClient (): { client: ApiClient, apiKey: string } {
  const apiKey = generateApiKey()
  return {
    apiKey,
    client: {
      id: 'demo',
      name: 'Demo client (embedded mode only)',
      keySha256: sha256Hex(apiKey),
      scopes: [...SCOPES],
      divisions: '*',
    },
  }
}

import type { ApiClient } from '../config/clients.js'

/**
 * Which Genesys OAuth client each API client's work goes out with. An API
 * client may name its own (division-scoped) OAuth client by environment
 * variable names; the others share the default `GENESYS_CLIENT_ID`. API
 * clients whose variables hold the same Genesys client id share one OAuth
 * client: one token, one rate budget.
 */

/** The default OAuth client's name: not a valid API client id, so it never collides with one. */
export const DEFAULT_OAUTH_CLIENT = '_default'

export interface OAuthClientRef {
  /**
   * How logs, metrics and readiness name it: `_default`, or the id of the first
   * API client (in file order) that names it. Never the Genesys client id.
   */
  name: string
  clientId: string
  clientSecret: string
  /** The environment variables holding it, for messages (never their values). */
  variables: string
  /** API clients (ids) whose work uses it; the default one also serves ids not in the file (JWT callers). */
  apiClients: string[]
}

export interface OAuthClientPlan {
  refs: OAuthClientRef[]
  /** The name of the OAuth client an API client's work uses. */
  nameOf (apiClientId: string): string
}

type Env = Readonly<Record<string, string | undefined>>

/**
 * Resolves every API client's OAuth client from the environment. Throws one
 * error listing every missing or empty variable with the API client that
 * names it (never a value).
 */
export function planOAuthClients (clients: readonly Pick<ApiClient, 'id' | 'genesys'>[], env: Env, fallback: { clientId: string, clientSecret: string }): OAuthClientPlan {
  const problems: string[] = []
  const byGenesysId = new Map<string, OAuthClientRef>()
  const defaultRef: OAuthClientRef = { name: DEFAULT_OAUTH_CLIENT, ...fallback, variables: 'GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET', apiClients: [] }
  byGenesysId.set(fallback.clientId, defaultRef)
  const nameOf = new Map<string, string>()

  for (const client of clients) {
    if (!client.genesys) {
      defaultRef.apiClients.push(client.id)
      nameOf.set(client.id, DEFAULT_OAUTH_CLIENT)
      continue
    }
    const read = (variable: string, field: string): string | undefined => {
      const value = env[variable]?.trim()
      if (value === undefined || value === '') {
        problems.push(`API client "${client.id}": environment variable ${variable} (genesys.${field}) is ${value === undefined ? 'not set' : 'empty'}`)
        return undefined
      }
      return value
    }
    const clientId = read(client.genesys.clientIdEnv, 'clientIdEnv')
    const clientSecret = read(client.genesys.clientSecretEnv, 'clientSecretEnv')
    if (clientId === undefined || clientSecret === undefined) continue
    const shared = byGenesysId.get(clientId)
    if (shared) {
      if (shared.clientSecret !== clientSecret) {
        problems.push(`API client "${client.id}": its OAuth client is also used by ${shared.name === DEFAULT_OAUTH_CLIENT ? 'the default GENESYS_CLIENT_ID' : `API client "${shared.name}"`}, with a different secret in ${client.genesys.clientSecretEnv}`)
        continue
      }
      shared.apiClients.push(client.id)
      nameOf.set(client.id, shared.name)
      continue
    }
    const ref: OAuthClientRef = { name: client.id, clientId, clientSecret, variables: `${client.genesys.clientIdEnv} and ${client.genesys.clientSecretEnv}`, apiClients: [client.id] }
    byGenesysId.set(clientId, ref)
    nameOf.set(client.id, ref.name)
  }
  if (problems.length > 0) {
    throw new Error(`CLIENTS_FILE names Genesys OAuth clients that cannot be used:\n  - ${problems.join('\n  - ')}`)
  }
  return {
    refs: [...byGenesysId.values()],
    nameOf: (apiClientId) => nameOf.get(apiClientId) ?? DEFAULT_OAUTH_CLIENT,
  }
}

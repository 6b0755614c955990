import type { Test as Tap } from 'tap'
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js'
import { defaultSeed } from '../../src/simulator/seed.js'

export const SCIM = '/api/v2/scim/v2'
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
export const GENESYS = 'urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User'

/** Fixed ids from the bundled seed. */
export const SEED = {
  limited: defaultSeed().clients[1] ?? { clientId: '', clientSecret: '' },
  home: '1d000000-0000-4000-8000-000000000001',
  bpoAlpha: '1d000000-0000-4000-8000-000000000002',
  bpoBeta: '1d000000-0000-4000-8000-000000000003',
  roles: { employee: '2e000000-0000-4000-8000-000000000001', agent: '2e000000-0000-4000-8000-000000000002', supervisor: '2e000000-0000-4000-8000-000000000004', masterAdmin: '2e000000-0000-4000-8000-000000000005' },
  groups: { sales: '3a000000-0000-4000-8000-000000000001', support: '3a000000-0000-4000-8000-000000000002', tier2: '3a000000-0000-4000-8000-000000000003', billing: '3a000000-0000-4000-8000-000000000004' },
  queues: { sales: '4b000000-0000-4000-8000-000000000001', support: '4b000000-0000-4000-8000-000000000002', billing: '4b000000-0000-4000-8000-000000000003' },
  users: { supervisor: '7e000000-0000-4000-8000-000000000001', agent: '7e000000-0000-4000-8000-000000000002', inactive: '7e000000-0000-4000-8000-000000000003', deleted: '7e000000-0000-4000-8000-000000000004' },
}

export interface Res<T = unknown> { status: number, headers: Headers, body: T, text: string }

export interface CallOptions {
  token?: string | null
  body?: unknown
  headers?: Record<string, string>
  contentType?: string
}

export interface Harness {
  sim: Simulator
  basic (id?: string, secret?: string): string
  /** A token for the first seeded client (or the given credentials). */
  token (id?: string, secret?: string): Promise<string>
  /** Calls the API with a bearer token (the harness' default token unless `token` is given; null = none). */
  call<T = Record<string, unknown>> (method: string, path: string, opts?: CallOptions): Promise<Res<T>>
}

export async function fetchRes<T> (url: string, init: RequestInit): Promise<Res<T>> {
  const r = await fetch(url, init)
  const text = await r.text()
  let body: unknown = text
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    // keep the text
  }
  return { status: r.status, headers: r.headers, body: body as T, text }
}

export async function startSim (t: Tap, opts: SimulatorOptions = {}): Promise<Harness> {
  const sim = await createSimulator(opts)
  t.teardown(() => sim.close())
  const basic = (id = sim.credentials.clientId, secret = sim.credentials.clientSecret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
  const token = async (id?: string, secret?: string): Promise<string> => {
    const res = await fetchRes<{ access_token: string }>(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    })
    if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`)
    return res.body.access_token
  }
  let defaultToken: string | undefined
  const call = async <T>(method: string, path: string, opts: CallOptions = {}): Promise<Res<T>> => {
    const headers: Record<string, string> = { ...opts.headers }
    let tok = opts.token
    if (tok === undefined) tok = defaultToken ??= await token()
    if (tok !== null) headers.authorization = `Bearer ${tok}`
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/scim+json'
    return fetchRes<T>(`${sim.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) })
  }
  return { sim, basic, token, call }
}

/** A minimal valid SCIM create body. */
export function newUser (userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, displayName: userName.split('@')[0], ...extra }
}

export const filterQuery = (filter: string): string => `filter=${encodeURIComponent(filter)}`

import { promises as dns } from 'node:dns'
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'
import { Agent, buildConnector, errors as undiciErrors } from 'undici'

/**
 * Keeps the webhook sender away from private destinations (OWASP API7, SSRF).
 *
 * A destination may be connected to when its address is globally routable
 * unicast and the URL is `https:`, or when the address lies inside a network the
 * operator listed in `WEBHOOK_ALLOWED_NETWORKS` (then `http:` is fine too).
 * Checking the URL once is not enough: DNS can answer differently at connect
 * time, and IP-literal URLs never reach a lookup hook. So the guarded agent
 * resolves each connection itself, checks that address, connects to exactly it,
 * and checks the socket's peer again once connected.
 */

export type Lookup = (hostname: string) => Promise<Array<{ address: string, family: number }>>

export interface AllowedNetworks {
  contains (address: string): boolean
  readonly cidrs: readonly string[]
}

type Address = ipaddr.IPv4 | ipaddr.IPv6

// RFC 8215 local-use NAT64 prefix: translated to whatever IPv4 the operator's
// NAT64 maps it to, so it is never public. ipaddr.js 2.5 already files it under
// rfc6052; the explicit check keeps the rule whatever the library version says.
const NAT64_LOCAL_USE = ipaddr.IPv6.parseCIDR('64:ff9b:1::/48')
// Only 2000::/3 is allocated as global unicast; anything else ipaddr.js still
// calls `unicast` (e.g. the deprecated IPv4-compatible `::a.b.c.d`) is refused.
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3')

const systemLookup: Lookup = async (hostname) => await dns.lookup(hostname, { all: true, verbatim: true })

export class WebhookDestinationRefused extends Error {
  readonly code = 'WEBHOOK_DESTINATION_REFUSED'

  constructor (readonly host: string, readonly reason: string) {
    super(`webhook destination ${host} refused: ${reason}`)
    this.name = 'WebhookDestinationRefused'
  }
}

/** A strict IP address (dotted quad or IPv6 text), or undefined for anything else. */
function parseAddress (address: string): Address | undefined {
  return isIP(address) === 0 ? undefined : ipaddr.parse(address)
}

/** URL hostnames carry IPv6 literals in brackets (`[::1]`); addresses do not. */
function bareHost (hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
}

function parseNetwork (entry: string): [Address, number] {
  const slash = entry.indexOf('/')
  const text = slash === -1 ? entry : entry.slice(0, slash)
  const family = text.includes('%') ? 0 : isIP(text)
  if (family === 0) throw new Error(`allowed network "${entry}" is not an IP address or CIDR`)
  const bits = family === 4 ? 32 : 128
  const prefixText = slash === -1 ? String(bits) : entry.slice(slash + 1)
  const prefix = /^(0|[1-9]\d{0,2})$/.test(prefixText) ? Number(prefixText) : Number.NaN
  if (!(prefix >= 0 && prefix <= bits)) {
    throw new Error(`allowed network "${entry}" has a prefix length outside 0-${bits}`)
  }
  const address = ipaddr.parse(text)
  const network = family === 4
    ? ipaddr.IPv4.networkAddressFromCIDR(`${text}/${prefix}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${text}/${prefix}`)
  // `10.0.0.1/8` is most likely a typo for a single host; say so instead of guessing.
  if (network.toNormalizedString() !== address.toNormalizedString()) {
    throw new Error(`allowed network "${entry}" has host bits set (network is ${network.toString()}/${prefix})`)
  }
  return [address, prefix]
}

/**
 * Parses `WEBHOOK_ALLOWED_NETWORKS` entries: CIDRs (`10.0.0.0/8`, `fd00::/8`) or
 * bare addresses (a single host). Blank entries are ignored. Matching is by
 * address family: `::ffff:10.0.0.1` is not inside `10.0.0.0/8`.
 */
export function parseAllowedNetworks (cidrs: readonly string[]): AllowedNetworks {
  const entries = cidrs.map((c) => c.trim()).filter((c) => c !== '')
  const networks = entries.map(parseNetwork)
  return {
    cidrs: Object.freeze([...entries]),
    contains (address: string): boolean {
      const ip = parseAddress(address)
      if (ip === undefined) return false
      return networks.some(([net, prefix]) => net.kind() === ip.kind() && ip.match(net, prefix))
    },
  }
}

function protocolRefusal (protocol: string): string | undefined {
  return protocol === 'http:' || protocol === 'https:' ? undefined : `protocol ${protocol} is not http: or https:`
}

/** Why an address may not be connected to, or undefined when it may. */
export function refusalReason (address: string, protocol: string, allowed: AllowedNetworks): string | undefined {
  const badProtocol = protocolRefusal(protocol)
  if (badProtocol !== undefined) return badProtocol
  const ip = parseAddress(address)
  if (ip === undefined) return `${JSON.stringify(address)} is not an IP address`
  if (allowed.contains(address)) return undefined
  const range = ip.range()
  if (range !== 'unicast') return `${address} is in the ${range} range`
  if (ip instanceof ipaddr.IPv6) {
    if (ip.match(NAT64_LOCAL_USE)) return `${address} is in the local-use NAT64 range`
    if (!ip.match(IPV6_GLOBAL_UNICAST)) return `${address} is outside global unicast 2000::/3`
  }
  if (protocol !== 'https:') return `${address} is public and only https: may reach a public address`
  return undefined
}

/** The addresses a host stands for: an IP literal is itself, a name is looked up. */
async function resolveHost (host: string, lookup: Lookup): Promise<string[]> {
  if (isIP(host) !== 0) return [host]
  const addresses = (await lookup(host)).map((a) => a.address)
  if (addresses.length === 0) throw new WebhookDestinationRefused(host, 'the name resolved to no address')
  return addresses
}

/**
 * Resolves and checks a host; every answer must pass, so a name that mixes
 * public and private answers is refused whichever one a client would pick.
 */
async function checkHost (host: string, protocol: string, allowed: AllowedNetworks, lookup: Lookup): Promise<string[]> {
  const badProtocol = protocolRefusal(protocol)
  if (badProtocol !== undefined) throw new WebhookDestinationRefused(host, badProtocol)
  const addresses = await resolveHost(host, lookup)
  for (const address of addresses) {
    const reason = refusalReason(address, protocol, allowed)
    if (reason !== undefined) throw new WebhookDestinationRefused(host, reason)
  }
  return addresses
}

/** Resolves the URL's host (IP literals included) and refuses it before any socket is opened. Returns the addresses checked. */
export async function checkDestination (url: URL, allowed: AllowedNetworks, lookup: Lookup = systemLookup): Promise<string[]> {
  return await checkHost(bareHost(url.hostname), url.protocol, allowed, lookup)
}

/** Bounds a lookup: getaddrinfo has no timeout of its own and the connect timeout starts after it. */
async function within<T> (promise: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new undiciErrors.ConnectTimeoutError(`resolving ${host} took longer than ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * An undici Agent whose every connection goes only to an address it resolved and
 * checked itself (no second DNS lookup, so DNS rebinding cannot slip through), and
 * whose socket's remoteAddress is re-checked after connect.
 *
 * The connection goes to the first address the lookup returns (no fallback to
 * the others). TLS still verifies the certificate against the host name, which
 * is sent as SNI.
 */
export function createGuardedAgent (opts: { allowed: AllowedNetworks, lookup?: Lookup, connectTimeoutMs: number, connections?: number }): Agent {
  const { allowed, lookup = systemLookup, connectTimeoutMs } = opts
  const base = buildConnector({ timeout: connectTimeoutMs })

  // undici calls this for every new connection, IP literals included, with
  // IPv6 literals already unbracketed; `host` keeps the port.
  const guardedConnect: buildConnector.connector = (options, callback) => {
    const host = bareHost(options.hostname)
    const literal = isIP(host) !== 0
    const connectTo = (address: string): void => {
      base({
        ...options,
        hostname: address,
        servername: options.servername || (literal ? undefined : host),
      }, (err, socket) => {
        if (err !== null) {
          callback(err, null)
          return
        }
        const reason = refusalReason(socket.remoteAddress ?? '', options.protocol, allowed)
        if (reason !== undefined) {
          socket.destroy()
          callback(new WebhookDestinationRefused(host, `connected peer ${reason}`), null)
          return
        }
        callback(null, socket)
      })
    }
    const fail = (err: unknown): void => callback(err instanceof Error ? err : new Error(String(err)), null)
    within(checkHost(host, options.protocol, allowed, lookup), connectTimeoutMs, host).then(([address]) => {
      try {
        connectTo(address)
      } catch (err) {
        fail(err)
      }
    }, fail)
  }

  return new Agent({
    connect: guardedConnect,
    ...(opts.connections === undefined ? {} : { connections: opts.connections }),
  })
}

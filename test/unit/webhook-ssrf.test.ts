import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import t, { type Test } from 'tap'
import { errors as undiciErrors, request, type Agent } from 'undici'
import {
  checkDestination,
  createGuardedAgent,
  parseAllowedNetworks,
  refusalReason,
  WebhookDestinationRefused,
  type AllowedNetworks,
  type Lookup,
} from '../../src/webhooks/ssrf.js'

const none = parseAllowedNetworks([])
// Long enough that a refusal which waited on a connect attempt would show.
const CONNECT_TIMEOUT_MS = 5_000
const QUICK_MS = 1_000

interface Listener {
  server: Server
  port: number
  /** TCP connections accepted so far. */
  connections: number
}

/** A plain HTTP listener that counts accepted connections and echoes the Host header. */
async function listen (host: string): Promise<Listener | undefined> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ host: req.headers.host }))
    })
  })
  const listener: Listener = { server, port: 0, connections: 0 }
  server.on('connection', () => { listener.connections++ })
  try {
    server.listen(0, host)
    await once(server, 'listening')
  } catch {
    return undefined
  }
  listener.port = (server.address() as AddressInfo).port
  return listener
}

function closeListener (l: Listener | undefined): Promise<void> | undefined {
  if (l === undefined) return undefined
  l.server.closeAllConnections()
  return new Promise((resolve) => l.server.close(() => resolve()))
}

function guarded (t: Test, opts: { allowed: AllowedNetworks, lookup?: Lookup, connectTimeoutMs?: number }): Agent {
  const agent = createGuardedAgent({ connectTimeoutMs: CONNECT_TIMEOUT_MS, ...opts })
  t.teardown(() => agent.close())
  return agent
}

async function post (url: string, dispatcher: Agent) {
  return await request(url, { dispatcher, method: 'POST', body: 'x' })
}

/** The rejection of a promise that must reject, and how long it took. */
async function rejection (p: Promise<unknown>): Promise<{ err: unknown, ms: number }> {
  const started = performance.now()
  try {
    await p
  } catch (err) {
    return { err, ms: performance.now() - started }
  }
  throw new Error('expected a rejection')
}

/** Waits (bounded) for a condition another side of a socket sets. */
async function until (condition: () => boolean): Promise<void> {
  const deadline = performance.now() + QUICK_MS
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
}

t.test('refusalReason with no allowed networks', async (t) => {
  const refused = [
    '127.0.0.1', '::1', '::ffff:7f00:1', '::ffff:8.8.8.8', '169.254.169.254', '10.0.0.1',
    '172.16.0.1', '192.168.1.1', '100.64.0.1', 'fd00::1', 'fe80::1', '64:ff9b::a00:1',
    '64:ff9b:1::1', '2002:7f00:1::1', '224.0.0.1', '0.0.0.0', '255.255.255.255', '240.0.0.1', '::',
    // beyond the required table: IPv4-compatible, documentation, discard, benchmarking, teredo
    '::7f00:1', '2001:db8::1', '100::1', '198.18.0.1', '2001::1',
  ]
  for (const address of refused) {
    for (const protocol of ['http:', 'https:']) {
      t.ok(refusalReason(address, protocol, none), `${address} over ${protocol} is refused`)
    }
  }
  t.match(refusalReason('127.0.0.1', 'https:', none), /loopback/)
  t.match(refusalReason('::ffff:8.8.8.8', 'https:', none), /ipv4Mapped/, 'a mapped public v4 is still refused')
  t.match(refusalReason('169.254.169.254', 'https:', none), /linkLocal/)
  t.match(refusalReason('64:ff9b::a00:1', 'https:', none), /rfc6052/)

  for (const address of ['8.8.8.8', '2606:4700::1111']) {
    t.equal(refusalReason(address, 'https:', none), undefined, `${address} over https: is allowed`)
    t.match(refusalReason(address, 'http:', none), /only https:/, `${address} over http: is refused`)
  }

  t.match(refusalReason('8.8.8.8', 'ftp:', none), /protocol ftp:/)
  t.match(refusalReason('hris.example', 'https:', none), /not an IP address/)
  t.match(refusalReason('', 'https:', none), /not an IP address/)
})

t.test('refusalReason with allowed networks', async (t) => {
  const loopback = parseAllowedNetworks(['127.0.0.1/32'])
  t.equal(refusalReason('127.0.0.1', 'http:', loopback), undefined, 'allowed over http:')
  t.equal(refusalReason('127.0.0.1', 'https:', loopback), undefined, 'allowed over https:')
  t.match(refusalReason('127.0.0.2', 'http:', loopback), /loopback/)
  t.match(refusalReason('::ffff:7f00:1', 'http:', loopback), /ipv4Mapped/, 'matching is per address family')
  t.match(refusalReason('127.0.0.1', 'ftp:', loopback), /protocol/, 'an allowed network does not allow other protocols')

  const internal = parseAllowedNetworks([' 10.0.0.0/8 ', '', 'fd00::/8', '192.168.1.7'])
  t.same(internal.cidrs, ['10.0.0.0/8', 'fd00::/8', '192.168.1.7'], 'entries are trimmed, blanks dropped')
  t.equal(refusalReason('10.20.30.40', 'http:', internal), undefined)
  t.equal(refusalReason('fd00::1', 'http:', internal), undefined)
  t.equal(refusalReason('192.168.1.7', 'http:', internal), undefined, 'a bare address is a single host')
  t.ok(refusalReason('192.168.1.8', 'http:', internal))
  t.ok(refusalReason('fe80::1', 'http:', internal))
  t.notOk(internal.contains('not-an-ip'))
})

t.test('parseAllowedNetworks names the bad entry', async (t) => {
  t.throws(() => parseAllowedNetworks(['nope']), /"nope"/)
  t.throws(() => parseAllowedNetworks(['10.0.0.0/8', '10/8']), /"10\/8"/)
  t.throws(() => parseAllowedNetworks(['10.0.0.0/33']), /"10\.0\.0\.0\/33".*prefix/)
  t.throws(() => parseAllowedNetworks(['10.0.0.0/08']), /prefix/)
  t.throws(() => parseAllowedNetworks(['fd00::/129']), /prefix/)
  t.throws(() => parseAllowedNetworks(['10.0.0.1/8']), /host bits.*10\.0\.0\.0\/8/)
  t.throws(() => parseAllowedNetworks(['fe80::%eth0/64']), /"fe80::%eth0\/64"/)
  t.same(parseAllowedNetworks([]).cidrs, [])
})

t.test('checkDestination', async (t) => {
  const publicLookup: Lookup = async () => [{ address: '93.184.216.34', family: 4 }]
  t.same(await checkDestination(new URL('https://hris.example/hook'), none, publicLookup), ['93.184.216.34'])
  t.same(await checkDestination(new URL('https://[2606:4700::1111]/hook'), none), ['2606:4700::1111'], 'IPv6 literal, no DNS')

  const mixed: Lookup = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.1', family: 4 }]
  await t.rejects(checkDestination(new URL('https://hris.example/'), none, mixed), { code: 'WEBHOOK_DESTINATION_REFUSED', reason: /10\.0\.0\.1 is in the private range/ }, 'one private answer among public ones is refused')

  await t.rejects(checkDestination(new URL('https://hris.example/'), none, async () => []), { code: 'WEBHOOK_DESTINATION_REFUSED', reason: /no address/ })
  let looked = false
  await t.rejects(checkDestination(new URL('ftp://hris.example/'), none, async () => { looked = true; return [] }), { code: 'WEBHOOK_DESTINATION_REFUSED', reason: /protocol ftp:/ })
  t.notOk(looked, 'a bad protocol is refused before any lookup')
  await t.rejects(checkDestination(new URL('https://hris.example/'), none, async () => { throw new Error('getaddrinfo ENOTFOUND hris.example') }), /ENOTFOUND/, 'lookup failures pass through')

  const refused = new WebhookDestinationRefused('hris.example', 'why')
  t.equal(refused.code, 'WEBHOOK_DESTINATION_REFUSED')
  t.equal(refused.name, 'WebhookDestinationRefused')
  t.equal(refused.host, 'hris.example')
  t.equal(refused.reason, 'why')
})

t.test('guarded agent: no private destination is ever connected to', async (t) => {
  const v4 = await listen('127.0.0.1')
  if (v4 === undefined) throw new Error('cannot listen on 127.0.0.1')
  const v6 = await listen('::1')
  t.teardown(() => closeListener(v4))
  t.teardown(() => closeListener(v6))
  if (v6 === undefined) t.comment('no IPv6 loopback here: [::1] is still checked, against the IPv4 listener only')
  const P = v4.port
  const P6 = v6?.port ?? P

  const loopbackUrls = [
    `http://127.0.0.1:${P}/`,
    `http://2130706433:${P}/`,
    `http://0x7f000001:${P}/`,
    `http://[::1]:${P6}/`,
    `http://[::ffff:7f00:1]:${P}/`,
  ]
  const urls = [
    ...loopbackUrls,
    ...loopbackUrls.map((u) => u.replace(/^http:/, 'https:')),
    'http://169.254.169.254/',
    'http://10.0.0.1/',
    'http://100.64.0.1/',
    'http://[fd00::1]/',
    'http://[64:ff9b::a00:1]/',
  ]

  const agent = guarded(t, { allowed: none })
  for (const url of urls) {
    await t.rejects(checkDestination(new URL(url), none), WebhookDestinationRefused, `checkDestination refuses ${url}`)

    const { err, ms } = await rejection(post(url, agent))
    t.ok(err instanceof WebhookDestinationRefused, `${url}: the refusal surfaces to request() as itself`)
    t.match(err, { code: 'WEBHOOK_DESTINATION_REFUSED', reason: /range/ }, `${url}: refused for its range`)
    t.ok(ms < QUICK_MS, `${url}: refused in ${Math.round(ms)} ms, before any connect attempt`)
  }
  t.equal(v4.connections, 0, 'the IPv4 loopback listener accepted no connection')
  if (v6 !== undefined) t.equal(v6.connections, 0, 'the IPv6 loopback listener accepted no connection')
})

t.test('guarded agent: DNS rebinding between the check and the connect', async (t) => {
  const l = await listen('127.0.0.1')
  if (l === undefined) throw new Error('cannot listen on 127.0.0.1')
  t.teardown(() => closeListener(l))

  let calls = 0
  const rebinding: Lookup = async () => [{ address: calls++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }]

  t.same(await checkDestination(new URL('https://hris.example/hook'), none, rebinding), ['93.184.216.34'], 'public at check time')

  const agent = guarded(t, { allowed: none, lookup: rebinding })
  const { err, ms } = await rejection(post(`http://hris.example:${l.port}/`, agent))
  t.ok(err instanceof WebhookDestinationRefused, 'refused at connect time')
  t.match(err, { host: 'hris.example', reason: /127\.0\.0\.1 is in the loopback range/ })
  t.ok(ms < QUICK_MS)
  t.equal(calls, 2, 'the agent resolved the name itself, once')
  t.equal(l.connections, 0, 'no connection reached the listener')
})

t.test('guarded agent: connects to the address it checked, keeping the Host header', async (t) => {
  const l = await listen('127.0.0.1')
  if (l === undefined) throw new Error('cannot listen on 127.0.0.1')
  t.teardown(() => closeListener(l))

  let calls = 0
  const toLoopback: Lookup = async () => {
    calls++
    return [{ address: '127.0.0.1', family: 4 }]
  }
  const agent = guarded(t, { allowed: parseAllowedNetworks(['127.0.0.1/32']), lookup: toLoopback })
  const res = await post(`http://hris.example:${l.port}/`, agent)
  t.equal(res.statusCode, 200)
  t.same(await res.body.json(), { host: `hris.example:${l.port}` }, 'Host names the URL host, not the address')
  t.equal(calls, 1)
  t.equal(l.connections, 1)
})

t.test('guarded agent: an allowed literal is reached', async (t) => {
  const l = await listen('127.0.0.1')
  if (l === undefined) throw new Error('cannot listen on 127.0.0.1')
  t.teardown(() => closeListener(l))

  const agent = guarded(t, { allowed: parseAllowedNetworks(['127.0.0.1/32']) })
  const res = await post(`http://127.0.0.1:${l.port}/`, agent)
  t.equal(res.statusCode, 200)
  await res.body.dump()
  t.equal(l.connections, 1)

  const { err } = await rejection(post(`http://127.0.0.2:${l.port}/`, agent))
  t.match(err, { code: 'WEBHOOK_DESTINATION_REFUSED' }, '127.0.0.2 is outside the allowed /32')
  t.equal(l.connections, 1)
})

t.test('guarded agent: the connected peer is checked again', async (t) => {
  const l = await listen('127.0.0.1')
  if (l === undefined) throw new Error('cannot listen on 127.0.0.1')
  t.teardown(() => closeListener(l))

  // Allows the pre-connect check only, so the post-connect check must catch it.
  let checks = 0
  const once: AllowedNetworks = { cidrs: ['127.0.0.1/32'], contains: () => checks++ === 0 }
  const agent = guarded(t, { allowed: once })
  const { err } = await rejection(post(`http://127.0.0.1:${l.port}/`, agent))
  t.ok(err instanceof WebhookDestinationRefused)
  t.match(err, { reason: /^connected peer 127\.0\.0\.1 is in the loopback range/ })
  t.equal(checks, 2)
  await until(() => l.connections === 1)
  t.equal(l.connections, 1, 'the refusal came after the connection was made')
})

t.test('guarded agent: lookup failures and hangs', async (t) => {
  const failing = guarded(t, { allowed: none, lookup: async () => { throw new Error('getaddrinfo ENOTFOUND hris.example') } })
  const { err: notFound } = await rejection(post('https://hris.example/', failing))
  t.match(notFound, /ENOTFOUND/, 'a DNS failure passes through unchanged')

  const hanging = guarded(t, { allowed: none, lookup: () => new Promise(() => {}), connectTimeoutMs: 100 })
  const { err: slow, ms } = await rejection(post('https://hris.example/', hanging))
  t.ok(slow instanceof undiciErrors.ConnectTimeoutError, 'a hung lookup ends as a connect timeout')
  t.ok(ms < QUICK_MS)
})

t.test('guarded agent: TLS names the host in SNI, not the address it connects to', async (t) => {
  // A raw TCP listener that keeps the first bytes (the TLS ClientHello) and hangs up.
  const hellos: Buffer[] = []
  const server = createNetServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      hellos.push(chunk)
      socket.destroy()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port

  const agent = guarded(t, { allowed: parseAllowedNetworks(['127.0.0.1/32']), lookup: async () => [{ address: '127.0.0.1', family: 4 }] })
  await rejection(post(`https://hris.example:${port}/`, agent))
  await rejection(post(`https://127.0.0.1:${port}/`, agent))
  await until(() => hellos.length === 2)
  t.equal(hellos.length, 2, 'both handshakes reached the allowed address')
  t.ok(hellos[0]?.includes('hris.example'), 'the name goes out as SNI')
  t.notOk(hellos[1]?.includes('127.0.0.1'), 'no SNI for an IP literal')
})

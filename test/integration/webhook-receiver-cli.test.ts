import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { loadReceiverOptions, startReceiver, verifyWebhook } from '../../src/dev/webhook-receiver.js'
import { webhookHeaders } from '../../src/webhooks/signing.js'
import { runTsx } from '../helpers/cli.js'
import { freePort } from '../helpers/redis.js'

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const NEXT = 'whsec_' + Buffer.from('the next secret, thirty-two bytes').toString('base64')
const OTHER = 'whsec_' + Buffer.from('an unrelated secret, not configured').toString('base64')
const NOW = 1_750_000_000
const BODY = JSON.stringify({ type: 'provisioning.completed', timestamp: '2025-06-15T15:06:40.000Z', data: { requestId: 'prq_1', hrId: '167844' } })

/** Headers as the independent reference library makes them. */
function referenceHeaders (secret: string, id: string, seconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': new Webhook(secret).sign(id, new Date(seconds * 1000), body),
  }
}

t.test('verifyWebhook', async (t) => {
  const ours = webhookHeaders([SECRET], 'msg_1', NOW, BODY)
  const cases: Array<{ name: string, secrets: string[], headers: Record<string, string>, body?: string, now?: number, reason?: RegExp }> = [
    { name: 'signed by signing.ts', secrets: [SECRET], headers: ours },
    { name: 'signed by the standardwebhooks package', secrets: [SECRET], headers: referenceHeaders(SECRET, 'msg_1', NOW, BODY) },
    { name: 'two signatures (sender rotating), the old secret configured', secrets: [SECRET], headers: webhookHeaders([SECRET, NEXT], 'msg_1', NOW, BODY) },
    { name: 'two signatures, the new secret configured', secrets: [NEXT], headers: webhookHeaders([SECRET, NEXT], 'msg_1', NOW, BODY) },
    { name: 'two secrets configured (receiver rotating), signed by the second', secrets: [SECRET, NEXT], headers: webhookHeaders([NEXT], 'msg_1', NOW, BODY) },
    { name: 'unknown versions are skipped', secrets: [SECRET], headers: { ...ours, 'webhook-signature': `v1a,abcd ${ours['webhook-signature'] ?? ''}` } },
    { name: 'at the edge of the tolerance', secrets: [SECRET], headers: ours, now: NOW + 300 },
    { name: 'a forged signature', secrets: [SECRET], headers: { ...ours, 'webhook-signature': 'v1,' + Buffer.alloc(32, 7).toString('base64') }, reason: /no signature matches/ },
    { name: 'a signature with extra characters', secrets: [SECRET], headers: { ...ours, 'webhook-signature': `${ours['webhook-signature'] ?? ''}x` }, reason: /no signature matches/ },
    { name: 'the wrong secret', secrets: [OTHER], headers: ours, reason: /no signature matches/ },
    { name: 'a changed body', secrets: [SECRET], headers: ours, body: BODY + ' ', reason: /no signature matches/ },
    { name: 'a changed id', secrets: [SECRET], headers: { ...ours, 'webhook-id': 'msg_2' }, reason: /no signature matches/ },
    { name: 'a stale timestamp', secrets: [SECRET], headers: ours, now: NOW + 301, reason: /tolerance/ },
    { name: 'a timestamp from the future', secrets: [SECRET], headers: ours, now: NOW - 301, reason: /tolerance/ },
    { name: 'a timestamp that is not seconds', secrets: [SECRET], headers: { ...ours, 'webhook-timestamp': '2025-06-15' }, reason: /not a number/ },
    { name: 'only other versions', secrets: [SECRET], headers: { ...ours, 'webhook-signature': 'v1a,abcd' }, reason: /no v1 signature/ },
    { name: 'no webhook-id', secrets: [SECRET], headers: { ...ours, 'webhook-id': '' }, reason: /missing webhook-id/ },
    { name: 'no webhook-timestamp', secrets: [SECRET], headers: { 'webhook-id': 'msg_1', 'webhook-signature': ours['webhook-signature'] ?? '' }, reason: /missing webhook-timestamp/ },
    { name: 'no webhook-signature', secrets: [SECRET], headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW) }, reason: /missing webhook-signature/ },
  ]
  for (const c of cases) {
    const result = verifyWebhook(c.secrets, c.headers, c.body ?? BODY, c.now ?? NOW)
    if (c.reason === undefined) t.same(result, { ok: true }, c.name)
    else t.match(result, { ok: false, reason: c.reason }, c.name)
  }
  t.match(verifyWebhook([SECRET], ours, BODY, NOW + 1000, 3600), { ok: true }, 'the tolerance is a parameter')
})

t.test('loadReceiverOptions', async (t) => {
  t.same(loadReceiverOptions({ WEBHOOK_SECRETS: SECRET }), { port: 8080, host: '0.0.0.0', secrets: [SECRET], toleranceSeconds: 300 }, 'defaults')
  t.same(loadReceiverOptions({ WEBHOOK_SECRETS: ` ${SECRET}, ${NEXT} ,`, PORT: '9000', HOST: '127.0.0.1', WEBHOOK_TOLERANCE_SECONDS: '60' }),
    { port: 9000, host: '127.0.0.1', secrets: [SECRET, NEXT], toleranceSeconds: 60 })
  t.throws(() => loadReceiverOptions({}), /WEBHOOK_SECRETS must hold at least one/)
  const bad = 'not-a-secret-value'
  try {
    loadReceiverOptions({ WEBHOOK_SECRETS: `${SECRET},${bad},whsec_c2hvcnQ=`, PORT: 'http', WEBHOOK_TOLERANCE_SECONDS: '0' })
    t.fail('should throw')
  } catch (err) {
    const message = (err as Error).message
    t.match(message, /entry 2 does not start with whsec_/)
    t.match(message, /entry 3 has a key shorter than 16 bytes/)
    t.match(message, /PORT must be an integer/)
    t.match(message, /WEBHOOK_TOLERANCE_SECONDS must be an integer/)
    t.notOk(message.includes(bad), 'a malformed secret is not echoed')
  }
})

t.test('over HTTP', async (t) => {
  const out: string[] = []
  const err: string[] = []
  const receiver = await startReceiver({ port: 0, host: '127.0.0.1', secrets: [SECRET, NEXT], toleranceSeconds: 300, out: (l) => out.push(l), err: (l) => err.push(l) })
  t.teardown(() => receiver.close())
  t.match(receiver.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const post = async (headers: Record<string, string>, body = BODY, path = '/hooks/genesys') => {
    const res = await fetch(`${receiver.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    return { status: res.status, text: await res.text() }
  }
  const now = Math.floor(Date.now() / 1000)

  const health = await fetch(`${receiver.url}/health`)
  t.equal(health.status, 200, 'GET /health')
  t.equal((await fetch(`${receiver.url}/health/live`)).status, 200, 'GET /health/live, the image HEALTHCHECK path')
  t.equal((await fetch(`${receiver.url}/hooks/genesys`)).status, 405, 'only POST elsewhere')

  t.equal((await post(webhookHeaders([SECRET], 'msg_a', now, BODY))).status, 204, 'signing.ts signature accepted')
  t.equal((await post(referenceHeaders(NEXT, 'msg_b', now, BODY), BODY, '/any/path')).status, 204, 'standardwebhooks signature, second secret, any path')
  t.equal(out.length, 2)
  const first = JSON.parse(out[0] ?? '{}') as Record<string, unknown>
  t.same(Object.keys(first), ['at', 'webhookId', 'type', 'data'])
  t.match(first, { webhookId: 'msg_a', type: 'provisioning.completed', data: { requestId: 'prq_1', hrId: '167844' } })
  t.ok(!Number.isNaN(Date.parse(String(first.at))))

  t.equal((await post(webhookHeaders([SECRET], 'msg_a', now + 5, BODY))).status, 204, 'a retry of one already seen is acknowledged')
  t.equal(out.length, 3)
  t.match(JSON.parse(out[2] ?? '{}'), { webhookId: 'msg_a', duplicate: true })
  t.notOk('data' in JSON.parse(out[2] ?? '{}'), 'a duplicate is not printed in full again')

  const forged = await post({ ...webhookHeaders([OTHER], 'msg_c', now, BODY) })
  t.equal(forged.status, 400, 'wrong secret')
  t.match(forged.text, /no signature matches/)
  t.equal((await post(webhookHeaders([SECRET], 'msg_d', now - 600, BODY))).status, 400, 'stale timestamp')
  t.equal((await post({})).status, 400, 'no headers')
  t.equal((await post(webhookHeaders([SECRET], 'msg_e', now, 'not json'), 'not json')).status, 400, 'a signed body that is not JSON')
  t.equal((await post(webhookHeaders([SECRET], 'msg_g', now, '[1]'), '[1]')).status, 400, 'a signed body that is not an object')
  t.equal(out.length, 3, 'nothing refused reaches stdout')
  t.equal(err.length, 5, 'one stderr line per refusal')
  t.match(JSON.parse(err[0] ?? '{}'), { status: 400, webhookId: 'msg_c', reason: 'no signature matches' })
  for (const line of err) t.notOk(line.includes(SECRET.slice(6)) || line.includes(NEXT.slice(6)), 'no secret on stderr')

  const big = 'x'.repeat(1024 * 1024 + 1)
  const tooBig = await post(webhookHeaders([SECRET], 'msg_f', now, big), big)
  t.equal(tooBig.status, 413, 'bodies over 1 MiB are refused')
})

t.test('a body larger than the cap without a content-length is cut off', async (t) => {
  const err: string[] = []
  const receiver = await startReceiver({ port: 0, host: '127.0.0.1', secrets: [SECRET], toleranceSeconds: 300, out: () => {}, err: (l) => err.push(l) })
  t.teardown(() => receiver.close())
  const chunk = new Uint8Array(256 * 1024)
  let sent = 0
  const stream = new ReadableStream<Uint8Array>({
    pull (controller) {
      if (sent >= 8) return controller.close()
      sent++
      controller.enqueue(chunk)
    },
  })
  const res = await fetch(`${receiver.url}/hooks`, { method: 'POST', body: stream, duplex: 'half' }).catch(() => undefined)
  // The client may see the 413 or a closed connection, depending on when the answer overtakes the upload.
  if (res !== undefined) t.equal(res.status, 413)
  t.match(err[0] ?? '', /"status":413/)
})

/** The CLI as an operator runs it, through tsx (the image runs the compiled file the same way). */
t.test('CLI: reads its environment, prints accepted webhooks to stdout, stops on SIGTERM', async (t) => {
  const port = await freePort()
  const cli = runTsx(t, 'src/dev/webhook-receiver.ts', [], { PORT: String(port), HOST: '127.0.0.1', WEBHOOK_SECRETS: SECRET })
  await cli.until((_out, err) => err.includes('listening on'))
  const url = `http://127.0.0.1:${port}`
  t.match(cli.err(), `listening on ${url} (1 secret, tolerance 300 s)`)
  t.notOk(cli.err().includes(SECRET.slice(6)), 'the secret is not printed')
  t.equal((await fetch(`${url}/health`)).status, 200)
  const res = await fetch(`${url}/hooks/genesys`, { method: 'POST', headers: referenceHeaders(SECRET, 'msg_cli', Math.floor(Date.now() / 1000), BODY), body: BODY })
  t.equal(res.status, 204)
  await cli.until((out) => out.includes('\n'))
  t.match(JSON.parse(cli.out().trim()), { webhookId: 'msg_cli', type: 'provisioning.completed', data: { hrId: '167844' } })

  cli.child.kill('SIGTERM')
  t.equal(await cli.exited, 0, 'exits cleanly on SIGTERM')
})

t.test('CLI: a missing secret is reported and exits 1', async (t) => {
  const cli = runTsx(t, 'src/dev/webhook-receiver.ts', [], { PORT: '0', WEBHOOK_SECRETS: '' })
  t.equal(await cli.exited, 1)
  t.match(cli.err(), /WEBHOOK_SECRETS must hold at least one/)
})

import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { secretFingerprint, sign, signatureHeader, webhookHeaders } from '../../src/webhooks/signing.js'

// RELIABILITY.md W1: the Standard Webhooks known-answer vector.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek'
const TS = 1614265330
const BODY = '{"test": 2432232314}'

t.test('W1 known answer', async (t) => {
  t.equal(sign(SECRET, ID, TS, BODY), 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
  t.equal(new Webhook(SECRET).sign(ID, new Date(TS * 1000), BODY), sign(SECRET, ID, TS, BODY), 'agrees with the reference library')
})

t.test('signatures verify with the independent verifier, one secret and two during rotation', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  const body = JSON.stringify({ type: 'provisioning.completed', timestamp: new Date().toISOString(), data: { requestId: 'prq_x' } })
  const other = 'whsec_' + Buffer.from('a second secret of thirty-two bytes!').toString('base64')
  const one = webhookHeaders([SECRET], ID, now, body)
  t.same(new Webhook(SECRET).verify(body, one), JSON.parse(body))
  const two = webhookHeaders([SECRET, other], ID, now, body)
  t.equal(two['webhook-signature']?.split(' ').length, 2, 'one signature per secret')
  t.same(new Webhook(SECRET).verify(body, two), JSON.parse(body), 'the old secret verifies')
  t.same(new Webhook(other).verify(body, two), JSON.parse(body), 'the new secret verifies')
  t.throws(() => new Webhook('whsec_' + Buffer.from('an unrelated secret, not configured').toString('base64')).verify(body, two), 'a third secret does not')
  t.throws(() => new Webhook(SECRET).verify(body + ' ', one), 'a changed body does not verify')
  t.throws(() => new Webhook(SECRET).verify(body, { ...one, 'webhook-timestamp': String(now + 1) }), 'a changed timestamp does not verify')
})

t.test('the signature header is space-separated v1 signatures', async (t) => {
  t.match(signatureHeader([SECRET, SECRET], ID, TS, BODY), /^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/)
})

t.test('fingerprints identify a secret without revealing it', async (t) => {
  const fp = secretFingerprint(SECRET)
  t.match(fp, /^sha256:[0-9a-f]{16}$/)
  t.notOk(fp.includes(SECRET.slice(6, 14)))
  t.not(fp, secretFingerprint('whsec_' + Buffer.from('another secret, thirty-two bytes').toString('base64')))
  t.throws(() => sign('not-a-secret', ID, TS, BODY), /whsec_/)
})

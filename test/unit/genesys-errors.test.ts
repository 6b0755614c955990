import t from 'tap'
import { errors, problemBody } from '../../src/errors.js'
import { scimString, scimUserBody } from '../../src/genesys/client.js'
import { GenesysError, isUniquenessConflict, isVersionConflict } from '../../src/genesys/errors.js'
import { errorFields, retryAfterMs } from '../../src/genesys/http.js'

t.test('Retry-After: integer seconds or an HTTP date', async (t) => {
  t.equal(retryAfterMs('42'), 42_000)
  t.equal(retryAfterMs(' 3 '), 3000)
  const now = Date.parse('2026-11-24T10:00:00Z')
  t.equal(retryAfterMs('Tue, 24 Nov 2026 10:00:05 GMT', now), 5000)
  t.equal(retryAfterMs('soon'), undefined)
  t.equal(retryAfterMs(undefined), undefined)
})

t.test('error bodies: platform ErrorBody, SCIM Error and OAuth error', async (t) => {
  t.same(errorFields({ message: 'Rate limit', code: 'too.many.requests.retry.after', status: 429, contextId: 'c-1' }),
    { message: 'Rate limit', genesysCode: 'too.many.requests.retry.after', scimType: undefined, contextId: 'c-1' })
  t.same(errorFields({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness', detail: 'User name already in use' }),
    { message: 'User name already in use', genesysCode: undefined, scimType: 'uniqueness', contextId: undefined })
  t.same(errorFields({ error: 'invalid_client', description: 'client not found' }),
    { message: 'client not found', genesysCode: 'invalid_client', scimType: undefined, contextId: undefined })
  t.same(errorFields('nope'), {})
})

t.test('classification: retryable or not, and the problem it maps to', async (t) => {
  const e = (failure: GenesysError['failure'], upstreamStatus?: number, extra: { scimType?: string, genesysCode?: string } = {}) =>
    new GenesysError('x', { operation: 'op', failure, upstreamStatus, ...extra })
  const table: Array<[string, GenesysError, string, boolean]> = [
    ['429', e('http', 429), 'PROV_ERR_UNAVAILABLE', true],
    ['503', e('http', 503), 'PROV_ERR_UNAVAILABLE', true],
    ['500', e('http', 500), 'PROV_ERR_UPSTREAM', true],
    ['408', e('http', 408), 'PROV_ERR_UPSTREAM', true],
    ['400', e('http', 400), 'PROV_ERR_UPSTREAM', false],
    ['403', e('http', 403), 'PROV_ERR_UPSTREAM', false],
    ['timeout', e('timeout'), 'PROV_ERR_UPSTREAM_TIMEOUT', true],
    ['network', e('network'), 'PROV_ERR_UNAVAILABLE', true],
    ['credentials', e('credentials', 400), 'PROV_ERR_CONFIGURATION', false],
  ]
  for (const [name, err, code, retryable] of table) {
    t.equal(err.code, code, `${name} code`)
    t.equal(err.retryable, retryable, `${name} retryable`)
  }
  t.ok(isUniquenessConflict(e('http', 409, { scimType: 'uniqueness' })))
  t.ok(isVersionConflict(e('http', 400, { scimType: 'invalidVers' })))
  t.ok(isVersionConflict(e('http', 409)), '409 without uniqueness is a version conflict too')
  t.notOk(isVersionConflict(e('http', 409, { scimType: 'uniqueness' })))
  t.equal(new GenesysError('x', { operation: 'op', failure: 'http', upstreamStatus: 429, retryAfterMs: 2500 }).retryAfter, 3, 'Retry-After seconds round up')
})

t.test('SCIM filter strings are quoted and escaped', async (t) => {
  t.equal(scimString('a@b.c'), '"a@b.c"')
  t.equal(scimString('x" or userName eq "y'), '"x\\" or userName eq \\"y"')
  t.equal(scimString('back\\slash'), '"back\\\\slash"')
})

t.test('the SCIM create body lists the extension schemas it uses', async (t) => {
  const body = scimUserBody({ userName: 'a@b.c', displayName: 'A', enterprise: { division: 'Home' } })
  t.same(body.schemas, ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'])
  t.equal(body.active, true)
  t.notOk('password' in body)
})

t.test("a problem caused by Genesys shows its title, never Genesys' own words", async (t) => {
  const err = new GenesysError("Genesys Cloud answered 400 bad.request to scim.users.create: Division 'BPO Beta' user 7e000000-0000-4000-8000-000000000001 conflicts", { operation: 'scim.users.create', failure: 'http', upstreamStatus: 400, genesysCode: 'bad.request' })
  const body = problemBody(err)
  t.equal(body.status, 502)
  t.notMatch(body.detail, /BPO Beta|7e000000|bad\.request/, 'no upstream text in the answer')
  t.match(body.detail, /requestId/)
  t.match(err.message, /BPO Beta/, 'the error itself keeps it for logs and the owner\'s ledger')
  t.equal(problemBody(errors.conflict('Employee E1 already has a provisioning request in progress.')).detail, 'Employee E1 already has a provisioning request in progress.', 'our own messages are shown as they are')
})

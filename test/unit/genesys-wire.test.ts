import t from 'tap'
import { Value } from 'typebox/value'
import { bareVersion, versionOf } from '../../src/genesys/client.js'
import { REGIONS, resolveHosts } from '../../src/genesys/hosts.js'
import { retryAfterInMessage } from '../../src/genesys/http.js'
import { NewHireSchema } from '../../src/provisioning/model.js'
import { buildPlan, type UpstreamFacts } from '../../src/provisioning/checks/upstream-checks.js'

t.test('versions: an ETag or a quoted meta.version become one bare version, quoted once in If-Match', async (t) => {
  t.equal(versionOf('"3"', undefined), '3')
  t.equal(versionOf('W/"3"', undefined), '3')
  t.equal(versionOf(undefined, { version: '"3"' }), '3', 'Genesys meta.version carries its own quotes')
  t.equal(versionOf(undefined, { version: 'W/"7"' }), '7')
  t.equal(versionOf(undefined, { version: '4' }), '4')
  t.equal(versionOf('""', { version: '5' }), '5', 'an empty ETag falls back to meta.version')
  t.equal(versionOf(undefined, undefined), undefined)
  t.equal(bareVersion('""3""'), '3')
})

t.test('the EU sovereign cloud region resolves to its own hosts', async (t) => {
  t.equal(REGIONS['eusc-de-east-1'], 'edee1.eusc-pure.cloud')
  t.same(resolveHosts({ region: 'eusc-de-east-1' }), { apiUrl: 'https://api.edee1.eusc-pure.cloud', loginUrl: 'https://login.edee1.eusc-pure.cloud' })
})

t.test('a 429 message names its wait when Retry-After is missing', async (t) => {
  t.equal(retryAfterInMessage('Rate limit exceeded the maximum. Retry the request in [42] seconds'), 42_000)
  t.equal(retryAfterInMessage('Retry the request in 7 seconds'), 7000)
  t.equal(retryAfterInMessage('Rate limit exceeded'), undefined)
  t.equal(retryAfterInMessage(undefined), undefined)
})

t.test('HR ids: only characters that need no escaping in a SCIM filter', async (t) => {
  const hire = (hrId: string) => ({ hrId, email: 'a@example.com', displayName: 'A' })
  for (const ok of ['167844', 'E-1', 'hr.eu_2', 'x~y', 'ada@hr', 'a+b', 'org:42', 'de/7']) t.ok(Value.Check(NewHireSchema, hire(ok)), ok)
  for (const bad of ['a"b', 'a\\b', 'a b', 'é1', 'a\'b', '(x)', 'a,b']) t.notOk(Value.Check(NewHireSchema, hire(bad)), bad)
})

t.test('the SCIM create does not send the userName again as a work email', async (t) => {
  const facts: UpstreamFacts = { ownership: { clientId: 'c', externalId: 'c:E1', divisionIds: '*' }, candidates: [], division: { name: 'Home', requested: false, found: { id: 'd1', name: 'Home' } }, roles: [], groups: [], skills: [], languages: [] }
  const plan = buildPlan({ hrId: 'E1', email: 'ada@example.com', displayName: 'Ada' }, facts)
  t.equal(plan.scimUser.userName, 'ada@example.com')
  t.equal(plan.scimUser.emails, undefined)
})

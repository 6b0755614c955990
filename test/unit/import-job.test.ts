import t from 'tap'
import { GenesysError } from '../../src/genesys/errors.js'
import { createImportService, type ImportGenesys } from '../../src/imports/service.js'
import { createMemoryImportStore } from '../../src/imports/store/memory.js'
import { createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'

const CLIENT = { id: 'hris', name: 'HRIS', scopes: ['admin' as const], divisions: ['BPO Alpha'] }

t.test('an import job: retried while attempts remain, failed with the error on its last, and its roster let go', async (t) => {
  const store = createMemoryImportStore()
  const queued: string[] = []
  const down = new GenesysError('Genesys Cloud answered 503 to scim.users.page', { operation: 'scim.users.page', failure: 'http', upstreamStatus: 503 })
  const genesys = { client: { users: { page: async () => { throw down } } } } as unknown as ImportGenesys
  const service = createImportService({
    store, queue: { enqueue: async (id) => { queued.push(id) } }, registry: createMemoryWorkerRegistry(),
    genesysFor: () => genesys, desire: async () => { throw new Error('not reached') }, clock: { now: Date.now }, matchBareHrIds: () => false,
  })
  const imp = await service.start(CLIENT, 'plan', [{ index: 0, hrId: 'E1', desired: { email: 'e1@example.com', givenName: 'E', familyName: 'One' } }])
  t.same(queued, [imp.id], 'queued once stored')
  await t.rejects(service.execute(imp.id, { last: false }), down, 'a transient failure is thrown for the queue to retry')
  t.match(await store.get(imp.id), { status: 'running', attempts: 1 })
  t.ok(await store.roster(imp.id), 'the roster is kept for the retry')
  await service.execute(imp.id, { last: true })
  t.match(await store.get(imp.id), { status: 'failed', attempts: 2, error: { code: 'PROV_ERR_UNAVAILABLE' } })
  t.equal(await store.roster(imp.id), undefined, 'a finished import lets its roster go')
  await service.execute(imp.id, { last: true })
  t.equal((await store.get(imp.id))?.attempts, 2, 'a finished import is not run again')
})

import t from 'tap'
import { createClientRegistry, sha256Hex } from '../../src/config/clients.js'
import { buildTestApp } from '../helpers/app.js'

const ADMIN = 'gpk_embedded_admin_0123456789abcdefghijklmnop'

t.test('/admin/queues in embedded mode says that it needs Redis', async (t) => {
  const app = await buildTestApp({ deps: { clients: createClientRegistry([{ id: 'ops', name: 'Ops', keySha256: sha256Hex(ADMIN), scopes: ['admin'], divisions: '*' }]) } })
  t.teardown(() => app.close())
  for (const url of ['/admin/queues', '/admin/queues/queue/provisioning']) {
    const res = await app.inject({ url, headers: { authorization: `Bearer ${ADMIN}` } })
    t.equal(res.statusCode, 404)
    t.match(res.json(), { code: 'PROV_ERR_NOT_FOUND', detail: /needs Redis: set REDIS_URL/ }, url)
  }
  t.equal((await app.inject({ url: '/admin/queues' })).statusCode, 401, 'still behind the admin scope')
})

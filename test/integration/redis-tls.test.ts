import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { loadConfig } from '../../src/config/load-config.js'
import { openRedis } from '../../src/redis/connection.js'
import { provisioningKeys } from '../../src/provisioning/store/keys.js'
import { requireBinary } from '../helpers/binaries.js'
import { exited, freePort, redisBinary } from '../helpers/redis-process.js'

const run = promisify(execFile)
const openssl = requireBinary('openssl', 'apt-get update && apt-get install -y openssl')

/** A private CA and a certificate for 127.0.0.1 it signed, in `dir`. */
async function privateCa (dir: string): Promise<{ ca: string, cert: string, key: string }> {
  const f = (name: string) => join(dir, name)
  const ssl = (...args: string[]) => run(openssl.path ?? 'openssl', args)
  await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=provisioning test CA')
  await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1')
  await writeFile(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n')
  await ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf'))
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') }
}

t.test('rediss:// with REDIS_TLS_CA_FILE reaches a Redis whose certificate a private CA signed; without the CA it does not', { skip: redisBinary.skip || openssl.skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'prov-redis-tls-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pki = await privateCa(dir)
  const port = await freePort()
  const server = spawn(redisBinary.path ?? 'redis-server', [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction',
    '--tls-cert-file', pki.cert, '--tls-key-file', pki.key, '--tls-ca-cert-file', pki.ca, '--tls-auth-clients', 'no',
  ], { stdio: 'ignore' })
  t.teardown(async () => { server.kill('SIGKILL'); await exited(server) })
  const failures: string[] = []
  const sink = { report: (what: string) => { failures.push(what) }, recovered: () => {} }

  const trusted = loadConfig({ REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_TLS_CA_FILE: pki.ca }).redis
  if (!trusted) throw new Error('no Redis settings')
  let opened = await openRedis(trusted, sink, { anchorKey: provisioningKeys.pending() })
  for (let i = 0; i < 50 && opened.client.status !== 'ready'; i++) {
    // The server may still be starting: try again.
    await opened.close()
    await new Promise((resolve) => setTimeout(resolve, 100))
    opened = await openRedis(trusted, sink, { anchorKey: provisioningKeys.pending() })
  }
  t.teardown(() => opened.close())
  t.match(await opened.check(), /^single node 127\.0\.0\.1:\d+, role master/, 'ready over TLS')
  await opened.client.set('tls-probe', 'ok')
  t.equal(await opened.client.get('tls-probe'), 'ok')

  const untrusted = loadConfig({ REDIS_URL: `rediss://127.0.0.1:${port}` }).redis
  if (!untrusted) throw new Error('no Redis settings')
  failures.length = 0
  const refused = await openRedis(untrusted, sink, { anchorKey: provisioningKeys.pending() })
  t.teardown(() => refused.close())
  await t.rejects(refused.check(), 'a certificate from an unknown CA is refused')
  t.ok(failures.length > 0, 'and reported as Redis being unreachable')
})

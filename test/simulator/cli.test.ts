import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'

/** Deliberately imports nothing from src/: see the coverage note below. */
async function fetchRes<T> (url: string, init: RequestInit): Promise<{ status: number, body: T }> {
  const r = await fetch(url, init)
  return { status: r.status, body: await r.json() as T }
}

const root = fileURLToPath(new URL('../../', import.meta.url))
// The child loads the simulator through tsx, a different transform from tap's:
// merging its coverage would map lines wrongly and report covered code as
// uncovered, so tap's coverage recording is switched off in the child.
const env = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }

async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

t.test('standalone: prints the URL and the seeded credentials, serves, stops on SIGTERM', async (t) => {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/simulator/cli.ts', '--port', String(port), '--rate-limit', '120'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { err += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })

  const deadline = Date.now() + 30_000
  while (!out.includes('GENESYS_CLIENT_SECRET=') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50))
  const url = `http://127.0.0.1:${port}`
  t.match(out, `listening on ${url}`, err)
  t.match(out, 'GENESYS_CLIENT_ID=c0ffee00-0000-4000-8000-000000000001')
  t.match(out, 'GENESYS_CLIENT_SECRET=sim-secret-full-access-do-not-use-in-production')

  const basic = Buffer.from('c0ffee00-0000-4000-8000-000000000001:sim-secret-full-access-do-not-use-in-production').toString('base64')
  const tok = await fetchRes<{ access_token: string }>(`${url}/oauth/token`, {
    method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials',
  })
  t.equal(tok.status, 200)
  const home = await fetchRes<{ name: string }>(`${url}/api/v2/authorization/divisions/home`, { headers: { authorization: `Bearer ${tok.body.access_token}` } })
  t.equal(home.body.name, 'Home')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exits cleanly on SIGTERM')
})

t.test('standalone: a bad seed file is reported and exits 1', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/simulator/cli.ts', '--port', '0', '--seed', 'package.json'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (c: Buffer) => { err += c.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.equal(code, 1)
  t.match(err, 'invalid simulator seed')
})

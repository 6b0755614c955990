import t from 'tap'
import { runTsx } from '../helpers/cli.js'
import { freePort } from '../helpers/redis.js'

/** Deliberately imports nothing from src/: see the coverage note below. */
async function fetchRes<T> (url: string, init: RequestInit): Promise<{ status: number, body: T }> {
  const r = await fetch(url, init)
  return { status: r.status, body: await r.json() as T }
}

// The child loads the simulator through tsx, a different transform from tap's:
// runTsx switches tap's coverage off in it, since merging would map lines wrongly.

t.test('standalone: prints the URL and the seeded credentials, serves, stops on SIGTERM', async (t) => {
  const port = await freePort()
  const cli = runTsx(t, 'src/dev/simulator-cli.ts', ['--port', String(port), '--rate-limit', '120'])
  await cli.until((out) => out.includes('GENESYS_CLIENT_SECRET='))
  const url = `http://127.0.0.1:${port}`
  t.match(cli.out(), `listening on ${url}`, cli.err())
  t.match(cli.out(), 'GENESYS_CLIENT_ID=c0ffee00-0000-4000-8000-000000000001')
  t.match(cli.out(), 'GENESYS_CLIENT_SECRET=sim-secret-full-access-do-not-use-in-production')

  const basic = Buffer.from('c0ffee00-0000-4000-8000-000000000001:sim-secret-full-access-do-not-use-in-production').toString('base64')
  const tok = await fetchRes<{ access_token: string }>(`${url}/oauth/token`, {
    method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials',
  })
  t.equal(tok.status, 200)
  const home = await fetchRes<{ name: string }>(`${url}/api/v2/authorization/divisions/home`, { headers: { authorization: `Bearer ${tok.body.access_token}` } })
  t.equal(home.body.name, 'Home')

  cli.child.kill('SIGTERM')
  t.equal(await cli.exited, 0, 'exits cleanly on SIGTERM')
})

t.test('standalone: a bad seed file is reported and exits 1', async (t) => {
  const cli = runTsx(t, 'src/dev/simulator-cli.ts', ['--port', '0', '--seed', 'package.json'])
  t.equal(await cli.exited, 1)
  t.match(cli.err(), 'invalid simulator seed')
})

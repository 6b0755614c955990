import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createClientRegistry, loadClientsFile } from '../../src/config/clients.js'
import { runTsx } from '../helpers/cli.js'

t.setTimeout(120_000)

t.test('client:add --file creates, then appends to, a clients file; --webhook-url adds a webhook with a fresh secret printed once', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'client-add-')), 'clients.json')
  const first = runTsx(t, 'scripts/client-add.ts', ['--id', 'workday', '--scopes', 'provisioning:write,provisioning:read', '--divisions', 'BPO Alpha', '--file', file])
  t.equal(await first.exited, 0, first.err())
  const second = runTsx(t, 'scripts/client-add.ts', ['--id', 'hris', '--scopes', 'provisioning:write', '--webhook-url', 'https://hris.example.com/hooks', '--file', file])
  t.equal(await second.exited, 0, second.err())

  const clients = loadClientsFile(file)
  t.same(clients.map((c) => c.id), ['workday', 'hris'], 'created, then appended')
  const key = /\s(gpk_\S+)/.exec(second.out())?.[1] ?? ''
  t.equal(createClientRegistry(clients).authenticate(key)?.id, 'hris', 'the printed key is the one the file knows')
  const secret = /\s(whsec_\S+)/.exec(second.out())?.[1] ?? ''
  t.same(clients[1]?.webhook, { url: 'https://hris.example.com/hooks', secrets: [secret] }, 'the printed secret is the webhook\'s')
  t.notOk((await readFile(file, 'utf8')).includes(key), 'the file never holds the key')

  const dup = runTsx(t, 'scripts/client-add.ts', ['--id', 'hris', '--scopes', 'admin', '--file', file])
  t.equal(await dup.exited, 2, 'an id already in the file is refused')
  t.match(dup.err(), /already has a client "hris"/)
  const badScope = runTsx(t, 'scripts/client-add.ts', ['--id', 'x', '--scopes', 'root', '--file', file])
  t.equal(await badScope.exited, 2)
  t.match(badScope.err(), /valid scopes are provisioning:write/)
  t.same(loadClientsFile(file).map((c) => c.id), ['workday', 'hris'], 'a refused entry changes nothing')
})

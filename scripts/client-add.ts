import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { clientsFileProblems, generateApiKey, SCOPES, sha256Hex, type ApiClient } from '../src/config/clients.js'

/**
 * Makes a new API client: prints its key once (it is stored nowhere) and either
 * appends the entry to a clients file (`--file`, created when missing) or prints
 * the JSON entry to paste. The file holds only the key's SHA-256. With
 * `--webhook-url` the client gets a webhook and a fresh `whsec_` secret, also
 * printed once.
 *
 *   npm run client:add -- --id workday --name "Workday" --scopes provisioning:write,provisioning:read --divisions "BPO Alpha" --file clients.json
 */
const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'string' },
    divisions: { type: 'string', default: '*' },
    roles: { type: 'string' },
    file: { type: 'string' },
    'webhook-url': { type: 'string' },
  },
})

const list = (s: string | undefined) => s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean)
if (!values.id || !values.scopes) {
  console.error(`usage: npm run client:add -- --id <id> --scopes <${SCOPES.join('|')},…> [--name <name>] [--divisions <A,B>|*] [--roles <Agent,…>] [--webhook-url <https://…>] [--file <clients.json>]`)
  process.exit(2)
}

const apiKey = generateApiKey()
const webhookSecret = values['webhook-url'] === undefined ? undefined : `whsec_${randomBytes(32).toString('base64')}`
const entry = {
  id: values.id,
  name: values.name ?? values.id,
  keySha256: sha256Hex(apiKey),
  scopes: list(values.scopes),
  divisions: values.divisions === '*' ? '*' : list(values.divisions),
  ...(values.roles ? { roles: list(values.roles) } : {}),
  ...(values['webhook-url'] !== undefined && webhookSecret !== undefined ? { webhook: { url: values['webhook-url'], secrets: [webhookSecret] } } : {}),
}

let existing: unknown[] = []
if (values.file !== undefined && existsSync(values.file)) {
  try {
    const parsed = JSON.parse(readFileSync(values.file, 'utf8')) as { clients?: unknown }
    if (!Array.isArray(parsed.clients)) throw new Error('it has no "clients" list')
    existing = parsed.clients
  } catch (err) {
    console.error(`${values.file} is not a clients file (${(err as Error).message}); nothing was changed`)
    process.exit(2)
  }
  if (existing.some((c) => (c as { id?: unknown }).id === entry.id)) {
    console.error(`${values.file} already has a client "${entry.id}"; nothing was changed`)
    process.exit(2)
  }
}
const problems = clientsFileProblems({ clients: [...existing, entry] })
if (problems.length > 0) {
  console.error(`invalid client:\n  - ${problems.join('\n  - ')}`)
  process.exit(2)
}

console.log(`API key for ${entry.id} (shown once; give it to the client over a secure channel):\n\n  ${apiKey}\n`)
if (webhookSecret !== undefined) console.log(`Webhook signing secret (shown once; the receiver verifies with it):\n\n  ${webhookSecret}\n`)
if (values.file !== undefined) {
  // Written to a temporary file first, so a crash never leaves half a file.
  const tmp = `${values.file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify({ clients: [...existing, entry as ApiClient] }, null, 2) + '\n', { mode: 0o600 })
  renameSync(tmp, values.file)
  console.log(`${existing.length === 0 ? 'Created' : 'Updated'} ${values.file} (${existing.length + 1} client${existing.length === 0 ? '' : 's'}); start the service with CLIENTS_FILE=${values.file}`)
} else {
  console.log('Add this entry to the "clients" array of your CLIENTS_FILE (or pass --file to have it written):\n')
  console.log(JSON.stringify(entry, null, 2))
}

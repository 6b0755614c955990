import { parseArgs } from 'node:util'
import { Value } from 'typebox/value'
import { ApiClientSchema, generateApiKey, SCOPES, sha256Hex } from '../src/config/clients.js'

/**
 * Makes a new API client: prints its key once (it is stored nowhere) and the
 * JSON entry to paste into CLIENTS_FILE, which holds only the key's SHA-256.
 *
 *   npm run client:add -- --id workday --name "Workday" --scopes provisioning:write,provisioning:read --divisions BPO-A
 */
const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'string' },
    divisions: { type: 'string', default: '*' },
    roles: { type: 'string' },
  },
})

const list = (s: string | undefined) => s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean)
if (!values.id || !values.scopes) {
  console.error(`usage: npm run client:add -- --id <id> --scopes <${SCOPES.join('|')},…> [--name <name>] [--divisions <A,B>|*] [--roles <Agent,…>]`)
  process.exit(2)
}

const apiKey = generateApiKey()
const entry = {
  id: values.id,
  name: values.name ?? values.id,
  keySha256: sha256Hex(apiKey),
  scopes: list(values.scopes),
  divisions: values.divisions === '*' ? '*' : list(values.divisions),
  ...(values.roles ? { roles: list(values.roles) } : {}),
}
const problems = [...Value.Errors(ApiClientSchema, entry)].map((e) => `${e.instancePath || '/'} ${e.message}`)
if (problems.length > 0) {
  console.error(`invalid client:\n  - ${problems.join('\n  - ')}`)
  process.exit(2)
}
console.log(`API key for ${entry.id} (shown once; give it to the client over a secure channel):\n\n  ${apiKey}\n`)
console.log('Add this entry to the "clients" array of your CLIENTS_FILE:\n')
console.log(JSON.stringify(entry, null, 2))

import { readFile } from 'node:fs/promises'
import t from 'tap'
import { EnvSchema } from '../../src/config/schema.js'

t.test('.env.example documents every variable the service reads', async (t) => {
  const text = await readFile(new URL('../../.env.example', import.meta.url), 'utf8')
  for (const name of Object.keys(EnvSchema.properties)) {
    t.match(text, new RegExp(`^#? ?${name}=`, 'm'), `${name} is in .env.example`)
  }
})

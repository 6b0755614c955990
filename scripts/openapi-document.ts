import { buildApp } from '../src/app.js'
import { createClientRegistry } from '../src/config/clients.js'
import { loadConfig } from '../src/config/load-config.js'

/** The OpenAPI document as the routes declare it, rendered deterministically. */
export async function renderOpenApi (): Promise<string> {
  const app = await buildApp({ config: loadConfig({}), deps: { clients: createClientRegistry([]), readiness: [] } })
  await app.ready()
  const doc = app.swagger()
  await app.close()
  return JSON.stringify(doc, null, 2) + '\n'
}

export const OPENAPI_PATH = new URL('../openapi/openapi.json', import.meta.url)

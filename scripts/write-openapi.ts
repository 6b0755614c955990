import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { OPENAPI_PATH, renderOpenApi } from './openapi-document.js'

await writeFile(OPENAPI_PATH, await renderOpenApi())
console.log(`wrote ${fileURLToPath(OPENAPI_PATH)}`)

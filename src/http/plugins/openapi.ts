import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { existsSync, readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'

const DESCRIPTION = `Provisions new hires from HR systems into Genesys Cloud: a SCIM user in the
right division, role grants and group memberships, with signed webhooks back to the HR system.

**Authentication**: every \`/v1\` call carries \`Authorization: Bearer <api key>\`. Keys are issued per
API client with scopes (\`provisioning:write\`, \`provisioning:read\`, \`groups:write\`, \`admin\`) and the
divisions the client may touch. Use **Authorize** above to try calls from this page.

**Errors** are \`application/problem+json\` (RFC 9457) with \`type, title, status, detail, code, requestId\`
and, for validation failures, \`issues[]\` of \`{code, path, message}\`. Every response carries
\`x-request-id\` (send your own to correlate logs).`

export const OPENAPI_INFO = {
  title: 'Genesys Cloud provisioning API',
  version: '1.0.0',
  description: DESCRIPTION,
}

export const TAGS = [
  { name: 'clients', description: 'The calling API client.' },
  { name: 'health', description: 'Liveness and readiness probes (no authentication).' },
  { name: 'provisioning', description: 'New hires: intake, dry run, status, retry.' },
  { name: 'workers', description: 'The worker lifecycle: desired states (hire, terminate, rehire) and what the service manages per worker.' },
  { name: 'groups', description: 'HR group mappings to Genesys groups and queues; membership syncs.' },
  { name: 'webhooks', description: 'Signed outcome events to your endpoint: its settings, deliveries and replays.' },
]

/** The product's own version: package.json beside src/ (tsx) or beside dist/ (built). */
function productVersion (): string {
  for (const rel of ['../../../package.json', '../../../../package.json']) {
    const url = new URL(rel, import.meta.url)
    if (!existsSync(url)) continue
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: unknown, version?: unknown }
    if (pkg.name === 'genesys-provisioning' && typeof pkg.version === 'string') return pkg.version
  }
  return 'unknown'
}

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)

/** The top bar's mark: the product's name and version instead of the framework's logo. */
function logoSvg (name: string, version: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="420" height="40" viewBox="0 0 420 40"><text x="0" y="27" font-family="sans-serif" font-size="20" font-weight="700" fill="#ffffff">${escapeXml(name)}</text><text x="0" y="39" font-family="sans-serif" font-size="10" fill="#d0d0d0">version ${escapeXml(version)}</text></svg>`
}

/**
 * Swagger UI's requests (Try it out): a write without an Idempotency-Key gets
 * a fresh one, as a well-behaved integration would send. Runs in the browser:
 * serialized from its source, so it must stand alone.
 */
function addIdempotencyKey<R extends { [prop: string]: unknown }> (request: R): R {
  const method = String(request.method ?? 'GET').toUpperCase()
  const headers = (request.headers ?? {}) as Record<string, string>
  const has = Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key')
  if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && !has) {
    const c = globalThis.crypto
    Object.assign(request, { headers })
    headers['Idempotency-Key'] = typeof c?.randomUUID === 'function' ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
  }
  return request
}

export const PRODUCT_NAME = 'Genesys Cloud provisioning'

export async function registerOpenApi (app: FastifyInstance): Promise<void> {
  const version = productVersion()
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: OPENAPI_INFO,
      tags: TAGS,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key issued to your client (gpk_…), or, when the service is configured for it, an access token (JWT) from your identity provider.' },
        },
      },
    },
    // Shared schemas keep their $id as their component name.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false, persistAuthorization: false, displayRequestDuration: true, requestInterceptor: addIdempotencyKey },
    logo: { type: 'image/svg+xml', content: Buffer.from(logoSvg(PRODUCT_NAME, version)), href: '/docs', target: '_self' },
    theme: {
      title: `${PRODUCT_NAME} ${version} — API`,
      // The "Explore" box loads any URL's document: this page documents one API.
      css: [{ filename: 'product.css', content: '.swagger-ui .topbar .download-url-wrapper { display: none !important; }' }],
    },
  })
  app.get('/openapi.json', { schema: { hide: true }, config: { scope: false } }, async () => app.swagger())
}

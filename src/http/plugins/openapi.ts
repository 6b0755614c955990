import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
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
  { name: 'groups', description: 'HR group mappings to Genesys groups and queues; membership syncs.' },
  { name: 'webhooks', description: 'Signed outcome events to your endpoint: its settings, deliveries and replays.' },
]

export async function registerOpenApi (app: FastifyInstance): Promise<void> {
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
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false, persistAuthorization: false, displayRequestDuration: true },
  })
  app.get('/openapi.json', { schema: { hide: true }, config: { scope: false } }, async () => app.swagger())
}

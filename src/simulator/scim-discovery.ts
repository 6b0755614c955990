import type { FastifyInstance } from 'fastify'
import type { SimContext } from './context.js'
import { LIST_RESPONSE, SCIM_PREFIXES, sendScim } from './scim-common.js'
import { SCIM_CORE_GROUP } from './scim-groups.js'
import { SCIM_CORE_USER, SCIM_ENTERPRISE_USER, SCIM_GENESYS_USER } from './scim-users.js'

/**
 * The SCIM discovery endpoints Genesys exposes. Minimal but truthful: what the
 * simulator supports (PATCH yes, bulk/sort/changePassword no, filter `eq` only).
 */
export function registerScimDiscovery (app: FastifyInstance, ctx: SimContext): void {
  const config = () => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://developer.genesys.cloud/identityaccess/scim/',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: 25 },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [{ type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'Genesys Cloud OAuth client-credentials token', primary: true }],
    meta: { resourceType: 'ServiceProviderConfig', location: `${ctx.baseUrl()}/api/v2/scim/v2/serviceproviderconfig` },
  })
  const resourceTypes = () => [
    { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'], id: 'User', name: 'User', endpoint: '/Users', schema: SCIM_CORE_USER,
      schemaExtensions: [{ schema: SCIM_ENTERPRISE_USER, required: false }, { schema: SCIM_GENESYS_USER, required: false }] },
    { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'], id: 'Group', name: 'Group', endpoint: '/Groups', schema: SCIM_CORE_GROUP, schemaExtensions: [] },
  ]
  const schemas = () => [SCIM_CORE_USER, SCIM_ENTERPRISE_USER, SCIM_GENESYS_USER, SCIM_CORE_GROUP].map((id) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'], id, name: id.slice(id.lastIndexOf(':') + 1),
  }))
  const list = (items: unknown[]) => ({ schemas: [LIST_RESPONSE], totalResults: items.length, startIndex: 1, itemsPerPage: items.length, Resources: items })
  for (const prefix of SCIM_PREFIXES) {
    app.get(`${prefix}/serviceproviderconfig`, async (_req, reply) => sendScim(reply, 200, config()))
    app.get(`${prefix}/resourcetypes`, async (_req, reply) => sendScim(reply, 200, list(resourceTypes())))
    app.get(`${prefix}/schemas`, async (_req, reply) => sendScim(reply, 200, list(schemas())))
  }
}

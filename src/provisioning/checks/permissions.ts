/**
 * Role permission policy: a role may be granted by this service only when none
 * of the permissions its policies cover is on the deny list. Permissions are
 * `domain:entity:action` triples; `*` is a wildcard on either side.
 */

export interface PermissionPattern {
  domain: string
  entity: string
  action: string
}

/**
 * What an HR feed must never hand out, whatever the HRIS sends: administering
 * roles and grants (privilege escalation), divisions, OAuth clients (credential
 * minting), deleting users, and organization settings.
 */
export const DEFAULT_DENIED_PERMISSIONS: readonly string[] = Object.freeze([
  'authorization:role:add',
  'authorization:role:edit',
  'authorization:role:delete',
  'authorization:grant:add',
  'authorization:grant:delete',
  'authorization:division:add',
  'authorization:division:edit',
  'authorization:division:delete',
  'oauth:client:*',
  'directory:user:delete',
  'directory:organization:admin',
  'directory:organization:edit',
])

const PART = /^(\*|[A-Za-z0-9_-]+)$/

/** Parses `domain:entity:action`; undefined when malformed. */
export function parsePermission (text: string): PermissionPattern | undefined {
  const parts = text.trim().split(':')
  if (parts.length !== 3 || !parts.every((p) => PART.test(p))) return undefined
  const [domain, entity, action] = parts as [string, string, string]
  return { domain, entity, action }
}

export interface RolePolicy {
  domain: string
  entityName: string
  actionSet: string[]
}

const meets = (a: string, b: string) => a === '*' || b === '*' || a.toLowerCase() === b.toLowerCase()

/**
 * The denied permissions a role's policies cover, as `domain:entity:action`
 * strings. A policy `directory:*:*` covers `directory:user:delete`; a deny
 * pattern `oauth:client:*` is covered by any action on OAuth clients.
 */
export function deniedPermissionsOf (policies: readonly RolePolicy[], denied: readonly PermissionPattern[]): string[] {
  const found = new Set<string>()
  for (const policy of policies) {
    for (const pattern of denied) {
      if (!meets(policy.domain, pattern.domain) || !meets(policy.entityName, pattern.entity)) continue
      for (const action of policy.actionSet) {
        if (meets(action, pattern.action)) {
          found.add(`${pattern.domain}:${pattern.entity}:${pattern.action}`)
        }
      }
    }
  }
  return [...found].sort()
}

/**
 * The legacy `permissions[]` strings of a role, which are part of what it
 * grants. Strings in `domain:entity:action` form are checked like policies;
 * any other string is a legacy permission name whose meaning this service
 * cannot verify, so it is reported rather than assumed harmless (fail closed).
 */
export function legacyPermissionsOf (permissions: readonly string[], denied: readonly PermissionPattern[]): { denied: string[], unverifiable: string[] } {
  const policies: RolePolicy[] = []
  const unverifiable: string[] = []
  for (const text of permissions) {
    const p = parsePermission(text)
    if (p) policies.push({ domain: p.domain, entityName: p.entity, actionSet: [p.action] })
    else unverifiable.push(text)
  }
  return { denied: deniedPermissionsOf(policies, denied), unverifiable }
}

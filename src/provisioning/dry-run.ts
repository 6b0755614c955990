import type { AuthenticatedClient } from '../config/clients.js'
import { scimUserBody } from '../genesys/client.js'
import type { DryRunResult, NewHireBody } from './model.js'
import type { PermissionPattern } from './checks/permissions.js'
import { staticChecks } from './checks/static-checks.js'
import { buildPlan, upstreamIssues } from './checks/upstream-checks.js'
import { gatherFacts, requesterOf, type Directory, type GroupResolver, type ReferenceCache } from './facts.js'
import type { WorkerRegistry } from './registry.js'
import type { EmailReservations } from './ports.js'

export interface DryRunDeps {
  directory: Directory
  groups: GroupResolver
  cache: ReferenceCache
  reservations: Pick<EmailReservations, 'holder'>
  externalIds: Pick<EmailReservations, 'holder'>
  registry: Pick<WorkerRegistry, 'get' | 'ownerOf'>
  policy: { denied: readonly PermissionPattern[] }
  maxGroupDepth: number
}

/**
 * The whole validation of a real run, against live Genesys, with reads only:
 * the same issues a run would reach, and the plan it would carry out.
 */
export async function dryRun (deps: DryRunDeps, client: AuthenticatedClient, body: NewHireBody): Promise<DryRunResult> {
  const { normalized, issues } = staticChecks(body, { client, maxGroupDepth: deps.maxGroupDepth })
  // Text that no Genesys name can hold is never sent upstream, not even in a lookup.
  if (issues.some((i) => i.code === 'text.invisibleCharacter')) {
    return { dryRun: true, valid: false, issues, plan: { scimUser: {}, grants: [], groups: [] } }
  }
  const requester = requesterOf(client)
  const facts = await gatherFacts(normalized, {
    directory: deps.directory,
    groups: deps.groups,
    cache: deps.cache,
    registry: deps.registry,
    requester,
    reservedBy: () => deps.reservations.holder(normalized.email),
    externalIdReservedBy: () => deps.externalIds.holder(requester.externalIdOf(normalized.hrId)),
  })
  const all = [...issues, ...upstreamIssues(normalized, facts, deps.policy)]
  const plan = buildPlan(normalized, facts)
  return {
    dryRun: true,
    valid: all.length === 0,
    issues: all,
    plan: { scimUser: scimUserBody(plan.scimUser), grants: plan.grants, groups: plan.groups },
  }
}

export type DryRun = (client: AuthenticatedClient, body: NewHireBody) => Promise<DryRunResult>

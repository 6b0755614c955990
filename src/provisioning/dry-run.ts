import type { AuthenticatedClient } from '../config/clients.js'
import { errors } from '../errors.js'
import { CallLimitExceeded, withCallLimit } from '../genesys/call-limit.js'
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
  /** Most Genesys calls one dry run may make (the client's own cap, if lower, wins). */
  maxUpstreamCalls: number
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
  const limit = Math.min(deps.maxUpstreamCalls, client.upstream?.maxCallsPerDryRun ?? Infinity)
  const facts = await withCallLimit(limit, () => gatherFacts(normalized, {
    directory: deps.directory,
    groups: deps.groups,
    cache: deps.cache,
    registry: deps.registry,
    requester,
    reservedBy: () => deps.reservations.holder(normalized.email),
    externalIdReservedBy: () => deps.externalIds.holder(requester.externalIdOf(normalized.hrId)),
  })).then((r) => r.value, (err: unknown) => {
    if (!(err instanceof CallLimitExceeded)) throw err
    throw errors.tooCostly(`This dry run needs more than ${limit} Genesys lookups (each role, group, skill and language not recently looked up costs one or two); validate fewer at once.`)
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

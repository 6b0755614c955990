import { randomBytes } from 'node:crypto'
import { SimError } from './errors.js'
import type { SeedClient } from './seed.js'

/** The login host's tokens, and the permission checks made with the client a token names. */

export interface IssuedToken { clientId: string, expiresAt: number }

export interface TokenStore {
  issue (client: SeedClient, lifetimeSeconds: number): { token: string, expiresIn: number }
  /** The live token's entry, or undefined for unknown, expired or revoked tokens. */
  verify (token: string): IssuedToken | undefined
  revokeAll (): void
}

/** Opaque tokens: 48 random bytes, base64url. */
export const randomToken = (): string => randomBytes(48).toString('base64url')

export function createTokenStore (clock: () => number, mint: () => string = randomToken): TokenStore {
  const tokens = new Map<string, IssuedToken>()
  return {
    issue (client, lifetimeSeconds) {
      const token = mint()
      tokens.set(token, { clientId: client.clientId, expiresAt: clock() + lifetimeSeconds * 1000 })
      return { token, expiresIn: lifetimeSeconds }
    },
    verify (token) {
      const t = tokens.get(token)
      if (t === undefined) return undefined
      if (t.expiresAt <= clock()) {
        tokens.delete(token)
        return undefined
      }
      return t
    },
    revokeAll () {
      tokens.clear()
    },
  }
}

/** `domain:entity:action` against granted triples, where a granted part may be `*`. */
export function hasPermission (granted: readonly string[], needed: string): boolean {
  const [d, e, a] = needed.split(':')
  return granted.some((g) => {
    const [gd, ge, ga] = g.split(':')
    return (gd === '*' || gd === d) && (ge === '*' || ge === e) && (ga === '*' || ga === a)
  })
}

/** Whether the client holds `needed` anywhere: everywhere, or in at least one division. */
export function holdsSomewhere (client: SeedClient, needed: string): boolean {
  return hasPermission(client.permissions, needed) || (client.divisionPermissions ?? []).some((d) => hasPermission(d.permissions, needed))
}

/** Whether the client holds `needed` in the division named `divisionName` (case-insensitive, as division names are). */
export function holdsIn (client: SeedClient, needed: string, divisionName: string): boolean {
  return hasPermission(client.permissions, needed) ||
    (client.divisionPermissions ?? []).some((d) => d.division.toLowerCase() === divisionName.toLowerCase() && hasPermission(d.permissions, needed))
}

/** 403 for a write in a division where the OAuth client lacks the permission. */
export function missingPermissionIn (permission: string, division: { id: string, name: string }): SimError {
  return new SimError(403, 'missing.permissions', `Unable to perform the requested action. You are missing the following permission(s): [${permission}] in division ${division.name} (${division.id})`, {
    messageWithParams: 'Unable to perform the requested action. You are missing the following permission(s): {permissions} in division {division}',
    messageParams: { permissions: `[${permission}]`, division: division.name },
  })
}

export function missingPermission (permission: string): SimError {
  return new SimError(403, 'missing.permissions', `Unable to perform the requested action. You are missing the following permission(s): [${permission}]`, {
    messageWithParams: 'Unable to perform the requested action. You are missing the following permission(s): {permissions}',
    messageParams: { permissions: `[${permission}]` },
  })
}

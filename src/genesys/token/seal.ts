import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'

/**
 * The shared token is sealed before it is stored in Redis (AES-256-GCM, key
 * derived from the OAuth client secret with HKDF): a Redis dump, backup or
 * `MONITOR` session does not hand out a usable Genesys token, and only a
 * replica holding the client secret can open it.
 */

export function sealKeyFor (clientId: string, clientSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', clientSecret, 'genesys-provisioning/token-cache/v1', clientId, 32))
}

/** base64url of iv (12) | tag (16) | ciphertext. */
export function sealToken (key: Buffer, token: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const ct = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url')
}

/** The token, or undefined when the value was sealed with another key or altered. */
export function openToken (key: Buffer, sealed: string): string | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url')
    if (raw.length < 29) return undefined
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}

/** Names a token without revealing it (compare-and-delete on a 401 compares these). */
export function tokenDigest (token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 32)
}

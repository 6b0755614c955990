import { createHash, createHmac } from 'node:crypto'

/**
 * Standard Webhooks 1.0 signing: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * keyed with the base64-decoded part of a `whsec_` secret. Several secrets (a
 * rotation in progress) give several space-separated signatures; a receiver
 * accepts the message when any one verifies.
 */

const PREFIX = 'whsec_'

export function secretKey (secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error('webhook secrets start with whsec_')
  return Buffer.from(secret.slice(PREFIX.length), 'base64')
}

export function sign (secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')
  return `v1,${mac}`
}

/** The `webhook-signature` header value: one signature per secret. */
export function signatureHeader (secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets.map((s) => sign(s, id, timestamp, body)).join(' ')
}

/** Identifies a secret without revealing it: the first 16 hex digits of the SHA-256 of its key. */
export function secretFingerprint (secret: string): string {
  return `sha256:${createHash('sha256').update(secretKey(secret)).digest('hex').slice(0, 16)}`
}

/** The three Standard Webhooks headers for one attempt. */
export function webhookHeaders (secrets: readonly string[], id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(secrets, id, timestamp, body),
  }
}

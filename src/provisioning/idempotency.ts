import { errors } from '../errors.js'

/**
 * `Idempotency-Key` as in the IETF httpapi draft: a Structured Field string
 * (`"…"`); the bare token form many clients send is accepted too. Printable
 * ASCII, at most 255 characters.
 */
const BARE = /^[\x21-\x7e]{1,255}$/
const QUOTED = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,255})"$/

export function parseIdempotencyKey (header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  if (Array.isArray(header)) throw malformed('send one Idempotency-Key header')
  const quoted = QUOTED.exec(header)
  if (quoted?.[1] !== undefined) return quoted[1].replace(/\\(["\\])/g, '$1')
  if (BARE.test(header) && !header.startsWith('"')) return header
  throw malformed('use 1–255 printable ASCII characters, e.g. a UUID')
}

function malformed (hint: string) {
  return errors.validation(`The Idempotency-Key header is malformed; ${hint}.`, [
    { code: 'idempotencyKey.malformed', path: '/headers/idempotency-key', message: hint },
  ])
}

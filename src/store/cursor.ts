/** Opaque list cursors: base64url of the last item's sort key. */
export interface CursorKey {
  createdAt: string
  id: string
}

export function encodeCursor (key: CursorKey): string {
  return Buffer.from(`${key.createdAt}|${key.id}`, 'utf8').toString('base64url')
}

/** Undefined for anything that is not a cursor this service made. */
export function decodeCursor (cursor: string): CursorKey | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const [createdAt, id, ...rest] = text.split('|')
  if (rest.length > 0 || !createdAt || !id || Number.isNaN(Date.parse(createdAt))) return undefined
  return { createdAt, id }
}

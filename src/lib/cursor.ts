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

/** True when `item` sorts after the cursor in newest-first (createdAt, id) order. */
export function isAfterCursor (item: CursorKey, after: CursorKey | undefined): boolean {
  return after === undefined || item.createdAt < after.createdAt || (item.createdAt === after.createdAt && item.id < after.id)
}

/** Newest first by (createdAt, id), one page and the cursor of the next. */
export function keysetPage<T extends CursorKey> (items: T[], limit: number, cursor: string | undefined): { items: T[], nextCursor?: string } {
  const after = cursor === undefined ? undefined : decodeCursor(cursor)
  const sorted = items
    .filter((i) => isAfterCursor(i, after))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
  const page = sorted.slice(0, limit)
  const last = page.at(-1)
  return sorted.length > limit && last ? { items: page, nextCursor: encodeCursor({ createdAt: last.createdAt, id: last.id }) } : { items: page }
}

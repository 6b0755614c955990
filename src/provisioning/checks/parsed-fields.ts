import { Value } from 'typebox/value'
import type { Issue } from '../../errors.js'
import { NewHireSchema, type NewHireBody } from '../model.js'

/**
 * The policy issues that can be known of a body that failed its schema: the
 * static checks run on the fields that did parse, so one answer names every
 * problem instead of the policy ones appearing only after the schema ones are
 * fixed. A field with a schema issue of its own is left out (its policy would
 * be judged on a value the caller must change anyway).
 */
export function policyIssuesOfParsedFields (raw: unknown, schemaIssues: readonly Issue[], check: (hire: NewHireBody) => readonly Issue[]): Issue[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return []
  const broken = new Set(schemaIssues.map((i) => topField(i.path)))
  const parsed: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(raw)) {
    const schema = NewHireSchema.properties[name as keyof typeof NewHireSchema.properties]
    if (schema !== undefined && !broken.has(name) && Value.Check(schema, value)) parsed[name] = value
  }
  // Required fields that did not parse get a neutral stand-in; their issues are dropped below.
  const candidate = { hrId: 'x', email: 'parsed.fields@example.com', ...parsed } as NewHireBody
  return check(candidate).filter((issue) => {
    const field = topField(issue.path)
    // Judged on a parsed value, or on the absence of a field the caller left out.
    return !broken.has(field) && (Object.hasOwn(parsed, field) || !Object.hasOwn(raw, field))
  })
}

function topField (path: string): string {
  return path.split('/')[1] ?? ''
}

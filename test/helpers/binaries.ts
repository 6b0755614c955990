import { execFileSync } from 'node:child_process'

/**
 * Suites that need a system binary (redis-server, chromium) start it themselves.
 * Locally a missing binary skips the suite with the install command; with CI=true
 * it is a failure, so CI can never pass by skipping.
 */
export function findBinary (name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

export function requireBinary (name: string, installHint: string): { path?: string, skip: string | false } {
  const path = findBinary(name)
  if (path) return { path, skip: false }
  if (process.env.CI === 'true') {
    throw new Error(`${name} is required in CI but was not found; install it with: ${installHint}`)
  }
  return { skip: `${name} not found; install it with: ${installHint}` }
}

import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

/** Reads a Lua script shipped next to this module (copied to dist/ by the build). */
export function luaScript (name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
}

/**
 * Registers scripts once per connection with `defineCommand` (EVALSHA with a
 * transparent EVAL fallback) and returns the connection typed with them.
 */
export function withScripts<C> (redis: Redis, scripts: Record<keyof C & string, { file: string, keys: number }>): Redis & C {
  for (const [name, { file, keys }] of Object.entries(scripts) as Array<[string, { file: string, keys: number }]>) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') {
      redis.defineCommand(name, { numberOfKeys: keys, lua: luaScript(file) })
    }
  }
  return redis as Redis & C
}

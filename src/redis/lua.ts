import { readFileSync } from 'node:fs'
import type { RedisClient } from './connection.js'

/** Reads a Lua script shipped next to this module (copied to dist/ by the build). */
export function luaScript (name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
}

/** A script: its file, preceded by any shared `lib-*.lua` files it calls; `keys` -1 = variable. */
export interface ScriptSpec { file: string, keys: number, libs?: string[] }

/**
 * Registers scripts once per connection with `defineCommand` (EVALSHA with a
 * transparent EVAL fallback) and returns the connection typed with them.
 */
export function withScripts<C> (redis: RedisClient, scripts: Record<keyof C & string, ScriptSpec>): RedisClient & C {
  for (const [name, spec] of Object.entries(scripts) as Array<[string, ScriptSpec]>) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') {
      const lua = [...(spec.libs ?? []), spec.file].map(luaScript).join('\n')
      redis.defineCommand(name, spec.keys < 0 ? { lua } : { numberOfKeys: spec.keys, lua })
    }
  }
  return redis as RedisClient & C
}

import { errors, isProvisioningError } from '../errors.js'

/** Seconds a client is asked to wait while Redis cannot be reached. */
export const REDIS_RETRY_AFTER_SECONDS = 5

/**
 * ioredis' ways of saying "I cannot reach Redis": no connection and no offline
 * queue, a connection closed under a command, a command timeout, socket errors,
 * and the give-up error after the per-request retries.
 */
const CONNECTIVITY = /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE/

export function isRedisConnectionError (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'RedisUnavailable') return true
  const code = (err as { code?: unknown }).code
  return CONNECTIVITY.test(err.message) || (typeof code === 'string' && CONNECTIVITY.test(code))
}

/**
 * Wraps a Redis-backed store so that an unreachable Redis surfaces as the coded
 * 503 `PROV_ERR_UNAVAILABLE` (with Retry-After) instead of an internal error.
 * Every other error passes through unchanged.
 */
export function guardRedisUnavailable<T extends object> (store: T): T {
  const translate = (err: unknown): never => {
    if (!isProvisioningError(err) && isRedisConnectionError(err)) {
      throw errors.unavailable('The shared state store (Redis) is unreachable; retry later.', REDIS_RETRY_AFTER_SECONDS, err)
    }
    throw err
  }
  return new Proxy(store, {
    get (target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]): unknown => {
        try {
          const result: unknown = value.apply(target, args)
          return result instanceof Promise ? result.catch(translate) : result
        } catch (err) {
          return translate(err)
        }
      }
    },
  })
}

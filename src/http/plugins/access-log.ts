import type { FastifyInstance } from 'fastify'

const HEALTH = /^\/health\//

/**
 * A query string with every value masked: a key, token or an HR id sent in a
 * URL must not reach the logs (names are kept for debugging, values never).
 */
export function maskQuery (query: string): string {
  return query.split('&').map((pair) => {
    const eq = pair.indexOf('=')
    return eq < 0 ? pair : `${pair.slice(0, eq)}=***`
  }).join('&')
}

/**
 * One access line per request (Fastify's own two, "incoming request" and
 * "request completed", are switched off): method, path, the query with its
 * values masked, status and duration (the client id is bound to the request's
 * logger once authenticated). Health probes arrive every few seconds from
 * every orchestrator: they are logged at debug.
 */
export function registerAccessLog (app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const q = request.url.indexOf('?')
    const path = (q < 0 ? request.url : request.url.slice(0, q)).slice(0, 300)
    const line = {
      method: request.method,
      path,
      ...(q >= 0 ? { query: maskQuery(request.url.slice(q + 1)).slice(0, 300) } : {}),
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    }
    if (HEALTH.test(path)) request.log.debug(line, 'request')
    else request.log.info(line, 'request')
  })
}

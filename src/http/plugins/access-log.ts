import type { FastifyInstance } from 'fastify'

const HEALTH = /^\/health\//

/**
 * One access line per request (Fastify's own two, "incoming request" and
 * "request completed", are switched off): method, path without the query
 * (which can carry values), status and duration (the client id is bound to the request's logger once authenticated). Health probes
 * arrive every few seconds from every orchestrator: they are logged at debug.
 */
export function registerAccessLog (app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const path = (request.url.split('?')[0] ?? '').slice(0, 300)
    const line = {
      method: request.method,
      path,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    }
    if (HEALTH.test(path)) request.log.debug(line, 'request')
    else request.log.info(line, 'request')
  })
}

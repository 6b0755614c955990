import helmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'

/** The Swagger UI page: its own scripts, styles (some inline) and images, calls to this origin only. */
const DOCS_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
}

/** Everything else is JSON: nothing to load, nothing to frame. */
const API_CSP = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
}

const DOCS = /^\/docs(\/|$)/
const QUEUE_DASHBOARD = /^\/admin\/queues(\/|$)/

/**
 * Security headers on every response, errors and 404s included: `nosniff`,
 * `X-Frame-Options: DENY`, a CSP with `frame-ancestors 'none'` (the docs page
 * and the queue dashboard get the sources they need), no caching of API
 * answers, and HSTS when the request came over TLS (directly, or through a
 * trusted proxy's `X-Forwarded-Proto` with `TRUST_PROXY`).
 */
export async function registerSecurityHeaders (app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    frameguard: { action: 'deny' },
    hsts: false,
    crossOriginEmbedderPolicy: false,
  })
  // Routes registered after this point (the docs, the dashboard) get their page CSP.
  app.addHook('onRoute', (route) => {
    if (DOCS.test(route.url) || QUEUE_DASHBOARD.test(route.url)) {
      // Set on the route's config, where the helmet plugin reads per-route options.
      const csp = { contentSecurityPolicy: { useDefaults: false, directives: QUEUE_DASHBOARD.test(route.url) ? { ...DOCS_CSP, scriptSrc: ["'self'", "'unsafe-inline'"] } : DOCS_CSP } }
      route.config = Object.assign(route.config ?? {}, { helmet: csp })
    }
  })
  app.addHook('onSend', async (request, reply) => {
    const path = request.url
    if (!DOCS.test(path) && !QUEUE_DASHBOARD.test(path)) reply.header('cache-control', 'no-store')
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains')
  })
}

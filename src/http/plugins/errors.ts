import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errors, isProvisioningError, problemBody, type Issue, type ProvisioningError } from '../../errors.js'

/**
 * The one place errors become HTTP: RFC 9457 application/problem+json with
 * `type, title, status, detail, code, requestId` and, for validation, `issues[]`.
 * A 5xx says only that something failed and which request it was; the cause is
 * logged, never returned.
 */

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: string
  requestId: string
  issues?: Issue[]
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'

interface AjvLikeError {
  keyword: string
  instancePath: string
  message?: string
  params: Record<string, unknown>
}

/** Ajv errors → issues whose paths point at the offending input (JSON pointers). */
export function validationIssues (context: string, validation: readonly AjvLikeError[]): Issue[] {
  const prefix = context === 'body' ? '' : `/${context === 'querystring' ? 'query' : context}`
  return validation.map((e) => {
    let path = prefix + e.instancePath
    let message = e.message ?? 'is invalid'
    if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      path += `/${e.params.additionalProperty}`
      message = 'is not an allowed property'
    } else if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      path += `/${e.params.missingProperty}`
      message = 'is required'
    }
    return { code: `schema.${e.keyword}`, path: path || '/', message }
  })
}

function fromFastifyError (err: FastifyError, bodyLimit: number): ProvisioningError {
  if (err.validation) {
    const issues = validationIssues(err.validationContext ?? 'body', err.validation as AjvLikeError[])
    return errors.validation(`The request ${err.validationContext ?? 'body'} is invalid.`, issues)
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge(bodyLimit)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType('of this request')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.validation('The request body is empty.', [{ code: 'body.empty', path: '/', message: 'a JSON body is required' }])
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.validation('Content-Length does not match the body.', [{ code: 'body.length', path: '/', message: 'body length mismatch' }])
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return errors.validation('The request body is not valid JSON.', [{ code: 'body.malformed', path: '/', message: 'malformed JSON' }])
  }
  const status = err.statusCode ?? 500
  if (status === 404) return errors.notFound('No such resource.')
  if (status === 429) return errors.rateLimited(1)
  if (status >= 400 && status < 500) {
    // Fastify's own 4xx messages describe the request, not the server.
    return errors.validation(err.message, [{ code: 'request.invalid', path: '/', message: err.message }])
  }
  return errors.internal('An internal error occurred; quote the requestId when reporting it.', err)
}

export function toProblem (err: ProvisioningError, requestId: string): Problem {
  return { ...problemBody(err), requestId }
}

export function sendProblem (reply: FastifyReply, err: ProvisioningError, requestId: string): FastifyReply {
  if (err.headers) reply.headers(err.headers)
  if (err.retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfter))))
  return reply.code(err.status).type(PROBLEM_CONTENT_TYPE).send(toProblem(err, requestId))
}

export function registerErrorHandling (app: FastifyInstance, opts: { bodyLimit: number }): void {
  app.setErrorHandler((raw: FastifyError | ProvisioningError, request: FastifyRequest, reply: FastifyReply) => {
    // A route with a body limit of its own (worker batches) names that one.
    const err = isProvisioningError(raw) ? raw : fromFastifyError(raw, request.routeOptions.bodyLimit ?? opts.bodyLimit)
    if (err.status >= 500) {
      request.log.error({ err: raw, code: err.code }, 'request failed')
    } else {
      request.log.info({ code: err.code, status: err.status }, 'request refused')
    }
    return sendProblem(reply, err, request.id)
  })
  app.setNotFoundHandler((request, reply) => {
    return sendProblem(reply, errors.notFound(`No route for ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}.`), request.id)
  })
}

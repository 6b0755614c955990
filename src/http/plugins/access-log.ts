import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

/**
 * Access logging with every query-string value masked: a key, token or an HR
 * id sent in a URL must not reach the logs (names are kept, values never).
 */
export function maskQuery (url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const masked = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    return eq < 0 ? pair : `${pair.slice(0, eq)}=***`
  })
  return `${url.slice(0, q)}?${masked.join('&')}`
}

function requestView (request: FastifyRequest) {
  return {
    method: request.method,
    url: maskQuery(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket.remotePort,
  }
}

export class MaskingLogController extends LogController {
  override incomingRequest (request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return
    request.log.info({ req: requestView(request) }, 'incoming request')
  }

  override defaultErrorLog (error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    if (reply.statusCode >= 500) reply.log.error({ req: requestView(request), res: reply, err: error }, error.message)
    else reply.log.info({ res: reply, err: error }, error.message)
  }

  override writeHeadError (error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    reply.log.warn({ req: requestView(request), res: reply, err: error }, error.message)
  }

  override routeNotFound (request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return
    request.log.info(`Route ${request.method}:${maskQuery(request.url)} not found`)
  }
}

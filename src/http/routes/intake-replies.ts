import type { Socket } from 'node:net'
import type { FastifyReply } from 'fastify'
import type { AuthenticatedClient } from '../../config/clients.js'
import { errors } from '../../errors.js'
import type { ProvisioningRecord, StoredResponse } from '../../provisioning/ports.js'
import type { AcceptResult, ProvisioningService } from '../../provisioning/service.js'
import { statusCodeForTerminal, toRequestView } from '../views/provisioning.js'
import type { WebhookSummary } from '../../webhooks/service.js'
import { PROBLEM_CONTENT_TYPE } from '../plugins/errors.js'

/** `Prefer: wait=<seconds>` is capped at this. */
export const MAX_WAIT_SECONDS = 30

export function parseWait (prefer: string | undefined): number | undefined {
  const match = prefer === undefined ? null : /(?:^|[;,\s])wait=(\d{1,4})(?:$|[;,\s])/i.exec(prefer)
  return match?.[1] === undefined ? undefined : Math.min(Number(match[1]), MAX_WAIT_SECONDS)
}

/**
 * How an intake (a new hire, a worker's desired state) is answered over HTTP:
 * the stored answer or its Idempotency-Key replay, and with `Prefer: wait` the
 * request's outcome once it is terminal (201 completed, 200 rejected or
 * failed) or still in progress (202), remembered for the key.
 */
export function intakeReplies (service: Pick<ProvisioningService, 'waitForTerminal' | 'rememberSent'>, summary: (record: ProvisioningRecord) => Promise<WebhookSummary | undefined>) {
  async function waitedResponse (requestId: string, wait: number, headers: Record<string, string>): Promise<StoredResponse> {
    const record = await service.waitForTerminal(requestId, wait)
    if (!record) throw errors.internal('The accepted request vanished while waiting.')
    return { status: statusCodeForTerminal(record.status), headers: { ...headers, 'preference-applied': `wait=${wait}` }, body: toRequestView(record, await summary(record)) }
  }

  return {
    async send (reply: FastifyReply, accepted: AcceptResult, call: { client: AuthenticatedClient, key: string | undefined, prefer: string | undefined, requestId: string }): Promise<FastifyReply> {
      const wait = parseWait(call.prefer)
      const { outcome } = accepted
      // Waiting applies to a fresh acceptance only: a replay, a refusal or no change is answered as stored.
      const waited = wait === undefined || accepted.replayed || outcome.kind !== 'accepted'
        ? undefined
        : await holdingSocket(reply, wait, () => waitedResponse(outcome.requestId, wait, accepted.response.headers))
      if (waited && call.key !== undefined) await service.rememberSent(call.client, accepted.fingerprint, call.key, { ...waited, outcome })
      return sendStored(reply, waited ?? accepted.response, { replayed: accepted.replayed, requestId: call.requestId })
    },
  }
}

/**
 * While a request waits for its outcome it sends nothing, and the server's
 * idle-socket deadline (`CONNECTION_TIMEOUT_MS`, 10 s by default) would close
 * the connection under it: the socket's deadline covers the wait, then is set
 * back for the rest of the keep-alive connection.
 */
async function holdingSocket<T> (reply: FastifyReply, waitSeconds: number, run: () => Promise<T>): Promise<T> {
  const socket = reply.request.raw.socket as Partial<Socket> | undefined
  const idle = reply.server.server.timeout
  // Injected requests (tests, probes) have no real socket to hold.
  const holdable = idle > 0 && typeof socket?.setTimeout === 'function'
  if (holdable) socket.setTimeout?.(idle + waitSeconds * 1000)
  try {
    return await run()
  } finally {
    if (holdable && socket.destroyed !== true) socket.setTimeout?.(idle)
  }
}

/**
 * Sends a stored intake response (first answer or Idempotency-Key replay). Its
 * status is one the route documents, but chosen at run time, so the reply is
 * taken untyped here; problems get the problem content type and this call's id.
 */
function sendStored (reply: FastifyReply, response: StoredResponse, opts: { replayed: boolean, requestId: string }): FastifyReply {
  reply.headers(response.headers)
  if (opts.replayed) reply.header('idempotent-replayed', 'true')
  if (response.status < 400) return reply.code(response.status).send(response.body)
  return reply.code(response.status).type(PROBLEM_CONTENT_TYPE).send({ ...(response.body as object), requestId: opts.requestId })
}

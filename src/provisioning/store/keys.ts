/**
 * Redis keys of the provisioning stores, with their lifetimes. Ids inside keys
 * are ours (request ids, client ids) or hashed (emails, idempotency keys), so a
 * caller cannot shape a key. Keys written together carry the records hash tag
 * (see hash-tag.ts); reservations are always used alone and spread.
 */
import { createHash } from 'node:crypto'
import { RECORDS_TAG as R } from '../../redis/hash-tag.js'

const h = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32)

export const provisioningKeys = {
  /** JSON record of one request; no TTL while active, `REQUEST_RETENTION_SECONDS` once terminal. */
  request: (id: string) => `${R}prov:req:${id}`,
  /** Sorted set: a client's request ids by creation time (ms). */
  clientIndex: (clientId: string) => `${R}prov:client:${clientId}:reqs`,
  /** Sorted set: non-terminal request ids by last update (ms); the dispatcher re-enqueues from it. */
  pending: () => `${R}prov:pending`,
  /** Sorted set: scheduled request ids by the time (ms) their turn comes (effectiveAt, later when their worker was busy). */
  schedule: () => `${R}prov:schedule`,
  /** Sorted set: one worker's scheduled request ids by effective time (ms). */
  workerSchedule: (clientId: string, hrId: string) => `${R}prov:sched:${clientId}:${h(hrId)}`,
  /** The id of a client's non-terminal request for an HR id; deleted at the terminal state. */
  activeHrId: (clientId: string, hrId: string) => `${R}prov:hr:${clientId}:${h(hrId)}`,
  /** The request holding an email address while in flight; TTL `EMAIL_RESERVATION_SECONDS`. */
  emailReservation: (email: string) => `prov:email:${h(email.toLowerCase())}`,
  /** The request holding a Genesys externalId while in flight, across clients; TTL as the email's. */
  externalIdReservation: (externalId: string) => `prov:ext:${h(externalId.toLowerCase())}`,
  /** JSON worker registry entry of (client, hrId); kept while the client manages the worker. */
  worker: (clientId: string, hrId: string) => `${R}prov:worker:${clientId}:${h(hrId)}`,
  /** What matches every registry entry key (for the upgrade step that indexes them). */
  workerPattern: () => `${R}prov:worker:*`,
  /** Sorted set (all scores 0, so in HR id order): a client's HR ids that have a registry entry. */
  workerIndex: (clientId: string) => `${R}prov:workers:${clientId}`,
  /** Hash: the directory names one Genesys OAuth client's replicas found, each field {e: expiry ms, entry}; expires when unused. */
  directoryCache: (oauthClient: string) => `prov:dir:${oauthClient}`,
  /** Sorted set: a client's terminations and moves by time (ms), the last hour's, for the mass-change brake. */
  changeWindow: (clientId: string) => `prov:changes:${clientId}`,
  /** JSON {clientId, hrId} owning a Genesys user id. */
  workerOwner: (genesysUserId: string) => `${R}prov:owner:${h(genesysUserId)}`,
  /** Hash {fp, response} of an Idempotency-Key; lock TTL while in flight, retention once complete. */
  idempotency: (clientId: string, key: string) => `${R}prov:idem:${clientId}:${h(key)}`,
}

export { REQUEST_RETENTION_SECONDS } from '../model.js'
/** An email reservation outlives any single request run; released at the terminal state. */
export const EMAIL_RESERVATION_SECONDS = 24 * 3600

/**
 * Hash tags for Redis Cluster: a cluster hashes only the part of a key inside
 * the first `{…}`, so keys sharing a tag share a slot and one script or
 * transaction may touch them together. Harmless on a single node.
 *
 * `{records}` holds every key a script or transaction writes together with
 * another: request records and their indexes, the worker registry and its
 * owners, Idempotency-Key outcomes, webhook deliveries and their outbox, group
 * mappings and syncs. A terminal request writes its webhook in the same
 * script, so they cannot be split by tenant. Keys always used alone (email
 * and externalId reservations, queue locks, rate-limit counters) carry no
 * tag and spread over the cluster; each Genesys OAuth client's token and
 * budget keys carry a tag of their own.
 */
export const RECORDS_TAG = '{records}'

/** The tag of one Genesys OAuth client's token and budget keys (its hashed id). */
export const oauthClientTag = (hashedClientId: string) => `{${hashedClientId}}`

/**
 * BullMQ's key prefix. The braces are a hash tag: every key of every queue
 * lands in one cluster slot, as BullMQ's scripts require.
 */
export const BULL_PREFIX = '{bull}'

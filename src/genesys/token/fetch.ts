import { GenesysError } from '../errors.js'
import { errorFields, header, retryAfterMs, send, type Pools } from '../http.js'
import type { FetchToken } from '../ports.js'
import { validators } from '../types.js'

export interface TokenFetchOptions {
  pools: Pools
  loginUrl: string
  clientId: string
  clientSecret: string
  /** The variables an operator fixes when the credentials are refused (default GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET). */
  variables?: string
  onFetch?: () => void
}

const OPERATION = 'oauth.token'

/**
 * Client-credentials grant: `POST {login}/oauth/token`, credentials in Basic
 * auth, form body, no scope (the OAuth client's roles decide what it may do).
 * The secret lives only in this closure and the Authorization header.
 */
export function createTokenFetch (opts: TokenFetchOptions): FetchToken {
  const { pool, prefix } = opts.pools.for(opts.loginUrl)
  const basic = Buffer.from(`${opts.clientId}:${opts.clientSecret}`, 'utf8').toString('base64')

  return async function fetchToken () {
    opts.onFetch?.()
    const res = await send(pool, OPERATION, {
      method: 'POST',
      path: `${prefix}/oauth/token`,
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: 'grant_type=client_credentials',
    })

    if (res.status === 200) {
      if (!validators.token.Check(res.body)) {
        throw new GenesysError('the Genesys token endpoint answered 200 without a usable access_token/expires_in', {
          operation: OPERATION, failure: 'invalid-response', upstreamStatus: 200, correlationId: res.correlationId,
        })
      }
      return { accessToken: res.body.access_token, expiresInSeconds: res.body.expires_in }
    }

    const f = errorFields(res.body)
    if (f.genesysCode === 'invalid_client' || res.status === 401) {
      // Wrong id or secret: retrying cannot help, a person must fix the configuration.
      throw new GenesysError(
        `Genesys Cloud refused the OAuth client credentials (${f.genesysCode ?? res.status}${f.message ? `: ${f.message}` : ''}); check ${opts.variables ?? 'GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET'}`,
        { operation: OPERATION, failure: 'credentials', upstreamStatus: res.status, genesysCode: f.genesysCode, correlationId: res.correlationId },
      )
    }
    throw new GenesysError(`the Genesys token endpoint answered ${res.status}${f.genesysCode ? ` ${f.genesysCode}` : ''}`, {
      operation: OPERATION,
      failure: 'http',
      upstreamStatus: res.status,
      genesysCode: f.genesysCode,
      correlationId: res.correlationId,
      retryAfterMs: res.status === 429 || res.status >= 500 ? retryAfterMs(header(res.headers, 'retry-after')) : undefined,
    })
  }
}

import { createRequire } from 'node:module'
import { stdSerializers, type LoggerOptions } from 'pino'
import { asError } from './failure-log.js'

/**
 * One root redact list. Redaction is a second line of defence: secrets are kept
 * out of log objects, error messages and job data in the first place.
 * pino paths are case-sensitive, so header names are listed in every casing
 * clients actually send.
 */
const SECRET_KEYS = [
  'authorization', 'Authorization', 'AUTHORIZATION',
  'proxy-authorization', 'Proxy-Authorization',
  'x-api-key', 'X-Api-Key', 'X-API-Key',
  'cookie', 'Cookie', 'set-cookie',
  'password', 'Password', 'passwd', 'secret', 'Secret', 'secrets',
  'clientSecret', 'client_secret', 'apiKey', 'api_key', 'key',
  'token', 'Token', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'id_token',
  'webhookSecret',
]

export const redactPaths: string[] = [
  ...SECRET_KEYS.flatMap((k) => [`${k}`, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]),
  'req.headers.authorization',
]

export interface LogOptionsInput {
  level: string
  /** Pretty output only for a human at a terminal. */
  pretty?: boolean
}

export function loggerOptions ({ level, pretty }: LogOptionsInput): LoggerOptions {
  const opts: LoggerOptions = {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: 'genesys-provisioning' },
    // Anything logged as `err` comes out with its type, message and stack,
    // also when a caller passed a plain object instead of an Error.
    serializers: { err: (err: unknown) => stdSerializers.errWithCause(err instanceof Error ? err : asError(err)) },
  }
  // Production images carry no dev dependencies: without pino-pretty, stay on JSON.
  if (pretty && prettyAvailable()) {
    opts.transport = { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }
  }
  return opts
}

function prettyAvailable (): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}

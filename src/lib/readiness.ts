/**
 * Readiness as a port: each feature contributes checks, `GET /health/ready`
 * runs them (see `http/routes/health.ts`).
 */

export interface ReadinessCheck {
  name: string
  /**
   * `service` (default): a failure means the service cannot accept work (503).
   * `tenant`: the check concerns the API clients of one Genesys OAuth client; a
   * failure there leaves the service ready for the others (200, `degraded`),
   * unless every tenant check fails. Only an admin API key sees which.
   */
  impact?: 'service' | 'tenant'
  /** Resolves with a short detail when healthy; throws (with a safe message) when not. */
  check (): Promise<string | undefined>
}

/** Thrown by a tenant check whose OAuth client works but cannot do everything asked of it: never makes the service unready. */
export class TenantImpaired extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'TenantImpaired'
  }
}

/** The tenant check of the default Genesys OAuth client (GENESYS_CLIENT_ID). */
export const DEFAULT_TENANT_CHECK = 'genesys'

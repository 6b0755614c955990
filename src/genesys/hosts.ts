/**
 * Genesys Cloud regions and their environment domains: the API lives at
 * `https://api.<env>`, the token endpoint at `https://login.<env>`.
 */
export const REGIONS: Readonly<Record<string, string>> = Object.freeze({
  'us-east-1': 'mypurecloud.com',
  'us-east-2': 'use2.us-gov-pure.cloud',
  'us-west-2': 'usw2.pure.cloud',
  'ca-central-1': 'cac1.pure.cloud',
  'sa-east-1': 'sae1.pure.cloud',
  'mx-central-1': 'mxc1.pure.cloud',
  'eu-west-1': 'mypurecloud.ie',
  'eu-west-2': 'euw2.pure.cloud',
  'eu-central-1': 'mypurecloud.de',
  'eu-central-2': 'euc2.pure.cloud',
  'me-central-1': 'mec1.pure.cloud',
  'ap-south-1': 'aps1.pure.cloud',
  'ap-northeast-1': 'mypurecloud.jp',
  'ap-northeast-2': 'apne2.pure.cloud',
  'ap-northeast-3': 'apne3.pure.cloud',
  'ap-southeast-1': 'apse1.pure.cloud',
  'ap-southeast-2': 'mypurecloud.com.au',
  'eusc-de-east-1': 'edee1.eusc-pure.cloud',
})

export interface GenesysHosts {
  apiUrl: string
  loginUrl: string
}

/** Explicit URLs win over the region (simulator, proxies); one of the two must be given. */
export function resolveHosts (opts: { region?: string, apiUrl?: string, loginUrl?: string }): GenesysHosts {
  if (opts.apiUrl && opts.loginUrl) {
    return { apiUrl: stripSlash(opts.apiUrl), loginUrl: stripSlash(opts.loginUrl) }
  }
  const env = opts.region === undefined ? undefined : REGIONS[opts.region]
  if (!env) throw new Error(`Unknown Genesys Cloud region "${opts.region ?? ''}"`)
  return { apiUrl: `https://api.${env}`, loginUrl: `https://login.${env}` }
}

function stripSlash (url: string): string {
  return url.replace(/\/+$/, '')
}

/**
 * A Sentinel failover under load: 200 hires posted across two api replicas
 * with one worker, on one master, one replica and three sentinels; the master
 * is SIGKILLed once a quarter of the hires were accepted. The baseline is the
 * same run without the kill, in the same script. Each hire is posted with its
 * own Idempotency-Key until it is answered 202, as an HR system retries.
 * Reports what was accepted and completed, users per hire, webhooks per
 * request, the time without a master and the 503s answered meanwhile.
 *
 *   npx tsx bench/failover.ts [--hires 200] [--runs 1]
 */
import { parseArgs } from 'node:util'
import { failoverRun, type FailoverFigures } from '../test/helpers/failover.js'
import { machine, median } from './lib.js'

const { values } = parseArgs({ options: { hires: { type: 'string', default: '200' }, runs: { type: 'string', default: '1' } } })
const hires = Number(values.hires)
const runs = Number(values.runs)

const row = (label: string, f: FailoverFigures) =>
  `| ${label} | ${f.accepted}/${f.hires} | ${f.completed} | ${f.notTerminal} | ${f.oneUser} | ${f.duplicated} | ${f.webhooked} | ${f.webhookIdsPerRequestOver1} | ${f.killed ? `${f.promotionMs} ms` : '—'} | ${f.killed ? `${f.withoutMasterMs} ms` : '—'} | ${f.refused503} | ${f.inFlight409} | ${(f.durationMs / 1000).toFixed(1)} s |`

const baseline: FailoverFigures[] = []
const killed: FailoverFigures[] = []
for (let i = 0; i < runs; i++) {
  baseline.push(await failoverRun({ hires }))
  killed.push(await failoverRun({ hires, killAfter: Math.floor(hires / 4) }))
}
console.log(`\n### failover (${new Date().toISOString().slice(0, 10)}, ${machine()})\n`)
console.log('| run | accepted | completed | not terminal | one user | duplicated | webhooked | >1 webhook id | promotion | without a master | 503s | 409 in flight | duration |')
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
baseline.forEach((f, i) => console.log(row(`baseline ${i + 1}`, f)))
killed.forEach((f, i) => console.log(row(`master killed ${i + 1}`, f)))
console.log(`\nduration with the kill / without (median): ${(median(killed.map((f) => f.durationMs)) / median(baseline.map((f) => f.durationMs))).toFixed(2)} ×`)

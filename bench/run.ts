/**
 * Runs every benchmark in turn (each its own process) and prints their reports;
 * paste them into bench/README.md with the date and machine they name.
 *
 *   npm run bench            # all
 *   npm run bench -- token   # one: token | intake | end-to-end | fleet | tenants | budget | failover | lifecycle
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const all = ['token', 'intake', 'end-to-end', 'fleet', 'tenants', 'budget', 'failover', 'lifecycle', 'throughput', 'fairness', 'memory', 'batch']
const wanted = process.argv.slice(2).filter((a) => all.includes(a))
for (const name of wanted.length > 0 ? wanted : all) {
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url))
  const res = spawnSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' })
  if (res.status !== 0) process.exit(res.status ?? 1)
}

/**
 * What refused requests leave behind in the embedded default (one process,
 * in-memory state, the built-in simulator): RSS of the service process before
 * and after N intake requests that are refused (422, each with its own
 * Idempotency-Key and a body of about 40 KiB listing many issues), then after
 * a pause. The service runs in its own process; this script only sends.
 *
 *   npx tsx bench/memory.ts [--requests 10000]
 */
import { parseArgs } from 'node:util'
import { BENCH_KEY, benchClientsFile, machine, rssMiB, runBench, startServer } from './lib.js'

const { values } = parseArgs({ options: { requests: { type: 'string', default: '10000' } } })
const total = Number(values.requests)

async function main (): Promise<void> {
  // The embedded default, with a clients file so the bench knows its key.
  const server = await startServer({ CLIENTS_FILE: await benchClientsFile() })
  const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }
  // 100 group paths deeper than MAX_GROUP_DEPTH, each about 400 characters: 100 issues, about 40 KiB.
  const groups = Array.from({ length: 100 }, (_, i) => Array.from({ length: 8 }, (_, d) => `Segment ${i}-${d} `.padEnd(48, 'x')).join('/'))
  try {
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const before = await rssMiB(server.child.pid)
    let sent = 0
    let refused = 0
    const started = Date.now()
    while (sent < total) {
      const batch = Math.min(50, total - sent)
      const answers = await Promise.all(Array.from({ length: batch }, async (_, j) => {
        const n = sent + j
        const res = await fetch(`${server.url}/v1/provisioning-requests`, {
          method: 'POST',
          headers: { ...headers, 'idempotency-key': `refused-${n}` },
          body: JSON.stringify({ hrId: `MEM-${n}`, email: `memory.${n}@example.com`, givenName: 'Mem', groups }),
        })
        await res.arrayBuffer()
        return res.status
      }))
      refused += answers.filter((s) => s === 422).length
      sent += batch
    }
    const seconds = (Date.now() - started) / 1000
    const after = await rssMiB(server.child.pid)
    await new Promise((resolve) => setTimeout(resolve, 10_000))
    const later = await rssMiB(server.child.pid)
    console.log([
      `memory (${new Date().toISOString().slice(0, 10)}, ${machine()}; embedded default, one service process)`,
      `  ${sent} intake requests in ${seconds.toFixed(1)} s, ${refused} refused with 422 (each its own Idempotency-Key, body ${(JSON.stringify({ groups }).length / 1024).toFixed(0)} KiB, 100 issues)`,
      `  RSS of the service: ${before.toFixed(0)} MiB before, ${after.toFixed(0)} MiB right after, ${later.toFixed(0)} MiB 10 s later`,
    ].join('\n'))
  } finally {
    await server.stop()
  }
}

runBench(main)

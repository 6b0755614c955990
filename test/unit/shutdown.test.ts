import t from 'tap'
import { createShutdown } from '../../src/lib/shutdown.js'

function harness (graceMs = 60_000) {
  const lines: string[] = []
  const exits: number[] = []
  let closes = 0
  let release: () => void = () => {}
  const log = (msg: string) => { lines.push(msg) }
  const shutdown = createShutdown({
    graceMs,
    logger: { info: (_o, m) => log(m), warn: (_o, m) => log(m), error: (_o, m) => log(m) },
    close: () => { closes++; return new Promise<void>((resolve) => { release = resolve }) },
    exit: (code) => { exits.push(code) },
  })
  return { shutdown, lines, exits, closes: () => closes, release: () => release() }
}

t.test('a duplicate signal during the shutdown is ignored, not taken as force', async (t) => {
  const h = harness()
  h.shutdown.begin({ signal: 'SIGTERM' })
  h.shutdown.begin({ signal: 'SIGTERM' })
  h.shutdown.begin({ signal: 'SIGINT' })
  t.equal(h.closes(), 1, 'close runs once')
  t.same(h.exits, [], 'nothing exits while work is still closing')
  h.release()
  await h.shutdown.done
  t.same(h.exits, [0], 'one clean exit')
  t.same(h.lines, ['shutting down', 'already shutting down; signal ignored', 'already shutting down; signal ignored', 'shutdown complete'])
})

t.test('an unexpected error shuts down too, and exits non-zero', async (t) => {
  const h = harness()
  h.shutdown.begin({ err: new Error('boom') })
  h.release()
  await h.shutdown.done
  t.same(h.exits, [1])
  t.same(h.lines, ['shutting down after an unexpected error', 'shutdown complete'])
})

t.test('the grace period forces the exit when close never finishes', async (t) => {
  const h = harness(1)
  h.shutdown.begin({ signal: 'SIGTERM' })
  await h.shutdown.done
  t.same(h.exits, [1])
  t.match(h.lines.at(-1), /grace period elapsed/)
})

import t from 'tap'
import { pino } from 'pino'
import { Writable } from 'node:stream'
import { asError, createFailureLog } from '../../src/lib/failure-log.js'
import { loggerOptions } from '../../src/lib/logger.js'

function capture () {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb() } })
  return { lines, logger: pino({ ...loggerOptions({ level: 'info' }) }, stream) }
}

t.test('a repeated failure is one line per interval, with the count of repeats', async (t) => {
  const { lines, logger } = capture()
  let now = 0
  const log = createFailureLog(logger, { intervalMs: 1000, now: () => now })
  for (let i = 0; i < 50; i++) log.report('Redis is unreachable', new Error('connect ECONNREFUSED'))
  log.report('Redis is unreachable', new Error('Connection is closed.'))
  t.equal(lines.length, 2, 'one line per distinct message')
  now = 1500
  log.report('Redis is unreachable', new Error('connect ECONNREFUSED'))
  t.equal(lines.length, 3)
  t.match(lines[2], { msg: 'Redis is unreachable', repeatedSinceLastLine: 49, err: { type: 'Error', message: 'connect ECONNREFUSED' } })
  log.recovered('Redis is unreachable')
  t.match(lines[3], { msg: 'Redis is unreachable: recovered' })
  log.report('Redis is unreachable', new Error('connect ECONNREFUSED'))
  t.equal(lines.length, 5, 'after a recovery the next failure is logged at once')
})

t.test('errors are logged with type, message and stack, whatever was passed', async (t) => {
  const { lines, logger } = capture()
  logger.warn({ err: { message: 'plain object' } }, 'a')
  logger.warn({ err: Object.assign(new Error('with command'), { command: { name: 'set', args: ['k', 'sealed-token'] } }) }, 'b')
  logger.warn({ err: asError(Object.assign(new Error('foreign'), { command: { args: ['sealed-token'] }, code: 'ECONNREFUSED' })) }, 'c')
  t.match(lines[0], { err: { type: 'Error', message: 'plain object', stack: /plain object/ } })
  t.match(lines[1], { err: { type: 'Error', message: 'with command' } })
  t.match(lines[2], { err: { type: 'Error', message: 'foreign', code: 'ECONNREFUSED' } })
  t.notOk(JSON.stringify(lines[2]).includes('sealed-token'), 'asError keeps foreign properties out')
})

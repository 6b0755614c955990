import t, { type Test as Tap } from 'tap'
import { createBullQueue } from '../../src/jobs/bullmq-queue.js'
import { createMemoryQueue } from '../../src/jobs/memory-queue.js'
import { backoffDelay, JobFailed, JobDeferred, RetryLater, type Job, type JobQueue } from '../../src/jobs/queue.js'
import { redisBinary, startRedis } from '../helpers/redis.js'

type Make = (maxAttempts: number) => JobQueue<{ n: number }>

async function until (cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function contract (t: Tap, name: string, make: Make): void {
  t.test(`${name}: runs a job once; a duplicate id is a no-op`, async (t) => {
    const q = make(3)
    t.teardown(() => q.close())
    const seen: string[] = []
    await q.add('job-1', { n: 1 })
    await q.add('job-1', { n: 2 })
    q.process(async (job) => { seen.push(`${job.id}:${job.data.n}:${job.attempt}`) }, { concurrency: 2 })
    t.ok(q.isProcessing())
    await until(() => seen.length >= 1)
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.same(seen, ['job-1:1:1'])
  })

  t.test(`${name}: an urgent job is taken before the jobs already waiting`, async (t) => {
    const q = make(3)
    t.teardown(() => q.close())
    const seen: number[] = []
    for (let n = 1; n <= 5; n++) await q.add(`wait-${n}`, { n })
    await q.add('urgent', { n: 99 }, { urgent: true })
    q.process(async (job) => { seen.push(job.data.n) }, { concurrency: 1 })
    await until(() => seen.length >= 6)
    t.same(seen, [99, 1, 2, 3, 4, 5], 'the urgent one first, the others in order')
  })

  t.test(`${name}: RetryLater retries no sooner than its floor and counts attempts`, async (t) => {
    const q = make(3)
    t.teardown(() => q.close())
    const attempts: Array<{ attempt: number, at: number }> = []
    q.process(async (job: Job<{ n: number }>) => {
      attempts.push({ attempt: job.attempt, at: Date.now() })
      if (job.attempt < 3) throw new RetryLater('upstream busy', 300)
    }, { concurrency: 1 })
    await q.add('job-r', { n: 1 })
    await until(() => attempts.length === 3)
    t.same(attempts.map((a) => a.attempt), [1, 2, 3])
    t.ok((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0) >= 290, 'the floor holds between attempts 1 and 2')
    await until(async () => (await q.counts()).failed === 0 && (await q.counts()).delayed === 0)
  })

  t.test(`${name}: JobFailed is not retried and the job is kept as failed`, async (t) => {
    const q = make(5)
    t.teardown(() => q.close())
    let runs = 0
    q.process(async () => { runs++; throw new JobFailed('conflict') }, { concurrency: 1 })
    await q.add('job-f', { n: 1 })
    await until(async () => (await q.counts()).failed === 1)
    t.equal(runs, 1)
    await q.add('job-f', { n: 1 })
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.equal(runs, 1, 'a failed job id is kept; adding it again does not re-run it')
  })

  t.test(`${name}: attempts are bounded`, async (t) => {
    const q = make(2)
    t.teardown(() => q.close())
    let runs = 0
    q.process(async () => { runs++; throw new Error('boom') }, { concurrency: 1 })
    await q.add('job-x', { n: 1 })
    await until(async () => (await q.counts()).failed === 1)
    t.equal(runs, 2)
  })

  t.test(`${name}: a deferred job burns no attempt and holds up no other job`, async (t) => {
    const q = make(2)
    t.teardown(() => q.close())
    const runs: Array<{ id: string, attempt: number, at: number }> = []
    q.process(async (job) => {
      runs.push({ id: job.id, attempt: job.attempt, at: Date.now() })
      if (job.id === 'job-429' && runs.filter((r) => r.id === 'job-429').length === 1) throw new JobDeferred('rate limited', 400)
    }, { concurrency: 1 })
    await q.add('job-429', { n: 1 })
    await until(() => runs.length === 1)
    await q.add('job-other', { n: 2 })
    await until(() => runs.filter((r) => r.id === 'job-429').length === 2)
    const deferred = runs.filter((r) => r.id === 'job-429')
    t.same(deferred.map((a) => a.attempt), [1, 1], 'the same attempt runs again')
    t.ok((deferred[1]?.at ?? 0) - (deferred[0]?.at ?? 0) >= 390, 'after the delay')
    const other = runs.find((r) => r.id === 'job-other')
    t.ok(other !== undefined && other.at < (deferred[1]?.at ?? 0), 'another job ran while the deferred one waited')
  })
}

t.test('full-jitter backoff stays under its ceiling and above the floor', async (t) => {
  const policy = { baseMs: 1000, capMs: 60_000 }
  t.equal(backoffDelay(1, policy, () => 0.999), 999)
  t.equal(backoffDelay(3, policy, () => 0.5), 2000)
  t.equal(backoffDelay(20, policy, () => 0.999), 59_940)
  t.equal(backoffDelay(1, policy, () => 0, 3000), 3000, 'Retry-After is a floor')
})

contract(t, 'memory', (maxAttempts) => createMemoryQueue({ maxAttempts, backoff: { baseMs: 10, capMs: 50 } }))

t.test('bullmq', { skip: redisBinary.skip }, async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  let n = 0
  contract(t, 'bullmq', (maxAttempts) => createBullQueue({
    name: `contract-${++n}`,
    connection: { host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null },
    maxAttempts,
    backoff: { baseMs: 10, capMs: 50 },
  }))
})

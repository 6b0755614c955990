import { join } from 'node:path'
import t from 'tap'
import { chromiumBinary, launchBrowser } from '../helpers/browser.js'
import { startService } from '../helpers/service.js'

t.test('Swagger UI: authorize with the demo key and execute an authenticated call', { skip: chromiumBinary.skip, timeout: 90_000 }, async (t) => {
  const service = await startService()
  t.teardown(() => service.stop())
  t.ok(service.demoApiKey, 'the embedded service printed a demo key')
  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const page = await browser.context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (err) => pageErrors.push(err.message))

  const writes: Array<Record<string, string>> = []
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/v1/provisioning-requests')) writes.push(r.headers()) })

  await page.goto(`${service.url}/docs`)
  await page.locator('.information-container .title').waitFor({ timeout: 20_000 })
  t.match(await page.locator('.information-container .title').innerText(), /Genesys Cloud provisioning API/)
  t.match(await page.title(), /^Genesys Cloud provisioning \d+\.\d+\.\d+ — API$/, 'the page names the product and its version')
  const logo = await page.locator('#swagger-ui .topbar .topbar-wrapper a.link img').getAttribute('src')
  t.match(Buffer.from((logo ?? '').replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString(), /Genesys Cloud provisioning.*version \d+\.\d+\.\d+/, 'the top bar shows the product, not the framework logo')
  t.notOk(await page.locator('.topbar .download-url-wrapper').isVisible(), 'no "Explore" box')

  // Authorize with the bearer key.
  await page.locator('.auth-wrapper button.authorize').click()
  await page.locator('.modal-ux input').first().fill(service.demoApiKey ?? '')
  await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click()
  await page.locator('.modal-ux button.btn-done').click()

  // Try it out → Execute on GET /v1/me.
  const op = page.locator('#operations-clients-getCurrentClient')
  await op.locator('.opblock-summary').first().click()
  await op.locator('button.try-out__btn').click()
  await op.locator('button.execute').click()
  const status = op.locator('.live-responses-table .response .response-col_status').first()
  await status.waitFor({ timeout: 20_000 })
  const statusText = (await status.innerText()).trim()
  const body = await op.locator('.live-responses-table .response-col_description pre').first().innerText()
  await page.screenshot({ path: join(t.testdir(), 'swagger-ui-me.png'), fullPage: true })

  t.match(statusText, /^200/, 'the call shown in the page succeeded')
  t.match(body, /"id": "demo"/, 'the response body shown is the demo client')

  // POST a new hire from the example body: first as a dry run, then for real.
  const post = page.locator('#operations-provisioning-createProvisioningRequest')
  await post.locator('.opblock-summary').first().click()
  await post.locator('button.try-out__btn').click()
  const dryRunSelect = post.locator('tr[data-param-name="dryRun"] select')
  await dryRunSelect.selectOption('true')
  await post.locator('button.execute').click()
  const dryStatus = post.locator('.live-responses-table .response .response-col_status').first()
  await dryStatus.waitFor({ timeout: 30_000 })
  const dryBody = await post.locator('.live-responses-table .response-col_description pre').first().innerText()
  await page.screenshot({ path: join(t.testdir(), 'swagger-ui-dry-run.png'), fullPage: true })
  t.match((await dryStatus.innerText()).trim(), /^200/, 'the dry run answered 200')
  t.match(dryBody, /"valid": true/, 'the example new hire passes validation against the simulator')
  t.match(dryBody, /"divisionName": "BPO Alpha"/, 'the plan grants in the requested division')

  await dryRunSelect.selectOption('false')
  await post.locator('button.execute').click()
  await post.locator('.live-responses-table .response .response-col_status').first().filter({ hasText: /^202/ }).waitFor({ timeout: 30_000 })
  const realBody = await post.locator('.live-responses-table .response-col_description pre').first().innerText()
  await page.screenshot({ path: join(t.testdir(), 'swagger-ui-provision.png'), fullPage: true })
  t.match(realBody, /"status": "accepted"/, 'the new hire was accepted')
  const id = /"id": "(prq_[0-9A-Z]{26})"/.exec(realBody)?.[1]
  t.ok(id, 'the response shows the request id')

  // The request completes against the built-in simulator.
  let outcome = ''
  for (let i = 0; i < 100 && !['completed', 'rejected', 'failed'].includes(outcome); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const res = await fetch(`${service.url}/v1/provisioning-requests/${id ?? ''}`, { headers: { authorization: `Bearer ${service.demoApiKey ?? ''}` } })
    outcome = ((await res.json()) as { status: string }).status
  }
  t.equal(outcome, 'completed', 'the posted new hire was provisioned')
  t.equal(writes.length, 2, 'two POSTs from the page')
  t.ok(writes.every((h) => /^[0-9a-f-]{36}$/.test(h['idempotency-key'] ?? '')), 'Try it out sent an Idempotency-Key with each')
  t.not(writes[0]?.['idempotency-key'], writes[1]?.['idempotency-key'], 'a fresh one each time')
  t.notMatch(realBody, /"hrId": "167844"/, 'the example hire is not the README\'s')
  t.same(pageErrors, [], 'no script errors in the page')
})

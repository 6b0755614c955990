import t from 'tap'
import type { RosterImport } from '../../src/imports/ports.js'
import { importCsv } from '../../src/imports/service.js'

t.test('import CSV: every cell quoted, quotes doubled, a leading formula character neutralised', async (t) => {
  const imp: RosterImport = {
    id: 'imp_01TEST0000000000000000000A', clientId: 'hris', client: { id: 'hris', name: 'HRIS', scopes: ['admin'], divisions: '*' }, mode: 'plan', status: 'completed',
    createdAt: '2026-12-07T10:00:00.000Z', updatedAt: '2026-12-07T10:00:01.000Z', attempts: 1, total: 2,
    counts: { matched: 1, create: 0, conflict: 1, invalid: 0, unmanaged: 1 }, upstreamCalls: 3,
    rows: [
      { index: 0, hrId: 'E1', email: 'a@example.com', outcome: 'matched', matchedBy: 'email', genesysUserId: 'u-1', differences: { rolesToAdd: ['Agent'] } },
      { index: 1, hrId: 'E2', email: '=HYPERLINK("x")@example.com', outcome: 'conflict', conflict: { code: 'email.otherHrId', message: 'm' } },
    ],
    unmanaged: [{ genesysUserId: 'u-9', userName: 'lone@example.com', active: true }],
  }
  const lines = importCsv(imp).split('\r\n')
  t.equal(lines[0], '"index","hrId","email","outcome","matchedBy","genesysUserId","differences","conflict","issues","change","requestId"')
  t.equal(lines[1], '"0","E1","a@example.com","matched","email","u-1","{""rolesToAdd"":[""Agent""]}","","","",""')
  t.equal(lines[2], '"1","E2","\'=HYPERLINK(""x"")@example.com","conflict","","","","email.otherHrId","","",""')
  t.equal(lines[3], '"","","lone@example.com","unmanaged","","u-9","","","","",""')
  t.equal(lines[4], '', 'ends with a line break')
})

import t from 'tap'
import { effectiveInstant, isTimeZone } from '../../src/provisioning/effective-time.js'

const at = (value: string, zone = 'UTC') => {
  const ms = effectiveInstant(value, zone)
  return ms === undefined ? undefined : new Date(ms).toISOString()
}

t.test('a date-time is the instant it names, with its offset', async (t) => {
  t.equal(at('2027-01-04T09:00:00Z'), '2027-01-04T09:00:00.000Z')
  t.equal(at('2027-01-04T09:00:00+01:00', 'America/New_York'), '2027-01-04T08:00:00.000Z', 'the zone does not apply to an instant')
  t.equal(at('2027-01-04t09:00:00.250z'), '2027-01-04T09:00:00.250Z', 'lower-case T and Z are RFC 3339 too')
  t.equal(at('2027-01-04T09:00:00'), undefined, 'no offset: ambiguous')
  t.equal(at('2027-02-29T09:00:00Z'), undefined, 'no such day')
  t.equal(at('2027-01-04T24:00:00Z'), undefined)
  t.equal(at('next tuesday'), undefined)
})

t.test('a date is the first instant of that day in the HR time zone', async (t) => {
  t.equal(at('2027-01-04'), '2027-01-04T00:00:00.000Z')
  t.equal(at('2027-01-04', 'Europe/Dublin'), '2027-01-04T00:00:00.000Z', 'winter: GMT')
  t.equal(at('2027-07-04', 'Europe/Dublin'), '2027-07-03T23:00:00.000Z', 'summer: IST')
  t.equal(at('2027-01-04', 'America/New_York'), '2027-01-04T05:00:00.000Z')
  t.equal(at('2027-01-04', 'Asia/Kolkata'), '2027-01-03T18:30:00.000Z', 'a half-hour offset')
  t.equal(at('2026-03-08', 'America/Havana'), '2026-03-08T05:00:00.000Z', 'a day whose midnight is skipped starts at 01:00')
  t.equal(at('2026-11-01', 'America/Havana'), '2026-11-01T04:00:00.000Z', 'a day whose first hour repeats starts at its first midnight')
  t.equal(at('2028-02-29'), '2028-02-29T00:00:00.000Z', 'a leap day')
  t.equal(at('2027-02-29'), undefined)
  t.equal(at('2027-13-01'), undefined)
})

t.test('time zones', async (t) => {
  t.ok(isTimeZone('UTC'))
  t.ok(isTimeZone('Europe/Dublin'))
  t.notOk(isTimeZone('Mars/Olympus_Mons'))
  t.notOk(isTimeZone(''))
})

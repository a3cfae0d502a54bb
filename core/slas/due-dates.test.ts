import fc from 'fast-check';
import { addBusinessMinutes, businessMinutesBetween, type SlaCalendar } from './business-calendar';
import { computeDueDates, shiftDueDatesForPause, slaTargetsSchema, type OpenDueDates, type SlaDefinition } from './due-dates';

const at = (iso: string): Date => new Date(iso);
const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

const officeHours: SlaCalendar = {
  timezone: 'Europe/Berlin',
  businessHours: {
    mon: [['08:00', '17:00']],
    tue: [['08:00', '17:00']],
    wed: [['08:00', '17:00']],
    thu: [['08:00', '17:00']],
    fri: [['08:00', '17:00']],
  },
  holidays: ['2025-12-25', '2025-12-26'],
};

// The seed's two SLAs: the mail server's (very fast, out of hours) and the printer's (regular).
const mailServerSla: SlaDefinition = {
  calendar: { timezone: 'Europe/Berlin', businessHours: '24x7', holidays: [] },
  targets: { critical: { firstResponseMinutes: 15, resolutionPlanMinutes: 60, resolutionMinutes: 240 } },
};
const printerSla: SlaDefinition = {
  calendar: officeHours,
  targets: {
    high: { firstResponseMinutes: 15, resolutionPlanMinutes: 60, resolutionMinutes: 240 },
    low: { firstResponseMinutes: 480, resolutionPlanMinutes: 960, resolutionMinutes: 2700 },
  },
};

describe('computeDueDates', () => {
  it.each([
    {
      name: 'R-LINK-5: the mail server SLA counts out of hours (Saturday night)',
      sla: mailServerSla,
      priority: 'critical' as const,
      createdAt: '2025-03-08T03:00:00+01:00',
      due: ['2025-03-08T03:15:00+01:00', '2025-03-08T04:00:00+01:00', '2025-03-08T07:00:00+01:00'],
    },
    {
      name: 'R-LINK-5: the printer SLA counts only office hours (Mon 16:50 → Tuesday)',
      sla: printerSla,
      priority: 'high' as const,
      createdAt: '2025-03-03T16:50:00+01:00',
      due: ['2025-03-04T08:05:00+01:00', '2025-03-04T08:50:00+01:00', '2025-03-04T11:50:00+01:00'],
    },
    {
      name: 'R-LINK-5: the printer SLA skips Christmas holidays and the weekend',
      sla: printerSla,
      priority: 'low' as const,
      createdAt: '2025-12-24T12:00:00+01:00',
      // 300 minutes left on the 24th; 25th/26th holidays; 27th/28th weekend.
      due: ['2025-12-29T11:00:00+01:00', '2025-12-30T10:00:00+01:00', '2026-01-02T12:00:00+01:00'],
    },
  ])('$name', ({ sla, priority, createdAt, due }) => {
    const result = computeDueDates(sla, priority, at(createdAt));
    expect(result).not.toBeNull();
    expect([iso(result?.firstResponseDueAt ?? null), iso(result?.resolutionPlanDueAt ?? null), iso(result?.resolutionDueAt ?? null)]).toEqual(
      due.map((d) => at(d).toISOString()),
    );
  });

  it('R-LINK-5: no target for the priority means no due dates', () => {
    expect(computeDueDates(printerSla, 'critical', at('2025-03-03T10:00:00Z'))).toBeNull();
  });

  it('refuses an unknown priority naming the field', () => {
    // A priority read from an untyped source (a rules file) can be anything at runtime.
    const priority = JSON.parse('"urgent"') as 'high';
    expect(() => computeDueDates(printerSla, priority, at('2025-03-03T10:00:00Z'))).toThrow(/priority/);
  });

  it('refuses an invalid createdAt naming the field', () => {
    expect(() => computeDueDates(printerSla, 'high', new Date('nope'))).toThrow(/createdAt/);
  });
});

describe('slaTargetsSchema', () => {
  it('accepts a partial set of priorities', () => {
    expect(slaTargetsSchema.parse({ low: { firstResponseMinutes: 1, resolutionPlanMinutes: 2, resolutionMinutes: 3 } })).toEqual({
      low: { firstResponseMinutes: 1, resolutionPlanMinutes: 2, resolutionMinutes: 3 },
    });
  });

  it.each([
    { why: 'negative minutes', body: { high: { firstResponseMinutes: -1, resolutionPlanMinutes: 2, resolutionMinutes: 3 } }, path: ['high', 'firstResponseMinutes'] },
    { why: 'fractional minutes', body: { high: { firstResponseMinutes: 1.5, resolutionPlanMinutes: 2, resolutionMinutes: 3 } }, path: ['high', 'firstResponseMinutes'] },
    { why: 'a missing target', body: { high: { firstResponseMinutes: 1, resolutionMinutes: 3 } }, path: ['high', 'resolutionPlanMinutes'] },
    { why: 'an unknown priority', body: { urgent: { firstResponseMinutes: 1, resolutionPlanMinutes: 2, resolutionMinutes: 3 } }, path: [] },
  ])('refuses $why', ({ body, path }) => {
    const result = slaTargetsSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });
});

describe('shiftDueDatesForPause', () => {
  const utcOffice: SlaCalendar = { ...officeHours, timezone: 'UTC', holidays: [] };
  const due = (first: string | null, plan: string | null, resolution: string | null): OpenDueDates => ({
    firstResponseDueAt: first === null ? null : at(first),
    resolutionPlanDueAt: plan === null ? null : at(plan),
    resolutionDueAt: resolution === null ? null : at(resolution),
  });

  it.each([
    {
      name: 'R-LINK-5: open due dates move by the business minutes of the pause; a missed one stays',
      before: due('2025-03-03T09:00:00Z', '2025-03-03T12:00:00Z', '2025-03-04T11:00:00Z'),
      pausedAt: '2025-03-03T10:00:00Z',
      resumedAt: '2025-03-03T14:00:00Z',
      after: due('2025-03-03T09:00:00Z', '2025-03-03T16:00:00Z', '2025-03-04T15:00:00Z'),
    },
    {
      name: 'R-LINK-5: a pause over night counts only its business minutes',
      before: due('2025-03-03T16:30:00Z', null, '2025-03-05T10:00:00Z'),
      pausedAt: '2025-03-03T16:00:00Z',
      resumedAt: '2025-03-04T09:00:00Z',
      after: due('2025-03-04T09:30:00Z', null, '2025-03-05T12:00:00Z'),
    },
    {
      name: 'R-LINK-5: a pause entirely outside business hours moves nothing',
      before: due('2025-03-04T09:00:00Z', '2025-03-04T10:00:00Z', '2025-03-04T11:00:00Z'),
      pausedAt: '2025-03-03T18:00:00Z',
      resumedAt: '2025-03-04T07:00:00Z',
      after: due('2025-03-04T09:00:00Z', '2025-03-04T10:00:00Z', '2025-03-04T11:00:00Z'),
    },
    {
      name: 'R-LINK-5: a due date exactly at pausedAt had already run out and stays',
      before: due('2025-03-03T10:00:00Z', '2025-03-03T10:00:01Z', null),
      pausedAt: '2025-03-03T10:00:00Z',
      resumedAt: '2025-03-03T11:00:00Z',
      after: due('2025-03-03T10:00:00Z', '2025-03-03T11:00:01Z', null),
    },
  ])('$name', ({ before, pausedAt, resumedAt, after }) => {
    const shifted = shiftDueDatesForPause(utcOffice, before, at(pausedAt), at(resumedAt));
    expect({
      firstResponseDueAt: iso(shifted.firstResponseDueAt),
      resolutionPlanDueAt: iso(shifted.resolutionPlanDueAt),
      resolutionDueAt: iso(shifted.resolutionDueAt),
    }).toEqual({
      firstResponseDueAt: iso(after.firstResponseDueAt),
      resolutionPlanDueAt: iso(after.resolutionPlanDueAt),
      resolutionDueAt: iso(after.resolutionDueAt),
    });
  });

  it('refuses a resume before the pause naming resumedAt', () => {
    expect(() =>
      shiftDueDatesForPause(utcOffice, due(null, null, null), at('2025-03-03T10:00:00Z'), at('2025-03-03T09:00:00Z')),
    ).toThrow(/resumedAt/);
  });

  it('R-LINK-5: a pause keeps the business time that was left on each open due date', () => {
    const instant = fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date('2025-12-31T00:00:00Z'), noInvalidDate: true });
    fc.assert(
      fc.property(
        fc.constantFrom(officeHours, utcOffice, mailServerSla.calendar),
        instant,
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 5 * 1440 * 60_000 }),
        fc.integer({ min: 0, max: 5 * 1440 * 60_000 }),
        (cal, createdAt, minutes, pauseAfterMs, pauseForMs) => {
          const dueAt = addBusinessMinutes(cal, createdAt, minutes);
          const pausedAt = new Date(createdAt.getTime() + pauseAfterMs);
          const resumedAt = new Date(pausedAt.getTime() + pauseForMs);
          const shifted = shiftDueDatesForPause(cal, { firstResponseDueAt: dueAt, resolutionPlanDueAt: null, resolutionDueAt: null }, pausedAt, resumedAt);
          const expected =
            dueAt.getTime() > pausedAt.getTime() ? addBusinessMinutes(cal, resumedAt, businessMinutesBetween(cal, pausedAt, dueAt)) : dueAt;
          expect(shifted.firstResponseDueAt?.getTime()).toBe(expected.getTime());
        },
      ),
    );
  });
});

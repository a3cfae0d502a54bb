import { z } from 'zod';
import { FACT_SPECS, decisionFactsSchema, timeFact, type FieldSpec } from './facts';
import { baseFacts } from './test-support';

describe('facts', () => {
  it('R-RUL-2: the table validation checks paths against has the same properties as the facts schema', () => {
    const keysOf = (spec: FieldSpec): unknown =>
      spec.kind === 'object' ? Object.fromEntries(Object.entries(spec.fields).map(([k, v]) => [k, keysOf(v)])) : spec.kind === 'map' ? 'map' : 'leaf';
    const keysOfSchema = (schema: z.ZodType): unknown => {
      let s: z.ZodType = schema;
      while (s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
      if (s instanceof z.ZodObject) return Object.fromEntries(Object.entries(s.shape as Record<string, z.ZodType>).map(([k, v]) => [k, keysOfSchema(v)]));
      if (s instanceof z.ZodRecord) return 'map';
      return 'leaf';
    };
    expect(Object.fromEntries(Object.entries(FACT_SPECS).map(([k, v]) => [k, keysOf(v)]))).toEqual(keysOfSchema(decisionFactsSchema));
  });

  it('R-RUL-4: facts given as input are parsed strictly, naming the field', () => {
    expect(decisionFactsSchema.parse(baseFacts())).toEqual(baseFacts());
    const bad = decisionFactsSchema.safeParse({ ...baseFacts(), alert: { ...baseFacts().alert, severity: 'urgent' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['alert', 'severity']);
  });

  it('timeFact: local weekday, hour and date in the zone given', () => {
    // 2026-03-01 23:30 UTC is Monday 2026-03-02 00:30 in Berlin.
    expect(timeFact('2026-03-01T23:30:00Z', 'Europe/Berlin', false)).toEqual({
      weekday: 'mon',
      hour: 0,
      minute: 30,
      date: '2026-03-02',
      isBusinessHours: false,
      timezone: 'Europe/Berlin',
    });
    expect(timeFact(new Date('2026-03-01T23:30:00Z'), 'UTC', true)).toMatchObject({ weekday: 'sun', hour: 23, date: '2026-03-01' });
    expect(() => timeFact('2026-03-01T23:30:00Z', 'Mars/Olympus', true)).toThrow(/timezone/);
    expect(() => timeFact('yesterday', 'UTC', true)).toThrow(/at:/);
  });
});

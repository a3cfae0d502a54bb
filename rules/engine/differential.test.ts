import fc from 'fast-check';
import { compileRuleset } from './compile';
import { decide } from './decide';
import { buildReferenceEngine, runReference } from './reference-engine';
import { contractFact } from './test-support';
import { validateRuleset } from './validate';
import type { DecisionFacts } from './types';

/**
 * Issue 9: the compiled decision (closures + index) must be plain json-rules-engine's decision —
 * the same rules fire and emit the same events, in the same order. Random rulesets (priorities
 * that tie, all/any/not nested, shared conditions, stop events, every supported operator and
 * decorator) against random facts drawn from the same small domains, so conditions often hold.
 *
 * Order: json-rules-engine runs one priority level's rules concurrently and records their events
 * in promise-resolution order (a deeper condition tree resolves later), an artifact the hub
 * replaces with definition order. The reference's events are therefore compared after a stable
 * sort by (priority desc, definition order); the set of events of each priority level, the
 * levels' order and stop's cut-off are compared exactly.
 */

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
const CATEGORIES = ['backup', 'disk', 'cpu', null] as const;
const TITLES = ['Backup failed', 'Disk C: almost full', 'CPU high on SRV01', 'Veeam job warning', 'Backup of disk c: full', 'disk cleanup'];
const SOURCES = ['ninjaone', 'datto-rmm', 'generic'];
const ROLES = ['server', 'workstation', null] as const;
const CODES = ['ACME', 'VIP1', 'BETA', null] as const;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
// Overlapping and nested needles ('disk' inside 'disk c', 'sk c' across both) exercise the text index's scanner.
const TEXT_NEEDLES = ['back', 'DISK', 'disk c', 'sk c', 'c: al', 'srv01', 'warning', 'x', 'a', 'ful'];

const subset = <T>(values: readonly T[]) => fc.subarray([...values], { minLength: 1 });

const contractArb = fc.option(
  fc.record({
    code: fc.constantFrom('C-1', 'C-2', 'BACKUP'),
    type: fc.constantFrom('recurring_service', 'block_hours', 'per_ticket' as const),
    serviceCode: fc.constantFrom('MS', 'BK', null),
  }),
  { nil: null },
);

export const factsArb: fc.Arbitrary<DecisionFacts> = fc
  .record({
    severity: fc.constantFrom(...SEVERITIES),
    category: fc.constantFrom(...CATEGORIES),
    title: fc.constantFrom(...TITLES),
    message: fc.constantFrom(null, 'disk c is full', 'x'),
    source: fc.constantFrom(...SOURCES),
    env: fc.option(fc.constantFrom('prod', 'dev'), { nil: undefined }),
    device: fc.option(fc.record({ role: fc.constantFrom(...ROLES), discovered: fc.boolean() }), { nil: null }),
    company: fc.option(fc.constantFrom(...CODES), { nil: undefined }),
    deviceContract: contractArb,
    defaultContract: contractArb,
    weekday: fc.constantFrom(...WEEKDAYS),
    hour: fc.integer({ min: 0, max: 23 }),
    isBusinessHours: fc.boolean(),
  })
  .map((r): DecisionFacts => {
    const labels: Record<string, string> = r.env === undefined ? {} : { env: r.env };
    const deviceContract = r.deviceContract ? contractFact(r.deviceContract.code, { type: r.deviceContract.type, serviceCode: r.deviceContract.serviceCode }) : null;
    const defaultContract = r.defaultContract ? contractFact(r.defaultContract.code, { type: r.defaultContract.type }) : null;
    return {
      alert: {
        source: r.source,
        sourceAlertId: 'x',
        dedupKey: 'k',
        state: 'firing',
        severity: r.severity,
        category: r.category,
        title: r.title,
        message: r.message,
        hostname: 'srv01',
        site: null,
        labels,
        occurredAt: '2026-01-05T10:00:00Z',
      },
      device: r.device ? { hostname: 'srv01', site: null, role: r.device.role, discovered: r.device.discovered, known: !r.device.discovered } : null,
      company: r.company === undefined ? null : { name: `Company ${r.company ?? '-'}`, code: r.company },
      deviceContract,
      defaultContract,
      contract: deviceContract ?? defaultContract,
      sla: null,
      time: { weekday: r.weekday, hour: r.hour, minute: 0, date: '2026-01-05', isBusinessHours: r.isBusinessHours, timezone: 'UTC' },
    };
  });

type Json = unknown;

const leaf = (fact: string, path: string | undefined, operator: string, value: Json) => ({ fact, ...(path ? { path } : {}), operator, value });

const leafArb: fc.Arbitrary<Json> = fc.oneof(
  fc.tuple(fc.constantFrom('equal', 'notEqual', 'not:equal'), fc.constantFrom(...SEVERITIES)).map(([op, v]) => leaf('alert', '$.severity', op, v)),
  fc.tuple(fc.constantFrom('in', 'notIn', 'someValue:equal', 'everyValue:notEqual'), subset(SEVERITIES)).map(([op, v]) => leaf('alert', '$.severity', op, v)),
  fc.tuple(fc.constantFrom('equal', 'notEqual'), fc.constantFrom(...CATEGORIES)).map(([op, v]) => leaf('alert', '$.category', op, v)),
  fc.tuple(fc.constantFrom('in', 'notIn'), subset(CATEGORIES)).map(([op, v]) => leaf('alert', '$.category', op, v)),
  fc.tuple(fc.constantFrom('containsText', 'startsWith', 'endsWith', 'not:containsText'), fc.constantFrom(...TEXT_NEEDLES), fc.constantFrom('$.title', '$.category', '$.hostname')).map(([op, v, p]) => leaf('alert', p, op, v)),
  fc.tuple(fc.constantFrom('someValue:containsText', 'everyValue:containsText'), subset(TEXT_NEEDLES)).map(([op, v]) => leaf('alert', '$.title', op, v)),
  fc.tuple(fc.constantFrom('equal', 'notEqual', 'in'), fc.constantFrom(...SOURCES)).map(([op, v]) => leaf('alert', '$.source', op, op === 'in' ? [v] : v)),
  fc.tuple(fc.constantFrom('equal', 'notEqual'), fc.constantFrom('prod', 'dev')).map(([op, v]) => leaf('alert', '$.labels.env', op, v)),
  fc.constantFrom('equal', 'notEqual').map((op) => leaf('device', undefined, op, null)),
  fc.tuple(fc.constantFrom('equal', 'notEqual'), fc.constantFrom(...ROLES)).map(([op, v]) => leaf('device', '$.role', op, v)),
  fc.tuple(fc.constantFrom('equal', 'notEqual'), fc.boolean()).map(([op, v]) => leaf('device', '$.discovered', op, v)),
  fc.tuple(fc.constantFrom('equal', 'notEqual', 'in'), fc.constantFrom(...CODES)).map(([op, v]) => leaf('company', '$.code', op, op === 'in' ? [v, 'ZZZ'] : v)),
  fc.tuple(fc.constantFrom('equal', 'notEqual'), fc.constantFrom('deviceContract', 'defaultContract', 'contract', 'company', 'sla')).map(([op, f]) => leaf(f, undefined, op, null)),
  fc.tuple(fc.constantFrom('equal', 'in'), fc.constantFrom('C-1', 'C-2', 'BACKUP'), fc.constantFrom('deviceContract', 'contract')).map(([op, v, f]) => leaf(f, '$.code', op, op === 'in' ? [v] : v)),
  fc.tuple(fc.constantFrom('equal', 'notEqual'), fc.constantFrom('recurring_service', 'block_hours')).map(([op, v]) => leaf('contract', '$.type', op, v)),
  fc.tuple(fc.constantFrom('lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'), fc.integer({ min: 0, max: 23 })).map(([op, v]) => leaf('time', '$.hour', op, v)),
  fc.tuple(fc.constantFrom('equal', 'notEqual'), fc.boolean()).map(([op, v]) => leaf('time', '$.isBusinessHours', op, v)),
  fc.tuple(fc.constantFrom('in', 'notIn'), subset(WEEKDAYS)).map(([op, v]) => leaf('time', '$.weekday', op, v)),
);

/** Text searches only: rules made of these have no equality to index, so the text index finds them. */
// Needles that are prefixes of, inside of, or overlapping with each other, on texts that contain them.
const INDEX_NEEDLES = ['disk', 'DISK C', 'sk c', 'c: al', 'backup', 'back', 'a', 'full'];
const textLeafArb: fc.Arbitrary<Json> = fc
  .tuple(fc.constantFrom('containsText', 'containsText', 'containsText', 'startsWith', 'endsWith'), fc.constantFrom(...INDEX_NEEDLES), fc.constantFrom('$.title', '$.title', '$.title', '$.message'))
  .map(([op, v, p]) => leaf('alert', p, op, v));

/** A condition tree; `refs` names the shared conditions it may reference. */
function conditionArb(refs: readonly string[], maxDepth: number): fc.Arbitrary<Json> {
  const { tree } = fc.letrec<{ tree: Json; node: Json }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', maxDepth },
      { arbitrary: leafArb, weight: 5 },
      { arbitrary: fc.array(tie('node'), { minLength: 0, maxLength: 3 }).map((all) => ({ all })), weight: 2 },
      { arbitrary: fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })), weight: 2 },
      { arbitrary: tie('node').map((not) => ({ not })), weight: 1 },
      ...(refs.length > 0 ? [{ arbitrary: fc.constantFrom(...refs).map((condition) => ({ condition })), weight: 1 }] : []),
    ),
    tree: fc.oneof(
      fc.array(tie('node'), { minLength: 0, maxLength: 4 }).map((all) => ({ all })),
      fc.array(tie('node'), { minLength: 1, maxLength: 4 }).map((any) => ({ any })),
      tie('node').map((not) => ({ not })),
      ...(refs.length > 0 ? [fc.constantFrom(...refs).map((condition) => ({ condition }))] : []),
      // Often an index-friendly shape: an equality beside other conditions.
      fc.tuple(leafArb, tie('node')).map(([a, b]) => ({ all: [a, b] })),
      // Free-text rules: found through the text index.
      fc.array(textLeafArb, { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
      fc.tuple(textLeafArb, tie('node')).map(([a, b]) => ({ all: [b, a] })),
    ),
  }));
  return tree;
}

const eventArb: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: fc.record({ contract: fc.constantFrom('device', 'default', 'none', 'BACKUP') }, { requiredKeys: [] }).map((p) => ({ type: 'assign', params: { queue: 'q', ...p } })), weight: 3 },
  { arbitrary: fc.constantFrom('critical', 'P2', 'medium', 'low').map((priority) => ({ type: 'setPriority', params: { priority } })), weight: 3 },
  { arbitrary: fc.constantFrom('maintenance', 'noise').map((reason) => ({ type: 'suppress', params: { reason } })), weight: 1 },
  { arbitrary: fc.constant({ type: 'stop' }), weight: 1 },
);

const rulesetArb = fc
  .integer({ min: 0, max: 3 })
  .chain((sharedCount) => {
    const names = Array.from({ length: sharedCount }, (_, i) => `shared-${i}`);
    // Shared condition i references only j < i: acyclic by construction.
    const shared = fc.tuple(...names.map((_, i) => conditionArb(names.slice(0, i), 3)));
    const rules = fc.array(
      fc.record({ priority: fc.constantFrom(1, 1, 2, 3, 7), conditions: conditionArb(names, 4), event: eventArb, file: fc.constantFrom('a.json', 'b.json') }),
      { minLength: 1, maxLength: 20 },
    );
    return fc.tuple(fc.constant(names), shared, rules);
  })
  .map(([names, shared, rules]) => {
    const files: Record<string, { rules: Json[]; conditions?: Record<string, Json> }> = { 'a.json': { rules: [] }, 'b.json': { rules: [] } };
    if (names.length > 0) files['a.json'] = { rules: [], conditions: Object.fromEntries(names.map((n, i) => [n, shared[i]])) };
    rules.forEach((r, i) => files[r.file]?.rules.push({ name: `rule-${i}`, priority: r.priority, conditions: r.conditions, event: r.event }));
    return Object.entries(files).map(([name, content]) => ({ name, content }));
  });

describe('differential: compiled decide vs plain json-rules-engine', () => {
  it('R-RUL-1: random rulesets and facts fire the same rules with the same events in the same order', async () => {
    let compared = 0;
    let fired = 0;
    let stopped = 0;
    await fc.assert(
      fc.asyncProperty(rulesetArb, fc.array(factsArb, { minLength: 1, maxLength: 6 }), async (files, factsList) => {
        const result = validateRuleset(files);
        if (!result.ok || !result.ruleset) throw new Error(`generator produced an invalid ruleset: ${JSON.stringify(result.errors.slice(0, 3))}`);
        const compiled = compileRuleset(result.ruleset, { version: 1, contentHash: result.contentHash });
        for (const facts of factsList) {
          const ours = decide(compiled, facts).rulesFired.map((r) => ({ name: r.name, event: r.event }));
          // A fresh Engine per run: never two runs on one Engine at once.
          const ref = await runReference(buildReferenceEngine(result.ruleset), result.ruleset, facts);
          expect(ours).toEqual(ref.fired.map((r) => ({ name: r.name, event: r.event })));
          // The raw emission order differs from the canonical one only within a priority level.
          const priorityOf = new Map(result.ruleset.rules.map((r) => [r.name, r.priority]));
          const levels = (list: Array<{ name: string }>) => list.map((r) => priorityOf.get(r.name));
          expect(levels(ref.emitted)).toEqual(levels(ours));
          compared++;
          fired += ours.length;
          if (ours.some((r) => r.event.type === 'stop')) stopped++;
        }
      }),
      { numRuns: 300 },
    );
    // The property is only as good as its coverage: rules did fire, and stop did cut runs short.
    expect(compared).toBeGreaterThan(300);
    expect(fired).toBeGreaterThan(compared);
    expect(stopped).toBeGreaterThan(10);
  });

  it('R-RUL-1: json-rules-engine emits a priority level in promise-resolution order; the hub uses definition order', async () => {
    const files = [
      {
        name: 'a.json',
        content: {
          rules: [
            { name: 'deep', conditions: { all: [{ all: [{ all: [{ fact: 'alert', path: '$.severity', operator: 'equal', value: 'high' }] }] }] }, event: { type: 'setPriority', params: { priority: 'high' } } },
            { name: 'shallow', conditions: { all: [{ fact: 'alert', path: '$.severity', operator: 'notEqual', value: 'low' }] }, event: { type: 'setPriority', params: { priority: 'low' } } },
          ],
        },
      },
    ];
    const result = validateRuleset(files);
    if (!result.ruleset) throw new Error('invalid');
    const compiled = compileRuleset(result.ruleset, { version: 1, contentHash: result.contentHash });
    const facts = fc.sample(factsArb, { numRuns: 1, seed: 1 })[0];
    if (!facts) throw new Error('no sample');
    facts.alert.severity = 'high';
    const ref = await runReference(buildReferenceEngine(result.ruleset), result.ruleset, facts);
    expect(ref.emitted.map((e) => e.name)).toEqual(['shallow', 'deep']);
    const decision = decide(compiled, facts);
    expect(decision.rulesFired.map((r) => r.name)).toEqual(['deep', 'shallow']);
    // Definition order decides the tie: the first rule's priority wins, every time.
    expect(decision.assignment.priority).toBe('high');
  });
});

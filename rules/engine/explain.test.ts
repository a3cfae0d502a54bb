import { decide } from './decide';
import { explain } from './explain';
import { baseFacts, compileFiles } from './test-support';

const ruleset = () =>
  compileFiles({
    'a.json': {
      conditions: {
        'servers-only': { all: [{ fact: 'device', path: '$.role', operator: 'equal', value: 'server' }] },
      },
      rules: [
        {
          name: 'lab-stop',
          priority: 50,
          conditions: { all: [{ fact: 'alert', path: '$.labels.env', operator: 'equal', value: 'lab' }] },
          event: { type: 'stop' },
        },
        {
          name: 'server-disk',
          priority: 10,
          conditions: { all: [{ condition: 'servers-only' }, { fact: 'alert', path: '$.category', operator: 'equal', value: 'disk' }] },
          event: { type: 'setPriority', params: { priority: 'P2' } },
        },
        {
          name: 'not-a-workstation',
          priority: 10,
          conditions: { not: { fact: 'device', path: '$.role', operator: 'equal', value: 'server' } },
          event: { type: 'assign', params: { queue: 'desktop' } },
        },
        {
          name: 'critical-backup',
          priority: 5,
          conditions: {
            all: [
              // Condition priority: evaluated first, and json-rules-engine skips lower ones once "all" failed.
              { fact: 'alert', path: '$.severity', operator: 'equal', value: 'critical', priority: 2 },
              { fact: 'alert', path: '$.category', operator: 'equal', value: 'backup' },
            ],
          },
          event: { type: 'assign', params: { contract: 'device' } },
        },
      ],
    },
  });

describe('explain (R-RUL-4)', () => {
  it('R-RUL-4: gives decide’s decision and, per rule, whether it fired, the failed condition and the fact values used', async () => {
    const facts = baseFacts({}, { severity: 'high', category: 'disk' });
    const { decision, trace, referenceAgrees } = await explain(ruleset(), facts);
    expect(referenceAgrees).toBe(true);
    expect(decision).toEqual(decide(ruleset(), facts));
    expect(trace.map((t) => [t.rule, t.fired])).toEqual([
      ['lab-stop', false],
      ['server-disk', true],
      ['not-a-workstation', false],
      ['critical-backup', false],
    ]);

    const [labStop, serverDisk, notWorkstation, criticalBackup] = trace;
    expect(labStop?.failedCondition).toMatchObject({ pointer: '/rules/0/conditions/all/0', fact: 'alert', path: '$.labels.env', operator: 'equal', value: 'lab', result: false });
    expect(labStop?.failedCondition).not.toHaveProperty('factValue', 'lab');

    // A leaf of a shared condition points into the shared condition and says which one.
    expect(serverDisk?.conditions).toEqual([
      expect.objectContaining({ file: 'a.json', pointer: '/conditions/servers-only/all/0', via: 'servers-only', factValue: 'server', result: true }),
      expect.objectContaining({ pointer: '/rules/1/conditions/all/1', factValue: 'disk', result: true }),
    ]);

    // Under "not", a condition that held is why the rule failed.
    expect(notWorkstation?.failedCondition).toMatchObject({ pointer: '/rules/2/conditions/not', factValue: 'server', result: true, negated: true });

    // json-rules-engine short-circuits "all" between condition priorities: the lower one was not evaluated.
    expect(criticalBackup?.failedCondition).toMatchObject({ path: '$.severity', factValue: 'high', result: false });
    expect(criticalBackup?.conditions[1]).toMatchObject({ path: '$.category', result: null });
    expect(criticalBackup?.conditions[1]).not.toHaveProperty('factValue');
  });

  it('R-RUL-4: rules below a stop are reported as skipped', async () => {
    const { trace, decision } = await explain(ruleset(), baseFacts({}, { labels: { env: 'lab' } }));
    expect(decision.rulesFired.map((r) => r.name)).toEqual(['lab-stop']);
    expect(trace.map((t) => [t.rule, t.fired, t.skipped])).toEqual([
      ['lab-stop', true, undefined],
      ['server-disk', false, 'stopped'],
      ['not-a-workstation', false, 'stopped'],
      ['critical-backup', false, 'stopped'],
    ]);
    expect(trace[1]?.conditions.every((c) => c.result === null)).toBe(true);
  });

  it('R-RUL-4: a null fact with a path yields the null itself, never an error', async () => {
    const { trace, referenceAgrees } = await explain(ruleset(), baseFacts({ device: null }));
    expect(referenceAgrees).toBe(true);
    expect(trace[1]?.conditions[0]).toMatchObject({ factValue: null, result: false });
    expect(trace[2]?.fired).toBe(true);
  });
});

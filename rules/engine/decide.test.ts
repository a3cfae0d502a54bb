import fs from 'node:fs';
import path from 'node:path';
import { candidates, decide } from './decide';
import { explain } from './explain';
import { baseFacts, compileFiles, contractFact } from './test-support';
import type { DecisionFacts } from './types';

const shipped = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '00-default.json'), 'utf8')) as unknown;
const defaults = () => compileFiles({ '00-default.json': shipped }, {}, 7);

const deviceLink = contractFact('MS-MAIL', { name: 'Managed mail server', serviceCode: 'MAIL', serviceName: 'Mail server', slaCode: 'GOLD' });
const serviceDesk = contractFact('SD-ACME', { name: 'Service desk Acme' });

describe('the shipped default ruleset (R-LINK-3/4)', () => {
  it('R-LINK-3: the device contract effective on the alert date is assigned (its service comes from the link)', () => {
    const d = decide(defaults(), baseFacts({ deviceContract: deviceLink, contract: deviceLink }));
    expect(d.assignment).toEqual({ contract: 'device', service: null, sla: null, priority: 'high', queue: null });
    expect(d.needsTriage).toBe(false);
    expect(d.outcome).toBe('ticket');
    expect(d.rulesFired.map((r) => r.name)).toEqual(['device-contract', 'priority-high']);
    expect(d).toMatchObject({ rulesetVersion: 7, contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("R-LINK-4: the device's contract overrides the company's default service-desk contract", () => {
    const d = decide(defaults(), baseFacts({ deviceContract: deviceLink, defaultContract: serviceDesk, contract: deviceLink }));
    expect(d.assignment.contract).toBe('device');
    expect(d.rulesFired.map((r) => r.name)).not.toContain('default-service-desk-contract');
  });

  it('R-LINK-4: only without an effective device contract does the default service-desk contract apply', () => {
    const d = decide(defaults(), baseFacts({ defaultContract: serviceDesk, contract: serviceDesk }));
    expect(d.assignment.contract).toBe('default');
    expect(d.needsTriage).toBe(false);
  });

  it('R-LINK-4: with neither, the ticket is still created, without contract, marked for triage', () => {
    const d = decide(defaults(), baseFacts({ device: null, company: null }));
    expect(d.outcome).toBe('ticket');
    expect(d.assignment.contract).toBeNull();
    expect(d.needsTriage).toBe(true);
    expect(d.rulesFired.map((r) => r.name)).toEqual(['no-contract-triage', 'priority-high']);
  });

  it.each([
    ['critical', 'critical'],
    ['high', 'high'],
    ['medium', 'medium'],
    ['low', 'low'],
    ['info', 'low'],
  ] as const)('R-LINK-5: severity %s gives priority %s', (severity, priority) => {
    expect(decide(defaults(), baseFacts({}, { severity })).assignment.priority).toBe(priority);
  });
});

// The README's examples, as an MSP would write them beside the shipped default.
const admin = {
  conditions: {
    'vip-company': { all: [{ fact: 'company', path: '$.code', operator: 'in', value: ['VIP1', 'VIP2'] }] },
    'outside-business-hours': { all: [{ fact: 'time', path: '$.isBusinessHours', operator: 'equal', value: false }] },
  },
  rules: [
    {
      name: 'backup-alerts-to-backup-contract',
      priority: 10,
      conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'backup' }] },
      event: { type: 'assign', params: { contract: 'BACKUP-2026', service: 'BACKUP' } },
    },
    {
      name: 'vip-critical-out-of-hours-p1',
      priority: 20,
      conditions: {
        all: [
          { condition: 'vip-company' },
          { condition: 'outside-business-hours' },
          { fact: 'alert', path: '$.severity', operator: 'equal', value: 'critical' },
        ],
      },
      event: { type: 'setPriority', params: { priority: 'P1' } },
    },
    {
      name: 'vip-high-out-of-hours-is-critical',
      priority: 20,
      conditions: { all: [{ condition: 'vip-company' }, { condition: 'outside-business-hours' }, { fact: 'alert', path: '$.severity', operator: 'equal', value: 'high' }] },
      event: { type: 'setPriority', params: { priority: 'critical' } },
    },
    {
      name: 'ignore-test-alerts',
      priority: 100,
      conditions: { any: [{ fact: 'alert', path: '$.title', operator: 'startsWith', value: '[test]' }, { fact: 'alert', path: '$.labels.env', operator: 'equal', value: 'lab' }] },
      event: { type: 'suppress', params: { reason: 'test or lab alert' } },
    },
  ],
};
const withAdmin = () => compileFiles({ '00-default.json': shipped, '50-admin.json': admin });

describe('admin rules before the default', () => {
  it("R-LINK-4: backup alerts go to the backup contract's backup service, whatever the device's contract", () => {
    const d = decide(withAdmin(), baseFacts({ deviceContract: deviceLink, contract: deviceLink }, { category: 'backup', severity: 'medium' }));
    expect(d.assignment).toEqual({ contract: { ref: 'BACKUP-2026' }, service: 'BACKUP', sla: null, priority: 'medium', queue: null });
    expect(d.needsTriage).toBe(false);
    expect(d.rulesFired.map((r) => r.name)).toEqual(['backup-alerts-to-backup-contract', 'device-contract', 'priority-medium']);
  });

  it('R-LINK-5: outside business hours, critical alerts of VIP companies get P1 (critical); inside, the default applies', () => {
    const night = { ...baseFacts().time, hour: 2, isBusinessHours: false };
    const vip = { name: 'Very Important', code: 'VIP1' };
    const high = decide(withAdmin(), baseFacts({ company: vip, time: night }, { severity: 'high' }));
    expect(high.assignment.priority).toBe('critical');
    expect(high.rulesFired[0]?.name).toBe('vip-high-out-of-hours-is-critical');
    expect(decide(withAdmin(), baseFacts({ company: vip }, { severity: 'high' })).assignment.priority).toBe('high');
    expect(decide(withAdmin(), baseFacts({ time: night }, { severity: 'high' })).assignment.priority).toBe('high');
  });

  it('suppress: the alert is stored and marked, no ticket; the reason is kept', () => {
    const d = decide(withAdmin(), baseFacts({}, { labels: { env: 'lab' } }));
    expect(d.outcome).toBe('suppress');
    expect(d.suppressReason).toBe('test or lab alert');
    // The rest of the decision is still made (the alert is stored with it).
    expect(d.assignment.priority).toBe('high');
  });
});

describe('merge semantics', () => {
  const leafOn = (severity: string) => ({ all: [{ fact: 'alert', path: '$.severity', operator: 'equal', value: severity }] });
  const always = { all: [] };

  it('for each field the first event in priority order wins; fields combine across rules', () => {
    const r = compileFiles({
      'a.json': {
        rules: [
          { name: 'low-queue', priority: 1, conditions: always, event: { type: 'assign', params: { queue: 'noc', priority: 'low', sla: 'BRONZE' } } },
          { name: 'high-contract', priority: 9, conditions: always, event: { type: 'assign', params: { contract: 'X', priority: 'P2', holdOffSeconds: 120 } } },
          { name: 'mid', priority: 5, conditions: always, event: { type: 'assign', params: { contract: 'Y', reopenWindowMinutes: 30, staleAfterMinutes: 60, resolveAction: 'annotate', holdOffSeconds: 5 } } },
        ],
      },
    });
    const d = decide(r, baseFacts());
    expect(d.rulesFired.map((f) => f.name)).toEqual(['high-contract', 'mid', 'low-queue']);
    expect(d.assignment).toEqual({ contract: { ref: 'X' }, service: null, sla: 'BRONZE', priority: 'high', queue: 'noc' });
    expect(d).toMatchObject({ holdOffSeconds: 120, reopenWindowMinutes: 30, staleAfterMinutes: 60, resolveAction: 'annotate' });
  });

  it('equal priorities: file name order, then order in the file, decides', () => {
    const r = compileFiles({
      '20-b.json': { rules: [{ name: 'b', conditions: always, event: { type: 'setPriority', params: { priority: 'low' } } }] },
      '10-a.json': { rules: [{ name: 'a', conditions: always, event: { type: 'setPriority', params: { priority: 'critical' } } }] },
    });
    expect(decide(r, baseFacts()).rulesFired.map((f) => f.name)).toEqual(['a', 'b']);
    expect(decide(r, baseFacts()).assignment.priority).toBe('critical');
  });

  it('"stop" skips lower priorities; its own priority level still runs (json-rules-engine engine.stop())', () => {
    const r = compileFiles({
      'a.json': {
        rules: [
          { name: 'top', priority: 9, conditions: always, event: { type: 'assign', params: { queue: 'top' } } },
          { name: 'stopper', priority: 5, conditions: leafOn('critical'), event: { type: 'stop' } },
          { name: 'same-level', priority: 5, conditions: always, event: { type: 'setPriority', params: { priority: 'P1' } } },
          { name: 'below', priority: 4, conditions: always, event: { type: 'assign', params: { contract: 'device' } } },
        ],
      },
    });
    expect(decide(r, baseFacts({}, { severity: 'critical' })).rulesFired.map((f) => f.name)).toEqual(['top', 'stopper', 'same-level']);
    expect(decide(r, baseFacts({}, { severity: 'low' })).rulesFired.map((f) => f.name)).toEqual(['top', 'same-level', 'below']);
  });

  it('"contract": "device" without an effective device contract needs triage; "none" wins like any value', () => {
    const r = compileFiles({
      'a.json': {
        rules: [
          { name: 'device', priority: 3, conditions: leafOn('high'), event: { type: 'assign', params: { contract: 'device' } } },
          { name: 'none', priority: 2, conditions: always, event: { type: 'assign', params: { contract: 'none' } } },
          { name: 'default', priority: 1, conditions: always, event: { type: 'assign', params: { contract: 'default' } } },
        ],
      },
    });
    const facts = baseFacts({ defaultContract: serviceDesk, contract: serviceDesk });
    expect(decide(r, facts)).toMatchObject({ assignment: { contract: 'device' }, needsTriage: true });
    expect(decide(r, { ...facts, alert: { ...facts.alert, severity: 'low' } })).toMatchObject({ assignment: { contract: null }, needsTriage: true });
  });

  it('the decision keeps the evidence: which conditions held (a negated one marked)', () => {
    const r = compileFiles({
      'a.json': {
        rules: [
          {
            name: 'evidence',
            conditions: {
              all: [
                { fact: 'alert', path: '$.title', operator: 'containsText', value: 'disk' },
                { not: { fact: 'device', path: '$.role', operator: 'equal', value: 'workstation' } },
                { any: [{ fact: 'alert', path: '$.severity', operator: 'equal', value: 'low' }, { fact: 'alert', path: '$.severity', operator: 'equal', value: 'high' }] },
              ],
            },
            event: { type: 'setPriority', params: { priority: 'medium' } },
          },
        ],
      },
    });
    expect(decide(r, baseFacts()).rulesFired[0]?.matched).toEqual([
      { fact: 'alert', path: '$.title', operator: 'containsText', value: 'disk', factValue: 'Disk C: almost full' },
      { fact: 'device', path: '$.role', operator: 'equal', value: 'workstation', factValue: 'server', negated: true },
      { fact: 'alert', path: '$.severity', operator: 'equal', value: 'high', factValue: 'high' },
    ]);
  });

  it('the index narrows the candidates to the rules an alert can fire', () => {
    const rules = Array.from({ length: 200 }, (_, i) => ({
      name: `company-${i}`,
      conditions: { all: [{ fact: 'company', path: '$.code', operator: 'equal', value: `C${i}` }, { fact: 'alert', path: '$.severity', operator: 'notEqual', value: 'info' }] },
      event: { type: 'assign', params: { queue: `q${i}` } },
    }));
    const r = compileFiles({ '00-default.json': shipped, '10-companies.json': { rules } });
    const facts = baseFacts({ company: { name: 'C', code: 'C42' } });
    expect(candidates(r, facts).length).toBeLessThanOrEqual(8);
    expect(decide(r, facts).assignment.queue).toBe('q42');
    expect(decide(r, baseFacts({ company: null })).assignment.queue).toBeNull();
  });
});

describe('the text index', () => {
  const textRules = () =>
    compileFiles({
      'a.json': {
        rules: [
          ...['veeam', 'veeam job', 'job', 'spooler', 'disk c'].map((needle, i) => ({
            name: `contains-${i}`,
            conditions: { any: [{ fact: 'alert', path: '$.title', operator: 'containsText', value: needle }, { fact: 'alert', path: '$.message', operator: 'containsText', value: `ticket ${i}` }] },
            event: { type: 'assign', params: { queue: `q${i}` } },
          })),
          { name: 'starts', conditions: { all: [{ fact: 'alert', path: '$.title', operator: 'startsWith', value: 'VEEAM' }] }, event: { type: 'assign', params: { sla: 'x' } } },
          { name: 'ends', conditions: { all: [{ fact: 'alert', path: '$.title', operator: 'endsWith', value: 'FAILED' }] }, event: { type: 'assign', params: { service: 'y' } } },
        ],
      },
    });

  it('R-RUL-1: a text evaluates only the rules whose needles it contains, and decides like json-rules-engine', async () => {
    const r = textRules();
    const facts = baseFacts({}, { title: 'Veeam job Daily failed', message: 'see ticket 4' });
    expect(candidates(r, facts).map((rank) => r.plan.rules[rank]?.name)).toEqual(['contains-0', 'contains-1', 'contains-2', 'contains-4', 'starts', 'ends']);
    const d = decide(r, facts);
    expect(d.rulesFired.map((f) => f.name)).toEqual(['contains-0', 'contains-1', 'contains-2', 'contains-4', 'starts', 'ends']);
    expect((await explain(r, facts)).referenceAgrees).toBe(true);
  });

  it('R-RUL-1: long texts are searched needle by needle, with the same result', async () => {
    const r = textRules();
    const facts = baseFacts({}, { title: `${'x'.repeat(5000)} spooler stopped`, message: null });
    expect(decide(r, facts).rulesFired.map((f) => f.name)).toEqual(['contains-3']);
    expect((await explain(r, facts)).referenceAgrees).toBe(true);
  });
});

describe('one decision function, no shared engine state', () => {
  it('R-RUL-4: concurrent explains on one ruleset never skip rules (json-rules-engine keeps one status per Engine)', async () => {
    const r = withAdmin();
    const facts: DecisionFacts[] = Array.from({ length: 40 }, (_, i) =>
      baseFacts(
        { company: { name: 'V', code: i % 2 ? 'VIP1' : 'ACME' }, time: { ...baseFacts().time, isBusinessHours: i % 3 === 0 } },
        { severity: (['critical', 'high', 'medium', 'low', 'info'] as const)[i % 5], category: i % 4 ? 'disk' : 'backup' },
      ),
    );
    const results = await Promise.all(facts.map((f) => explain(r, f)));
    results.forEach((res, i) => {
      expect(res.referenceAgrees).toBe(true);
      expect(res.decision).toEqual(decide(r, facts[i] as DecisionFacts));
    });
  });
});

describe('R-LINK-7: a "link" event in the decision (issue 15 item 3)', () => {
  const files = {
    '00-default.json': shipped,
    '10-link.json': {
      rules: [
        { name: 'lab-to-backup', priority: 40, conditions: { all: [{ fact: 'device', path: '$.discovered', operator: 'equal', value: true }] }, event: { type: 'link', params: { contract: 'BACKUP', service: 'BK' } } },
        { name: 'second-link', priority: 30, conditions: { all: [{ fact: 'device', path: '$.discovered', operator: 'equal', value: true }] }, event: { type: 'link', params: { contract: 'OTHER' } } },
      ],
    },
  };
  it('the first link event that fires names its contract, service and rule; the trace lists it', () => {
    const d = decide(compileFiles(files), baseFacts({ device: { hostname: 'lab-01', site: null, role: null, discovered: true, known: false } }));
    expect(d.link).toEqual({ contract: 'BACKUP', service: 'BK', rule: 'lab-to-backup' });
    expect(d.rulesFired.map((r) => r.name)).toEqual(expect.arrayContaining(['lab-to-backup', 'second-link']));
  });
  it('no link event fired: no link', () => {
    const d = decide(compileFiles(files), baseFacts({ device: { hostname: 'srv', site: null, role: null, discovered: false, known: true } }));
    expect(d.link).toBeUndefined();
  });
});

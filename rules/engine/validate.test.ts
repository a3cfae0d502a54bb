import fs from 'node:fs';
import path from 'node:path';
import { formatIssue } from './format';
import { validateRulesDir } from './load-dir';
import type { RefCatalog } from './types';
import { RULES_LIMITS, validateRuleset, type RulesFileInput, type ValidateOptions } from './validate';

const SHIPPED = path.join(__dirname, '..');

const rule = (over: Record<string, unknown> = {}) => ({
  name: 'r1',
  conditions: { all: [{ fact: 'alert', path: '$.severity', operator: 'equal', value: 'critical' }] },
  event: { type: 'setPriority', params: { priority: 'P1' } },
  ...over,
});

const leafRule = (leaf: Record<string, unknown>, name = 'r1') => rule({ name, conditions: { all: [leaf] } });

function validate(files: Record<string, unknown>, opts: ValidateOptions = {}) {
  const inputs: RulesFileInput[] = Object.entries(files).map(([name, c]) => ({ name, text: typeof c === 'string' ? c : JSON.stringify(c, null, 2) }));
  return validateRuleset(inputs, opts);
}

const catalog: RefCatalog = { contracts: new Set(['BACKUP-2026', 'Backup contract']), services: new Set(['BK', 'Backup']), slas: new Set(['GOLD']) };

describe('the shipped ruleset', () => {
  it('R-LINK-3: rules/*.json validates without errors or warnings', async () => {
    const result = await validateRulesDir(SHIPPED, { catalog: { contracts: new Set(), services: new Set(), slas: new Set() } });
    expect(result.errors.map(formatIssue)).toEqual([]);
    expect(result.warnings.map(formatIssue)).toEqual([]);
    expect(result.ruleset?.rules.map((r) => r.name)).toEqual(expect.arrayContaining(['device-contract', 'default-service-desk-contract', 'no-contract-triage']));
  });
});

describe('R-RUL-2: every error names the file, the rule and the field', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['an unknown fact', leafRule({ fact: 'customer', operator: 'equal', value: 'x' }), '/rules/0/conditions/all/0/fact', /unknown fact "customer"; facts are alert, device/],
    ['a property the fact does not have', leafRule({ fact: 'alert', path: '$.severty', operator: 'equal', value: 'high' }), '/rules/0/conditions/all/0/path', /alert has no property "severty"/],
    ['a path below a text property', leafRule({ fact: 'alert', path: '$.title.length', operator: 'equal', value: 3 }), '/rules/0/conditions/all/0/path', /alert.title is a string; it has no property "length"/],
    ['an unknown operator', leafRule({ fact: 'alert', path: '$.title', operator: 'like', value: 'x' }), '/rules/0/conditions/all/0/operator', /unknown operator "like"/],
    ['an unsupported decorator', leafRule({ fact: 'alert', path: '$.title', operator: 'swap:equal', value: 'x' }), '/rules/0/conditions/all/0/operator', /swap is not supported/],
    ['a value outside an enumeration', leafRule({ fact: 'alert', path: '$.severity', operator: 'equal', value: 'Critical' }), '/rules/0/conditions/all/0/value', /one of critical, high, medium, low, info; "Critical" never matches/],
    ['a number for a text label', leafRule({ fact: 'alert', path: '$.labels.port', operator: 'equal', value: 8080 }), '/rules/0/conditions/all/0/value', /alert.labels.port is a string; 8080 is a number/],
    ['null for a property that is never null', leafRule({ fact: 'alert', path: '$.title', operator: 'equal', value: null }), '/rules/0/conditions/all/0/value', /never null/],
    ['an object compared without a path', leafRule({ fact: 'company', operator: 'equal', value: 'Acme' }), '/rules/0/conditions/all/0/value', /company is an object: compare one of its properties/],
    ['"contains" on text', leafRule({ fact: 'alert', path: '$.title', operator: 'contains', value: 'disk' }), '/rules/0/conditions/all/0/value', /use "containsText"/],
    ['"in" without an array', leafRule({ fact: 'alert', path: '$.severity', operator: 'in', value: 'high' }), '/rules/0/conditions/all/0/value', /"in" needs an array value/],
    ['a fact reference as value', leafRule({ fact: 'alert', path: '$.site', operator: 'equal', value: { fact: 'device', path: '$.site' } }), '/rules/0/conditions/all/0/value', /fact references in values are not supported/],
    ['ordering an enumeration', leafRule({ fact: 'alert', path: '$.severity', operator: 'greaterThan', value: 'low' }), '/rules/0/conditions/all/0/value', /does not order/],
    ['condition params', leafRule({ fact: 'alert', path: '$.title', operator: 'equal', value: 'x', params: { a: 1 } }), '/rules/0/conditions/all/0/params', /"params" are not supported/],
    ['a leaf at the top of conditions', rule({ conditions: { fact: 'alert', path: '$.title', operator: 'equal', value: 'x' } }), '/rules/0/conditions', /wrap it as \{ "all": \[ ... \] \}/],
    ['an empty any', rule({ conditions: { any: [] } }), '/rules/0/conditions/any', /empty "any" is always true/],
    ['two kinds in one condition', rule({ conditions: { all: [], any: [] } }), '/rules/0/conditions', /this one has "all" and "any"/],
    ['"not" with an array', rule({ conditions: { not: [] } }), '/rules/0/conditions/not', /"not" takes one condition/],
    ['a condition that is not an object', rule({ conditions: { all: ['alert.severity == critical'] } }), '/rules/0/conditions/all/0', /must be an object, got string/],
    ['an unknown event type', rule({ event: { type: 'escalate' } }), '/rules/0/event/type', /unknown event type "escalate"; known: assign, setPriority, suppress, stop/],
    ['a bad priority', rule({ event: { type: 'setPriority', params: { priority: 'urgent' } } }), '/rules/0/event/params/priority', /critical, high, medium, low \(or P1/],
    ['an unknown assign param', rule({ event: { type: 'assign', params: { contract: 'device', team: 'x' } } }), '/rules/0/event/params/team', /unknown property "team"/],
    ['an empty assign', rule({ event: { type: 'assign', params: {} } }), '/rules/0/event/params', /at least one of its params/],
    ['a suppress without params', rule({ event: { type: 'suppress' } }), '/rules/0/event/params', /"suppress" needs "params": \{ "reason": "..." \}/],
    ['a suppress without reason', rule({ event: { type: 'suppress', params: { reason: ' ' } } }), '/rules/0/event/params/reason', /./],
    ['an unknown rule property', rule({ colour: 'red' }), '/rules/0/colour', /unknown property "colour"/],
    ['a priority of zero', rule({ priority: 0 }), '/rules/0/priority', /./],
  ])('%s', (_what, r, pointer, message) => {
    const result = validate({ '10-admin.json': { rules: [r] } });
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([expect.objectContaining({ severity: 'error', file: '10-admin.json', rule: 'r1', pointer, message: expect.stringMatching(message) })]);
    // The text position of the pointer (or of its nearest existing ancestor) is known.
    expect(result.errors[0]?.line).toBeGreaterThan(1);
  });

  it('a rule without a name is named by its position', () => {
    const result = validate({ 'a.json': { rules: [rule(), { conditions: { all: [] }, event: { type: 'stop' } }] } });
    expect(result.errors).toEqual([expect.objectContaining({ file: 'a.json', rule: 'rules[1]', pointer: '/rules/1/name', message: expect.stringContaining('"name"') })]);
  });

  it('invalid JSON names the file, line and column', () => {
    const result = validate({ 'b.json': '{\n  "rules": [\n    { "name": "x", }\n  ]\n}' });
    expect(result.errors).toEqual([expect.objectContaining({ file: 'b.json', rule: null, pointer: '', line: 3, message: expect.stringContaining('not valid JSON') })]);
  });

  it('line numbers point at the offending value', () => {
    const text = '{\n  "rules": [\n    {\n      "name": "r1",\n      "conditions": { "all": [] },\n      "event": { "type": "nope" }\n    }\n  ]\n}';
    const result = validate({ 'c.json': text });
    expect(result.errors[0]).toMatchObject({ pointer: '/rules/0/event/type', line: 6, column: 26 });
    expect(formatIssue(result.errors[0] as never)).toBe('c.json:6:26 › r1 › /rules/0/event/type: unknown event type "nope"; known: assign, setPriority, suppress, stop, link');
  });

  it('a file without rules, or with a wrong top level, is refused', () => {
    expect(validate({ 'd.json': { rule: [] } }).errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'd.json', pointer: '/rules', message: expect.stringContaining('"rules": [') }),
        expect.objectContaining({ file: 'd.json', pointer: '/rule', message: 'unknown property "rule"' }),
      ]),
    );
    expect(validate({ 'e.json': [] }).ok).toBe(false);
    expect(validateRuleset([]).errors[0]?.message).toContain('no rules files');
  });

  it('rule names are unique across files', () => {
    const result = validate({ '00-a.json': { rules: [rule()] }, '10-b.json': { rules: [rule()] } });
    expect(result.errors).toEqual([expect.objectContaining({ file: '10-b.json', rule: 'r1', pointer: '/rules/0/name', message: expect.stringContaining('already used in 00-a.json /rules/0/name') })]);
  });
});

describe('R-RUL-2: shared conditions', () => {
  const ruleRef = (name: string) => rule({ conditions: { condition: name } });

  it('an unknown shared condition is refused where it is referenced', () => {
    const result = validate({ 'a.json': { conditions: { vip: { all: [] } }, rules: [rule({ conditions: { all: [{ condition: 'vpi' }] } })] } });
    expect(result.errors).toEqual([expect.objectContaining({ rule: 'r1', pointer: '/rules/0/conditions/all/0/condition', message: 'unknown shared condition "vpi"; defined: vip' })]);
  });

  it('shared conditions are usable across files', () => {
    const result = validate({
      '00-shared.json': { rules: [], conditions: { 'vip-company': { all: [{ fact: 'company', path: '$.code', operator: 'in', value: ['VIP1', 'VIP2'] }] } } },
      '10-rules.json': { rules: [ruleRef('vip-company')] },
    });
    expect(result.errors).toEqual([]);
  });

  it('a cycle among shared conditions is refused, naming the cycle', () => {
    const result = validate({
      'a.json': {
        conditions: {
          a: { all: [{ condition: 'b' }] },
          b: { any: [{ fact: 'device', operator: 'equal', value: null }, { not: { condition: 'a' } }] },
          self: { all: [{ condition: 'self' }] },
        },
        rules: [ruleRef('a')],
      },
    });
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      expect.objectContaining({ file: 'a.json', rule: null, pointer: '/conditions/b/any/1/not/condition', message: 'shared conditions form a cycle: a → b → a' }),
      expect.objectContaining({ pointer: '/conditions/self/all/0/condition', message: 'shared conditions form a cycle: self → self' }),
    ]);
  });

  it('a shared condition name is defined once', () => {
    const result = validate({ 'a.json': { rules: [], conditions: { x: { all: [] } } }, 'b.json': { rules: [], conditions: { x: { all: [] } } } });
    expect(result.errors).toEqual([expect.objectContaining({ file: 'b.json', pointer: '/conditions/x', message: expect.stringContaining('already defined in a.json') })]);
  });

  it('depth is counted through shared conditions', () => {
    const nest = (n: number): unknown => (n === 0 ? { fact: 'device', operator: 'equal', value: null } : { all: [nest(n - 1)] });
    const result = validate({ 'a.json': { conditions: { deep: nest(10) }, rules: [rule({ conditions: { all: [{ all: [{ condition: 'deep' }] }] } })] } }, { limits: { maxConditionDepth: 12 } });
    expect(result.errors).toEqual([expect.objectContaining({ rule: 'r1', pointer: '/rules/0/conditions', message: expect.stringContaining('nested 13 levels deep; the limit is 12') })]);
  });
});

describe('R-RUL-2: size caps', () => {
  it('a file above the size cap is refused before it is parsed', () => {
    const result = validate({ 'big.json': { rules: [rule({ description: 'x'.repeat(900) })] } }, { limits: { maxFileBytes: 500 } });
    expect(result.errors).toEqual([expect.objectContaining({ file: 'big.json', message: expect.stringMatching(/bytes; the limit is 500/) })]);
  });

  it('too many rules', () => {
    const rules = Array.from({ length: 4 }, (_, i) => rule({ name: `r${i}` }));
    const result = validate({ 'a.json': { rules } }, { limits: { maxRules: 3 } });
    expect(result.errors).toEqual([expect.objectContaining({ file: 'a.json', pointer: '/rules', message: '4 rules; the limit is 3' })]);
  });

  it('conditions nested too deep', () => {
    const nest = (n: number): unknown => (n === 0 ? { fact: 'device', operator: 'equal', value: null } : { not: nest(n - 1) });
    const result = validate({ 'a.json': { rules: [rule({ conditions: { all: [nest(RULES_LIMITS.maxConditionDepth + 2)] } })] } });
    expect(result.errors[0]).toMatchObject({ rule: 'r1', message: `conditions nested deeper than ${RULES_LIMITS.maxConditionDepth} levels` });
  });

  it('a hostile nesting of the JSON itself is refused without exhausting the stack', () => {
    const text = `{"rules":[${'['.repeat(5000)}${']'.repeat(5000)}]}`;
    const result = validate({ 'a.json': text });
    expect(result.errors).toEqual([expect.objectContaining({ file: 'a.json', message: expect.stringContaining('nested deeper than 64') })]);
  });

  it('too many conditions in one rule, too many values, too long text', () => {
    const many = Array.from({ length: 30 }, () => ({ fact: 'device', operator: 'equal', value: null }));
    expect(validate({ 'a.json': { rules: [rule({ conditions: { all: many } })] } }, { limits: { maxConditionsPerRule: 20 } }).errors[0]?.message).toBe('more than 20 conditions');
    const values = Array.from({ length: 30 }, (_, i) => `v${i}`);
    expect(validate({ 'a.json': { rules: [leafRule({ fact: 'alert', path: '$.title', operator: 'in', value: values })] } }, { limits: { maxArrayValues: 10 } }).errors[0]?.message).toBe('at most 10 values');
    expect(validate({ 'a.json': { rules: [leafRule({ fact: 'alert', path: '$.title', operator: 'equal', value: 'x'.repeat(2000) })] } }).errors[0]).toMatchObject({
      pointer: '/rules/0/conditions/all/0/value',
      message: 'text longer than 1000 characters',
    });
  });
});

describe('R-RUL-2: references to contracts, services and SLAs', () => {
  const assign = (params: Record<string, unknown>) => ({ 'a.json': { rules: [rule({ event: { type: 'assign', params } })] } });

  it('unknown names are errors, naming the field', () => {
    const result = validate(assign({ contract: 'BACKUP-2025', service: 'Backups', sla: 'PLATINUM' }), { catalog });
    expect(result.errors.map((e) => [e.pointer, e.message])).toEqual([
      ['/rules/0/event/params/contract', 'unknown contract "BACKUP-2025": no contract has this name or code'],
      ['/rules/0/event/params/service', 'unknown service "Backups": no service has this name or code'],
      ['/rules/0/event/params/sla', 'unknown SLA "PLATINUM": no SLA has this name or code'],
    ]);
  });

  it('names and codes that exist pass; device/default/none are not references', () => {
    expect(validate(assign({ contract: 'Backup contract', service: 'BK', sla: 'GOLD' }), { catalog }).ok).toBe(true);
    for (const contract of ['device', 'default', 'none']) expect(validate(assign({ contract }), { catalog }).ok).toBe(true);
  });

  it('an unreachable database makes them warnings, once per reference', () => {
    const result = validate(assign({ contract: 'BACKUP-2026', service: 'BK' }), { catalog: null });
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => w.message)).toEqual([
      'could not check that contract "BACKUP-2026" exists: the database is unreachable',
      'could not check that service "BK" exists: the database is unreachable',
    ]);
  });
});

describe('warnings and hashing', () => {
  it('a rule tying with an earlier file on a field it sets is warned about', () => {
    const result = validate({
      '00-default.json': { rules: [rule({ name: 'default-priority' })] },
      '50-admin.json': { rules: [rule({ name: 'admin-priority' })] },
    });
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([
      expect.objectContaining({ file: '50-admin.json', rule: 'admin-priority', message: expect.stringContaining('like rule "default-priority" in 00-default.json, which loads first') }),
    ]);
  });

  it('R-RUL-3: the content hash ignores formatting and key order, and changes with content', () => {
    const a = validateRuleset([{ name: 'a.json', text: JSON.stringify({ rules: [rule()] }) }]);
    const b = validateRuleset([{ name: 'a.json', text: JSON.stringify({ rules: [{ event: rule().event, conditions: rule().conditions, name: 'r1' }] }, null, 4) }]);
    const c = validateRuleset([{ name: 'a.json', text: JSON.stringify({ rules: [rule({ priority: 2 })] }) }]);
    const d = validateRuleset([{ name: 'b.json', text: JSON.stringify({ rules: [rule()] }) }]);
    expect(a.contentHash).toBe(b.contentHash);
    expect(c.contentHash).not.toBe(a.contentHash);
    expect(d.contentHash).not.toBe(a.contentHash);
    // Stored content validates to the same hash as the text it came from.
    expect(validateRuleset(a.ruleset?.files ?? []).contentHash).toBe(a.contentHash);
  });

  it('R-RUL-2: maintenance windows are validated with the file; a valid one passes through', () => {
    const window = { name: 'patch tuesday', timezone: 'Europe/Berlin', timeIntervals: [{ weekdays: ['tuesday'], times: [{ start_time: '22:00', end_time: '23:59' }] }] };
    const ok = validate({ 'a.json': { rules: [rule()], maintenanceWindows: [window] } });
    expect(ok.errors).toEqual([]);
    expect(ok.ruleset?.maintenanceWindows).toEqual([{ file: 'a.json', window }]);
    const bad = validate({ 'a.json': { rules: [rule()], maintenanceWindows: [{ name: 'patch tuesday', anything: [1] }] } });
    expect(bad.ok).toBe(false);
    expect(bad.errors.map((e) => e.pointer)).toEqual(expect.arrayContaining(['/maintenanceWindows/0/anything']));
    expect(bad.errors.every((e) => e.file === 'a.json')).toBe(true);
    expect(validate({ 'a.json': { rules: [rule()], maintenanceWindows: { name: 'x' } } }).errors[0]).toMatchObject({ pointer: '/maintenanceWindows' });
  });
});

describe('rules/README.md', () => {
  it('R-RUL-1: every example rules file in the README validates beside the shipped default', () => {
    const readme = fs.readFileSync(path.join(SHIPPED, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const shipped = fs.readFileSync(path.join(SHIPPED, '00-default.json'), 'utf8');
    const readmeCatalog: RefCatalog = { contracts: new Set(['BACKUP-2026']), services: new Set(['BACKUP']), slas: new Set() };
    blocks.forEach((text, i) => {
      const result = validateRuleset([{ name: '00-default.json', text: shipped }, { name: `50-example-${i}.json`, text }], { catalog: readmeCatalog });
      expect({ block: i, errors: result.errors.map(formatIssue), warnings: result.warnings.map(formatIssue) }).toEqual({ block: i, errors: [], warnings: [] });
    });
  });
});

describe('R-LINK-7: the "link" event (issue 15 item 3)', () => {
  const link = (params: unknown) => ({ 'a.json': { rules: [rule({ event: { type: 'link', params } })] } });

  it('is validated like every event: a contract is required, unknown params and reserved words are refused', () => {
    expect(validate(link({ contract: 'Backup contract', service: 'BK' }), { catalog }).ok).toBe(true);
    expect(validate(link({ contract: 'BACKUP-2026' }), { catalog }).ok).toBe(true);
    for (const bad of [{}, { service: 'BK' }, { contract: 'device' }, { contract: 'BACKUP-2026', sla: 'GOLD' }]) {
      const result = validate(link(bad), { catalog });
      expect(result.ok).toBe(false);
      expect(result.errors[0]?.pointer).toMatch(/^\/rules\/0\/event\/params/);
    }
  });

  it('names an existing contract and service, like assign', () => {
    const result = validate(link({ contract: 'BACKUP-2025', service: 'Backups' }), { catalog });
    expect(result.errors.map((e) => [e.pointer, e.message])).toEqual([
      ['/rules/0/event/params/contract', 'unknown contract "BACKUP-2025": no contract has this name or code'],
      ['/rules/0/event/params/service', 'unknown service "Backups": no service has this name or code'],
    ]);
  });
});

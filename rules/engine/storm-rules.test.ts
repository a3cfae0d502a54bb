import { formatIssue } from './format';
import { stormRulesOf } from './storm-rules';
import { baseFacts, compileFiles } from './test-support';
import type { RefCatalog } from './types';
import { validateRuleset, type ValidateOptions } from './validate';

const inhibit = (over: Record<string, unknown> = {}) => ({
  name: 'gateway-mutes-site',
  source: { all: [{ fact: 'alert', path: '$.title', operator: 'containsText', value: 'gateway' }] },
  target: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'offline' }] },
  equal: ['alert.site'],
  ...over,
});
const group = (over: Record<string, unknown> = {}) => ({
  name: 'site-outage',
  match: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'offline' }] },
  by: ['company.code', 'alert.site'],
  moreThan: 10,
  withinSeconds: 300,
  title: '{count} devices at {alert.site} offline',
  ...over,
});
const file = (content: Record<string, unknown>) => ({ rules: [], ...content });

function validate(files: Record<string, unknown>, opts: ValidateOptions = {}) {
  return validateRuleset(
    Object.entries(files).map(([name, c]) => ({ name, text: JSON.stringify(c, null, 2) })),
    opts,
  );
}

describe('R-STORM-1: inhibit and group rules are validated like every rule (file › rule › JSON pointer)', () => {
  it('a valid file validates and compiles', () => {
    const r = validate({ '10-storms.json': file({ inhibit: [inhibit()], group: [group()] }) });
    expect(r.errors.map(formatIssue)).toEqual([]);
    expect(r.ruleset?.storms.map((s) => `${s.kind}:${s.name}`)).toEqual(['inhibit:gateway-mutes-site', 'group:site-outage']);
  });

  it.each<[string, Record<string, unknown>, string | null, string, RegExp]>([
    ['an unknown fact in a source condition', { inhibit: [inhibit({ source: { all: [{ fact: 'customer', operator: 'equal', value: 'x' }] } })] }, 'gateway-mutes-site', '/inhibit/0/source/all/0/fact', /unknown fact "customer"/],
    ['a property the fact lacks in a target condition', { inhibit: [inhibit({ target: { all: [{ fact: 'alert', path: '$.sight', operator: 'equal', value: 'x' }] } })] }, 'gateway-mutes-site', '/inhibit/0/target/all/0/path', /alert has no property "sight"/],
    ['a leaf at the top of "match"', { group: [group({ match: { fact: 'alert', path: '$.category', operator: 'equal', value: 'x' } })] }, 'site-outage', '/group/0/match', /top of "conditions" must be/],
    ['an unknown field in "equal"', { inhibit: [inhibit({ equal: ['alert.sight'] })] }, 'gateway-mutes-site', '/inhibit/0/equal/0', /alert has no property "sight"/],
    ['an unknown fact in "by"', { group: [group({ by: ['site'] })] }, 'site-outage', '/group/0/by/0', /unknown fact "site"/],
    ['a field that is an object', { group: [group({ by: ['alert.labels'] })] }, 'site-outage', '/group/0/by/0', /is an object/],
    ['an empty "equal"', { inhibit: [inhibit({ equal: [] })] }, 'gateway-mutes-site', '/inhibit/0/equal', /at least one field/],
    ['a missing "moreThan"', { group: [group({ moreThan: undefined })] }, 'site-outage', '/group/0/moreThan', /./],
    ['"withinSeconds" of 0', { group: [group({ withinSeconds: 0 })] }, 'site-outage', '/group/0/withinSeconds', /./],
    ['an unknown property', { inhibit: [inhibit({ sources: {} })] }, 'gateway-mutes-site', '/inhibit/0/sources', /unknown property "sources"/],
    ['a bad whenSourceResolves', { inhibit: [inhibit({ whenSourceResolves: 'close' })] }, 'gateway-mutes-site', '/inhibit/0/whenSourceResolves', /./],
    ['"group" not an array', { group: {} }, null, '/group', /must be an array/],
    ['a duplicate name', { inhibit: [inhibit()], group: [group({ name: 'gateway-mutes-site' })] }, 'gateway-mutes-site', '/group/0/name', /already used in 10-storms.json \/inhibit\/0/],
    ['an unknown shared condition', { inhibit: [inhibit({ source: { condition: 'nope' } })] }, 'gateway-mutes-site', '/inhibit/0/source/condition', /unknown shared condition "nope"/],
  ])('%s', (_name, content, rule, pointer, message) => {
    const r = validate({ '10-storms.json': file(content) });
    expect(r.ok).toBe(false);
    const issue = r.errors.find((e) => e.pointer === pointer);
    expect({ all: r.errors.map(formatIssue), issue }).toMatchObject({ issue: { file: '10-storms.json', rule, pointer, message: expect.stringMatching(message) } });
    // The text is known: the error also has a line.
    if (content.group !== undefined && !Array.isArray(content.group)) return;
    expect(issue?.line).toEqual(expect.any(Number));
  });

  it('group rules name contracts, services and SLAs that must exist (warnings when the database is unreachable)', () => {
    const catalog: RefCatalog = { contracts: new Set(['C-DESK']), services: new Set(), slas: new Set(['GOLD']) };
    const content = file({ group: [group({ contract: 'C-NOPE', sla: 'GOLD', service: 'DESK' })] });
    const r = validate({ '10-storms.json': content }, { catalog });
    expect(r.errors.map((e) => [e.pointer, e.message])).toEqual([
      ['/group/0/contract', 'unknown contract "C-NOPE": no contract has this name or code'],
      ['/group/0/service', 'unknown service "DESK": no service has this name or code'],
    ]);
    const offline = validate({ '10-storms.json': content }, { catalog: null });
    expect(offline.ok).toBe(true);
    expect(offline.warnings.map((w) => w.pointer)).toEqual(['/group/0/contract', '/group/0/service', '/group/0/sla']);
    expect(validate({ '10-storms.json': file({ group: [group({ contract: 'default' })] }) }, { catalog }).ok).toBe(true);
  });
});

describe('storm rules compiled: matchers over the facts', () => {
  const ruleset = compileFiles({
    '10-storms.json': {
      conditions: { 'is-offline': { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'offline' }] } },
      rules: [],
      inhibit: [inhibit({ target: { condition: 'is-offline' } }), inhibit({ name: 'off', enabled: false })],
      group: [group()],
    },
  });
  const storms = stormRulesOf(ruleset);

  it('disabled rules are not compiled; the result is cached per ruleset', () => {
    expect(storms.inhibit.map((r) => r.def.name)).toEqual(['gateway-mutes-site']);
    expect(stormRulesOf(ruleset)).toBe(storms);
  });

  it.each<[string, Parameters<typeof baseFacts>[1], boolean, boolean, boolean]>([
    ['a gateway alert is a source (text tests ignore case)', { title: 'HQ GATEWAY unreachable', category: 'network' }, true, false, false],
    ['an offline device is a target and groups', { title: 'pc-1 offline', category: 'offline' }, false, true, true],
    ['an offline gateway is both', { title: 'gateway offline', category: 'offline' }, true, true, true],
    ['a disk alert is neither', { title: 'disk full', category: 'disk' }, false, false, false],
  ])('%s', (_name, alert, source, target, grouped) => {
    const facts = baseFacts({}, alert);
    const [rule] = storms.inhibit;
    expect([rule!.source(facts), rule!.target(facts), storms.group[0]!.match(facts)]).toEqual([source, target, grouped]);
  });

  it('field getters read the facts; a missing company reads null', () => {
    const [g] = storms.group;
    expect(g!.by.map((get) => get(baseFacts({}, { site: 'HQ' })))).toEqual(['ACME', 'HQ']);
    expect(g!.by.map((get) => get(baseFacts({ company: null }, { site: 'HQ' })))).toEqual([null, 'HQ']);
  });
});

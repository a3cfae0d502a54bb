import {
  latestRuleset,
  latestRulesetError,
  latestRulesetHead,
  loadRefCatalog,
  recordRuleset,
  recordRulesetError,
  resolveRulesetErrors,
  rulesetByVersion,
} from '../../../db/queries/rulesets';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';

describe('db/queries/rulesets', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());
  beforeEach(async () => {
    await t.db.raw('TRUNCATE rulesets, ruleset_errors RESTART IDENTITY');
  });

  const content = (marker: string) => ({ files: [{ name: '00-default.json', content: { rules: [], description: marker } }] });

  it('R-RUL-3: records each ruleset that goes live with version, hash, content, when and by whom', async () => {
    const first = await recordRuleset(t.db, { contentHash: 'h1', content: content('one'), activatedBy: 'startup:host-a:1' });
    expect(first).toMatchObject({ version: 1, contentHash: 'h1', activatedBy: 'startup:host-a:1', created: true });
    expect(Date.parse(first.activatedAt)).not.toBeNaN();
    const stored = await rulesetByVersion(t.db, 1);
    expect(stored?.content).toEqual(content('one'));
    expect(await latestRuleset(t.db)).toMatchObject({ version: 1, content: content('one') });
  });

  it('R-RUL-3: the same content as the latest version is that version; a reverted edit gets a new version', async () => {
    await recordRuleset(t.db, { contentHash: 'A', content: content('A'), activatedBy: 'x' });
    expect(await recordRuleset(t.db, { contentHash: 'A', content: content('A'), activatedBy: 'y' })).toMatchObject({ version: 1, activatedBy: 'x', created: false });
    expect(await recordRuleset(t.db, { contentHash: 'B', content: content('B'), activatedBy: 'x' })).toMatchObject({ version: 2, created: true });
    expect(await recordRuleset(t.db, { contentHash: 'A', content: content('A'), activatedBy: 'x' })).toMatchObject({ version: 3, created: true });
    expect(await latestRulesetHead(t.db)).toMatchObject({ version: 3, contentHash: 'A' });
  });

  it('R-RUL-3: processes recording the same files at once end up with one version', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => recordRuleset(t.db, { contentHash: 'same', content: content('same'), activatedBy: `p${i}` })));
    expect(new Set(results.map((r) => r.version))).toEqual(new Set([1]));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const different = await Promise.all(Array.from({ length: 6 }, (_, i) => recordRuleset(t.db, { contentHash: `d${i}`, content: content(`d${i}`), activatedBy: 'p' })));
    expect(different.map((r) => r.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('R-RUL-2: a refused ruleset is recorded once while pending, and resolved when a good one loads', async () => {
    const errors = [{ severity: 'error', file: 'a.json', rule: 'r', pointer: '/rules/0', message: 'bad' }];
    const e1 = await recordRulesetError(t.db, { contentHash: 'bad1', errors, detectedBy: 'host-a' });
    const again = await recordRulesetError(t.db, { contentHash: 'bad1', errors, detectedBy: 'host-b' });
    expect(again).toMatchObject({ id: e1.id, created: false, detectedBy: 'host-a' });
    const e2 = await recordRulesetError(t.db, { contentHash: 'bad2', errors, detectedBy: 'host-a' });
    expect(e2.created).toBe(true);
    expect(await latestRulesetError(t.db, { pendingOnly: true })).toMatchObject({ contentHash: 'bad2', errors, resolvedAt: null });
    expect(await resolveRulesetErrors(t.db)).toBe(2);
    expect(await latestRulesetError(t.db, { pendingOnly: true })).toBeNull();
    expect(await latestRulesetError(t.db)).toMatchObject({ contentHash: 'bad2', resolvedAt: expect.any(String) });
    // The same bad content again, after a resolution, is a new error.
    expect(await recordRulesetError(t.db, { contentHash: 'bad2', errors, detectedBy: 'host-a' })).toMatchObject({ created: true });
  });

  it('R-RUL-2: the reference catalog holds names and codes of contracts, services and SLAs', async () => {
    const [company] = (await t.db('companies').insert({ name: 'Acme', code: 'ACME' }).returning('id')) as Array<{ id: string }>;
    await t.db('contracts').insert({
      company_id: company?.id,
      name: 'Backup contract',
      code: 'BACKUP-2026',
      type: 'recurring_service',
      period_type: 'yearly',
      start_date: '2026-01-01',
      end_date: '2026-12-31',
    });
    await t.db('services').insert([{ name: 'Backup', code: 'BK', unit_price: '10' }, { name: 'Monitoring', unit_price: '5' }]);
    await t.db('slas').insert({ name: 'Gold', code: 'GOLD', timezone: 'Europe/Berlin' });
    const catalog = await loadRefCatalog(t.db);
    expect(catalog).toEqual({
      contracts: new Set(['Backup contract', 'BACKUP-2026']),
      services: new Set(['Backup', 'BK', 'Monitoring']),
      slas: new Set(['Gold', 'GOLD']),
    });
  });
});

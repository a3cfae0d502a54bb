import fs from 'node:fs';
import path from 'node:path';

/**
 * Issue 14 item 3: row locks are shared db/queries functions (lockContract, lockDevice,
 * lockTicket, lockCompany, lockService, lockBundle, lockSla), never inline `forUpdate()` copies in
 * the layers above. This scan fails as soon as one comes back.
 */
const ROOT = path.resolve(__dirname, '../..');
const SCANNED = ['api', 'app', 'workers', 'cli', 'lib', 'main'];
/**
 * Left alone on purpose, with the reason: api/admin/sources/ is being reworked by the source
 * secrets change (issue 13) at the same time; its lock moves to db/queries with that change.
 */
const NOT_YET = new Set<string>();

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

describe('issue 14 item 3: no inline forUpdate() outside db/queries', () => {
  it('adapters and use cases lock rows through db/queries lock functions', () => {
    const offenders = SCANNED.flatMap((d) => tsFiles(path.join(ROOT, d)))
      .map((f) => path.relative(ROOT, f).split(path.sep).join('/'))
      .filter((rel) => !NOT_YET.has(rel))
      .filter((rel) => /\.forUpdate\s*\(/.test(fs.readFileSync(path.join(ROOT, rel), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the scan sees the files it is meant to see (a scan of nothing would always pass)', () => {
    const seen = SCANNED.flatMap((d) => tsFiles(path.join(ROOT, d))).map((f) => path.relative(ROOT, f).split(path.sep).join('/'));
    expect(seen).toEqual(expect.arrayContaining(['api/admin/companies/companies.route.ts', 'app/renewals/renew-contract.ts']));
    expect(NOT_YET.size === 0 || [...NOT_YET].every((f) => seen.includes(f))).toBe(true);
  });
});

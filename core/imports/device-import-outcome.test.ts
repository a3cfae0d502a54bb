import { MAX_REPORTED_ERRORS, type RowError } from './device-csv';
import { importVerdict } from './device-import-outcome';
import type { PlannedRow } from './device-plan';

const row = (line: number) => ({ line, hostname: `h${line}`, source: 'datto', sourceDeviceId: `d${line}`, site: 's', contract: null, service: null, companyId: '1', contractId: null, serviceId: null });
const planned = (line: number, action: PlannedRow['action'], link: PlannedRow['link'] = { kind: 'none' }): PlannedRow =>
  ({ row: row(line), action, deviceId: action === 'create' ? null : String(line), addRef: false, link }) as PlannedRow;
const err = (line: number, field = 'hostname'): RowError => ({ line, field, message: 'bad' });

describe('R-LINK-7: importVerdict — all-or-nothing unless skipInvalid', () => {
  it.each([
    { why: 'a clean file is written', errors: [], skip: false, refused: false, valid: 3, invalid: 0 },
    { why: 'one bad row refuses the whole file by default', errors: [err(2)], skip: false, refused: true, valid: 2, invalid: 1 },
    { why: 'with skipInvalid the valid rows are written', errors: [err(2)], skip: true, refused: false, valid: 2, invalid: 1 },
    { why: 'two errors on one line count one invalid row', errors: [err(2), err(2, 'site')], skip: true, refused: false, valid: 2, invalid: 1 },
    { why: 'a header error refuses even with skipInvalid, every row invalid', errors: [err(1, '(header)')], skip: true, refused: true, valid: 0, invalid: 3 },
    { why: 'a file-level error refuses even with skipInvalid', errors: [err(0, '(file)')], skip: true, refused: true, valid: 0, invalid: 3 },
  ])('$why', ({ errors, skip, refused, valid, invalid }) => {
    const v = importVerdict(3, errors, [planned(1, 'create'), planned(3, 'update')], skip);
    expect(v.refused).toBe(refused);
    expect(v.counts).toMatchObject({ rows: 3, valid, invalid, errorCount: errors.length });
  });

  it('counts the plan’s actions and links', () => {
    const v = importVerdict(
      4,
      [],
      [
        planned(1, 'create', { kind: 'link', endLinkId: null, deleteLinkId: null, contractId: '9', serviceId: null }),
        planned(2, 'update', { kind: 'unchanged', linkId: '5' }),
        planned(3, 'unchanged'),
        planned(4, 'unchanged'),
      ],
      false,
    );
    expect(v.counts).toMatchObject({ created: 1, updated: 1, unchanged: 2, linked: 1, linksUnchanged: 1 });
  });

  it('reports errors sorted by line, at most MAX_REPORTED_ERRORS, with the full count', () => {
    const many = Array.from({ length: MAX_REPORTED_ERRORS + 5 }, (_, i) => err(MAX_REPORTED_ERRORS + 5 - i));
    const v = importVerdict(MAX_REPORTED_ERRORS + 5, many, [], true);
    expect(v.counts.errorCount).toBe(MAX_REPORTED_ERRORS + 5);
    expect(v.counts.errors).toHaveLength(MAX_REPORTED_ERRORS);
    expect(v.counts.errors[0]?.line).toBe(1);
  });
});

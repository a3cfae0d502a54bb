import { parseDeviceCsv } from './device-csv';

const HEADER = 'hostname,source,sourceDeviceId,site,contract,service';

describe('parseDeviceCsv (R-LINK-7: device import rows, errors with line numbers)', () => {
  it('R-LINK-7: reads valid rows with their line numbers (the header is line 1)', () => {
    const r = parseDeviceCsv(`${HEADER}\nweb01,datto,D-1,site-1,CT-1,Monitoring\nweb02,datto,D-2,site-1,,\n`);
    expect(r.errors).toEqual([]);
    expect(r.total).toBe(2);
    expect(r.rows).toEqual([
      { line: 2, hostname: 'web01', source: 'datto', sourceDeviceId: 'D-1', site: 'site-1', contract: 'CT-1', service: 'Monitoring', linkFrom: null },
      { line: 3, hostname: 'web02', source: 'datto', sourceDeviceId: 'D-2', site: 'site-1', contract: null, service: null, linkFrom: null },
    ]);
  });

  it('accepts columns in any order and case, without the optional ones, with a BOM, CRLF and blank lines', () => {
    const r = parseDeviceCsv('\uFEFFSite,HOSTNAME,sourcedeviceid,Source\r\n\r\nsite-1, web01 ,D-1,datto\r\n,,,\r\n');
    expect(r.errors).toEqual([]);
    expect(r.rows).toEqual([{ line: 3, hostname: 'web01', source: 'datto', sourceDeviceId: 'D-1', site: 'site-1', contract: null, service: null, linkFrom: null }]);
    expect(r.total).toBe(1);
  });

  it('R-LINK-7: every bad row is reported with its line and column; good rows still parse', () => {
    const text = [
      HEADER,
      'web01,datto,D-1,site-1,,', // 2 ok
      ',datto,D-2,site-1,,', // 3 hostname missing
      'web03,Datto RMM,D-3,site-1,,', // 4 bad source name
      'web04,datto,D-1,site-1,,', // 5 duplicate ref of line 2
      'web05,datto,D-5,site-1,,Backup', // 6 service without contract
      'web06,datto,D-6', // 7 too few fields
      'web 07,datto,D-7,,,', // 8 space in hostname + site missing
      `${'h'.repeat(254)},datto,D-8,site-1,,`, // 9 hostname too long
    ].join('\n');
    const r = parseDeviceCsv(text);
    expect(r.rows.map((x) => x.line)).toEqual([2]);
    expect(r.total).toBe(8);
    expect(r.errors).toEqual([
      { line: 3, field: 'hostname', message: 'is required' },
      { line: 4, field: 'source', message: 'must be a source name (lower-case letters, digits, - and _), got "Datto RMM"' },
      { line: 5, field: 'sourceDeviceId', message: 'duplicates line 2 (same source and sourceDeviceId)' },
      { line: 6, field: 'service', message: 'needs a contract in the same row' },
      { line: 7, field: '(row)', message: 'has 3 fields, the header has 6' },
      { line: 8, field: 'site', message: 'is required' },
      { line: 8, field: 'hostname', message: 'must not contain spaces' },
      { line: 9, field: 'hostname', message: 'must be at most 253 characters' },
    ]);
  });

  it('reports a record with a quoted newline at the line it starts on, and later lines correctly', () => {
    const r = parseDeviceCsv(`${HEADER}\nweb01,datto,D-1,"site\n1",,\n,datto,D-2,site-1,,\n`);
    expect(r.errors).toEqual([
      { line: 2, field: 'site', message: 'must not contain control characters' },
      { line: 4, field: 'hostname', message: 'is required' },
    ]);
  });

  it('refuses a header with unknown, duplicate or missing columns (line 1)', () => {
    const r = parseDeviceCsv('hostame,source,source,site\nx,y,z,w\n');
    expect(r.rows).toEqual([]);
    expect(r.errors.every((e) => e.line === 1 && e.field === '(header)')).toBe(true);
    expect(r.errors.map((e) => e.message)).toEqual([
      expect.stringContaining('unknown column "hostame"'),
      'column "source" appears twice',
      expect.stringContaining('missing column "hostname"'),
      expect.stringContaining('missing column "sourceDeviceId"'),
    ]);
  });

  it('a stray quote is an error of its row only', () => {
    const r = parseDeviceCsv(`${HEADER}\nweb"01,datto,D-1,site-1,,\nweb02,datto,D-2,site-1,,\n`);
    expect(r.rows.map((x) => x.line)).toEqual([3]);
    expect(r.errors).toEqual([{ line: 2, field: '(row)', message: expect.stringContaining('quote inside an unquoted field') }]);
  });

  it('an empty file asks for the header', () => {
    expect(parseDeviceCsv('').errors).toEqual([{ line: 1, field: '(header)', message: expect.stringContaining('expected a header row') }]);
  });

  it('a malformed file is one error at the line where it breaks', () => {
    const r = parseDeviceCsv(`${HEADER}\nweb01,datto,D-1,site-1,,\nweb02,datto,"D-2,site-1,,\n`);
    expect(r.rows).toEqual([]);
    expect(r.errors).toEqual([{ line: 3, field: '(file)', message: 'not valid CSV: a quoted field is never closed (missing ")' }]);
  });
});

describe('parseDeviceCsv: linkFrom (issue 15 item 3)', () => {
  it('reads a link date; refuses one that is not a calendar day, or one without a contract', () => {
    const r = parseDeviceCsv('hostname,source,sourceDeviceId,site,contract,linkFrom\nweb01,datto,D-1,site-1,CT-1,2026-04-01\nweb02,datto,D-2,site-1,CT-1,2026-02-30\nweb03,datto,D-3,site-1,,2026-04-01\n');
    expect(r.rows).toEqual([{ line: 2, hostname: 'web01', source: 'datto', sourceDeviceId: 'D-1', site: 'site-1', contract: 'CT-1', service: null, linkFrom: '2026-04-01' }]);
    expect(r.errors).toEqual([
      { line: 3, field: 'linkFrom', message: 'must be a date YYYY-MM-DD, got "2026-02-30"' },
      { line: 4, field: 'linkFrom', message: 'needs a contract in the same row' },
    ]);
  });
});

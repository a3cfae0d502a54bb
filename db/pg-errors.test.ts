import { HubError } from '../core/errors';
import { pgErrorToHubError, withPgErrors } from './pg-errors';

// Postgres constraint errors become HubErrors naming the API field (issue "Admin API" point 2).
const pg = (fields: Record<string, string>) => Object.assign(new Error('db error'), fields);

describe('pgErrorToHubError', () => {
  it.each([
    [
      'unique, mapped by constraint',
      pg({ code: '23505', constraint: 'companies_name_unique', detail: 'Key (name)=(Acme) already exists.' }),
      { companies_name_unique: 'name' },
      'DUPLICATE',
      'name: value "Acme" is already taken',
    ],
    [
      'unique over an expression index, field from the map by column',
      pg({ code: '23505', constraint: 'devices_company_hostname_unique', detail: 'Key (company_id, lower(hostname))=(1, web01) already exists.' }),
      { hostname: 'hostname' },
      'DUPLICATE',
      'hostname: value "(1, web01)" is already taken',
    ],
    [
      'unique without a map: the column, camel-cased',
      pg({ code: '23505', constraint: 'x_unique', detail: 'Key (site_id)=(9) already exists.' }),
      {},
      'DUPLICATE',
      'siteId: value "9" is already taken',
    ],
    [
      'foreign key on insert: 400 naming the field',
      pg({ code: '23503', constraint: 'devices_company_id_foreign', detail: 'Key (company_id)=(77) is not present in table "companies".' }),
      { company_id: 'companyId' },
      'VALIDATION_FAILED',
      'companyId: 77 does not exist (companies)',
    ],
    [
      'foreign key on delete: 409, the row is still used',
      pg({ code: '23503', constraint: 'contracts_company_id_fkey', detail: 'Key (id)=(1) is still referenced from table "contracts".' }),
      {},
      'CONFLICT',
      'still referenced by contracts; remove those first',
    ],
    ['exclusion: 409', pg({ code: '23P01', constraint: 'device_contract_links_no_overlap', detail: '' }), { device_contract_links_no_overlap: 'from' }, 'CONFLICT', /^from: overlaps/],
    ['check: 400', pg({ code: '23514', constraint: 'services_unit_price_check', column: 'unit_price' }), { unit_price: 'unitPrice' }, 'VALIDATION_FAILED', /^unitPrice: violates/],
  ])('%s', (_name, err, fields, code, message) => {
    const e = pgErrorToHubError(err, fields);
    expect(e).toBeInstanceOf(HubError);
    expect(e?.code).toBe(code);
    if (typeof message === 'string') expect(e?.message).toBe(message);
    else expect(e?.message).toMatch(message);
    expect(e?.cause).toBe(err);
  });

  it('leaves anything that is not a Postgres constraint error alone (it stays a 500)', () => {
    expect(pgErrorToHubError(new Error('boom'))).toBeUndefined();
    expect(pgErrorToHubError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(pgErrorToHubError(pg({ code: '40001' }))).toBeUndefined();
    expect(pgErrorToHubError('text')).toBeUndefined();
  });

  it('withPgErrors rethrows mapped errors and passes others through', async () => {
    await expect(withPgErrors({ companies_name_unique: 'name' }, () => Promise.reject(pg({ code: '23505', constraint: 'companies_name_unique' })))).rejects.toMatchObject({
      code: 'DUPLICATE',
    });
    const other = new Error('other');
    await expect(withPgErrors({}, () => Promise.reject(other))).rejects.toBe(other);
    await expect(withPgErrors({}, () => Promise.resolve(3))).resolves.toBe(3);
  });
});

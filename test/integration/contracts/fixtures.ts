import request from 'supertest';
import type { Knex } from 'knex';
import type { TestApp } from '../../helpers/app';
import { issueToken } from '../../../app/tokens';
import { onlyCompanies } from '../../../core/access/company-scope';

/**
 * Catalogue and inventory rows straight in the database (companies, services, devices, tickets …
 * belong to other modules; these tests are about contracts), contracts through the API.
 */

let seq = 0;
const unique = (prefix: string): string => `${prefix}-${process.pid}-${++seq}`;

export async function seedCompany(db: Knex, name = unique('company')): Promise<string> {
  const [row] = (await db('companies').insert({ name }).returning('id')) as Array<{ id: string }>;
  return String(row?.id);
}

export async function seedService(db: Knex, unitPrice = '10', name = unique('service')): Promise<string> {
  const [row] = (await db('services').insert({ name, unit_price: unitPrice }).returning('id')) as Array<{ id: string }>;
  return String(row?.id);
}

export async function seedBundle(db: Knex, unitPrice: string, serviceIds: string[], name = unique('bundle')): Promise<string> {
  const [row] = (await db('service_bundles').insert({ name, unit_price: unitPrice }).returning('id')) as Array<{ id: string }>;
  const id = String(row?.id);
  if (serviceIds.length) await db('service_bundle_items').insert(serviceIds.map((service_id) => ({ bundle_id: id, service_id })));
  return id;
}

export async function seedDevice(db: Knex, companyId: string | null, hostname = unique('host')): Promise<string> {
  const [row] = (await db('devices').insert({ company_id: companyId, hostname }).returning('id')) as Array<{ id: string }>;
  return String(row?.id);
}

export async function seedTicket(db: Knex, t: { companyId: string; contractId: string; status?: string; title?: string }): Promise<string> {
  const now = new Date();
  const [row] = (await db('tickets')
    .insert({
      company_id: t.companyId,
      contract_id: t.contractId,
      source: 'test',
      dedup_key: unique('dedup'),
      priority: 'medium',
      status: t.status ?? 'new',
      title: t.title ?? 'disk full',
      first_occurred_at: now,
      last_occurred_at: now,
    })
    .returning('id')) as Array<{ id: string }>;
  return String(row?.id);
}

/** A company-scoped token (role admin unless told); returns the Authorization header value. */
export async function scopedToken(db: Knex, companyIds: string[], role: 'admin' | 'viewer' = 'admin'): Promise<string> {
  const { token } = await issueToken(db, { name: unique('token'), role, scope: onlyCompanies(companyIds), actor: 'test' });
  return `Bearer ${token}`;
}

export interface ContractInput {
  companyId: string;
  name?: string;
  type?: string;
  periodType?: string;
  startDate: string;
  endDate: string;
  [key: string]: unknown;
}

/** POST /api/v1/contracts; fails the test unless 201. */
export async function createContract(t: TestApp, body: ContractInput): Promise<{ id: string } & Record<string, unknown>> {
  const res = await request(t.app)
    .post('/api/v1/contracts')
    .set('Authorization', t.admin)
    .send({ name: unique('contract'), type: 'recurring_service', periodType: 'quarterly', ...body });
  if (res.status !== 201) throw new Error(`create contract: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string } & Record<string, unknown>;
}

export async function countRows(db: Knex, tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of tables) {
    const [r] = (await db(table).count<{ count: string }[]>({ count: '*' })) as Array<{ count: string }>;
    out[table] = Number(r?.count ?? 0);
  }
  return out;
}

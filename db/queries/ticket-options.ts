import type { IsoDate } from '../../core/dates';
import type { Db } from '../connection';
import { whereInScope, type CompanyScope } from '../company-scope';

/**
 * What a ticket may be triaged to (R-TKT-1, `GET /tickets/:id/options`): the companies of a
 * token's scope, the devices of a company, and the company's contracts effective on a date with
 * their services. One statement each; the use case is app/tickets/ticket-options.ts.
 */

export interface Choice {
  id: string;
  name: string;
}

export interface ContractChoice extends Choice {
  services: Choice[];
}

/** Hard cap of one select's entries (the console filters inside it). */
export const MAX_CHOICES = 1000;

/** Companies inside `scope` (only `onlyId` when given), by name. */
export async function listCompanyChoices(db: Db, scope: CompanyScope, onlyId?: string): Promise<Choice[]> {
  const q = db('companies').select(db.raw('id::text AS id'), 'name');
  if (onlyId !== undefined) q.where('id', onlyId);
  whereInScope(q, 'id', scope);
  return (await q.orderBy([{ column: 'name' }, { column: 'id' }]).limit(MAX_CHOICES)) as Choice[];
}

/** Devices of the company (named by hostname), `onlyId` alone when given. */
export async function listDeviceChoices(db: Db, companyId: string, onlyId?: string): Promise<Choice[]> {
  const q = db('devices').select(db.raw('id::text AS id'), 'hostname as name').where('company_id', companyId);
  if (onlyId !== undefined) q.where('id', onlyId);
  return (await q.orderBy([{ column: 'hostname' }, { column: 'id' }]).limit(MAX_CHOICES)) as Choice[];
}

/**
 * The company's contracts effective on `date` (start_date ≤ date ≤ end_date), each with the
 * services it carries directly or through a bundle, by name.
 */
export async function listContractChoices(db: Db, companyId: string, date: IsoDate): Promise<ContractChoice[]> {
  const r = (await db.raw(
    `SELECT c.id::text AS id, c.name,
            COALESCE((SELECT json_agg(json_build_object('id', s.id::text, 'name', s.name) ORDER BY s.name, s.id)
                        FROM services s
                       WHERE s.id IN (SELECT cs.service_id FROM contract_services cs WHERE cs.contract_id = c.id
                                      UNION
                                      SELECT i.service_id FROM contract_bundles b JOIN service_bundle_items i ON i.bundle_id = b.bundle_id
                                       WHERE b.contract_id = c.id)), '[]'::json) AS services
       FROM contracts c
      WHERE c.company_id = ? AND c.start_date <= ?::date AND c.end_date >= ?::date
      ORDER BY c.name, c.id
      LIMIT ${MAX_CHOICES}`,
    [companyId, date, date],
  )) as { rows: ContractChoice[] };
  return r.rows;
}

import type { Db } from '../connection';
import { scopeIncludes } from '../../core/access/company-scope';
import { whereInScope, type CompanyScope } from '../company-scope';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { CompanyRow, CompanySourceSiteRow } from '../tables';

export type { CompanyScope };

export interface CompanyWithSites extends CompanyRow {
  sourceSites: CompanySourceSiteRow[];
}

export interface SourceSiteInput {
  source: string;
  siteId: string;
  siteName?: string | null | undefined;
}

async function attachSites(db: Db, rows: CompanyRow[]): Promise<CompanyWithSites[]> {
  if (rows.length === 0) return [];
  const sites = (await db('company_source_sites')
    .whereIn(
      'company_id',
      rows.map((r) => r.id),
    )
    .orderBy('id')) as CompanySourceSiteRow[];
  return rows.map((r) => ({ ...r, sourceSites: sites.filter((s) => s.company_id === r.id) }));
}

export async function listCompanies(
  db: Db,
  f: PageRequest & { scope: CompanyScope; name?: string | undefined; code?: string | undefined; source?: string | undefined; siteId?: string | undefined },
): Promise<Page<CompanyWithSites>> {
  const q = db('companies as c').select('c.*');
  whereInScope(q, 'c.id', f.scope);
  if (f.name) q.whereILike('c.name', `%${escapeLike(f.name)}%`);
  if (f.code) q.where('c.code', f.code);
  if (f.source || f.siteId) {
    q.whereExists(function () {
      this.select(db.raw('1')).from('company_source_sites as s').whereRaw('s.company_id = c.id');
      if (f.source) this.where('s.source', f.source);
      if (f.siteId) this.where('s.site_id', f.siteId);
    });
  }
  const page = await pageBy<CompanyRow>(q, f, 'c.id');
  return { items: await attachSites(db, page.items), nextCursor: page.nextCursor };
}

export async function getCompany(db: Db, id: string, scope: CompanyScope): Promise<CompanyWithSites | undefined> {
  if (!scopeIncludes(scope, id)) return undefined;
  const row = (await db('companies').where('id', id).first()) as CompanyRow | undefined;
  if (!row) return undefined;
  const [withSites] = await attachSites(db, [row]);
  return withSites;
}

async function replaceSites(db: Db, companyId: string, sites: SourceSiteInput[]): Promise<void> {
  await db('company_source_sites').where('company_id', companyId).delete();
  if (sites.length > 0) {
    await db('company_source_sites').insert(
      sites.map((s) => ({ company_id: companyId, source: s.source, site_id: s.siteId, site_name: s.siteName ?? null })),
    );
  }
}

/** Call inside a transaction: the company and its site mappings are one change. */
export async function insertCompany(
  db: Db,
  c: { name: string; code?: string | null | undefined; timezone?: string | null | undefined; sourceSites?: SourceSiteInput[] | undefined },
): Promise<CompanyWithSites> {
  const [row] = (await db('companies')
    .insert({ name: c.name, code: c.code ?? null, timezone: c.timezone ?? null })
    .returning('*')) as CompanyRow[];
  if (!row) throw new Error('insert into companies returned no row');
  await replaceSites(db, row.id, c.sourceSites ?? []);
  const [withSites] = await attachSites(db, [row]);
  return withSites as CompanyWithSites;
}

/** Call inside a transaction. `sourceSites`, when given, replaces the whole list. */
export async function updateCompany(
  db: Db,
  id: string,
  patch: { name?: string | undefined; code?: string | null | undefined; timezone?: string | null | undefined; sourceSites?: SourceSiteInput[] | undefined },
): Promise<CompanyWithSites | undefined> {
  const set: Partial<CompanyRow> = {};
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.code !== undefined) set.code = patch.code;
  if (patch.timezone !== undefined) set.timezone = patch.timezone;
  const [row] = (await db('companies')
    .where('id', id)
    .update({ ...set, updated_at: db.fn.now() })
    .returning('*')) as CompanyRow[];
  if (!row) return undefined;
  if (patch.sourceSites !== undefined) await replaceSites(db, id, patch.sourceSites);
  const [withSites] = await attachSites(db, [row]);
  return withSites;
}

/** Fails with a foreign-key error while contracts, devices, tickets or projects still belong to it. */
export async function deleteCompany(db: Db, id: string): Promise<boolean> {
  return (await db('companies').where('id', id).delete()) > 0;
}

/** `%` and `_` in a user's search text are literal characters, not wildcards. */
export const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (ch) => `\\${ch}`);

/** Locks the company row for the rest of the transaction (SELECT … FOR UPDATE): a concurrent change waits, so an audit row's `before` is exactly what the change replaced. */
export async function lockCompany(trx: Db, id: string): Promise<CompanyRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return (await trx('companies').where('id', id).forUpdate().first()) as CompanyRow | undefined;
}

/** Id and name of the companies a scoped token covers (`GET /me`), in id order; deleted ones are simply absent. */
export async function companyNamesIn(db: Db, ids: readonly string[]): Promise<Array<{ id: string; name: string }>> {
  if (ids.length === 0) return [];
  const rows = (await db('companies').whereIn('id', ids).orderBy('id').select('id', 'name')) as Array<{ id: string | number; name: string }>;
  return rows.map((r) => ({ id: String(r.id), name: r.name }));
}

/**
 * The zones a ticket's date is counted in (issue 15 item 5): the company's own zone and the zone of
 * the SLA of the contract; null where there is none (no company, no zone set, no contract, no SLA).
 */
export async function dateZonesOf(db: Db, ids: { companyId: string | null; contractId: string | null }): Promise<{ company: string | null; sla: string | null }> {
  const company =
    ids.companyId !== null && /^\d+$/.test(ids.companyId)
      ? ((await db('companies').where('id', ids.companyId).first('timezone')) as { timezone: string | null } | undefined)
      : undefined;
  const sla =
    ids.contractId !== null && /^\d+$/.test(ids.contractId)
      ? ((await db('contracts as c').join('slas as s', 's.id', 'c.sla_id').where('c.id', ids.contractId).first('s.timezone')) as { timezone: string } | undefined)
      : undefined;
  return { company: company?.timezone ?? null, sla: sla?.timezone ?? null };
}

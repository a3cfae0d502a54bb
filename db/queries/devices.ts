import type { Db } from '../connection';
import { ALL_COMPANIES, scopeIncludes } from '../../core/access/company-scope';
import { whereInScope, type CompanyScope } from '../company-scope';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { DeviceContractLinkRow, DeviceRow, DeviceSourceRefRow } from '../tables';

/** A device with its source references and its dated contract links (R-LINK-1). */
export interface DeviceDetail extends DeviceRow {
  sourceRefs: DeviceSourceRefRow[];
  links: DeviceContractLinkRow[];
}

export interface SourceRefInput {
  source: string;
  deviceId: string;
}

async function attachDetails(db: Db, rows: DeviceRow[]): Promise<DeviceDetail[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  // Sequential: `db` may be a transaction, whose one connection must not run queries concurrently.
  const refs = (await db('device_source_refs').whereIn('device_id', ids).orderBy('id')) as DeviceSourceRefRow[];
  const links = (await db('device_contract_links').whereIn('device_id', ids).orderBy(['valid_from', 'id'])) as DeviceContractLinkRow[];
  return rows.map((r) => ({
    ...r,
    sourceRefs: refs.filter((x) => x.device_id === r.id),
    links: links.filter((l) => l.device_id === r.id),
  }));
}

export interface DeviceFilter extends PageRequest {
  scope: CompanyScope;
  companyId?: string | undefined;
  /** Exact hostname, case-insensitive (the unique index is on lower(hostname)). */
  hostname?: string | undefined;
  source?: string | undefined;
  sourceDeviceId?: string | undefined;
  discovered?: boolean | undefined;
}

export async function listDevices(db: Db, f: DeviceFilter): Promise<Page<DeviceDetail>> {
  const q = db('devices as d').select('d.*');
  // A scoped token never sees a device without a company (discovered, awaiting triage).
  whereInScope(q, 'd.company_id', f.scope);
  if (f.companyId) q.where('d.company_id', f.companyId);
  if (f.hostname) q.whereRaw('lower(d.hostname) = lower(?)', [f.hostname]);
  if (f.discovered !== undefined) q.where('d.discovered', f.discovered);
  if (f.source || f.sourceDeviceId) {
    q.whereExists(function () {
      this.select(db.raw('1')).from('device_source_refs as r').whereRaw('r.device_id = d.id');
      if (f.source) this.where('r.source', f.source);
      if (f.sourceDeviceId) this.where('r.source_device_id', f.sourceDeviceId);
    });
  }
  const page = await pageBy<DeviceRow>(q, f, 'd.id');
  return { items: await attachDetails(db, page.items), nextCursor: page.nextCursor };
}

/** Undefined when the device does not exist or lies outside `scope`. */
export async function getDevice(db: Db, id: string, scope: CompanyScope): Promise<DeviceDetail | undefined> {
  const row = (await db('devices').where('id', id).first()) as DeviceRow | undefined;
  if (!row) return undefined;
  if (!scopeIncludes(scope, row.company_id)) return undefined;
  const [d] = await attachDetails(db, [row]);
  return d;
}

async function replaceRefs(db: Db, deviceId: string, refs: SourceRefInput[]): Promise<void> {
  await db('device_source_refs').where('device_id', deviceId).delete();
  if (refs.length > 0) {
    await db('device_source_refs').insert(refs.map((r) => ({ device_id: deviceId, source: r.source, source_device_id: r.deviceId })));
  }
}

export interface DeviceInput {
  companyId: string;
  hostname: string;
  site?: string | null | undefined;
  role?: string | null | undefined;
  sourceRefs?: SourceRefInput[] | undefined;
}

/** A device created by hand (not discovered). Call inside a transaction. */
export async function insertDevice(db: Db, d: DeviceInput): Promise<DeviceDetail> {
  const [row] = (await db('devices')
    .insert({ company_id: d.companyId, hostname: d.hostname, site: d.site ?? null, role: d.role ?? null, discovered: false })
    .returning('*')) as DeviceRow[];
  if (!row) throw new Error('insert into devices returned no row');
  await replaceRefs(db, row.id, d.sourceRefs ?? []);
  return (await getDevice(db, row.id, ALL_COMPANIES)) as DeviceDetail;
}

/** Call inside a transaction. `sourceRefs`, when given, replaces the device's references. */
export async function updateDevice(
  db: Db,
  id: string,
  patch: Partial<DeviceInput> & { discovered?: boolean | undefined },
): Promise<DeviceDetail | undefined> {
  const set: Record<string, unknown> = { updated_at: db.fn.now() };
  if (patch.companyId !== undefined) set.company_id = patch.companyId;
  if (patch.hostname !== undefined) set.hostname = patch.hostname;
  if (patch.site !== undefined) set.site = patch.site;
  if (patch.role !== undefined) set.role = patch.role;
  if (patch.discovered !== undefined) set.discovered = patch.discovered;
  const n = await db('devices').where('id', id).update(set);
  if (n === 0) return undefined;
  if (patch.sourceRefs !== undefined) await replaceRefs(db, id, patch.sourceRefs);
  return getDevice(db, id, ALL_COMPANIES);
}

/** Deletes the device with its references and links (tickets keep their history, device_id set null). */
export async function deleteDevice(db: Db, id: string): Promise<boolean> {
  return (await db('devices').where('id', id).delete()) > 0;
}

/** True when `companyId` exists and lies inside `scope`. */
export async function companyVisible(db: Db, companyId: string, scope: CompanyScope): Promise<boolean> {
  if (!scopeIncludes(scope, companyId)) return false;
  return (await db('companies').where('id', companyId).first('id')) !== undefined;
}

/**
 * Locks the device row for the rest of the transaction (SELECT … FOR UPDATE): link changes and
 * edits of one device are serialized, so two admins cannot interleave.
 */
export async function lockDevice(trx: Db, id: string): Promise<DeviceRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return (await trx('devices').where('id', id).forUpdate().first()) as DeviceRow | undefined;
}

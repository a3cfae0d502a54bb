import type { Db } from '../connection';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { ServiceBundleItemRow, ServiceBundleRow, ServiceRow } from '../tables';
import { escapeLike } from './companies';

/** The catalogue (SPEC §8): services and service bundles. Both are global, not company-owned. */

export interface CatalogueInput {
  name: string;
  code?: string | null | undefined;
  /** numeric(14,4) as a decimal string. */
  unitPrice: string;
  unitCost?: string | null | undefined;
}

export interface CatalogueFilter extends PageRequest {
  name?: string | undefined;
  code?: string | undefined;
}

const catalogueColumns = (c: Partial<CatalogueInput>) => {
  const set: Record<string, unknown> = {};
  if (c.name !== undefined) set.name = c.name;
  if (c.code !== undefined) set.code = c.code;
  if (c.unitPrice !== undefined) set.unit_price = c.unitPrice;
  if (c.unitCost !== undefined) set.unit_cost = c.unitCost;
  return set;
};

export async function listServices(db: Db, f: CatalogueFilter): Promise<Page<ServiceRow>> {
  const q = db('services').select('*');
  if (f.name) q.whereILike('name', `%${escapeLike(f.name)}%`);
  if (f.code) q.where('code', f.code);
  return pageBy<ServiceRow>(q, f);
}

export async function getService(db: Db, id: string): Promise<ServiceRow | undefined> {
  return (await db('services').where('id', id).first()) as ServiceRow | undefined;
}

export async function insertService(db: Db, s: CatalogueInput): Promise<ServiceRow> {
  const [row] = (await db('services').insert(catalogueColumns(s)).returning('*')) as ServiceRow[];
  if (!row) throw new Error('insert into services returned no row');
  return row;
}

export async function updateService(db: Db, id: string, patch: Partial<CatalogueInput>): Promise<ServiceRow | undefined> {
  const [row] = (await db('services')
    .where('id', id)
    .update({ ...catalogueColumns(patch), updated_at: db.fn.now() })
    .returning('*')) as ServiceRow[];
  return row;
}

/** Fails with a foreign-key error while contracts, bundles, links or tickets reference the service. */
export async function deleteService(db: Db, id: string): Promise<boolean> {
  return (await db('services').where('id', id).delete()) > 0;
}

export interface BundleWithServices extends ServiceBundleRow {
  serviceIds: string[];
}

async function attachItems(db: Db, rows: ServiceBundleRow[]): Promise<BundleWithServices[]> {
  if (rows.length === 0) return [];
  const items = (await db('service_bundle_items')
    .whereIn(
      'bundle_id',
      rows.map((r) => r.id),
    )
    .orderBy('service_id')) as ServiceBundleItemRow[];
  return rows.map((r) => ({ ...r, serviceIds: items.filter((i) => i.bundle_id === r.id).map((i) => String(i.service_id)) }));
}

export async function listBundles(db: Db, f: CatalogueFilter & { serviceId?: string | undefined }): Promise<Page<BundleWithServices>> {
  const q = db('service_bundles as b').select('b.*');
  if (f.name) q.whereILike('b.name', `%${escapeLike(f.name)}%`);
  if (f.code) q.where('b.code', f.code);
  if (f.serviceId) {
    const serviceId = f.serviceId;
    q.whereExists(function () {
      this.select(db.raw('1')).from('service_bundle_items as i').whereRaw('i.bundle_id = b.id').where('i.service_id', serviceId);
    });
  }
  const page = await pageBy<ServiceBundleRow>(q, f, 'b.id');
  return { items: await attachItems(db, page.items), nextCursor: page.nextCursor };
}

export async function getBundle(db: Db, id: string): Promise<BundleWithServices | undefined> {
  const row = (await db('service_bundles').where('id', id).first()) as ServiceBundleRow | undefined;
  if (!row) return undefined;
  const [b] = await attachItems(db, [row]);
  return b;
}

async function replaceItems(db: Db, bundleId: string, serviceIds: string[]): Promise<void> {
  await db('service_bundle_items').where('bundle_id', bundleId).delete();
  const unique = [...new Set(serviceIds)];
  if (unique.length > 0) await db('service_bundle_items').insert(unique.map((service_id) => ({ bundle_id: bundleId, service_id })));
}

/** Call inside a transaction: the bundle and its services are one change. */
export async function insertBundle(db: Db, b: CatalogueInput & { serviceIds: string[] }): Promise<BundleWithServices> {
  const [row] = (await db('service_bundles').insert(catalogueColumns(b)).returning('*')) as ServiceBundleRow[];
  if (!row) throw new Error('insert into service_bundles returned no row');
  await replaceItems(db, row.id, b.serviceIds);
  return (await getBundle(db, row.id)) as BundleWithServices;
}

/** Call inside a transaction. `serviceIds`, when given, replaces the bundle's services. */
export async function updateBundle(
  db: Db,
  id: string,
  patch: Partial<CatalogueInput> & { serviceIds?: string[] | undefined },
): Promise<BundleWithServices | undefined> {
  const n = await db('service_bundles')
    .where('id', id)
    .update({ ...catalogueColumns(patch), updated_at: db.fn.now() });
  if (n === 0) return undefined;
  if (patch.serviceIds !== undefined) await replaceItems(db, id, patch.serviceIds);
  return getBundle(db, id);
}

/** Fails with a foreign-key error while contracts still carry the bundle. */
export async function deleteBundle(db: Db, id: string): Promise<boolean> {
  return (await db('service_bundles').where('id', id).delete()) > 0;
}

/** Locks the catalogue service row for the rest of the transaction (SELECT … FOR UPDATE): a concurrent change waits, so an audit row's `before` is exactly what the change replaced. */
export async function lockService(trx: Db, id: string): Promise<ServiceRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return (await trx('services').where('id', id).forUpdate().first()) as ServiceRow | undefined;
}

/** Locks the service bundle row for the rest of the transaction (SELECT … FOR UPDATE): a concurrent change waits, so an audit row's `before` is exactly what the change replaced. */
export async function lockBundle(trx: Db, id: string): Promise<ServiceBundleRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return (await trx('service_bundles').where('id', id).forUpdate().first()) as ServiceBundleRow | undefined;
}

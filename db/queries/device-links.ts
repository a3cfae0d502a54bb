import type { IsoDate } from '../../core/dates';
import type { CutDeviceLink, RenewedDeviceLink } from '../../core/contracts/renewal-effects';
import type { Db } from '../connection';
import { whereInScope, type CompanyScope } from '../company-scope';
import type { DeviceContractLinkRow, DeviceRow } from '../tables';

/**
 * Dated device → contract (and service) links (R-LINK-1, R-LINK-8), the statements only: linking
 * and unlinking by hand are app/devices/device-links.ts, a renewal's moves app/renewals/. A link
 * runs valid_from .. valid_to inclusive (NULL = open-ended); the database's exclusion constraint
 * keeps a device's links from overlapping, and a change never rewrites the past: the current link
 * ends the day before the new one starts.
 */

/** A link with the names an admin wants to see next to the ids. */
export interface DeviceLinkView extends DeviceContractLinkRow {
  contract_name: string;
  service_name: string | null;
}

export async function findDevice(db: Db, id: string, scope: CompanyScope): Promise<DeviceRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const q = db('devices').where('id', id);
  whereInScope(q, 'company_id', scope);
  return (await q.first()) as DeviceRow | undefined;
}

const linkView = (db: Db) =>
  db('device_contract_links as l')
    .join('contracts as c', 'c.id', 'l.contract_id')
    .leftJoin('services as s', 's.id', 'l.service_id')
    .select('l.*', 'c.name as contract_name', 's.name as service_name');

/** Every link of the device, past, current and scheduled, oldest first. */
export async function listDeviceLinks(db: Db, deviceId: string): Promise<DeviceLinkView[]> {
  return (await linkView(db).where('l.device_id', deviceId).orderBy([{ column: 'l.valid_from' }, { column: 'l.id' }])) as DeviceLinkView[];
}

/** Links of a contract; with `asOf`, only those in force on that date. Keyset-paginated by id. */
export async function listContractDeviceLinks(
  db: Db,
  contractId: string,
  f: { asOf?: IsoDate; limit: number; afterId?: string },
): Promise<Array<DeviceLinkView & { hostname: string }>> {
  const q = linkView(db)
    .join('devices as d', 'd.id', 'l.device_id')
    .select('d.hostname')
    .where('l.contract_id', contractId)
    .orderBy('l.id')
    .limit(f.limit);
  if (f.asOf) q.where('l.valid_from', '<=', f.asOf).where((w) => w.whereNull('l.valid_to').orWhere('l.valid_to', '>=', f.asOf as string));
  if (f.afterId) q.where('l.id', '>', f.afterId);
  return (await q) as Array<DeviceLinkView & { hostname: string }>;
}

/** The device's link in force on `date`, if any. */
export async function findLinkCovering(db: Db, deviceId: string, date: IsoDate): Promise<DeviceContractLinkRow | undefined> {
  return (await db('device_contract_links')
    .where('device_id', deviceId)
    .where('valid_from', '<=', date)
    .where((w) => w.whereNull('valid_to').orWhere('valid_to', '>=', date))
    .first()) as DeviceContractLinkRow | undefined;
}

/** The device's links starting after `date` (scheduled changes). */
export async function listLinksStartingAfter(db: Db, deviceId: string, date: IsoDate): Promise<DeviceContractLinkRow[]> {
  return (await db('device_contract_links').where('device_id', deviceId).where('valid_from', '>', date).orderBy('valid_from')) as DeviceContractLinkRow[];
}

export async function setLinkEnd(db: Db, linkId: string, validTo: IsoDate): Promise<void> {
  await db('device_contract_links').where('id', linkId).update({ valid_to: validTo });
}

export async function deleteLinks(db: Db, linkIds: string[]): Promise<void> {
  if (linkIds.length) await db('device_contract_links').whereIn('id', linkIds).delete();
}

export async function insertLink(
  db: Db,
  l: { deviceId: string; contractId: string; serviceId: string | null; from: IsoDate; to: IsoDate | null },
): Promise<DeviceContractLinkRow> {
  const [row] = await db('device_contract_links')
    .insert({ device_id: l.deviceId, contract_id: l.contractId, service_id: l.serviceId, valid_from: l.from, valid_to: l.to })
    .returning('*');
  return row as DeviceContractLinkRow;
}

/** True when the service is on the contract, directly or through one of its service bundles. */
export async function contractHasService(db: Db, contractId: string, serviceId: string): Promise<boolean> {
  if (!/^\d+$/.test(serviceId)) return false;
  const r = await db.raw<{ rows: Array<{ found: boolean }> }>(
    `SELECT EXISTS (SELECT 1 FROM contract_services WHERE contract_id = :c AND service_id = :s)
         OR EXISTS (SELECT 1 FROM contract_bundles b JOIN service_bundle_items i ON i.bundle_id = b.bundle_id
                    WHERE b.contract_id = :c AND i.service_id = :s) AS found`,
    { c: contractId, s: serviceId },
  );
  return r.rows[0]?.found === true;
}

/** Links of the contract on this service that are in force on or after `date`. */
export async function countLinksUsingService(db: Db, contractId: string, serviceId: string, date: IsoDate): Promise<number> {
  const r = (await db('device_contract_links')
    .where({ contract_id: contractId, service_id: serviceId })
    .where((w) => w.whereNull('valid_to').orWhere('valid_to', '>=', date))
    .count<{ count: string }[]>({ count: '*' })) as Array<{ count: string }>;
  return Number(r[0]?.count ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Link changes (R-LINK-1, R-LINK-8): each one transaction, under the device's row lock.
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// A renewal's device links (R-REN-10): set-based, a fixed number of statements for any number of devices
// ---------------------------------------------------------------------------------------------

/** Links of `fromContractId` starting on or after `startDate` (scheduled ones) move to `toContractId`; returns how many. */
export async function moveLinksStartingFrom(db: Db, fromContractId: string, toContractId: string, startDate: IsoDate): Promise<number> {
  return db('device_contract_links').where('contract_id', fromContractId).where('valid_from', '>=', startDate).update({ contract_id: toContractId });
}

/**
 * Links of the contract that run across `startDate` end on `endOn` (the day before); returns
 * each cut link with the end it had before.
 */
export async function cutLinksAt(db: Db, contractId: string, startDate: IsoDate, endOn: IsoDate): Promise<CutDeviceLink[]> {
  const cut = await db.raw<{ rows: Array<{ device_id: string; service_id: string | null; old_to: IsoDate | null }> }>(
    `UPDATE device_contract_links l SET valid_to = :endOn::date
     FROM (SELECT id, valid_to AS old_to FROM device_contract_links
           WHERE contract_id = :contract AND valid_from < :start::date AND (valid_to IS NULL OR valid_to >= :start::date)) s
     WHERE l.id = s.id
     RETURNING l.device_id::text, l.service_id::text, s.old_to`,
    { endOn, contract: contractId, start: startDate },
  );
  return cut.rows.map((r) => ({ deviceId: r.device_id, serviceId: r.service_id, previousValidTo: r.old_to }));
}

/** Links of many devices to one contract, in one statement. */
export async function insertContractLinks(db: Db, contractId: string, links: readonly RenewedDeviceLink[]): Promise<void> {
  if (links.length === 0) return;
  await db.raw(
    `INSERT INTO device_contract_links (device_id, contract_id, service_id, valid_from, valid_to)
     SELECT x.device_id, :contract, x.service_id, x.valid_from, x.valid_to
     FROM jsonb_to_recordset(:rows::jsonb) AS x(device_id bigint, service_id bigint, valid_from date, valid_to date)`,
    {
      contract: contractId,
      rows: JSON.stringify(links.map((l) => ({ device_id: l.deviceId, service_id: l.serviceId, valid_from: l.validFrom, valid_to: l.validTo }))),
    },
  );
}

import type { Knex } from 'knex';
import { addDays, compareDates, type IsoDate } from '../../core/dates';
import type { CutDeviceLink, RenewedDeviceLink } from '../../core/contracts/renewal-effects';
import { HubError, notFound, validationError } from '../../core/errors';
import type { Db } from '../connection';
import type { ContractRow, DeviceContractLinkRow, DeviceRow } from '../tables';
import { writeAudit } from './audit';
import { withContractErrors } from './contract-errors';
import { findContract } from './contracts';
import { lockDevice } from './devices';

/**
 * Dated device → contract (and service) links (R-LINK-1, R-LINK-8). A link runs valid_from ..
 * valid_to inclusive (NULL = open-ended); the database's exclusion constraint keeps a device's
 * links from overlapping, and a change never rewrites the past: the current link ends the day
 * before the new one starts.
 */

/** A link with the names an admin wants to see next to the ids. */
export interface DeviceLinkView extends DeviceContractLinkRow {
  contract_name: string;
  service_name: string | null;
}

export async function findDevice(db: Db, id: string, companyIds: string[] | null): Promise<DeviceRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const q = db('devices').where('id', id);
  if (companyIds) q.whereIn('company_id', companyIds);
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

export interface LinkChangeContext {
  companyIds: string[] | null;
  actor: string;
  requestId?: string | null;
  today: IsoDate;
}

export interface SetDeviceContractInput {
  deviceId: string;
  contractId: string;
  serviceId: string | null;
  /** First day of the new link. @defaultValue today */
  from?: IsoDate;
  /** Last day of the new link. @defaultValue open-ended */
  to?: IsoDate | null;
}

export interface LinkChangeResult {
  link: DeviceLinkView | null;
  links: DeviceLinkView[];
  changed: boolean;
}

async function assertLinkable(db: Db, device: DeviceRow, input: SetDeviceContractInput, ctx: LinkChangeContext, from: IsoDate): Promise<ContractRow> {
  const contract = await findContract(db, input.contractId, ctx.companyIds);
  if (!contract) throw validationError('contractId', `contract ${input.contractId} does not exist`);
  if (device.company_id === null) {
    throw validationError('contractId', `device ${device.id} belongs to no company yet; assign it to a company first`);
  }
  if (String(contract.company_id) !== String(device.company_id)) {
    throw validationError('contractId', `contract ${contract.id} belongs to company ${contract.company_id}, device ${device.id} to company ${device.company_id}`);
  }
  if (input.serviceId !== null && !(await contractHasService(db, contract.id, input.serviceId))) {
    throw validationError('serviceId', `service ${input.serviceId} is not on contract ${contract.id}`);
  }
  if (compareDates(from, contract.end_date) > 0) {
    throw validationError('from', `contract ${contract.id} ends on ${contract.end_date}, before ${from}`);
  }
  if (input.to !== undefined && input.to !== null && compareDates(input.to, from) < 0) {
    throw validationError('to', `must not be before from (${from})`);
  }
  return contract;
}

/**
 * Links the device to the contract (and service) from `from` on (R-LINK-1/8): the link in force
 * on `from` ends the day before (or, when it starts that very day, is replaced), history stays.
 * A later, scheduled link in the way is a 409 LINK_OVERLAP naming it; the exclusion constraint
 * decides under concurrency. Setting the link it already has is a no-op.
 */
export async function setDeviceContract(knex: Knex, input: SetDeviceContractInput, ctx: LinkChangeContext): Promise<LinkChangeResult> {
  return withContractErrors(() =>
    knex.transaction(async (trx) => {
      const device = await findDevice(trx, input.deviceId, ctx.companyIds);
      if (!device) throw notFound('device', input.deviceId);
      const from = input.from ?? ctx.today;
      const to = input.to ?? null;
      await assertLinkable(trx, device, input, ctx, from);
      await lockDevice(trx, device.id);

      const current = await findLinkCovering(trx, device.id, from);
      if (
        current &&
        String(current.contract_id) === input.contractId &&
        (current.service_id === null ? null : String(current.service_id)) === input.serviceId &&
        current.valid_to === to
      ) {
        const links = await listDeviceLinks(trx, device.id);
        return { link: links.find((l) => l.id === current.id) ?? null, links, changed: false };
      }

      const later = (await listLinksStartingAfter(trx, device.id, from)).filter((l) => to === null || compareDates(l.valid_from, to) <= 0);
      if (later.length > 0) {
        throw new HubError(
          'LINK_OVERLAP',
          `from: device ${device.id} has a link starting ${later[0]?.valid_from} (contract ${later[0]?.contract_id}); end the new link before it with "to", or end that link first`,
          { field: 'from', conflicts: later.map((l) => ({ id: l.id, contractId: l.contract_id, from: l.valid_from, to: l.valid_to })) },
        );
      }

      if (current) {
        if (compareDates(current.valid_from, from) < 0) await setLinkEnd(trx, current.id, addDays(from, -1));
        else await deleteLinks(trx, [current.id]);
      }
      const created = await insertLink(trx, { deviceId: device.id, contractId: input.contractId, serviceId: input.serviceId, from, to });
      await writeAudit(trx, {
        actor: ctx.actor,
        action: 'device.link',
        entityType: 'device',
        entityId: device.id,
        companyId: device.company_id,
        before: current ?? null,
        after: created,
        requestId: ctx.requestId ?? null,
      });
      const links = await listDeviceLinks(trx, device.id);
      return { link: links.find((l) => l.id === created.id) ?? null, links, changed: true };
    }),
  );
}

/**
 * Ends the device's contract link so that it has none from `from` on: the link in force ends the
 * day before (or is removed when it starts on `from`), scheduled later links are removed.
 * NOT_FOUND when there is nothing to end.
 */
export async function endDeviceContract(knex: Knex, input: { deviceId: string; from?: IsoDate }, ctx: LinkChangeContext): Promise<LinkChangeResult> {
  return withContractErrors(() =>
    knex.transaction(async (trx) => {
      const device = await findDevice(trx, input.deviceId, ctx.companyIds);
      if (!device) throw notFound('device', input.deviceId);
      await lockDevice(trx, device.id);
      const from = input.from ?? ctx.today;
      const current = await findLinkCovering(trx, device.id, from);
      const later = await listLinksStartingAfter(trx, device.id, from);
      if (!current && later.length === 0) throw new HubError('NOT_FOUND', `device ${device.id} has no contract link on or after ${from}`);
      const removed = later.map((l) => l.id);
      if (current) {
        if (compareDates(current.valid_from, from) < 0) await setLinkEnd(trx, current.id, addDays(from, -1));
        else removed.push(current.id);
      }
      await deleteLinks(trx, removed);
      await writeAudit(trx, {
        actor: ctx.actor,
        action: 'device.unlink',
        entityType: 'device',
        entityId: device.id,
        companyId: device.company_id,
        before: { current: current ?? null, later },
        after: { endedOn: addDays(from, -1), removedLinkIds: removed },
        requestId: ctx.requestId ?? null,
      });
      return { link: null, links: await listDeviceLinks(trx, device.id), changed: true };
    }),
  );
}

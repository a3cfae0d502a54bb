import type { CompanyScope } from '../../core/access/company-scope';
import type { Knex } from 'knex';
import { linkCutFor } from '../../core/contracts/links';
import { splitLinkAcrossRenewals, type ChainLinkSegment } from '../../core/contracts/renewal-effects';
import { addDays, compareDates, type IsoDate } from '../../core/dates';
import { HubError, notFound, validationError } from '../../core/errors';
import type { Db } from '../../db/connection';
import { writeAudit } from '../../db/queries/audit';
import { withContractErrors } from '../../db/queries/contract-errors';
import { findContract, shareLockContracts } from '../../db/queries/contracts';
import { renewalChainOf } from '../../db/queries/renewals';
import {
  contractHasService,
  deleteLinks,
  findDevice,
  findLinkCovering,
  insertLink,
  listDeviceLinks,
  listLinksStartingAfter,
  setLinkEnd,
  type DeviceLinkView,
} from '../../db/queries/device-links';
import { lockDevice } from '../../db/queries/devices';
import type { ContractRow, DeviceContractLinkRow, DeviceRow } from '../../db/tables';

/**
 * Linking a device to a contract by hand, and ending its link (R-LINK-1, R-LINK-8): behind
 * PUT/DELETE /api/v1/devices/:id/contract (api/admin/device-links/) and `hub devices link`
 * (cli/commands/devices.ts). Each change is one transaction with the device locked; history is
 * never rewritten (core/contracts/links.ts linkCutFor: the link in force ends the day before, or is
 * replaced when it starts that very day).
 */

export interface LinkChangeContext {
  scope: CompanyScope;
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
  const contract = await findContract(db, input.contractId, ctx.scope);
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
  if (input.to !== undefined && input.to !== null && compareDates(input.to, from) < 0) {
    throw validationError('to', `must not be before from (${from})`);
  }
  return contract;
}

/**
 * The contract's renewal chain (itself, its renewal, ...), held against renewal for the rest of the
 * transaction: a renewal being recorded meanwhile either committed before (and is in the chain) or
 * waits until this link is committed (and then moves it, R-REN-10). Re-read until no renewal was
 * added while the locks were taken.
 */
async function lockedRenewalChain(trx: Knex.Transaction, contractId: string): Promise<Array<{ id: string; startDate: IsoDate; endDate: IsoDate }>> {
  let chain = await renewalChainOf(trx, contractId);
  for (;;) {
    await shareLockContracts(
      trx,
      chain.map((c) => c.id),
    );
    const again = await renewalChainOf(trx, contractId);
    if (again.length === chain.length) return again;
    chain = again;
  }
}

/**
 * Links the device to the contract (and service) from `from` on (R-LINK-1/8): the link in force
 * on `from` ends the day before (or, when it starts that very day, is replaced), history stays.
 * A contract already renewed passes the link on to its renewal from the renewal's start date, the
 * piece on the original ending the day before (R-REN-10 whatever the order of links and renewals,
 * core splitLinkAcrossRenewals); a link from a date the original no longer covers lands on the
 * renewal only. A later, scheduled link in the way is a 409 LINK_OVERLAP naming it (continuations of
 * the current link on the renewals are not in the way: they are laid again); the exclusion
 * constraint decides under concurrency. Setting the link it already has is a no-op.
 */
export async function setDeviceContract(knex: Knex, input: SetDeviceContractInput, ctx: LinkChangeContext): Promise<LinkChangeResult> {
  return withContractErrors(() =>
    knex.transaction(async (trx) => {
      const device = await findDevice(trx, input.deviceId, ctx.scope);
      if (!device) throw notFound('device', input.deviceId);
      const from = input.from ?? ctx.today;
      const to = input.to ?? null;
      await assertLinkable(trx, device, input, ctx, from);
      await lockDevice(trx, device.id);
      const chain = await lockedRenewalChain(trx, input.contractId);
      const last = chain[chain.length - 1]!;
      if (compareDates(from, last.endDate) > 0) {
        throw validationError('from', `contract ${last.id} ends on ${last.endDate}, before ${from}`);
      }
      const segments = splitLinkAcrossRenewals({ validFrom: from, validTo: to }, chain);
      const sameService = (l: DeviceContractLinkRow) => (l.service_id === null ? null : String(l.service_id)) === input.serviceId;
      const matches = (l: DeviceContractLinkRow | undefined, seg: ChainLinkSegment | undefined) =>
        !!l && !!seg && String(l.contract_id) === seg.contractId && sameService(l) && l.valid_to === seg.validTo;

      const current = await findLinkCovering(trx, device.id, from);
      const laterAll = await listLinksStartingAfter(trx, device.id, from);
      const first = segments[0];
      // Already so: the link in force on `from` is the first piece, and the later pieces are there too.
      if (
        matches(current, first) &&
        segments.slice(1).every((seg) => laterAll.some((l) => l.valid_from === seg.validFrom && matches(l, seg)))
      ) {
        const links = await listDeviceLinks(trx, device.id);
        return { link: links.find((l) => l.id === current!.id) ?? null, links, changed: false };
      }

      // Continuations on the renewals (each starting on its renewal's start) are laid again below.
      const renewalStarts = new Map(chain.slice(1).map((c) => [c.id, c.startDate]));
      const continuation = (l: DeviceContractLinkRow) => renewalStarts.get(String(l.contract_id)) === l.valid_from;
      const later = laterAll.filter((l) => !continuation(l) && (to === null || compareDates(l.valid_from, to) <= 0));
      if (later.length > 0) {
        throw new HubError(
          'LINK_OVERLAP',
          `from: device ${device.id} has a link starting ${later[0]?.valid_from} (contract ${later[0]?.contract_id}); end the new link before it with "to", or end that link first`,
          { field: 'from', conflicts: later.map((l) => ({ id: l.id, contractId: l.contract_id, from: l.valid_from, to: l.valid_to })) },
        );
      }
      const replaced = laterAll.filter((l) => continuation(l) && (to === null || compareDates(l.valid_from, to) <= 0));

      const cut = current ? linkCutFor(current.valid_from, from) : null;
      if (current && cut?.kind === 'end') await setLinkEnd(trx, current.id, cut.validTo);
      else if (current) await deleteLinks(trx, [current.id]);
      await deleteLinks(
        trx,
        replaced.map((l) => l.id),
      );
      const created: DeviceContractLinkRow[] = [];
      for (const seg of segments) {
        created.push(await insertLink(trx, { deviceId: device.id, contractId: seg.contractId, serviceId: input.serviceId, from: seg.validFrom, to: seg.validTo }));
      }
      await writeAudit(trx, {
        actor: ctx.actor,
        action: 'device.link',
        entityType: 'device',
        entityId: device.id,
        companyId: device.company_id,
        before: current ?? null,
        after: created.length === 1 ? created[0] : { requestedContractId: input.contractId, links: created },
        requestId: ctx.requestId ?? null,
      });
      const links = await listDeviceLinks(trx, device.id);
      return { link: links.find((l) => l.id === created[0]?.id) ?? null, links, changed: true };
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
      const device = await findDevice(trx, input.deviceId, ctx.scope);
      if (!device) throw notFound('device', input.deviceId);
      await lockDevice(trx, device.id);
      const from = input.from ?? ctx.today;
      const current = await findLinkCovering(trx, device.id, from);
      const later = await listLinksStartingAfter(trx, device.id, from);
      if (!current && later.length === 0) throw new HubError('NOT_FOUND', `device ${device.id} has no contract link on or after ${from}`);
      const removed = later.map((l) => l.id);
      const cut = current ? linkCutFor(current.valid_from, from) : null;
      if (current && cut?.kind === 'end') await setLinkEnd(trx, current.id, cut.validTo);
      else if (current) removed.push(current.id);
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

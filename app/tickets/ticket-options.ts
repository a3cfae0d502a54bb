import type { Knex } from 'knex';
import type { CompanyScope } from '../../core/access/company-scope';
import { HubError, notFound } from '../../core/errors';
import { ticketDateOf } from '../../core/tickets/triage';
import { findDevice } from '../../db/queries/device-links';
import { companyVisible } from '../../db/queries/devices';
import { dateZonesOf } from '../../db/queries/companies';
import { getTicket } from '../../db/queries/tickets';
import { listCompanyChoices, listContractChoices, listDeviceChoices, type Choice, type ContractChoice } from '../../db/queries/ticket-options';

/**
 * What a ticket may be triaged to (R-TKT-1, `GET /api/v1/tickets/:id/options`), for the console's
 * selects: only choices `PATCH /tickets/:id` would accept. The company is the device's (when a device
 * is named), else the one named, else the ticket's; devices are that company's; contracts are that
 * company's contracts effective on the ticket's date, each with its services.
 */
export interface TicketOptions {
  date: string;
  companies: Choice[];
  devices: Choice[];
  contracts: ContractChoice[];
}

const unprocessable = (field: string, message: string): HubError => new HubError('UNPROCESSABLE', `${field}: ${message}`, [{ field, message }]);

export async function ticketOptions(
  db: Knex,
  input: { ticketId: string; companyId?: string | undefined; deviceId?: string | undefined },
  scope: CompanyScope,
  /** HUB_RENEWAL_TIMEZONE: the zone the ticket's date is counted in when its company has none. @defaultValue 'UTC' */
  fallbackZone?: string,
): Promise<TicketOptions> {
  const t = await getTicket(db, input.ticketId, scope);
  if (!t) throw notFound('ticket', input.ticketId);
  let companyId = input.companyId ?? (t.company_id === null ? undefined : String(t.company_id));
  let deviceOnly: string | undefined;
  if (input.deviceId !== undefined) {
    const device = await findDevice(db, input.deviceId, scope);
    if (!device) throw unprocessable('deviceId', `device ${input.deviceId} does not exist`);
    if (device.company_id === null) throw unprocessable('deviceId', `device ${device.id} belongs to no company yet`);
    if (input.companyId !== undefined && String(device.company_id) !== input.companyId) {
      throw unprocessable('deviceId', `device ${device.id} belongs to company ${device.company_id}, not to company ${input.companyId}`);
    }
    companyId = String(device.company_id);
    deviceOnly = String(device.id);
  }
  // The ticket's date in the company's zone, else HUB_RENEWAL_TIMEZONE (issue 15 item 5), as
  // PATCH /tickets/:id judges it for a contract whose SLA names no other zone.
  const date = ticketDateOf(t.first_occurred_at, { ...(await dateZonesOf(db, { companyId: companyId ?? null, contractId: null })), fallback: fallbackZone });
  const companies = await listCompanyChoices(db, scope, deviceOnly === undefined ? undefined : companyId);
  if (companyId === undefined || !(await companyVisible(db, companyId, scope))) {
    if (input.companyId !== undefined) throw unprocessable('companyId', `company ${input.companyId} does not exist`);
    return { date, companies, devices: [], contracts: [] };
  }
  const [devices, contracts] = await Promise.all([listDeviceChoices(db, companyId), listContractChoices(db, companyId, date)]);
  return { date, companies, devices, contracts };
}

import { HubError } from '../../core/errors';
import { pgErrorToHubError } from '../pg-errors';

/**
 * Constraint errors of the contract tables (contracts, their lines, mappings, device links) as
 * HubErrors naming the API field, for every query and use case that writes them.
 */

/** API field of each constraint of these tables, so a 409/400 names what the client sent. */
const CONTRACT_FIELDS = {
  contracts_code_unique: 'code',
  contracts_dates_check: 'endDate',
  contracts_one_default_per_company: 'isDefaultServiceDesk',
  contract_services_unique: 'serviceId',
  contract_bundles_unique: 'bundleId',
  service_mappings_unique: 'moduleBillingType',
  company_id: 'companyId',
  sla_id: 'slaId',
  service_id: 'serviceId',
  bundle_id: 'bundleId',
  contract_id: 'contractId',
  device_id: 'deviceId',
} as const;

/**
 * Postgres constraint errors of contract tables as HubErrors: the renewal uniqueness (R-REN-2)
 * and the device-link exclusion (R-LINK-1) get their own codes; the one-default-per-company
 * exclusion is a 409 naming isDefaultServiceDesk; the rest is mapped by db/pg-errors.ts.
 */
export function contractPgError(e: unknown, fields: Record<string, string> = {}): HubError | undefined {
  const base = pgErrorToHubError(e, { ...CONTRACT_FIELDS, ...fields });
  if (!base) return undefined;
  const constraint = typeof e === 'object' && e !== null && 'constraint' in e ? String((e as { constraint: unknown }).constraint) : '';
  if (constraint === 'contracts_renewal_of_unique') {
    return new HubError('CONTRACT_ALREADY_RENEWED', 'the contract was already renewed (a contract can be renewed only once)', undefined, {
      cause: e,
    });
  }
  if (constraint === 'device_contract_links_no_overlap') {
    return new HubError('LINK_OVERLAP', 'from: the link would overlap another contract link of the device', [{ field: 'from', message: 'overlaps another link' }], {
      cause: e,
    });
  }
  if (constraint === 'contracts_one_default_per_company') {
    const message = 'another default service-desk contract of the company overlaps these dates';
    return new HubError('CONFLICT', `isDefaultServiceDesk: ${message}`, [{ field: 'isDefaultServiceDesk', message }], { cause: e });
  }
  return base;
}

/** Runs `fn`, mapping constraint errors with {@link contractPgError}. */
export async function withContractErrors<T>(fn: () => Promise<T>, fields: Record<string, string> = {}): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw contractPgError(e, fields) ?? e;
  }
}

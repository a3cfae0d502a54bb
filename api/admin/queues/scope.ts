import type { Request } from 'express';
import { HubError } from '../../../core/errors';
import { principalOf } from '../../context';

/**
 * The queues, their dashboard and the dead letters are for tokens that see every company (issue
 * 13 item 7). Not filtered per company on purpose: one alerts job batches the receipts of many
 * companies, and its payload, failure reason and stack trace may name any of them; the renewals
 * and upkeep jobs work across companies. Filtering would mean reading every job of every set per
 * request, and a retry or discard of a shared job would act on other companies' alerts. So a
 * company-scoped token sees none of it (403), whatever its role.
 */
export function assertAllCompanies(req: Request, what: string): void {
  if (!principalOf(req).scope.all)
    throw new HubError('FORBIDDEN', `${what} span every company; a company-scoped token cannot see or change them`);
}

import type { CompanyScope } from '../../core/access/company-scope';
import type { Knex } from 'knex';
import type { IsoDate } from '../../core/dates';
import { notFound } from '../../core/errors';
import type { LeftBehindReport } from '../../core/contracts/left-behind';
import { proposeRenewal, type RenewalOverrides, type RenewalProposal } from '../../core/contracts/renewal';
import { findContract, type ContractWithRenewalRow } from '../../db/queries/contracts';
import { loadCompanyDefaults, loadLeftBehind, loadRenewalOriginal } from './load-inputs';

/** What every renewal use case needs to run. */
export interface RenewalDeps {
  db: Knex;
}

export interface RenewalContext {
  /** Company scope of the caller (null = every company); another company's contract is NOT_FOUND. */
  /** Company scope of the caller; another company's contract is NOT_FOUND. */
  scope: CompanyScope;
  actor: string;
  requestId?: string | null;
  /** Today's date in the hub's zone: decides whether date-dependent effects apply now (R-REN-15). */
  today: IsoDate;
}

export interface RenewalPreview {
  original: ContractWithRenewalRow;
  proposal: RenewalProposal;
  leftBehind: LeftBehindReport;
}

/** R-REN-15: the wizard's proposal with every default filled in, and what R-REN-14 leaves behind. Writes nothing. */
export async function previewRenewal(
  deps: RenewalDeps,
  contractId: string,
  overrides: RenewalOverrides,
  ctx: RenewalContext,
): Promise<RenewalPreview> {
  const { db } = deps;
  const original = await findContract(db, contractId, ctx.scope);
  if (!original) throw notFound('contract', contractId);
  const proposal = proposeRenewal(await loadRenewalOriginal(db, original), overrides, ctx.today, await loadCompanyDefaults(db, original));
  return { original, proposal, leftBehind: await loadLeftBehind(db, original.id, proposal.original.newEndDate) };
}

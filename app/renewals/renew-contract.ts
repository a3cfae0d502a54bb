import type { Knex } from 'knex';
import { ALL_COMPANIES, scopeIncludes } from '../../core/access/company-scope';
import { HubError, notFound } from '../../core/errors';
import { leftBehindCounts } from '../../core/contracts/left-behind';
import { assertDefaultChoiceMade, proposeRenewal, type RenewalOverrides, type RenewalProposal } from '../../core/contracts/renewal';
import {
  defaultClearedReason,
  planRenewalApplication,
  renewalContractFields,
  renewalLines,
  renewalNote,
  renewedBillingRuleTerms,
  renewedDeviceLinks,
} from '../../core/contracts/renewal-effects';
import type { IsoDate } from '../../core/dates';
import { writeAudit } from '../../db/queries/audit';
import { copyBillingRules } from '../../db/queries/billing-rules';
import { withContractErrors } from '../../db/queries/contract-errors';
import { insertContractLines } from '../../db/queries/contract-lines';
import { insertContractNote } from '../../db/queries/contract-notes';
import { deactivateContract, findContract, insertContract, lockContract, setRenewedOriginalEnd, type ContractWithRenewalRow } from '../../db/queries/contracts';
import { clearDefaultServiceDesk } from '../../db/queries/default-contracts';
import { cutLinksAt, insertContractLinks, moveLinksStartingFrom } from '../../db/queries/device-links';
import { insertRenewalApplication, type RenewalApplication } from '../../db/queries/renewal-applications';
import { copyServiceMappings } from '../../db/queries/service-mappings';
import { loadCompanyDefaults, loadLeftBehind, loadRenewalOriginal } from './load-inputs';
import type { RenewalContext, RenewalDeps, RenewalPreview } from './preview-renewal';

export interface RenewalOutcome extends RenewalPreview {
  renewal: ContractWithRenewalRow;
  application: RenewalApplication;
  deviceLinks: { moved: number; rescheduled: number };
}

/**
 * Renews the contract (R-REN-1..14) in one transaction, with the original locked FOR UPDATE:
 * a second, concurrent renewal waits for the first and then finds it renewed
 * (CONTRACT_ALREADY_RENEWED); UNIQUE (renewal_of_id) decides if anything slips through.
 * Effects that depend on the start date (R-REN-5 deactivation) are applied now when the renewal
 * starts today or earlier, else left to the renewal worker (R-REN-15). Dated facts — the
 * original's new end date and the device links — are written at once: they are dated anyway.
 *
 * Every decision is core/contracts' (renewal.ts: the proposal; renewal-effects.ts: what the rows
 * get); every write is one db/queries statement. Everything that scales with the contract's size
 * (lines, billing rules, mappings, device links) is a fixed number of statements.
 */
export async function renewContract(
  deps: RenewalDeps,
  contractId: string,
  overrides: RenewalOverrides,
  ctx: RenewalContext,
): Promise<RenewalOutcome> {
  return withContractErrors(() =>
    deps.db.transaction(async (trx) => {
      const locked = await lockContract(trx, contractId);
      if (!locked || !scopeIncludes(ctx.scope, locked.company_id)) throw notFound('contract', contractId);
      const proposal = proposeRenewal(await loadRenewalOriginal(trx, locked), overrides, ctx.today, await loadCompanyDefaults(trx, locked));
      assertDefaultChoiceMade(proposal);
      const p = proposal.contract;
      const originalId = String(locked.id);

      // R-REN-5: the end date moves first, so the renewal (maybe the default too) never overlaps it.
      await setRenewedOriginalEnd(trx, originalId, proposal.original.newEndDate);

      // R-REN-12: the admin chose the renewal as the default; the others give the flag up.
      const clear = proposal.defaultServiceDesk.clearDefaultOf;
      if (clear.length > 0) {
        await clearDefaultServiceDesk(trx, locked.company_id, clear);
        await writeAudit(trx, {
          actor: ctx.actor,
          action: 'contract.default.cleared',
          entityType: 'contract',
          entityId: clear.join(','),
          companyId: locked.company_id,
          after: { reason: defaultClearedReason(originalId) },
          requestId: ctx.requestId ?? null,
        });
      }

      const renewal = await insertContract(trx, renewalContractFields(proposal));
      const renewalId = String(renewal.id);
      await insertContractLines(trx, 'service', renewalId, renewalLines(proposal.services));
      await insertContractLines(trx, 'bundle', renewalId, renewalLines(proposal.bundles));
      await copyBillingRules(trx, { fromContractId: originalId, toContractId: renewalId, ...renewedBillingRuleTerms(p.startDate) });
      // R-REN-13: the service mapping follows only with integrated billing.
      if (proposal.serviceMappingsCopied) await copyServiceMappings(trx, originalId, renewalId);

      const deviceLinks = await moveDeviceLinks(trx, proposal, renewalId);
      await insertContractNote(trx, originalId, { ...renewalNote(renewalId, p.name), author: ctx.actor });

      // R-REN-15: the application row makes the date-dependent effects happen exactly once.
      const plan = planRenewalApplication(proposal);
      const application = await insertRenewalApplication(trx, {
        renewalContractId: renewalId,
        originalContractId: originalId,
        effectiveDate: plan.effectiveDate,
        deactivateOriginal: plan.deactivateOriginal,
        appliedBy: plan.appliesNow ? ctx.actor : null,
      });
      if (plan.deactivateOriginalNow) await deactivateContract(trx, originalId);

      const leftBehind = await loadLeftBehind(trx, originalId, proposal.original.newEndDate);
      await writeAudit(trx, {
        actor: ctx.actor,
        action: 'contract.renew',
        entityType: 'contract',
        entityId: renewalId,
        companyId: locked.company_id,
        before: { original: locked },
        after: { renewalId, proposal, deviceLinks, leftBehind: leftBehindCounts(leftBehind) },
        requestId: ctx.requestId ?? null,
      });

      const originalAfter = await findContract(trx, originalId, ALL_COMPANIES);
      const renewalAfter = await findContract(trx, renewalId, ALL_COMPANIES);
      if (!originalAfter || !renewalAfter) throw new HubError('INTERNAL', 'renewal rows vanished inside their transaction');
      return { original: originalAfter, renewal: renewalAfter, proposal, leftBehind, application, deviceLinks };
    }),
  );
}

/**
 * R-REN-10: scheduled links of the original simply move to the renewal; links running across
 * its start end the day before and continue on the renewal from the start (ends decided by
 * core's renewedDeviceLinks). Three statements for any number of devices.
 */
async function moveDeviceLinks(trx: Knex.Transaction, proposal: RenewalProposal, renewalId: string): Promise<{ moved: number; rescheduled: number }> {
  const originalId = proposal.originalId;
  const startDate: IsoDate = proposal.deviceLinks.moveOn;
  const rescheduled = await moveLinksStartingFrom(trx, originalId, renewalId, startDate);
  const cut = await cutLinksAt(trx, originalId, startDate, proposal.deviceLinks.originalLinksEndOn);
  await insertContractLinks(trx, renewalId, renewedDeviceLinks(cut, { startDate, originalEndDate: proposal.original.currentEndDate }));
  return { moved: cut.length, rescheduled };
}

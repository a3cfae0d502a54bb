/**
 * What a confirmed renewal does beyond the proposal's values (SPEC §4), as pure decisions:
 * which fields the new contract row gets, how the original's device links continue on the
 * renewal, whether the date-dependent effects apply now or on a later date, what the audit and
 * note say, and what the scheduler proposes on its own. app/renewals applies exactly these; the
 * statements in db/queries take them as parameters and decide nothing.
 */
import { addDays, compareDates, type IsoDate } from '../dates';
import type { RenewalOverrides, RenewalProposal } from './renewal';

// ---------------------------------------------------------------------------------------------
// The renewal contract row (R-REN-3)
// ---------------------------------------------------------------------------------------------

/**
 * R-REN-3: every field of the proposal's contract, linked to the original. The original's code is
 * NOT copied: codes are unique, so the renewal starts without one.
 */
export function renewalContractFields(p: RenewalProposal): RenewalProposal['contract'] & { code: null; renewalOfId: string } {
  return { ...p.contract, code: null, renewalOfId: p.originalId };
}

/** R-REN-7/8: the lines the renewal gets — units as of its start, prices as proposed, costs as on the original. */
export function renewalLines(
  lines: RenewalProposal['services'],
): Array<{ itemId: string; units: string; unitPrice: string; unitCost: string | null }> {
  return lines.map((l) => ({ itemId: l.itemId, units: l.units, unitPrice: l.unitPrice, unitCost: l.unitCost }));
}

/**
 * R-REN-11: how the original's billing rules are copied: inactive (an admin reviews them before
 * they bill), from the renewal's start, without an end.
 */
export function renewedBillingRuleTerms(startDate: IsoDate): { active: false; startDate: IsoDate; endDate: null } {
  return { active: false, startDate, endDate: null };
}

/** R-REN-9: the note left on the original. */
export function renewalNote(renewalId: string, renewalName: string): { kind: 'renewal'; body: string } {
  return { kind: 'renewal', body: `Renewed by contract ${renewalId} ${renewalName}` };
}

/** R-REN-12: why the other defaults gave their flag up, as the audit row says it. */
export function defaultClearedReason(originalId: string): string {
  return `renewal of contract ${originalId} chosen as default service-desk contract`;
}

// ---------------------------------------------------------------------------------------------
// Device links (R-REN-10)
// ---------------------------------------------------------------------------------------------

/** A link of the original that ran across the renewal's start, with the end it had before it was cut. */
export interface CutDeviceLink {
  deviceId: string;
  serviceId: string | null;
  /** Its end before the cut (inclusive); null = open-ended. */
  previousValidTo: IsoDate | null;
}

export interface RenewedDeviceLink {
  deviceId: string;
  serviceId: string | null;
  validFrom: IsoDate;
  validTo: IsoDate | null;
}

/**
 * R-REN-10: the end of a device's link to the renewal. A link that was to end before the
 * original's end keeps that end (the device was leaving anyway); one running to the original's
 * end, past it or open-ended becomes open-ended on the renewal.
 */
export function renewedLinkEnd(previousValidTo: IsoDate | null, originalEndDate: IsoDate): IsoDate | null {
  if (previousValidTo === null || compareDates(previousValidTo, originalEndDate) >= 0) return null;
  return previousValidTo;
}

/**
 * R-REN-10: each cut link of the original continues on the renewal from its start date (same
 * device and service). `originalEndDate` is the original's end before the renewal moved it.
 */
export function renewedDeviceLinks(
  cut: readonly CutDeviceLink[],
  a: { startDate: IsoDate; originalEndDate: IsoDate },
): RenewedDeviceLink[] {
  return cut.map((l) => ({
    deviceId: l.deviceId,
    serviceId: l.serviceId,
    validFrom: a.startDate,
    validTo: renewedLinkEnd(l.previousValidTo, a.originalEndDate),
  }));
}

/** A contract of a renewal chain (the original first, then its renewal, the renewal's renewal, ...). */
export interface ChainContract {
  id: string;
  startDate: IsoDate;
}

/** One piece of a link made to a contract of a chain: the contract it lands on and its days. */
export interface ChainLinkSegment {
  contractId: string;
  validFrom: IsoDate;
  validTo: IsoDate | null;
}

/**
 * R-REN-10 whatever the order (issue 15 item 4): a device linked to a contract AFTER a renewal of
 * it was recorded lands where the renewal would have put it — on each contract of the chain from
 * the contract's own start (the renewal's start date), the previous piece ending the day before.
 * `chain[0]` is the contract linked to; each next one is the renewal of the one before. A link
 * that ends before a renewal starts never reaches it; one that starts on or after a renewal's start
 * lands on that renewal only. Pieces keep the link's own end (open-ended stays open-ended).
 */
export function splitLinkAcrossRenewals(link: { validFrom: IsoDate; validTo: IsoDate | null }, chain: readonly ChainContract[]): ChainLinkSegment[] {
  const out: ChainLinkSegment[] = [];
  chain.forEach((c, i) => {
    const next = chain[i + 1];
    const from = i === 0 || compareDates(link.validFrom, c.startDate) >= 0 ? link.validFrom : c.startDate;
    let to = link.validTo;
    if (next) {
      const dayBefore = addDays(next.startDate, -1);
      if (to === null || compareDates(to, dayBefore) > 0) to = dayBefore;
    }
    if (to !== null && compareDates(from, to) > 0) return;
    out.push({ contractId: c.id, validFrom: from, validTo: to });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Date-dependent effects (R-REN-5, R-REN-15)
// ---------------------------------------------------------------------------------------------

export interface RenewalApplicationPlan {
  /** The date the date-dependent effects belong to: the renewal's start. */
  effectiveDate: IsoDate;
  /** R-REN-5: the original is deactivated on that date (it was still running on it). */
  deactivateOriginal: boolean;
  /** The start is today or earlier: the effects apply in the renewal's own transaction. */
  appliesNow: boolean;
  /** Both: the original is deactivated in the renewal's transaction, not by the scheduler. */
  deactivateOriginalNow: boolean;
}

/**
 * R-REN-5 + R-REN-15: what the renewal application row records and what happens at once. A
 * renewal starting in the future leaves the deactivation to the renewal worker on its date.
 */
export function planRenewalApplication(p: RenewalProposal): RenewalApplicationPlan {
  const appliesNow = !p.schedule.scheduled;
  return {
    effectiveDate: p.schedule.effectiveDate,
    deactivateOriginal: p.original.endsEarly,
    appliesNow,
    deactivateOriginalNow: appliesNow && p.original.endsEarly,
  };
}

// ---------------------------------------------------------------------------------------------
// The scheduler's own renewals
// ---------------------------------------------------------------------------------------------

/**
 * Auto-renewals take the wizard's defaults (name, start the day after the end, full term, no
 * uplift). The scheduler cannot answer R-REN-12's question, so when another contract is already
 * the default on the renewal's dates it keeps being the default ("existing").
 */
export const AUTO_RENEW_OVERRIDES: Readonly<RenewalOverrides> = Object.freeze({ defaultContract: 'existing' });

/**
 * Rounds of auto-renewal per scheduler run: a long-expired auto-renew contract catches up a few
 * terms per run (each renewal may itself be due), never loops forever.
 */
export const MAX_AUTO_RENEW_ROUNDS = 10;

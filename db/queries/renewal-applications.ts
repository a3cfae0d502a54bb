import type { IsoDate } from '../../core/dates';
import type { Db } from '../connection';
import type { RenewalApplicationRow } from '../tables';

/**
 * renewal_applications (R-REN-15): one row per renewal records its date-dependent effects and
 * whether they were applied; the row (its lock and applied_at) makes them happen exactly once.
 * One exported function per statement.
 */

/** renewal_applications with the column added by 20261123050500_renewal_application_effects. */
export interface RenewalApplication extends RenewalApplicationRow {
  deactivate_original: boolean;
}

export interface NewRenewalApplication {
  renewalContractId: string;
  originalContractId: string;
  effectiveDate: IsoDate;
  deactivateOriginal: boolean;
  /** Set when the effects are applied in the renewal's own transaction. */
  appliedBy: string | null;
}

export async function insertRenewalApplication(db: Db, a: NewRenewalApplication): Promise<RenewalApplication> {
  const [row] = (await db('renewal_applications')
    .insert({
      renewal_contract_id: a.renewalContractId,
      original_contract_id: a.originalContractId,
      effective_date: a.effectiveDate,
      deactivate_original: a.deactivateOriginal,
      applied_at: a.appliedBy === null ? null : db.fn.now(),
      applied_by: a.appliedBy,
    })
    .returning('*')) as RenewalApplication[];
  return row as RenewalApplication;
}

/** Applications whose date has come and that are not applied yet, oldest first. */
export async function listDueApplications(db: Db, today: IsoDate, limit = 1000): Promise<RenewalApplication[]> {
  return (await db('renewal_applications')
    .whereNull('applied_at')
    .where('effective_date', '<=', today)
    .orderBy([{ column: 'effective_date' }, { column: 'id' }])
    .limit(limit)) as RenewalApplication[];
}

export async function findApplicationByRenewal(db: Db, renewalContractId: string): Promise<RenewalApplication | undefined> {
  if (!/^\d+$/.test(renewalContractId)) return undefined;
  return (await db('renewal_applications').where('renewal_contract_id', renewalContractId).first()) as RenewalApplication | undefined;
}

/**
 * Takes a due, unapplied application for the rest of the transaction (FOR UPDATE SKIP LOCKED):
 * undefined when it is applied, not due yet, or another run holds it right now.
 */
export async function lockDueApplication(trx: Db, applicationId: string, today: IsoDate): Promise<RenewalApplication | undefined> {
  return (await trx('renewal_applications')
    .where('id', applicationId)
    .whereNull('applied_at')
    .where('effective_date', '<=', today)
    .forUpdate()
    .skipLocked()
    .first()) as RenewalApplication | undefined;
}

export async function markApplicationApplied(db: Db, applicationId: string, actor: string): Promise<void> {
  await db('renewal_applications').where('id', applicationId).update({ applied_at: db.fn.now(), applied_by: actor });
}

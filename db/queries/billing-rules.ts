import type { Db } from '../connection';
import type { BillingRuleRow, IsoDate, Money } from '../tables';

/**
 * Billing rules of a contract (R-REN-11). One exported function per statement.
 */

export interface NewBillingRule {
  name: string;
  description: string | null;
  serviceId: string | null;
  amount: Money | null;
  frequency: BillingRuleRow['frequency'];
  active: boolean;
  startDate: IsoDate;
  endDate: IsoDate | null;
}

export async function listBillingRules(db: Db, contractId: string): Promise<BillingRuleRow[]> {
  return (await db('billing_rules').where('contract_id', contractId).orderBy('id')) as BillingRuleRow[];
}

export async function findBillingRule(db: Db, contractId: string, id: string): Promise<BillingRuleRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return (await db('billing_rules').where({ contract_id: contractId, id }).first()) as BillingRuleRow | undefined;
}

export async function insertBillingRule(db: Db, contractId: string, r: NewBillingRule): Promise<BillingRuleRow> {
  const [row] = await db('billing_rules')
    .insert({
      contract_id: contractId,
      name: r.name,
      description: r.description,
      service_id: r.serviceId,
      amount: r.amount,
      frequency: r.frequency,
      active: r.active,
      start_date: r.startDate,
      end_date: r.endDate,
    })
    .returning('*');
  return row as BillingRuleRow;
}

export async function updateBillingRule(
  db: Db,
  id: string,
  patch: Partial<Pick<BillingRuleRow, 'name' | 'description' | 'service_id' | 'amount' | 'frequency' | 'active' | 'start_date' | 'end_date'>>,
): Promise<BillingRuleRow> {
  const [row] = await db('billing_rules').where('id', id).update(patch).returning('*');
  return row as BillingRuleRow;
}

export async function deleteBillingRule(db: Db, id: string): Promise<void> {
  await db('billing_rules').where('id', id).delete();
}

/**
 * R-REN-11: copies every billing rule of `fromContractId` to `toContractId` with the given terms
 * (core/contracts/renewal-effects.ts decides them), in one statement for any number of rules.
 */
export async function copyBillingRules(
  db: Db,
  a: { fromContractId: string; toContractId: string; active: boolean; startDate: IsoDate; endDate: IsoDate | null },
): Promise<void> {
  await db.raw(
    `INSERT INTO billing_rules (contract_id, name, description, service_id, amount, frequency, active, start_date, end_date)
     SELECT :to, name, description, service_id, amount, frequency, :active, :start::date, :end::date
     FROM billing_rules WHERE contract_id = :from ORDER BY id`,
    { to: a.toContractId, from: a.fromContractId, active: a.active, start: a.startDate, end: a.endDate },
  );
}

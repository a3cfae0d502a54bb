import type { Db } from '../connection';
import type { ContractChargeRow, IsoDate, Money } from '../tables';

/**
 * Charges booked on a contract. One exported function per statement.
 */

export async function listContractCharges(db: Db, contractId: string, f: { from?: IsoDate; to?: IsoDate } = {}): Promise<ContractChargeRow[]> {
  const q = db('contract_charges').where('contract_id', contractId).orderBy([{ column: 'charge_date' }, { column: 'id' }]);
  if (f.from) q.where('charge_date', '>=', f.from);
  if (f.to) q.where('charge_date', '<=', f.to);
  return (await q) as ContractChargeRow[];
}

export async function insertContractCharge(
  db: Db,
  contractId: string,
  c: { chargeDate: IsoDate; description: string; amount: Money; billed: boolean },
): Promise<ContractChargeRow> {
  const [row] = await db('contract_charges')
    .insert({ contract_id: contractId, charge_date: c.chargeDate, description: c.description, amount: c.amount, billed: c.billed })
    .returning('*');
  return row as ContractChargeRow;
}

export async function deleteContractCharge(db: Db, contractId: string, id: string): Promise<ContractChargeRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const [row] = await db('contract_charges').where({ contract_id: contractId, id }).delete().returning('*');
  return row as ContractChargeRow | undefined;
}

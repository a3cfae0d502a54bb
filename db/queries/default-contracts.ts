import type { Db } from '../connection';
import type { ContractRow } from '../tables';

/**
 * The company's default service-desk contract (R-REN-12): which contracts carry the flag.
 * One exported function per statement.
 */

/** The company's contracts flagged as default service-desk contract, except `exceptId` (R-REN-12). */
export async function listDefaultContracts(db: Db, companyId: string, exceptId: string): Promise<ContractRow[]> {
  return (await db('contracts')
    .where({ company_id: companyId, is_default_service_desk: true })
    .whereNot('id', exceptId)
    .orderBy('start_date')) as ContractRow[];
}

/** R-REN-12: the listed contracts of the company give up the default service-desk flag. */
export async function clearDefaultServiceDesk(db: Db, companyId: string, contractIds: readonly string[]): Promise<void> {
  await db('contracts')
    .whereIn('id', [...contractIds])
    .where('company_id', companyId)
    .update({ is_default_service_desk: false, updated_at: db.fn.now() });
}

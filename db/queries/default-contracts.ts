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

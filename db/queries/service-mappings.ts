import type { Db } from '../connection';
import type { ServiceMappingRow } from '../tables';

/**
 * Service mappings of a contract with integrated billing (R-REN-13). One exported function per statement.
 */

export async function listServiceMappings(db: Db, contractId: string): Promise<ServiceMappingRow[]> {
  return (await db('service_mappings').where('contract_id', contractId).orderBy('id')) as ServiceMappingRow[];
}

export async function insertServiceMapping(db: Db, contractId: string, m: { moduleBillingType: string; serviceId: string }): Promise<ServiceMappingRow> {
  const [row] = await db('service_mappings')
    .insert({ contract_id: contractId, module_billing_type: m.moduleBillingType, service_id: m.serviceId })
    .returning('*');
  return row as ServiceMappingRow;
}

/** Deletes one mapping of the contract; returns the deleted row, or undefined when there was none. */
export async function deleteServiceMapping(db: Db, contractId: string, id: string): Promise<ServiceMappingRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const [row] = await db('service_mappings').where({ contract_id: contractId, id }).delete().returning('*');
  return row as ServiceMappingRow | undefined;
}

/** R-REN-13: copies every service mapping of `fromContractId` to `toContractId`, in one statement. */
export async function copyServiceMappings(db: Db, fromContractId: string, toContractId: string): Promise<void> {
  await db.raw(
    `INSERT INTO service_mappings (contract_id, module_billing_type, service_id)
     SELECT :to, module_billing_type, service_id FROM service_mappings WHERE contract_id = :from ORDER BY id`,
    { to: toContractId, from: fromContractId },
  );
}

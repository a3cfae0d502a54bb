import type { Db } from '../connection';

/**
 * What refers to a contract (issue 15 item 9, `DELETE /api/v1/contracts/:id`): one statement
 * counting every row outside the contract's own parts (service and bundle lines, billing rules,
 * notes, mappings, charges — deleted with it) that names it.
 */
export interface ContractReferences {
  tickets: number;
  deviceLinks: number;
  timeEntries: number;
  /** Contracts that renew this one. */
  renewals: number;
  /** 1 when this contract is the renewal of another (deleting it would rewrite the original's history). */
  renewalOf: number;
  renewalApplications: number;
  projects: number;
}

export async function countContractReferences(db: Db, contractId: string): Promise<ContractReferences> {
  const r = (await db.raw(
    `SELECT (SELECT count(*) FROM tickets WHERE contract_id = :id)::int AS "tickets",
            (SELECT count(*) FROM device_contract_links WHERE contract_id = :id)::int AS "deviceLinks",
            (SELECT count(*) FROM time_entries WHERE contract_id = :id)::int AS "timeEntries",
            (SELECT count(*) FROM contracts WHERE renewal_of_id = :id)::int AS "renewals",
            (SELECT count(*) FROM contracts WHERE id = :id AND renewal_of_id IS NOT NULL)::int AS "renewalOf",
            (SELECT count(*) FROM renewal_applications WHERE renewal_contract_id = :id OR original_contract_id = :id)::int AS "renewalApplications",
            (SELECT count(*) FROM projects WHERE contract_id = :id)::int AS "projects"`,
    { id: contractId },
  )) as { rows: ContractReferences[] };
  return r.rows[0]!;
}

/** Deletes the contract row; its own parts go with it (ON DELETE CASCADE). */
export async function deleteContractRow(db: Db, contractId: string): Promise<boolean> {
  return (await db('contracts').where('id', contractId).delete()) > 0;
}

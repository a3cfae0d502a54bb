import type { Db } from '../connection';
import type { ContractNoteRow } from '../tables';

/**
 * Notes on a contract (R-REN-9 writes one on the original). One exported function per statement.
 */

export async function listContractNotes(db: Db, contractId: string): Promise<ContractNoteRow[]> {
  return (await db('contract_notes').where('contract_id', contractId).orderBy('id')) as ContractNoteRow[];
}

export async function insertContractNote(db: Db, contractId: string, n: { kind: string; body: string; author: string | null }): Promise<ContractNoteRow> {
  const [row] = await db('contract_notes').insert({ contract_id: contractId, kind: n.kind, body: n.body, author: n.author }).returning('*');
  return row as ContractNoteRow;
}

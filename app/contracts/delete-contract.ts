import type { Knex } from 'knex';
import { scopeIncludes, type CompanyScope } from '../../core/access/company-scope';
import { HubError, notFound } from '../../core/errors';
import { writeAudit } from '../../db/queries/audit';
import { countContractReferences, deleteContractRow, type ContractReferences } from '../../db/queries/contract-references';
import { lockContract } from '../../db/queries/contracts';

/**
 * Deletes a contract nothing refers to (issue 15 item 9): tickets, device links, time entries,
 * renewals either way, renewal applications and projects keep it — a 409 names each with its count.
 * Its own lines, billing rules, notes, mappings and charges are deleted with it. One transaction
 * under the contract's row lock (a link or ticket made meanwhile waits, or is refused by the
 * foreign key); audited with the deleted row.
 */
const WORDS: Record<keyof ContractReferences, string> = {
  tickets: 'tickets',
  deviceLinks: 'device links',
  timeEntries: 'time entries',
  renewals: 'renewals of it',
  renewalOf: 'it renews another contract',
  renewalApplications: 'scheduled renewal applications',
  projects: 'projects',
};

export async function deleteContract(knex: Knex, input: { contractId: string }, ctx: { scope: CompanyScope; actor: string; requestId?: string | null }): Promise<void> {
  await knex.transaction(async (trx) => {
    const before = await lockContract(trx, input.contractId);
    if (!before || !scopeIncludes(ctx.scope, before.company_id)) throw notFound('contract', input.contractId);
    const refs = await countContractReferences(trx, before.id);
    const using = (Object.keys(WORDS) as Array<keyof ContractReferences>).filter((k) => refs[k] > 0);
    if (using.length > 0) {
      const list = using.map((k) => (k === 'renewalOf' ? WORDS[k] : `${refs[k]} ${WORDS[k]}`)).join(', ');
      throw new HubError('CONFLICT', `contract ${before.id} is in use: ${list}`, { references: Object.fromEntries(using.map((k) => [k, refs[k]])) });
    }
    await deleteContractRow(trx, before.id);
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'delete',
      entityType: 'contract',
      entityId: String(before.id),
      companyId: before.company_id,
      before,
      after: null,
      requestId: ctx.requestId ?? null,
    });
  });
}

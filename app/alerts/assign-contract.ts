import type { Knex } from 'knex';
import { contractByRef, serviceByRef, slaByRef, type ContractFactRow } from '../../db/queries/alert-processing';
import type { CompanyRow } from '../../db/tables';
import type { Decision } from '../../rules/engine/types';

/**
 * The contract, service and SLA a new ticket gets (R-LINK-3/4, R-ALR-3): what the rules chose —
 * the device's link, the company's default contract, or one they name by code or name — with the
 * service and SLA a rule names replacing the contract's. A name that finds nothing leaves the
 * contract's value and says so in the notes stored with the decision.
 */

/**
 * Contracts, services and SLAs a rule names by code or name, looked up once per batch (a rule
 * names the same ones for many alerts; the pipeline never writes them).
 */
export type RefMemo = Map<string, Promise<unknown>>;
function once<T>(memo: RefMemo, key: string, load: () => Promise<T>): Promise<T> {
  let p = memo.get(key) as Promise<T> | undefined;
  if (!p) memo.set(key, (p = load()));
  return p;
}

export async function resolveAssignment(
  trx: Knex.Transaction,
  decision: Decision,
  ctx: { company: CompanyRow | undefined; deviceContract: ContractFactRow | undefined; defaultContract: ContractFactRow | undefined; date: string },
  refs: RefMemo,
): Promise<{ contract: ContractFactRow | undefined; via: string; serviceId: string | null; slaId: string | null; notes: string[] }> {
  const notes: string[] = [];
  const a = decision.assignment;
  let contract: ContractFactRow | undefined;
  let via = 'none';
  if (a.contract === 'device') {
    contract = ctx.deviceContract;
    via = 'device';
  } else if (a.contract === 'default') {
    contract = ctx.defaultContract;
    via = 'default';
  } else if (a.contract && typeof a.contract === 'object') {
    via = `ref:${a.contract.ref}`;
    const { ref } = a.contract;
    const companyId = ctx.company?.id;
    contract = companyId ? await once(refs, `contract\u0000${companyId}\u0000${ref}\u0000${ctx.date}`, () => contractByRef(trx, companyId, ref, ctx.date)) : undefined;
    if (!contract) notes.push(`contract "${a.contract.ref}" not found for the company on ${ctx.date}: ticket left for triage`);
  }
  let serviceId: string | null = contract?.service_id ?? null;
  if (a.service) {
    const ref = a.service;
    const s = await once(refs, `service\u0000${ref}`, () => serviceByRef(trx, ref));
    if (s) serviceId = s.id;
    else notes.push(`service "${a.service}" not found`);
  }
  let slaId: string | null = contract?.sla_id ?? null;
  if (a.sla) {
    const ref = a.sla;
    const s = await once(refs, `sla\u0000${ref}`, () => slaByRef(trx, ref));
    if (s) slaId = s.id;
    else notes.push(`SLA "${a.sla}" not found`);
  }
  return { contract, via, serviceId, slaId, notes };
}

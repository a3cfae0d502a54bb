/**
 * The stored decision of a ticket (or a dry run), told in plain words: which rule chose the
 * contract and from what (the device's link, the company's default, a rule naming the contract),
 * which rule set the priority and on which condition. Only words: the decision was made by the
 * server; this reads its trace.
 */

export interface Condition {
  fact: string;
  path?: string;
  operator: string;
  value: unknown;
  factValue?: unknown;
}
export interface FiredRule {
  name: string;
  file?: string;
  event: { type: string; params?: Record<string, unknown> };
  matched?: Condition[];
}
export interface StoredDecision {
  outcome?: string;
  facts?: {
    device?: { hostname?: string | null; known?: boolean; discovered?: boolean } | null;
    company?: { name?: string } | null;
    deviceContract?: { name?: string; serviceName?: string | null; slaName?: string | null } | null;
    defaultContract?: { name?: string; slaName?: string | null } | null;
  };
  chosen?: { via?: string; notes?: string[] };
  assignment?: { contract?: string | null; priority?: string | null };
  needsTriage?: boolean;
  rulesFired?: FiredRule[];
  rulesetVersion?: number;
}

const show = (v: unknown): string => (v === null ? 'empty' : typeof v === 'object' ? ((v as { name?: string }).name ?? JSON.stringify(v)) : String(v));

export const conditionWords = (c: Condition): string => {
  const fact = c.path ? `${c.fact}${c.path.replace(/^\$/, '')}` : c.fact;
  const op = { equal: 'is', notEqual: 'is not', in: 'is one of', notIn: 'is not one of', contains: 'contains', greaterThan: '>', lessThan: '<' }[c.operator] ?? c.operator;
  return `${fact} ${op} ${show(c.value)}${c.factValue !== undefined && c.operator !== 'equal' ? ` (it was ${show(c.factValue)})` : ''}`;
};

const ruleRef = (r: FiredRule) => `rule “${r.name}”${r.file ? ` (${r.file})` : ''}`;

export function whyInWords(d: StoredDecision | null | undefined, names: { contract: string; service: string; sla: string }): string[] {
  if (!d || typeof d !== 'object') return ['No decision was recorded for this ticket.'];
  const out: string[] = [];
  const fired = d.rulesFired ?? [];
  const assign = fired.find((r) => r.event.type === 'assign' && r.event.params && 'contract' in r.event.params);
  const via = d.chosen?.via ?? 'none';
  const device = d.facts?.device?.hostname ?? 'the device';
  if (via === 'device') {
    out.push(
      `${assign ? capital(ruleRef(assign)) : 'The rules'} chose the contract ${names.contract} from the contract link of ${device}` +
        `${d.facts?.deviceContract?.serviceName ? ` (service ${d.facts.deviceContract.serviceName})` : ''}, in force on the alert's date.`,
    );
  } else if (via === 'default') {
    out.push(
      `${device} has no contract of its own on that date, so ${assign ? ruleRef(assign) : 'the rules'} chose the company's default service-desk contract, ${names.contract}.`,
    );
  } else if (via.startsWith('ref:')) {
    out.push(`${assign ? capital(ruleRef(assign)) : 'A rule'} named the contract ${names.contract} (${via.slice(4)}).`);
  } else {
    out.push(
      `No contract covers ${device}${d.facts?.company?.name ? ` of ${d.facts.company.name}` : ' (its company is unknown)'}: ${assign ? `${ruleRef(assign)} fired and ` : ''}the ticket was opened without a contract and marked for triage.`,
    );
  }
  if (names.sla !== '—') out.push(`The SLA ${names.sla} comes with the contract; it sets the due dates.`);
  if (names.service !== '—') out.push(`Service: ${names.service}.`);
  for (const r of fired.filter((f) => f.event.type === 'setPriority')) {
    const cond = (r.matched ?? []).map(conditionWords).join(' and ');
    out.push(`${capital(ruleRef(r))} set the priority to ${show(r.event.params?.priority)}${cond ? ` because ${cond}` : ''}.`);
  }
  for (const r of fired.filter((f) => f.event.type !== 'setPriority' && f !== assign)) {
    out.push(`${capital(ruleRef(r))} also fired (${r.event.type}).`);
  }
  for (const n of d.chosen?.notes ?? []) out.push(n);
  if (d.rulesetVersion) out.push(`Decided by ruleset version ${d.rulesetVersion}.`);
  return out;
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

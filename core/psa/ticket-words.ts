/**
 * The PSA ticket's description (issue 16 item 1): the alert's message plus the hub's decision in
 * plain words — which contract, service and SLA, how they were chosen, the due date — so a
 * technician in the PSA sees why without opening the hub.
 */
export interface DecisionWords {
  description: string | null;
  names: { company: string | null; device: string | null; contract: string | null; service: string | null; sla: string | null };
  priority: string;
  resolutionDueAt: Date | null;
  /** tickets.decision (the stored decision with `chosen` and `rulesFired`). */
  decision: unknown;
  hubTicketId: string;
}

const VIA: Record<string, string> = {
  device: "the device's contract link",
  default: "the company's default service-desk contract",
  ref: 'a rule naming the contract',
};

export function psaDescription(w: DecisionWords): string {
  const d = (w.decision ?? {}) as { chosen?: { via?: string | null }; rulesFired?: Array<{ name?: string }>; rulesetVersion?: number };
  const lines: string[] = [];
  if (w.description) lines.push(w.description.trim(), '');
  lines.push('Decided by the contract alert hub:');
  if (w.names.contract) {
    const via = d.chosen?.via ? VIA[d.chosen.via] ?? d.chosen.via : null;
    lines.push(`- Contract: ${w.names.contract}${via ? ` (from ${via})` : ''}`);
  } else lines.push('- Contract: none found (the device has no contract link and the company no default service-desk contract) — needs triage');
  if (w.names.service) lines.push(`- Service: ${w.names.service}`);
  if (w.names.sla) lines.push(`- SLA: ${w.names.sla}`);
  lines.push(`- Priority: ${w.priority}`);
  if (w.resolutionDueAt) lines.push(`- Resolution due: ${w.resolutionDueAt.toISOString()}`);
  if (w.names.device) lines.push(`- Device: ${w.names.device}`);
  const fired = (d.rulesFired ?? []).map((r) => r.name).filter((n): n is string => typeof n === 'string');
  if (fired.length > 0) lines.push(`- Rules: ${fired.join(', ')}${d.rulesetVersion !== undefined ? ` (ruleset v${d.rulesetVersion})` : ''}`);
  lines.push(`- Hub ticket: ${w.hubTicketId}`);
  return lines.join('\n');
}

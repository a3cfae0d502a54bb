/**
 * R-TKT-2 in the profitability report: SLA attainment per contract — of the contract's tickets
 * created in the period whose SLA is settled, how many met every target and how many breached one.
 * Tickets still in time (onTrack / atRisk) and tickets without due dates are not counted.
 */
export interface SlaAttainment {
  met: number;
  breached: number;
  /** met / (met + breached) × 100, one decimal; null when nothing is settled. */
  attainmentPercent: number | null;
}

export function slaAttainment(met: number, breached: number): SlaAttainment {
  const settled = met + breached;
  return { met, breached, attainmentPercent: settled === 0 ? null : Math.round((met / settled) * 1000) / 10 };
}

/** The report's contracts, each with its `sla` (zero counts for contracts without settled tickets). */
export function withSlaAttainment<C extends { contractId: string }>(
  contracts: readonly C[],
  counts: ReadonlyArray<{ contract_id: string; met: number; breached: number }>,
): Array<C & { sla: SlaAttainment }> {
  const by = new Map(counts.map((c) => [String(c.contract_id), c]));
  return contracts.map((c) => {
    const n = by.get(c.contractId);
    return { ...c, sla: slaAttainment(n?.met ?? 0, n?.breached ?? 0) };
  });
}

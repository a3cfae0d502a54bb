import type { SlaDefinition } from '../../core/slas/due-dates';
import type { Db } from '../../db/connection';
import { loadSlaDefinition } from '../../db/queries/sla-definitions';
import type { SlaRow } from '../../db/tables';

/**
 * State, not a query (issue 14): the SLA definitions a worker process keeps. The statements are
 * db/queries/sla-definitions.ts (`loadSlaDefinition`: the SLA with its calendar and targets).
 */
/** SLA definitions change rarely; the worker keeps them for a few seconds instead of three queries per alert. */
export class SlaCache {
  private readonly entries = new Map<
    string,
    { at: number; value: Promise<(SlaDefinition & { row: SlaRow }) | undefined> }
  >();
  constructor(private readonly ttlMs = 10_000) {}
  get(db: Db, slaId: string, now = Date.now()): Promise<(SlaDefinition & { row: SlaRow }) | undefined> {
    const hit = this.entries.get(slaId);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = loadSlaDefinition(db, slaId);
    this.entries.set(slaId, { at: now, value });
    value.catch(() => this.entries.delete(slaId));
    return value;
  }
}

import type { Knex } from 'knex';
import { connectionConfig } from './connection-secrets';
import type { PsaCallBudgetOf } from './connections';
import { applyStatusReports, type StatusBackResult } from './status-back';
import type { ConnectorDeps } from '../../connectors/types';
import { listPsaConnections } from '../../db/queries/psa-connections';
import { deleteStatusEventsBefore, getStatusBack, savePollResult } from '../../db/queries/psa-status-back';
import type { PsaConnectionRow } from '../../db/tables';
import type { Logger } from '../../lib/logger';

/**
 * The polling fallback of status back (R-PSA-3) for accounts without webhooks: every enabled
 * connection whose connector can list changed tickets (`listChangedSince`: Autotask
 * `lastActivityDate`, ConnectWise `lastUpdated` + `closedFlag`) is asked for the changes since its
 * cursor; each is applied like a webhook's report (idempotent: a ticket already closed is left
 * alone). The cursor is the poll's start, read again with an overlap (clocks of the PSA and the
 * hub differ; a change seen twice is harmless), and only moves forward.
 */
export interface PollDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  secretKeys: readonly string[];
  /** Connector dependencies (zone lookup URL for tests). */
  connectorDeps?: Partial<Omit<ConnectorDeps, 'connectionName' | 'now'>>;
  /**
   * The connection's call budget, shared with its deliveries (the worker's rate limit: Autotask counts
   * the poll's calls too): called before each of the poll's PSA calls. None: not limited (the CLI's poll).
   */
  psaCallBudget?: PsaCallBudgetOf | undefined;
}

/** The window read again at every poll. @defaultValue 5 minutes */
export const POLL_OVERLAP_MS = 5 * 60_000;
/** The first poll of a connection looks back this far. @defaultValue 1 day */
export const FIRST_POLL_LOOKBACK_MS = 24 * 3_600_000;
/** Callout events are kept this long for replay detection. @defaultValue 7 days */
export const STATUS_EVENT_RETENTION_MS = 7 * 24 * 3_600_000;

export interface PollResult {
  connection: string;
  polled: boolean;
  reports: number;
  closed: number;
  error: string | null;
  results: StatusBackResult[];
}

export async function pollPsaStatus(deps: PollDeps, opts: { connection?: string } = {}): Promise<PollResult[]> {
  const rows = (await listPsaConnections(deps.db, { enabled: true })).filter((r) => opts.connection === undefined || r.name === opts.connection);
  const out: PollResult[] = [];
  for (const row of rows) out.push(await pollOne(deps, row));
  await deleteStatusEventsBefore(deps.db, new Date(deps.now().getTime() - STATUS_EVENT_RETENTION_MS));
  return out;
}

async function pollOne(deps: PollDeps, row: PsaConnectionRow): Promise<PollResult> {
  const startedAt = deps.now();
  const result: PollResult = { connection: row.name, polled: false, reports: 0, closed: 0, error: null, results: [] };
  let session;
  try {
    const { connector, config } = connectionConfig(row, deps.secretKeys);
    const beforeCall = deps.psaCallBudget?.(row);
    session = connector.open(config, { connectionName: row.name, now: deps.now, ...deps.connectorDeps, ...(beforeCall ? { beforeCall } : {}) });
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
    return result;
  }
  try {
    if (!session.listChangedSince) return result;
    const cursor = (await getStatusBack(deps.db, row.id))?.polled_until ?? null;
    const since = cursor ? new Date(cursor.getTime() - POLL_OVERLAP_MS) : new Date(startedAt.getTime() - FIRST_POLL_LOOKBACK_MS);
    const states = await session.listChangedSince(since);
    result.polled = true;
    result.reports = states.length;
    result.results = await applyStatusReports(deps.db, row, states.map((state) => ({ state })), { now: deps.now() });
    result.closed = result.results.filter((r) => r.outcome === 'closed').length;
    await savePollResult(deps.db, row.id, { polledUntil: startedAt, at: deps.now(), error: null });
    if (result.closed > 0) deps.logger.info({ connection: row.name, closed: result.closed }, 'PSA status poll closed hub tickets');
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
    await savePollResult(deps.db, row.id, { polledUntil: null, at: deps.now(), error: result.error.slice(0, 1000) });
    deps.logger.warn({ connection: row.name, err: result.error }, 'PSA status poll failed');
  } finally {
    await session.close?.();
  }
  return result;
}

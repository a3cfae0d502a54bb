import type { z } from 'zod';
import { isInWindow, parseTimeIntervals } from '../../../core/maintenance/time-intervals';
import type { MatchableWindow } from '../../../core/maintenance/window-match';
import type { MaintenanceWindowWrite } from '../../../db/queries/maintenance-windows';
import type { WindowAlertRow } from '../../../db/queries/window-receipts';
import type { MaintenanceWindowRow } from '../../../db/tables';
import { idString, toInstant } from '../../openapi/schemas';
import { toDate, type CreateInput, type WindowOut, type windowAlertSchema } from './schemas';

/** Rows as the API shows them, and a create body as the row it writes. */

export const windowOut = (row: MaintenanceWindowRow, now: Date): WindowOut => {
  const timeIntervals = parseTimeIntervals(row.time_intervals);
  return {
    id: String(row.id),
    name: row.name,
    companyId: row.company_id === null ? null : String(row.company_id),
    site: row.site,
    deviceId: row.device_id === null ? null : String(row.device_id),
    category: row.category,
    timezone: row.timezone,
    timeIntervals,
    startsAt: toInstant(row.starts_at),
    endsAt: toInstant(row.ends_at),
    processAfter: row.process_after,
    inForce: isInWindow({ timezone: row.timezone, timeIntervals, startsAt: row.starts_at, endsAt: row.ends_at }, now),
    createdAt: row.created_at.toISOString(),
  };
};

export const windowAlertOut = (r: WindowAlertRow): z.infer<typeof windowAlertSchema> => ({
  alertId: String(r.alert_id),
  receiptId: String(r.receipt_id),
  source: r.source_name,
  sourceAlertId: r.source_alert_id,
  dedupKey: r.dedup_key,
  state: r.state,
  severity: r.severity,
  category: r.category,
  title: r.title,
  hostname: r.hostname,
  site: r.site,
  occurredAt: r.occurred_at.toISOString(),
  receivedAt: r.received_at.toISOString(),
  status: r.status,
  outcome: r.outcome,
  ticketId: r.ticket_id === null ? null : String(r.ticket_id),
  release: r.window_release === null ? null : (r.window_release as 'requeued' | 'resolved' | 'superseded' | 'kept'),
  releasedAt: toInstant(r.window_released_at),
});

export const rulesWindowOut = (w: MatchableWindow, now: Date) => ({
  key: w.key,
  name: w.name,
  file: w.file,
  company: w.scope.companyRef ?? null,
  site: w.scope.site ?? null,
  device: w.scope.deviceHostname ?? null,
  category: w.scope.category ?? null,
  timezone: w.timing.timezone,
  timeIntervals: [...w.timing.timeIntervals],
  startsAt: toInstant(w.timing.startsAt ?? null),
  endsAt: toInstant(w.timing.endsAt ?? null),
  processAfter: w.processAfter,
  inForce: isInWindow(w.timing, now),
});

export const writeOf = (b: CreateInput): MaintenanceWindowWrite => ({
  name: b.name,
  companyId: b.companyId === undefined || b.companyId === null ? null : idString(b.companyId),
  site: b.site ?? null,
  deviceId: b.deviceId === undefined || b.deviceId === null ? null : idString(b.deviceId),
  category: b.category ?? null,
  timezone: b.timezone,
  timeIntervals: b.timeIntervals ?? [],
  startsAt: toDate(b.startsAt) ?? null,
  endsAt: toDate(b.endsAt) ?? null,
  processAfter: b.processAfter ?? false,
});

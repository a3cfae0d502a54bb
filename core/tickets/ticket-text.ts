import type { Severity } from '../alerts/normalized-alert';
import type { Priority } from '../slas/due-dates';

/**
 * What a new ticket says and how urgent it is when the rules did not say: shared by the worker,
 * the dry run and the replay so the three agree.
 */

/** No rule set a priority: the alert's severity decides (info is low: no SLA has an "info" target). */
export const SEVERITY_PRIORITY: Readonly<Record<Severity, Priority>> = {
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  low: 'low',
  info: 'low',
};

export const priorityFor = (severity: Severity, rulePriority: Priority | null): Priority => rulePriority ?? SEVERITY_PRIORITY[severity];

export interface DescribedAlert {
  message: string | null;
  source_alert_id: string;
  hostname: string | null;
  device_source_id: string | null;
  site: string | null;
  severity: Severity;
  category: string | null;
  occurred_at: Date;
}

/** The ticket's description: the alert's message, then where it came from. */
export function ticketDescription(alert: DescribedAlert, source: string): string {
  const lines = [
    alert.message ?? '',
    '',
    `Source: ${source} (alert ${alert.source_alert_id})`,
    `Device: ${alert.hostname ?? '?'}${alert.device_source_id ? ` [${alert.device_source_id}]` : ''}${alert.site ? ` at site ${alert.site}` : ''}`,
    `Severity: ${alert.severity}${alert.category ? `, category ${alert.category}` : ''}`,
    `Occurred: ${alert.occurred_at.toISOString()}`,
  ];
  return lines.join('\n').trim();
}

/** The notes the hub writes on a ticket as it applies receipts (author `hub`). */
export const ticketNotes = {
  /** The body only: db/queries/alert-batch.ts's resolveTickets writes it as an `auto-resolve` note with the resolution. */
  autoResolved: (source: string, occurredAt: Date) => `Resolved automatically: ${source} reported the alert resolved at ${occurredAt.toISOString()}.`,
  resolveAnnotated: (occurredAt: Date) => ({ kind: 'alert-resolved', body: `Source reported the alert resolved at ${occurredAt.toISOString()}.` }),
  flapped: (windowMinutes: number, flaps: number) => ({
    kind: 'flap',
    body: `Reopened: the alert fired again within ${windowMinutes} min of its automatic resolution (flap ${flaps}).`,
  }),
} as const;

import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Priority } from '../../core/slas/due-dates';
import { TICKET_STATUSES, type TicketStatus } from '../../core/tickets/ticket-status';
import { createHttpClient, httpError } from '../http';
import type { ConnectorDeps, PsaConnector, PsaNote, PsaSession, PsaTicket } from '../types';
import { WEBHOOK_SECRET_FIELDS, webhookConfigSchema, type WebhookConfig } from './schema';

/**
 * `webhook`: one signed JSON POST per ticket event, per the Standard Webhooks spec
 * (https://www.standardwebhooks.com/, signed with the `standardwebhooks` package): headers
 * `webhook-id`, `webhook-timestamp`, `webhook-signature`; body `{ type, timestamp, data }` with
 * `type` one of `ticket.created`, `ticket.note`, `ticket.updated`, `ticket.closed`.
 *
 * A receiver has no ids the hub could query, so `findByExternalId` cannot look anything up;
 * instead the `webhook-id` is derived from the event's content (`ticket-<hub id>-created` for the
 * create), so a create or note sent again after a lost answer carries the same id and the
 * receiver drops it (the spec's idempotency key). Any 2xx is success.
 */
export type WebhookEventType = 'ticket.created' | 'ticket.note' | 'ticket.updated' | 'ticket.closed';

const digest = (s: string): string => crypto.createHash('sha256').update(s).digest('base64url').slice(0, 22);

function openWebhook(c: WebhookConfig, deps: ConnectorDeps): PsaSession {
  const http = createHttpClient({ timeoutMs: deps.timeoutMs, now: deps.now, beforeCall: deps.beforeCall });
  const signer = new Webhook(c.secret);

  const post = async (msgId: string, type: WebhookEventType, data: Record<string, unknown>): Promise<void> => {
    const now = deps.now();
    const body = JSON.stringify({ type, timestamp: now.toISOString(), data });
    const headers = {
      ...(c.headers ?? {}),
      'content-type': 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signer.sign(msgId, now, body),
    };
    const res = await http.send('POST', c.url, { headers, rawBody: body });
    if (res.status < 200 || res.status > 299) throw httpError('POST', c.url, res, typeof res.body === 'string' ? res.body.slice(0, 500) : JSON.stringify(res.body).slice(0, 500), now);
  };
  const externalIdOf = (t: PsaTicket): string => `hub-${t.hubTicketId}`;
  const ticketData = (t: PsaTicket): Record<string, unknown> => ({ ticket: { id: t.hubTicketId, ...t } });

  return {
    async createTicket(t) {
      await post(`ticket-${t.hubTicketId}-created`, 'ticket.created', ticketData(t));
      return { externalId: externalIdOf(t), number: null };
    },
    async findByExternalId() {
      return null;
    },
    async addNote(_externalId: string, note: PsaNote, t: PsaTicket) {
      await post(`ticket-${t.hubTicketId}-note-${digest(note.title + '\n' + note.body)}`, 'ticket.note', { ...ticketData(t), note });
    },
    async updateTicket(_externalId, t) {
      await post(`ticket-${t.hubTicketId}-updated-${digest(JSON.stringify(t))}`, 'ticket.updated', ticketData(t));
    },
    async closeTicket(_externalId, t) {
      await post(`ticket-${t.hubTicketId}-closed`, 'ticket.closed', ticketData(t));
    },
    async testConnection() {
      try {
        await post(`test-${crypto.randomUUID()}`, 'ticket.note', { test: true, note: { title: 'Connection test', body: `from ${deps.connectionName}` } });
        return { ok: true, checks: [{ name: 'post', ok: true, detail: `${c.url} accepted a signed test event` }] };
      } catch (e) {
        return { ok: false, checks: [{ name: 'post', ok: false, detail: e instanceof Error ? e.message : String(e) }] };
      }
    },
    async close() {
      await http.close();
    },
  };
}

export const webhookConnector: PsaConnector<WebhookConfig> = {
  type: 'webhook',
  displayName: 'Signed webhook (Standard Webhooks)',
  docsUrl: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
  configSchema: webhookConfigSchema,
  secretFields: WEBHOOK_SECRET_FIELDS,
  needsCompanyRef: false,
  priorityMap: (): Record<Priority, string> => ({ critical: 'critical', high: 'high', medium: 'medium', low: 'low' }),
  statusMap: (): Record<TicketStatus, string> => Object.fromEntries(TICKET_STATUSES.map((s) => [s, s])) as Record<TicketStatus, string>,
  open: openWebhook,
};

import { z } from 'zod';
import type { Priority } from '../../core/slas/due-dates';
import { TICKET_STATUSES, type TicketStatus } from '../../core/tickets/ticket-status';
import { createHttpClient, httpError, type JsonResponse } from '../http';
import type { ConnectorDeps, PsaConnector, PsaSession, PsaTicket } from '../types';

/**
 * TEMPLATE: not registered. A complete connector for a made-up PSA, "ExampleDesk", whose JSON
 * API takes a bearer token: `POST /tickets` (answers `{ id, number }`), `GET /tickets?externalRef=`
 * (answers `{ items: [{ id, number }] }`), `POST /tickets/{id}/notes`, `PATCH /tickets/{id}`, errors
 * `{ message }`. Copy the folder, rename, rewrite against the real API, add it to `../index.ts`.
 */
export const exampleConfigSchema = z.strictObject({
  baseUrl: z.string().url(),
  /** Secret. */
  apiToken: z.string().min(1),
  /** Picklist-like ids with defaults, documented in the README. */
  priorityMap: z
    .strictObject({ critical: z.string(), high: z.string(), medium: z.string(), low: z.string() })
    .default({ critical: 'P1', high: 'P2', medium: 'P3', low: 'P4' }),
});
export type ExampleConfig = z.infer<typeof exampleConfigSchema>;

const statusMap = (): Record<TicketStatus, string> => Object.fromEntries(TICKET_STATUSES.map((s) => [s, s === 'resolved' || s === 'closed' ? 'done' : 'open'])) as Record<TicketStatus, string>;

function openExample(c: ExampleConfig, deps: ConnectorDeps): PsaSession {
  const http = createHttpClient({ timeoutMs: deps.timeoutMs, now: deps.now, beforeCall: deps.beforeCall });
  const headers = { authorization: `Bearer ${c.apiToken}` };
  const call = async (method: 'GET' | 'POST' | 'PATCH', path: string, json?: unknown): Promise<JsonResponse> => {
    const url = `${c.baseUrl.replace(/\/$/, '')}${path}`;
    const res = await http.send(method, url, { headers, ...(json !== undefined ? { json } : {}) });
    if (res.status < 200 || res.status > 299) throw httpError(method, url, res, String((res.body as { message?: unknown })?.message ?? ''), deps.now());
    return res;
  };
  const fields = (t: PsaTicket) => ({ externalRef: t.hubTicketId, title: t.title, body: t.description, priority: c.priorityMap[t.priority], status: statusMap()[t.status], customer: t.refs.company });
  return {
    async createTicket(t) {
      const res = await call('POST', '/tickets', fields(t));
      const b = res.body as { id: string | number; number?: string };
      return { externalId: String(b.id), number: b.number ?? null };
    },
    async findByExternalId(hubTicketId) {
      const res = await call('GET', `/tickets?externalRef=${encodeURIComponent(hubTicketId)}`);
      const first = (res.body as { items?: Array<{ id: string | number; number?: string }> }).items?.[0];
      return first ? { externalId: String(first.id), number: first.number ?? null } : null;
    },
    async addNote(id, note) {
      await call('POST', `/tickets/${encodeURIComponent(id)}/notes`, note);
    },
    async updateTicket(id, t) {
      await call('PATCH', `/tickets/${encodeURIComponent(id)}`, fields(t));
    },
    async closeTicket(id) {
      await call('PATCH', `/tickets/${encodeURIComponent(id)}`, { status: 'done' });
    },
    async testConnection() {
      try {
        await call('GET', '/tickets?externalRef=connection-test');
        return { ok: true, checks: [{ name: 'credentials', ok: true, detail: 'the token can read tickets' }] };
      } catch (e) {
        return { ok: false, checks: [{ name: 'credentials', ok: false, detail: e instanceof Error ? e.message : String(e) }] };
      }
    },
    close: () => http.close(),
  };
}

export const exampleConnector: PsaConnector<ExampleConfig> = {
  // A real connector uses its own PsaType (add it to PSA_TYPES in ../types.ts and to the migration's check).
  type: 'webhook',
  displayName: 'ExampleDesk (template)',
  docsUrl: 'https://example.com/api',
  configSchema: exampleConfigSchema,
  secretFields: ['apiToken'],
  needsCompanyRef: true,
  priorityMap: (c): Record<Priority, string> => c.priorityMap,
  statusMap,
  open: openExample,
};

/**
 * Tickets: a filtered list (company, status, priority, contract, text) and a ticket's page with
 * its due dates, SLA state, notes, PSA delivery (when the ticket carries it) and — first — why it
 * got its contract, service, SLA and priority, in words.
 */
import { useEffect, useState } from 'preact/hooks';
import { get, messageOf } from '../api';
import { when, words } from '../format';
import { lookups, nameOf, type Lookups } from '../lookups';
import type { Me } from '../session';
import { whyInWords, type StoredDecision } from '../why';

export interface Sla {
  state: string;
  responseDueAt: string | null;
  resolutionDueAt: string | null;
  firstResponseAt: string | null;
  resolvedAt: string | null;
  breaches?: unknown[];
}
export interface Ticket {
  id: string;
  companyId: string | null;
  deviceId: string | null;
  contractId: string | null;
  serviceId: string | null;
  slaId: string | null;
  source: string;
  priority: string;
  status: string;
  queue: string | null;
  assignee?: string | null;
  title: string;
  description: string | null;
  needsTriage: boolean;
  triage?: unknown;
  occurrences: number;
  firstOccurredAt: string;
  lastOccurredAt: string;
  firstResponseDueAt: string | null;
  resolutionPlanDueAt: string | null;
  resolutionDueAt: string | null;
  slaPausedAt: string | null;
  resolvedAt: string | null;
  createdAt: string;
  decision: StoredDecision | null;
  sla?: Sla;
  psa?: Array<{ connection: string; externalId: string | null; state: string; attempts: number; lastError: string | null; deliveredAt: string | null }>;
  notes?: Array<{ id: string; kind: string; body: string; author: string | null; createdAt: string }>;
}

/** One row of `GET /alerts` (AlertSummary), as the ticket page shows it. */
interface AlertSummary {
  id: string;
  title: string;
  severity: string;
  state: string;
  outcome: string | null;
  device: { id: string | null; hostname: string | null; site: string | null };
  occurredAt: string;
  createdAt: string;
}

const ALERTS_PER_PAGE = 25;

/**
 * The ticket's alerts (issue 17: `GET /alerts?ticketId=`), newest first, a page at a time: its
 * firing and resolving alerts, and the alerts attached to it by a storm rule.
 */
function TicketAlerts({ ticketId }: { ticketId: string }) {
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [page, setPage] = useState<{ items: AlertSummary[]; nextCursor: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1] ?? null;
  useEffect(() => {
    get<{ items: AlertSummary[]; nextCursor: string | null }>('/alerts', { ticketId, limit: ALERTS_PER_PAGE, cursor }).then(
      (r) => {
        setPage(r);
        setError(null);
      },
      (e) => setError(messageOf(e)),
    );
  }, [ticketId, cursor]);
  return (
    <>
      <h2 id="ticket-alerts-h">Alerts</h2>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!page && !error && <p class="muted">Loading…</p>}
      {page && page.items.length === 0 && cursors.length === 1 && <p class="muted">No stored alerts for this ticket.</p>}
      {page && page.items.length > 0 && (
        <table aria-labelledby="ticket-alerts-h">
          <thead>
            <tr>
              <th>Received</th>
              <th>Device</th>
              <th>Title</th>
              <th>Severity</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((a) => (
              <tr>
                <td>{when(a.createdAt)}</td>
                <td>{a.device.hostname ?? a.device.id ?? '—'}</td>
                <td>{a.title}</td>
                <td>
                  <span class={`prio ${a.severity}`}>{a.severity}</span>
                </td>
                <td>
                  {a.state}
                  {a.outcome === 'inhibited' ? ' (related alert)' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(cursors.length > 1 || page?.nextCursor) && (
        <div class="pager">
          <button type="button" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            Newer alerts
          </button>
          <button type="button" disabled={!page?.nextCursor} onClick={() => page?.nextCursor && setCursors((c) => [...c, page.nextCursor])}>
            Older alerts
          </button>
        </div>
      )}
    </>
  );
}

const STATUSES = ['new', 'in_progress', 'waiting_customer', 'resolved', 'closed'];
const PRIORITIES = ['critical', 'high', 'medium', 'low'];

export function TicketsPage({ me, id }: { me: Me; id?: string }) {
  return id ? <TicketView me={me} id={id} /> : <TicketList />;
}

export const slaState = (t: Ticket): string => t.sla?.state ?? (t.slaPausedAt ? 'paused' : t.slaId ? 'running' : 'no SLA');

function TicketList() {
  const [look, setLook] = useState<Lookups | null>(null);
  const [f, setF] = useState({ companyId: '', status: '', priority: '', contractId: '', q: '' });
  const [items, setItems] = useState<Ticket[] | null>(null);
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    lookups().then(setLook, (e) => setError(messageOf(e)));
  }, []);
  const cursor = cursors[cursors.length - 1] ?? null;
  useEffect(() => {
    const t = setTimeout(() => {
      get<{ items: Ticket[]; nextCursor: string | null }>('/tickets', { ...f, limit: 25, cursor }).then(
        (r) => {
          setItems(r.items);
          setNext(r.nextCursor);
          setError(null);
        },
        (e) => setError(messageOf(e)),
      );
    }, 200);
    return () => clearTimeout(t);
  }, [f, cursor]);
  const setFilter = (k: keyof typeof f, v: string) => {
    setF((old) => ({ ...old, [k]: v }));
    setCursors([null]);
  };
  const contracts = [...(look?.contracts.values() ?? [])].filter((c) => !f.companyId || c.companyId === f.companyId);
  return (
    <section aria-labelledby="tickets-h">
      <h1 id="tickets-h">Tickets</h1>
      <div class="filters" role="search">
        <label>
          Company
          <select value={f.companyId} onChange={(e) => setFilter('companyId', e.currentTarget.value)}>
            <option value="">any</option>
            {[...(look?.companies.values() ?? [])].map((c) => (
              <option value={c.id}>{c.name}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={f.status} onChange={(e) => setFilter('status', e.currentTarget.value)}>
            <option value="">any</option>
            <option value="new,in_progress,waiting_customer">open</option>
            {STATUSES.map((s) => (
              <option value={s}>{words(s)}</option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select value={f.priority} onChange={(e) => setFilter('priority', e.currentTarget.value)}>
            <option value="">any</option>
            {PRIORITIES.map((p) => (
              <option value={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Contract
          <select value={f.contractId} onChange={(e) => setFilter('contractId', e.currentTarget.value)}>
            <option value="">any</option>
            {contracts.map((c) => (
              <option value={c.id}>{c.name}</option>
            ))}
          </select>
        </label>
        <label>
          Text <input type="search" value={f.q} onInput={(e) => setFilter('q', e.currentTarget.value)} placeholder="title or description" />
        </label>
      </div>
      {error && <p role="alert" class="error">{error}</p>}
      {!items ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <table aria-label="Tickets">
            <thead>
              <tr>
                <th class="num">#</th>
                <th>Title</th>
                <th>Company</th>
                <th>Contract</th>
                <th>Priority</th>
                <th>Status</th>
                <th>SLA</th>
                <th>Resolution due</th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id}>
                  <td class="num">{t.id}</td>
                  <td>
                    <a href={`#/tickets/${t.id}`}>{t.title}</a>
                    {t.occurrences > 1 && <span class="badge">×{t.occurrences}</span>}
                  </td>
                  <td>{nameOf(look?.companies, t.companyId)}</td>
                  <td>{t.contractId ? nameOf(look?.contracts, t.contractId) : <span class="badge warn">triage</span>}</td>
                  <td>
                    <span class={`prio ${t.priority}`}>{t.priority}</span>
                  </td>
                  <td>{words(t.status)}</td>
                  <td>{words(slaState(t))}</td>
                  <td>{when(t.sla?.resolutionDueAt ?? t.resolutionDueAt)}</td>
                </tr>
              ))}
              {items.length === 0 && (
                <tr>
                  <td colSpan={8} class="muted">
                    No ticket matches.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <div class="pager">
            <button type="button" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Previous page
            </button>
            <button type="button" disabled={!next} onClick={() => setCursors((c) => [...c, next])}>
              Next page
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function TicketView({ id }: { me: Me; id: string }) {
  const [t, setT] = useState<Ticket | null>(null);
  const [look, setLook] = useState<Lookups | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Ticket>(`/tickets/${id}`).then(setT, (e) => setError(messageOf(e)));
    lookups().then(setLook, () => undefined);
  }, [id]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!t) return <p class="muted">Loading…</p>;
  const names = { contract: nameOf(look?.contracts, t.contractId), service: nameOf(look?.services, t.serviceId), sla: nameOf(look?.slas, t.slaId) };
  return (
    <section aria-labelledby="ticket-h">
      <p class="crumbs">
        <a href="#/tickets">Tickets</a> ›
      </p>
      <div class="title-row">
        <h1 id="ticket-h">
          #{t.id} {t.title}
        </h1>
        <span class={`prio ${t.priority}`}>{t.priority}</span>
        <span class="status">{words(t.status)}</span>
      </div>
      <div class="card why" role="region" aria-label="Why">
        <h2>Why</h2>
        <ul>
          {whyInWords(t.decision, names).map((line) => (
            <li>{line}</li>
          ))}
        </ul>
      </div>
      <div class="columns">
        <dl class="facts card">
          <dt>Company</dt>
          <dd>{nameOf(look?.companies, t.companyId)}</dd>
          <dt>Contract</dt>
          <dd>{t.contractId ? <a href={`#/contracts/${t.contractId}`}>{names.contract}</a> : 'none (triage)'}</dd>
          <dt>Service</dt>
          <dd>{names.service}</dd>
          <dt>SLA</dt>
          <dd>{names.sla}</dd>
          <dt>Queue</dt>
          <dd>{t.queue ?? '—'}</dd>
          <dt>Assignee</dt>
          <dd>{t.assignee ?? '—'}</dd>
          <dt>Source</dt>
          <dd>{t.source}</dd>
          <dt>Occurrences</dt>
          <dd>
            {t.occurrences} (first {when(t.firstOccurredAt)}, last {when(t.lastOccurredAt)})
          </dd>
        </dl>
        <div class="card">
          <h2>SLA: {words(slaState(t))}</h2>
          <table aria-label="Due dates">
            <tbody>
              <tr>
                <th>First response due</th>
                <td>{when(t.sla?.responseDueAt ?? t.firstResponseDueAt)}</td>
              </tr>
              <tr>
                <th>Resolution plan due</th>
                <td>{when(t.resolutionPlanDueAt)}</td>
              </tr>
              <tr>
                <th>Resolution due</th>
                <td>{when(t.sla?.resolutionDueAt ?? t.resolutionDueAt)}</td>
              </tr>
              {t.sla && (
                <>
                  <tr>
                    <th>First response</th>
                    <td>{when(t.sla.firstResponseAt)}</td>
                  </tr>
                  <tr>
                    <th>Breaches</th>
                    <td>{t.sla.breaches?.length ? t.sla.breaches.map((b) => (typeof b === 'string' ? b : JSON.stringify(b))).join(', ') : 'none'}</td>
                  </tr>
                </>
              )}
            </tbody>
          </table>
        </div>
      </div>
      {t.psa && t.psa.length > 0 && (
        <>
          <h2>PSA delivery</h2>
          <table aria-label="PSA delivery">
            <thead>
              <tr>
                <th>Connection</th>
                <th>State</th>
                <th>PSA ticket</th>
                <th class="num">Attempts</th>
                <th>Delivered</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {t.psa.map((p) => (
                <tr>
                  <td>{p.connection}</td>
                  <td>
                    <span class={`status ${p.state}`}>{p.state}</span>
                  </td>
                  <td>{p.externalId ?? '—'}</td>
                  <td class="num">{p.attempts}</td>
                  <td>{when(p.deliveredAt)}</td>
                  <td>{p.lastError ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2>Alert</h2>
      <pre class="text">{t.description ?? t.title}</pre>
      <TicketAlerts ticketId={t.id} />
      <h2>Notes</h2>
      {t.notes?.length ? (
        <ul class="notes">
          {t.notes.map((n) => (
            <li>
              <span class="muted">
                {when(n.createdAt)} · {n.author ?? 'hub'} · {words(n.kind)}
              </span>
              <div>{n.body}</div>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">No notes.</p>
      )}
    </section>
  );
}

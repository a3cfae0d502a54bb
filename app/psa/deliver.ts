import type { Knex } from 'knex';
import { runPlan } from '../../core/psa/delivery';
import { psaDescription } from '../../core/psa/ticket-words';
import type { PsaSession, PsaTicket } from '../../connectors';
import { PsaError } from '../../connectors';
import {
  claimDeliveries,
  loadDeliveryWorks,
  recordDeliveryError,
  releaseUnsent,
  saveExternalId,
  settleDeliveries,
  type DeliverySent,
  type DeliveryWork,
} from '../../db/queries/psa-deliveries';
import type { PsaDeliveryRow } from '../../db/tables';

/**
 * One delivery run (issue 16 item 3) over one or several deliveries of a connection (a job carries
 * the new tickets of one pipeline round and one priority): claim them (a lease, and the attempt
 * counted, in one commit), send what each owes, most urgent first — create (after a lookup by our
 * id when an earlier attempt may have created it), one folded note, an update or close — read the
 * ticket numbers of the run's creates in one call where the connector needs that, and settle
 * exactly what was sent, in one commit. The PSA's id is committed the moment it is known (its own
 * statement per create), so a crash after that never creates again.
 */
export interface DeliverDeps {
  db: Knex;
  /** The open session of the delivery's connection. */
  session: PsaSession;
  /** Who holds the lease (worker id + job). */
  token: string;
  /** Longer than a run can take (a few PSA calls with their timeouts). */
  leaseMs: number;
}

export interface DeliverDepsHooks {
  /**
   * Told how many PSA calls the run is about to make (its creates, lookups, notes, updates and the
   * number read), before the first: the worker takes that many from the rate limit at once.
   */
  expectCalls?: (n: number) => Promise<void>;
  /** New deliveries of the connection more urgent than the job's it may take along (0: none). */
  pullUrgent?: number;
}

/** What happened to one delivery of the run. */
export interface DeliveryOutcome {
  id: string;
  state: PsaDeliveryRow['state'];
  externalId: string | null;
  created: boolean;
  latencyMs: number | null;
  /** A permanent failure (the delivery is failed, visible and retryable): the PSA's message. */
  failed?: string;
}

export type DeliverResult = { kind: 'not-claimed' } | { kind: 'done'; calls: number; outcomes: DeliveryOutcome[] };

/**
 * A run stopped on a transient failure (or the call budget) at this delivery: it is released with
 * the error, those before it are settled, those after it released untouched. `cause` is what was
 * thrown.
 */
export class DeliveryStopped extends Error {
  override name = 'DeliveryStopped';
  constructor(
    readonly deliveryId: string,
    override readonly cause: unknown,
    /** PSA calls the run made or tried before it stopped. */
    readonly calls: number,
    /** Stopped at reading the ticket numbers: the deliveries whose PSA ticket exists and whose number was not read. */
    readonly awaitingNumbers: readonly string[] = [],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export function psaTicketOf(work: DeliveryWork): PsaTicket {
  const t = work.ticket;
  const name = work.connectionName;
  const ref = (refs: Record<string, string> | null): string | null => refs?.[name] ?? null;
  return {
    hubTicketId: String(t.id),
    title: t.title,
    description: psaDescription({
      description: t.description,
      names: work.names,
      priority: t.priority,
      resolutionDueAt: t.resolution_due_at,
      decision: t.decision,
      hubTicketId: String(t.id),
    }),
    priority: t.priority,
    status: t.status,
    queue: t.queue,
    dueAt: t.resolution_due_at ? t.resolution_due_at.toISOString() : null,
    occurrences: t.occurrences,
    firstOccurredAt: t.first_occurred_at.toISOString(),
    refs: { company: ref(work.refs.company), device: ref(work.refs.device), contract: ref(work.refs.contract), service: ref(work.refs.service), sla: ref(work.refs.sla) },
    names: work.names,
  };
}

export async function deliverRun(deps: DeliverDeps & DeliverDepsHooks, deliveryIds: readonly string[], now: () => Date): Promise<DeliverResult> {
  // More urgent new tickets waiting (their job in backoff after an outage) go first, in this run.
  const claimed = await claimDeliveries(deps.db, deliveryIds, deps.token, deps.leaseMs, deps.pullUrgent ?? 0);
  if (claimed.length === 0) return { kind: 'not-claimed' };
  // Most urgent first (the queue orders jobs; this orders a job's deliveries).
  const works = (await loadDeliveryWorks(deps.db, claimed)).sort((a, b) => a.delivery.rank - b.delivery.rank || Number(a.delivery.id) - Number(b.delivery.id));
  if (works.length === 0) return { kind: 'not-claimed' };
  const readsNumbers = deps.session.ticketNumbers !== undefined;
  const planned = works.map((work) => ({ work, plan: planOf(work) }));
  await deps.expectCalls?.(planned.reduce((n, p) => n + callsOf(p.plan), 0) + (readsNumbers && planned.some((p) => p.plan.create || needsNumber(p.work)) ? 1 : 0));

  let calls = 0;
  const sent: Array<DeliverySent & { id: string }> = [];
  const outcomes: DeliveryOutcome[] = [];
  const numberless: Array<{ id: string; externalId: string }> = [];
  let stop: DeliveryStopped | null = null;
  let i = 0;
  for (; i < planned.length; i++) {
    const { work, plan } = planned[i]!;
    const d = work.delivery;
    const ticket = psaTicketOf(work);
    let created = false;
    try {
      let externalId = d.external_id;
      let number = d.external_number;
      if (plan.create) {
        let handle = null;
        if (plan.create.lookupFirst) {
          calls++;
          handle = await deps.session.findByExternalId(ticket.hubTicketId);
        }
        if (!handle) {
          calls++;
          handle = await deps.session.createTicket(ticket);
          created = true;
        }
        externalId = handle.externalId;
        number = handle.number;
        // Committed at once: whatever fails next, this ticket is never created again.
        await saveExternalId(deps.db, d.id, deps.token, handle.externalId, handle.number, d.change_seq);
      }
      if (externalId === null) throw new PsaError('permanent', 'no PSA ticket id after the create');
      if (plan.note) {
        calls++;
        await deps.session.addNote(externalId, plan.note, ticket);
      }
      if (plan.state === 'close') {
        calls++;
        await deps.session.closeTicket(externalId, ticket);
      } else if (plan.state === 'update') {
        calls++;
        await deps.session.updateTicket(externalId, ticket);
      }
      sent.push({ id: d.id, occurrences: d.pending_occurrences, notes: d.pending_notes.length, sentSeq: d.change_seq, closed: plan.state === 'close', awaitNumber: false });
      if (readsNumbers && number === null) numberless.push({ id: d.id, externalId });
      const latencyMs = created && d.pending_since ? now().getTime() - d.pending_since.getTime() : null;
      outcomes.push({ id: d.id, state: 'pending', externalId, created, latencyMs });
    } catch (e) {
      const permanent = e instanceof PsaError && e.kind === 'permanent';
      const message = e instanceof Error ? e.message : String(e);
      await recordDeliveryError(deps.db, d.id, deps.token, message, permanent).catch(() => undefined);
      if (!permanent) {
        stop = new DeliveryStopped(d.id, e, calls);
        break;
      }
      outcomes.push({ id: d.id, state: 'failed', externalId: d.external_id, created, latencyMs: null, failed: message });
    }
  }
  // Stopped early: the rest of the run was never sent; their next run starts afresh.
  if (stop) await releaseUnsent(deps.db, planned.slice(i + 1).map((p) => p.work.delivery.id), deps.token);

  // One read for the numbers of the run's tickets; without it (the PSA failed, no call left) they stay pending for a later run.
  if (numberless.length > 0) {
    let numbers: Map<string, string> | null = null;
    if (!stop) {
      try {
        calls++;
        numbers = await deps.session.ticketNumbers!(numberless.map((n) => n.externalId));
      } catch (e) {
        // A refused read (4xx) will not work later either: settled without numbers, as a create whose number is unknown.
        if (e instanceof PsaError && e.kind === 'permanent') numbers = new Map();
        else
          stop = new DeliveryStopped(
            numberless[0]!.id,
            e,
            calls,
            numberless.map((n) => n.id),
          );
      }
    }
    for (const n of numberless) {
      const s = sent.find((x) => x.id === n.id)!;
      if (numbers) s.number = numbers.get(n.externalId) ?? null;
      else {
        s.awaitNumber = true;
        s.error = `ticket number not read yet: ${stop!.message}`;
      }
    }
  }
  const settled = new Map((await settleDeliveries(deps.db, deps.token, sent)).map((r) => [String(r.id), r.state]));
  for (const o of outcomes) if (o.state !== 'failed') o.state = settled.get(o.id) ?? 'pending';
  if (stop) throw stop;
  return { kind: 'done', calls, outcomes };
}

function planOf(work: DeliveryWork) {
  const d = work.delivery;
  return runPlan(
    {
      externalId: d.external_id,
      attempts: d.attempts,
      pendingOccurrences: d.pending_occurrences,
      occurrencesSince: d.occurrences_since,
      pendingNotes: d.pending_notes,
      changeSeq: BigInt(d.change_seq),
      sentSeq: BigInt(d.sent_seq),
    },
    work.ticket.status,
  );
}

/** The PSA calls a plan makes at most (a lookup that finds the ticket saves the create). */
function callsOf(plan: ReturnType<typeof runPlan>): number {
  return (plan.create ? (plan.create.lookupFirst ? 2 : 1) : 0) + (plan.note ? 1 : 0) + (plan.state === 'close' || plan.state === 'update' ? 1 : 0);
}

const needsNumber = (work: DeliveryWork): boolean => work.delivery.external_id !== null && work.delivery.external_number === null;

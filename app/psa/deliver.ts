import type { Knex } from 'knex';
import { runPlan } from '../../core/psa/delivery';
import { psaDescription } from '../../core/psa/ticket-words';
import type { PsaSession, PsaTicket } from '../../connectors';
import { PsaError } from '../../connectors';
import {
  claimDelivery,
  loadDeliveryWork,
  recordDeliveryError,
  saveExternalId,
  settleDelivery,
  type DeliveryWork,
} from '../../db/queries/psa-deliveries';
import type { PsaDeliveryRow } from '../../db/tables';

/**
 * One delivery run (issue 16 item 3): claim the delivery (a lease, and the attempt counted in its
 * own commit), send what it owes — create (after a lookup by our id when an earlier attempt may
 * have created it), one folded note, an update or close — and settle exactly what was sent.
 * The PSA's id is committed the moment it is known, so a crash after that never creates again.
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

export type DeliverResult =
  | { kind: 'not-claimed' }
  | { kind: 'done'; calls: number; state: PsaDeliveryRow['state']; externalId: string | null; created: boolean; latencyMs: number | null };

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

export async function deliverOnce(deps: DeliverDeps, deliveryId: string, now: () => Date): Promise<DeliverResult> {
  const claimed = await claimDelivery(deps.db, deliveryId, deps.token, deps.leaseMs);
  if (!claimed) return { kind: 'not-claimed' };
  let calls = 0;
  let created = false;
  try {
    const work = await loadDeliveryWork(deps.db, deliveryId);
    if (!work) return { kind: 'not-claimed' };
    const d = work.delivery;
    const ticket = psaTicketOf(work);
    const plan = runPlan(
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
    let externalId = d.external_id;
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
      // Committed at once: whatever fails next, this ticket is never created again.
      await saveExternalId(deps.db, deliveryId, deps.token, handle.externalId, handle.number, d.change_seq);
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
    const settled = await settleDelivery(deps.db, deliveryId, deps.token, {
      occurrences: d.pending_occurrences,
      notes: d.pending_notes.length,
      sentSeq: d.change_seq,
      closed: plan.state === 'close',
    });
    const latencyMs = created && d.pending_since ? now().getTime() - d.pending_since.getTime() : null;
    return { kind: 'done', calls, state: settled?.state ?? 'pending', externalId, created, latencyMs };
  } catch (e) {
    const permanent = e instanceof PsaError && e.kind === 'permanent';
    const message = e instanceof Error ? e.message : String(e);
    await recordDeliveryError(deps.db, deliveryId, deps.token, message, permanent).catch(() => undefined);
    throw e;
  }
}

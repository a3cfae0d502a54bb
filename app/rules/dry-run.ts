import { scopeIncludes, type CompanyScope } from '../../core/access/company-scope';
import type { Knex } from 'knex';
import { HubError, validationError } from '../../core/errors';
import type { MatchableWindow } from '../../core/maintenance/window-match';
import { ticketEffect, type TicketEffect, type TicketStateInput } from '../../core/tickets/receipt-effect';
import { resolvedThroughForKeys } from '../../db/queries/alert-batch';
import { openTicketForKey } from '../../db/queries/alert-processing';
import { findActiveWindow } from '../../db/queries/maintenance-windows';
import { rulesWindowsOf } from '../maintenance/ruleset-windows';
import type { SlaCache } from '../slas/sla-cache';
import { getSource, listSources } from '../../db/queries/sources';
import { normalizeDelivery, plugins } from '../../plugins';
import type { GenericAlert } from '../../plugins/generic/schema';
import type { CompiledRuleset } from '../../rules/engine/compile';
import { explain, type TraceRule } from '../../rules/engine/explain';
import type { Decision, DecisionFacts } from '../../rules/engine/types';
import { buildFacts, type FactsAlert } from '../alerts/build-facts';
import { previewStorms, type StormPreview } from '../alerts/storms';
import { explainChoice, resolveTicketFields, type DecisionOutcome, type NamedDecision } from './decision-view';

/**
 * R-RUL-4: "what would happen to this alert, and why" — the alert in the generic source's shape,
 * normalized by the generic plugin as a delivery would be, facts built by the worker's own
 * `buildFacts` (without discovery), the decision by the live ruleset's `decide` (via `explain`),
 * and what it does to the tickets by the worker's own state machine (core/tickets), asking the
 * maintenance windows where the worker would. All of it in a READ ONLY transaction, so Postgres
 * itself guarantees that nothing is created.
 */

/** The generic alert (SPEC §8) plus the source it would come from; occurredAt may be left to `at`. */
export type TestAlert = Omit<GenericAlert, 'occurredAt'> & { source?: string | undefined; occurredAt?: string | undefined };

/** `stale`: a delivery of a firing episode that is already over (issue 15 item 7): nothing would change. */
export type DryRunOutcome = 'ticket' | 'suppress' | 'maintenance' | 'resolve' | 'occurrence' | 'stale' | 'inhibited';

export interface DryRunResult {
  /** What the worker would do: open a ticket, count an occurrence on the open one, suppress, hold for maintenance, resolve. */
  outcome: DryRunOutcome;
  /** The engine's decision plus what it names (issue 15 item 8): contract, service, SLA, priority, due dates, in plain words. */
  decision: Omit<Decision, 'outcome'> & NamedDecision;
  /** The fields the ticket would carry (null when no ticket would be opened or none applies). */
  contractId: string | null;
  serviceId: string | null;
  slaId: string | null;
  trace: TraceRule[];
  facts: DecisionFacts;
  referenceAgrees: boolean;
  maintenanceWindow: { key: string; id: string | null; name: string; origin: 'api' | 'rules'; file: string | null; processAfter: boolean } | null;
  openTicket: { id: string; status: string } | null;
  alert: { source: string; sourceAlertId: string; dedupKey: string; occurredAt: string };
  company: { id: string; name: string } | null;
  device: { id: string; hostname: string } | null;
  ruleset: { version: number; contentHash: string };
  /** R-STORM-1: "would be inhibited by ticket #…" / "would join group …" (inhibit and group rules). */
  storm: StormPreview;
}

async function sourceFor(db: Knex.Transaction, name: string | undefined): Promise<{ name: string; plugin: string | null; config: unknown; siteField: string | null }> {
  if (name !== undefined) {
    const s = await getSource(db, name);
    if (!s || /^\d+$/.test(name)) throw validationError('alert.source', `no source named "${name}" is configured`);
    return { name: s.name, plugin: s.plugin, config: s.config, siteField: s.site_field };
  }
  const generic = (await listSources(db, { plugin: 'generic', limit: 1 })).items[0];
  return generic ? { name: generic.name, plugin: generic.plugin, config: generic.config, siteField: generic.site_field } : { name: 'generic', plugin: null, config: {}, siteField: null };
}

const windowView = (w: MatchableWindow): NonNullable<DryRunResult['maintenanceWindow']> => ({
  key: w.key,
  id: w.id,
  name: w.name,
  origin: w.origin,
  file: w.file,
  processAfter: w.processAfter,
});

/** The decision's word for the worker's effect (issue 15 item 8). */
function decisionOutcome(effect: TicketEffect): DecisionOutcome {
  switch (effect.kind) {
    case 'nothing-to-resolve':
    case 'resolve':
    case 'annotate':
    case 'stale': // a late retry or an out-of-order delivery (issue 15 item 7): nothing changes
      return 'none';
    case 'count':
    case 'reopen':
      return 'occurrence';
    case 'suppress':
      return effect.by === 'rules' ? 'suppress' : 'maintenance';
    case 'hold':
      return 'hold';
    case 'release':
    case 'create':
      return 'ticket';
  }
}

/** The dry run's word for the worker's effect. */
function dryRunOutcome(effect: TicketEffect): DryRunOutcome {
  switch (effect.kind) {
    case 'nothing-to-resolve':
    case 'resolve':
    case 'annotate':
      return 'resolve';
    case 'count':
    case 'reopen':
      return 'occurrence';
    case 'suppress':
      return effect.by === 'rules' ? 'suppress' : 'maintenance';
    // A hold-off delays the ticket; it still opens unless the alert clears meanwhile.
    case 'hold':
    case 'release':
    case 'create':
      return 'ticket';
    case 'stale':
      return 'stale';
  }
}

export async function dryRunAlert(
  db: Knex,
  slas: SlaCache,
  ruleset: CompiledRuleset,
  input: { alert: TestAlert; at?: Date | undefined; now: Date; scope: CompanyScope; /** HUB_RENEWAL_TIMEZONE, as the worker has it. */ fallbackZone?: string | undefined },
): Promise<DryRunResult> {
  return db.transaction(async (trx) => {
    await trx.raw('SET TRANSACTION READ ONLY');
    const { source: sourceName, ...generic } = input.alert;
    const source = await sourceFor(trx, sourceName);
    const at = input.at ?? (generic.occurredAt ? new Date(generic.occurredAt) : input.now);
    const payload = { ...generic, occurredAt: at.toISOString() };
    // The source's own config (dedup fields) applies only when it is a generic source.
    const normalized = normalizeDelivery(plugins.generic, payload, {
      sourceName: source.name,
      receivedAt: input.now,
      config: source.plugin === 'generic' ? source.config : {},
      siteField: source.siteField,
    });
    if (normalized.kind !== 'alerts' || !normalized.alerts[0]) throw new HubError('UNPROCESSABLE', `alert: the generic plugin ignored it (${normalized.kind === 'ignored' ? normalized.reason : 'no alert'})`);
    const n = normalized.alerts[0];
    const alert: FactsAlert = {
      source_alert_id: n.sourceAlertId,
      dedup_key: n.dedupKey,
      state: n.state,
      severity: n.severity,
      category: n.category,
      title: n.title,
      message: n.message,
      hostname: n.device.hostname,
      site: n.device.site,
      labels: n.labels,
      occurred_at: new Date(n.occurredAt),
      device_source_id: n.device.sourceDeviceId,
    };

    const built = await buildFacts(trx, slas, { alert, source: source.name, discover: false, fallbackZone: input.fallbackZone });
    // A company-scoped token may only look at its companies' alerts (404, so other companies do not leak).
    if (!scopeIncludes(input.scope, built.company?.id)) {
      throw new HubError('NOT_FOUND', 'alert: its site/device belongs to no company of this token');
    }
    const ex = await explain(ruleset, built.facts);
    const open = await openTicketForKey(trx, alert.dedup_key);
    const resolvedThrough = (await resolvedThroughForKeys(trx, [alert.dedup_key])).get(alert.dedup_key) ?? null;

    // The worker's state machine, as if the alert arrived now. Not modelled: a re-fire reopening a
    // recently auto-resolved ticket (no closed ticket is looked up) and a blip clearing during its
    // hold-off (the future is unknown): both would open the ticket as far as the dry run says.
    let window: MatchableWindow | null = null;
    const state: TicketStateInput = {
      receipt: { state: alert.state, receivedAt: input.now, occurredAt: alert.occurred_at },
      open: open ? { id: String(open.id), resolveAction: open.resolve_action, firstOccurredAt: open.episode_started_at ?? open.first_occurred_at } : null,
      last: null,
      decision: ex.decision,
      resolvedThrough,
      now: input.now,
      canHold: true,
      resolvedSinceReceipt: false,
    };
    let step = ticketEffect(state);
    while (step.kind === 'ask') {
      // The only question left open above; read-only here (the worker's hook also records the silencing).
      window = await findActiveWindow(
        trx,
        { alert, companyId: built.company?.id ?? null, deviceId: built.device?.id ?? null, at: alert.occurred_at },
        rulesWindowsOf(ruleset),
      );
      state.maintenanceWindow = window ? window.name : null;
      step = ticketEffect(state);
    }
    const storm = await previewStorms(trx, ruleset, { id: 'dry-run', alert: { ...alert, id: '0' }, facts: built.facts, companyId: built.company?.id ?? null }, step);
    const outcome = decisionOutcome(step);
    // Due dates count from when the ticket would be created: `at` when given, else now (as the worker counts from processing).
    const fields = outcome === 'ticket' || outcome === 'occurrence' || outcome === 'hold' ? await resolveTicketFields(trx, slas, ex.decision, built, alert.severity, input.at ?? input.now) : null;
    const named: NamedDecision = {
      outcome,
      contract: fields?.contract ?? null,
      service: fields?.service ?? null,
      sla: fields?.sla ?? null,
      priority: fields?.priority ?? null,
      dueDates: fields?.dueDates ?? null,
      explanation: explainChoice(ex.decision, fields, outcome, built),
    };
    return {
      outcome: storm.inhibitedBy || storm.relatedTo ? 'inhibited' : dryRunOutcome(step),
      storm,
      decision: { ...ex.decision, ...named },
      contractId: named.contract?.id ?? null,
      serviceId: named.service?.id ?? null,
      slaId: named.sla?.id ?? null,
      trace: ex.trace,
      facts: built.facts,
      referenceAgrees: ex.referenceAgrees,
      maintenanceWindow: window ? windowView(window) : null,
      openTicket: open ? { id: String(open.id), status: open.status } : null,
      alert: { source: source.name, sourceAlertId: n.sourceAlertId, dedupKey: n.dedupKey, occurredAt: n.occurredAt },
      company: built.company ? { id: String(built.company.id), name: built.company.name } : null,
      device: built.device ? { id: String(built.device.id), hostname: built.device.hostname } : null,
      ruleset: { version: ruleset.version, contentHash: ruleset.contentHash },
    };
  });
}

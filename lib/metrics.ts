import client from 'prom-client';

/**
 * Prometheus metrics of the process (issue 6), one registry. Names are stable: dashboards rely on them.
 */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const metrics = {
  alertsReceived: new client.Counter({
    name: 'hub_alerts_received_total',
    help: 'Alerts received by webhook, by source and outcome (accepted, duplicate, ignored, rejected).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  }),
  webhookLatency: new client.Histogram({
    name: 'hub_webhook_duration_seconds',
    help: 'Webhook request latency, by source and status code.',
    labelNames: ['source', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  decisions: new client.Counter({
    name: 'hub_rule_decisions_total',
    help: 'Rules that fired in decisions, by rule name.',
    labelNames: ['rule'] as const,
    registers: [registry],
  }),
  ticketsCreated: new client.Counter({
    name: 'hub_tickets_created_total',
    help: 'Tickets created, by source.',
    labelNames: ['source'] as const,
    registers: [registry],
  }),
  alertsInhibited: new client.Counter({
    name: 'hub_alerts_inhibited_total',
    help: 'Alert receipts muted by an inhibit rule: attached to their source ticket as related alerts (R-STORM-1).',
    registers: [registry],
  }),
  alertsGrouped: new client.Counter({
    name: 'hub_alerts_grouped_total',
    help: 'Tickets put under a group parent incident by a group rule (R-STORM-1).',
    registers: [registry],
  }),
  alertOutcomes: new client.Counter({
    name: 'hub_alert_outcomes_total',
    help: 'Processed alert receipts by outcome (ticket_created, occurrence, resolved, annotated, suppressed, held, …).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  jobDuration: new client.Histogram({
    name: 'hub_job_duration_seconds',
    help: 'Job processing time by queue.',
    labelNames: ['queue'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [registry],
  }),
  jobFailures: new client.Counter({
    name: 'hub_job_failures_total',
    help: 'Failed job attempts by queue and kind (retry, permanent).',
    labelNames: ['queue', 'kind'] as const,
    registers: [registry],
  }),
  queueDepth: new client.Gauge({
    name: 'hub_queue_jobs',
    help: 'Jobs in each queue by state (sampled on scrape).',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
  }),
  rulesetVersion: new client.Gauge({
    name: 'hub_ruleset_version',
    help: 'Version of the live ruleset in this process.',
    registers: [registry],
  }),
  oldestUnprocessedReceiptAge: new client.Gauge({
    name: 'hub_receipt_oldest_unprocessed_age_seconds',
    help: 'Age of the oldest stored alert receipt not yet processed nor dead-lettered (0 when none), measured by the receipt sweeper.',
    registers: [registry],
  }),
  deadLetteredReceipts: new client.Gauge({
    name: 'hub_receipts_dead_lettered',
    help: 'Alert receipts dead-lettered and not re-driven (GET /api/v1/dead-letters lists them), measured by the receipt sweeper.',
    registers: [registry],
  }),
  receiptsRedriven: new client.Counter({
    name: 'hub_receipts_redriven_total',
    help: 'Alert receipts the sweeper put on the queue again because their job was gone (failed for good, stalled out, removed, lost).',
    registers: [registry],
  }),
  receiptsDeadLettered: new client.Counter({
    name: 'hub_receipts_dead_lettered_total',
    help: 'Alert receipts dead-lettered, by who decided (operator: a discarded job; sweeper: too many re-drives).',
    labelNames: ['by'] as const,
    registers: [registry],
  }),
  slaBreaches: new client.Counter({
    name: 'hub_sla_breaches_total',
    help: 'SLA breaches recorded by the upkeep job when they happen (R-TKT-2), by target (response, resolution) and ticket priority.',
    labelNames: ['target', 'priority'] as const,
    registers: [registry],
  }),
  renewalsApplied: new client.Counter({
    name: 'hub_renewals_applied_total',
    help: 'Renewals created or applied, by kind (manual, scheduled, auto).',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
};

import type { Queue } from 'bullmq';
import type { HubConfig } from '../config/env';
import { jobOptions, type QueueName } from './catalog';
import { scheduleRenewals } from './renewal.worker';

/** The job schedulers of the hub, by id (BullMQ keeps them in Redis, beside the queues). */
export const SCHEDULER_IDS = {
  staleTickets: 'upkeep-stale-tickets',
  windowEnds: 'upkeep-window-ends',
  slaBreaches: 'upkeep-sla-breaches',
} as const;

/**
 * Creates (or updates) every job scheduler: upkeep (stale tickets, window ends, SLA breaches) every HUB_UPKEEP_INTERVAL_SECONDS, the daily
 * renewal run at HUB_RENEWAL_TIME, plus one renewal catch-up run. Idempotent (`upsertJobScheduler`),
 * so it runs at worker start and again whenever the hub notices that Redis lost its data (issue 13
 * item 5): schedulers live in Redis and vanish with it, and nothing else would bring them back
 * before the next worker restart. The catch-up run applies what a lost daily run missed.
 */
export async function ensureSchedules(
  queues: Pick<Record<QueueName, Queue>, 'upkeep' | 'renewals'>,
  config: Pick<HubConfig, 'HUB_UPKEEP_INTERVAL_SECONDS' | 'HUB_RENEWAL_TIME' | 'HUB_RENEWAL_TIMEZONE'>,
): Promise<void> {
  const every = config.HUB_UPKEEP_INTERVAL_SECONDS * 1000;
  const opts = jobOptions('upkeep');
  await queues.upkeep.upsertJobScheduler(SCHEDULER_IDS.staleTickets, { every }, { name: 'stale-tickets', data: { v: 1, kind: 'stale-tickets' }, opts });
  await queues.upkeep.upsertJobScheduler(SCHEDULER_IDS.windowEnds, { every }, { name: 'window-ends', data: { v: 1, kind: 'window-ends' }, opts });
  await queues.upkeep.upsertJobScheduler(SCHEDULER_IDS.slaBreaches, { every }, { name: 'sla-breaches', data: { v: 1, kind: 'sla-breaches' }, opts });
  await scheduleRenewals(queues.renewals, { time: config.HUB_RENEWAL_TIME, timezone: config.HUB_RENEWAL_TIMEZONE });
}

import type { Queue } from 'bullmq';
import { jobOptions, SCHEDULES, type QueueName, type ScheduleConfigOf } from './catalog';

/**
 * Creates (or updates) the job schedulers of one queue declared in catalog.ts SCHEDULES, and adds
 * each one's catch-up job. `config` needs only what that queue's schedules read.
 */
export async function upsertSchedules<Q extends QueueName>(queue: Queue, name: Q, config: ScheduleConfigOf[Q]): Promise<void> {
  const opts = jobOptions(name);
  for (const s of SCHEDULES[name]) {
    await queue.upsertJobScheduler(s.id, s.repeat(config), { name: s.name, data: s.data, opts });
    if (s.catchUp) await queue.add(s.catchUp.name, s.catchUp.data, opts);
  }
}

/**
 * Creates (or updates) every job scheduler of catalog.ts SCHEDULES: upkeep every
 * HUB_UPKEEP_INTERVAL_SECONDS, the daily renewal run at HUB_RENEWAL_TIME, plus one renewal catch-up
 * run. Idempotent (`upsertJobScheduler`), so it runs at worker start and again whenever the hub
 * notices that Redis lost its data (issue 13 item 5): schedulers live in Redis and vanish with it,
 * and nothing else would bring them back before the next worker restart. The catch-up run applies
 * what a lost daily run missed.
 */
export async function ensureSchedules(
  queues: Record<QueueName, Queue>,
  config: ScheduleConfigOf['upkeep'] & ScheduleConfigOf['renewals'],
): Promise<void> {
  await upsertSchedules(queues.alerts, 'alerts', config);
  await upsertSchedules(queues.upkeep, 'upkeep', config);
  await upsertSchedules(queues.renewals, 'renewals', config);
}

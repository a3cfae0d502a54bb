import type { PsaCallBudgetOf } from '../app/psa/connections';
import type { HubConfig } from '../config/env';
import type { RedisConnection } from '../lib/redis';
import { callsPerWindow, waitingCallBudget } from '../workers/psa-rate-limit';

/**
 * The call budget of PSA work outside the delivery runs (issue 16: Autotask counts every request of
 * the integration, so the status poll, the reference import, the webhook registration and the
 * connection test take their calls from the connection's sliding window, workers/psa-rate-limit.ts,
 * like the deliveries). Each call waits for its slot, up to `maxWaitMs` in all; then the work fails
 * with the reason and `retryHint`.
 */
export function psaCallBudgetFor(
  redis: RedisConnection,
  config: Pick<HubConfig, 'HUB_QUEUE_PREFIX' | 'HUB_PSA_AUTOTASK_RATE_PER_HOUR'>,
  opts: { maxWaitMs?: number; retryHint?: string } = {},
): PsaCallBudgetOf {
  return (row) => waitingCallBudget(redis, config.HUB_QUEUE_PREFIX, row.name, callsPerWindow(row, config.HUB_PSA_AUTOTASK_RATE_PER_HOUR), opts.maxWaitMs, undefined, opts.retryHint);
}

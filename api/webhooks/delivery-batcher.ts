import type { Knex } from 'knex';
import { HubError } from '../../core/errors';
import { isDatabaseBusy } from '../../db/pg-errors';
import { storeDeliveries, type NewDelivery, type StoredDelivery } from '../../db/queries/inbox';

interface Pending {
  delivery: NewDelivery;
  resolve: (stored: StoredDelivery) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for the webhook intake (R-ALR-1). A request's delivery is stored at once when no
 * statement is running; deliveries that arrive while `maxInFlight` statements run wait and then go
 * together, in one statement and one commit (storeDeliveries). Under load that turns hundreds of
 * small INSERT statements a second into a few dozen larger ones — Postgres spent most of its CPU
 * on per-statement work — and an idle hub adds no delay. Every request still gets its answer only
 * after its own rows are committed. A statement that fails for a group is retried per delivery, so
 * one bad delivery fails alone.
 *
 * The waiting line is bounded (issue 13 item 6): when Postgres is slower than the senders (a lock
 * held elsewhere, an outage until the connection limits end each wait), at most `maxQueued`
 * deliveries and `maxQueuedBytes` of raw body wait in memory; past that a delivery is refused at
 * once with 503 and Retry-After — the sender keeps it and retries — instead of the process growing
 * until it dies and loses everything it held.
 */
export class DeliveryBatcher {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private inFlight = 0;

  constructor(
    private readonly db: Knex,
    private readonly opts: {
      maxInFlight?: number;
      maxAlerts?: number;
      maxDeliveries?: number;
      /** Deliveries waiting (not yet in a statement) at most. @defaultValue 1000 */
      maxQueued?: number;
      /** Raw body bytes of the waiting deliveries at most. @defaultValue 32 MiB */
      maxQueuedBytes?: number;
      /** The Retry-After of a refused delivery. @defaultValue 1 */
      retryAfterSeconds?: number;
    } = {},
  ) {}

  /** Deliveries waiting for a statement now (for tests and metrics). */
  get waiting(): number {
    return this.queue.length;
  }

  store(delivery: NewDelivery): Promise<StoredDelivery> {
    const maxQueued = this.opts.maxQueued ?? 1000;
    const maxQueuedBytes = this.opts.maxQueuedBytes ?? 32 * 1024 * 1024;
    // A delivery goes straight into a statement when one may start; only a waiting one counts.
    const willWait = this.inFlight >= (this.opts.maxInFlight ?? 2) || this.queue.length > 0;
    if (willWait && (this.queue.length >= maxQueued || this.queuedBytes + delivery.bodyBytes > maxQueuedBytes)) {
      return Promise.reject(
        new HubError('NOT_READY', 'the intake is busy storing earlier deliveries; retry later', {
          retryAfterSeconds: this.opts.retryAfterSeconds ?? 1,
        }),
      );
    }
    return new Promise<StoredDelivery>((resolve, reject) => {
      this.queue.push({ delivery, resolve, reject });
      this.queuedBytes += delivery.bodyBytes;
      this.pump();
    });
  }

  private pump(): void {
    const maxInFlight = this.opts.maxInFlight ?? 2;
    const maxAlerts = this.opts.maxAlerts ?? 2000;
    const maxDeliveries = this.opts.maxDeliveries ?? 200;
    while (this.inFlight < maxInFlight && this.queue.length > 0) {
      let alerts = 0;
      let n = 0;
      while (n < this.queue.length && n < maxDeliveries) {
        const size = this.queue[n]!.delivery.alerts.length;
        if (n > 0 && alerts + size > maxAlerts) break;
        alerts += size;
        n += 1;
      }
      const group = this.queue.splice(0, n);
      for (const p of group) this.queuedBytes -= p.delivery.bodyBytes;
      this.inFlight += 1;
      void this.run(group).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async run(group: Pending[]): Promise<void> {
    try {
      const stored = await storeDeliveries(
        this.db,
        group.map((p) => p.delivery),
      );
      group.forEach((p, i) => p.resolve(stored[i]!));
    } catch (err) {
      // A busy database (a connection limit ended the wait) fails every delivery alike: retrying
      // each alone would only make every request of the group wait the limit once more.
      if (group.length === 1 || isDatabaseBusy(err)) {
        for (const p of group) p.reject(err);
        return;
      }
      // One delivery's data may have failed the group: each on its own, so only that one fails.
      await Promise.all(
        group.map((p) =>
          storeDeliveries(this.db, [p.delivery]).then(
            (s) => p.resolve(s[0]!),
            (e: unknown) => p.reject(e),
          ),
        ),
      );
    }
  }
}

import type { Knex } from 'knex';
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
 */
export class DeliveryBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Knex,
    private readonly opts: { maxInFlight?: number; maxAlerts?: number; maxDeliveries?: number } = {},
  ) {}

  store(delivery: NewDelivery): Promise<StoredDelivery> {
    return new Promise<StoredDelivery>((resolve, reject) => {
      this.queue.push({ delivery, resolve, reject });
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
      if (group.length === 1) {
        group[0]!.reject(err);
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

import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';
import { getSourceByName, listSourceNames, type SourceRecord } from '../../db/queries/sources';
import { HubError } from '../../core/errors';
import { SOURCE_NAME, getPlugin } from '../../plugins';
import { joinAuth, type SourceAuth } from '../../plugins/auth';
import { decryptSecrets, sourceSecretsContext } from '../../plugins/auth/secret-box';
import type { HubPlugin } from '../../plugins/types';

export interface LiveSource {
  row: SourceRecord;
  plugin: HubPlugin<unknown>;
  auth: SourceAuth;
}

export interface SourceCacheOptions {
  /** How long the set of names and each looked-up source are trusted (HUB_SOURCE_REFRESH_MS). @defaultValue 5000 */
  ttlMs?: number;
  /** Most sources kept (HUB_SOURCE_CACHE_MAX); the least recently used go first. @defaultValue 1000 */
  max?: number;
  /** Clock for the TTLs. @defaultValue Date.now */
  now?: () => number;
}

/**
 * The webhook intake's view of the sources (issue 13 item 3). `/hooks/:source` is reachable by
 * anyone, so what an unauthenticated name costs must not grow with the names an attacker invents:
 *
 * - a name outside the sources' grammar (plugins SOURCE_NAME) is refused before anything else;
 * - a name that is not in the set of existing names is refused without a query and without an
 *   entry: the set (every source's name, one `select name` per `ttlMs`, shared by all concurrent
 *   requests) is the negative cache, and its size is the number of real sources;
 * - a real name is looked up once (concurrent requests for it share the lookup), decrypted and
 *   validated once, and kept for `ttlMs` in an LRU of at most `max` entries — a disabled source or
 *   one whose plugin is gone is kept as a negative entry the same way.
 *
 * A source created or edited through this process is known at once (`invalidate`, called by the
 * sources API); one created, edited or disabled through another API process within `ttlMs`.
 */
export class SourceCache {
  private readonly entries: LRUCache<string, { at: number; value: LiveSource | null }>;
  private readonly lookups = new Map<string, Promise<LiveSource | null>>();
  private names: Set<string> | null = null;
  private namesAt = 0;
  private namesLoad: Promise<Set<string>> | null = null;
  /** Names invalidate() made known, with when: kept across a refresh whose snapshot may predate them. */
  private readonly added = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Knex,
    private readonly secretKeys: string | readonly string[],
    opts: SourceCacheOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 5000;
    this.now = opts.now ?? Date.now;
    this.entries = new LRUCache({ max: opts.max ?? 1000 });
  }

  /** The live source of `name`, or null when there is none that may receive webhooks (unknown, disabled). */
  async get(name: string): Promise<LiveSource | null> {
    if (!SOURCE_NAME.test(name)) return null;
    const names = await this.knownNames();
    if (!names.has(name)) return null;
    const hit = this.entries.get(name);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const running = this.lookups.get(name);
    if (running) return running;
    const lookup = this.lookUp(name).finally(() => this.lookups.delete(name));
    this.lookups.set(name, lookup);
    return lookup;
  }

  /**
   * Forgets what is known about `name` and takes it as existing until the next refresh of the
   * names says otherwise (the sources API calls this after a create, edit, rename or delete, so
   * the change applies on this process at once). Without a name: forgets everything.
   */
  invalidate(name?: string): void {
    if (name === undefined) {
      this.entries.clear();
      this.namesAt = 0;
      return;
    }
    this.entries.delete(name);
    if (!SOURCE_NAME.test(name)) return;
    this.names?.add(name);
    this.added.set(name, this.now());
  }

  /** Entries kept now (for tests: the cap holds). */
  get size(): number {
    return this.entries.size;
  }

  private async lookUp(name: string): Promise<LiveSource | null> {
    const at = this.now();
    const row = await getSourceByName(this.db, name);
    const value = row && row.enabled ? this.build(row) : null;
    this.entries.set(name, { at, value });
    return value;
  }

  private async knownNames(): Promise<Set<string>> {
    if (this.names && this.now() - this.namesAt < this.ttlMs) return this.names;
    this.namesLoad ??= this.loadNames().finally(() => {
      this.namesLoad = null;
    });
    return this.namesLoad;
  }

  private async loadNames(): Promise<Set<string>> {
    const at = this.now();
    try {
      const names = new Set(await listSourceNames(this.db));
      // A name made known by invalidate() while the query ran is kept: its source may be newer than the snapshot.
      for (const [n, when] of this.added) {
        if (when >= at) names.add(n);
        else this.added.delete(n);
      }
      this.names = names;
      this.namesAt = at;
      return names;
    } catch (err) {
      // Postgres unreachable or busy: the last known names stay in use (retried on the next
      // request after a short pause, not once per request); without any, nobody can be verified.
      if (this.names) {
        this.namesAt = at - this.ttlMs + Math.min(1000, this.ttlMs);
        return this.names;
      }
      throw new HubError('NOT_READY', 'webhook sources cannot be loaded yet; retry later', { retryAfterSeconds: 2 }, { cause: err });
    }
  }

  private build(row: SourceRecord): LiveSource | null {
    const plugin = getPlugin(row.plugin);
    if (!plugin) return null;
    const secrets = decryptSecrets(row.auth_secrets_enc, this.secretKeys, sourceSecretsContext(row.name));
    const auth = joinAuth({ ...row.auth_settings, type: row.auth_type }, secrets);
    return { row, plugin, auth };
  }
}

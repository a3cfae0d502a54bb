import type { Knex } from 'knex';
import { getSource, type SourceRecord } from '../../db/queries/sources';
import { getPlugin } from '../../plugins';
import { joinAuth, type SourceAuth } from '../../plugins/auth';
import { decryptSecrets, sourceSecretsContext } from '../../plugins/auth/secret-box';
import type { HubPlugin } from '../../plugins/types';

export interface LiveSource {
  row: SourceRecord;
  plugin: HubPlugin<unknown>;
  auth: SourceAuth;
}

/**
 * Sources by name, decrypted and validated once, kept for `ttlMs` so the webhook path does no
 * query for them (an edit takes effect within the TTL in every API process).
 */
export class SourceCache {
  private readonly entries = new Map<string, { at: number; value: LiveSource | null }>();

  constructor(
    private readonly db: Knex,
    private readonly secretKeys: string | readonly string[],
    private readonly ttlMs = 5000,
  ) {}

  async get(name: string, now = Date.now()): Promise<LiveSource | null> {
    const hit = this.entries.get(name);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const row = /^[a-z0-9][a-z0-9_-]{0,62}$/.test(name) && !/^\d+$/.test(name) ? await getSource(this.db, name) : undefined;
    const value = row && row.enabled ? this.build(row) : null;
    this.entries.set(name, { at: now, value });
    return value;
  }

  invalidate(name?: string): void {
    if (name) this.entries.delete(name);
    else this.entries.clear();
  }

  private build(row: SourceRecord): LiveSource | null {
    const plugin = getPlugin(row.plugin);
    if (!plugin) return null;
    const secrets = decryptSecrets(row.auth_secrets_enc, this.secretKeys, sourceSecretsContext(row.name));
    const auth = joinAuth({ ...row.auth_settings, type: row.auth_type }, secrets);
    return { row, plugin, auth };
  }
}

import fs from 'node:fs';
import type { Knex } from 'knex';
import { HubError } from '../../core/errors';
import { getSource, insertSource, updateSource, type SourceWrite } from '../../db/queries/sources';
import { sourcesFileSchema, type SourceConfig } from '../../plugins';
import { encryptSecrets, sourceSecretsContext, splitAuth } from '../../plugins/auth';
import { issuesToProblems } from '../../plugins/payload-error';
import type { Logger } from '../../lib/logger';

/**
 * A source as the API or the sources file declares it → the row to write, its secrets encrypted
 * with the newest key and bound to the source's name (issue 13 item 8).
 */
export function sourceWriteOf(s: SourceConfig, secretKeys: string | readonly string[]): SourceWrite {
  const { settings, secrets } = splitAuth(s.auth);
  const { type, ...rest } = settings;
  return {
    name: s.name,
    plugin: s.plugin,
    config: s.config ?? {},
    authType: type,
    authSettings: rest,
    authSecretsEnc: encryptSecrets(secrets, secretKeys, sourceSecretsContext(s.name)),
    siteField: s.siteField ?? null,
    maxBodyBytes: s.maxBodyBytes ?? null,
    rateLimitPerSecond: s.rateLimitPerSecond ?? null,
    enabled: s.enabled ?? true,
  };
}

/**
 * HUB_SOURCES_FILE (SPEC §8: "sources may also be declared in a config file; the API and the file
 * mean the same"): validated whole before anything is written, then applied in one transaction —
 * file sources are created or updated (origin 'file'); a file source no longer in the file is
 * disabled, not deleted (its deliveries stay). A name the API already owns is refused.
 */
export async function applySourcesFile(db: Knex, file: string, secretKeys: string | readonly string[], logger: Logger): Promise<{ created: number; updated: number; disabled: number }> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new HubError('VALIDATION_FAILED', `HUB_SOURCES_FILE ${file}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HubError('VALIDATION_FAILED', `HUB_SOURCES_FILE ${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = sourcesFileSchema.safeParse(json);
  if (!parsed.success) {
    const first = issuesToProblems(parsed.error.issues, [])[0];
    throw new HubError('VALIDATION_FAILED', `HUB_SOURCES_FILE ${file}: ${first?.field ?? '?'}: ${first?.message ?? 'invalid'}`);
  }
  const counts = { created: 0, updated: 0, disabled: 0 };
  await db.transaction(async (trx) => {
    const names = new Set<string>();
    for (const s of parsed.data.sources) {
      names.add(s.name);
      const existing = await getSource(trx, s.name);
      const write = sourceWriteOf(s, secretKeys);
      if (!existing) {
        const row = await insertSource(trx, write);
        await trx('sources').where({ id: row.id }).update({ origin: 'file' });
        counts.created++;
      } else if (existing.origin !== 'file') {
        throw new HubError('CONFLICT', `HUB_SOURCES_FILE ${file}: source "${s.name}" already exists and is managed through the API`);
      } else {
        await updateSource(trx, existing.id, write);
        counts.updated++;
      }
    }
    const gone = (await trx('sources').where({ origin: 'file', enabled: true }).whereNotIn('name', [...names]).update({ enabled: false, updated_at: trx.fn.now() })) as number;
    counts.disabled = gone;
  });
  logger.info({ file, ...counts }, 'sources file applied');
  return counts;
}

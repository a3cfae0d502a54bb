import type { Knex } from 'knex';
import { countSources, getSealedSecrets, listSealedSecretsAfter, replaceSealedSecrets } from '../../db/queries/sources';
import { decryptSecrets, encryptSecrets, sealedFormat, sourceSecretsContext } from '../../plugins/auth/secret-box';

export interface ReencryptProgress {
  done: number;
  total: number;
}

export interface ReencryptSummary {
  /** Sources looked at. */
  total: number;
  /** Sealed again with the newest key, bound to the source. */
  reencrypted: number;
  /** Already sealed with the newest key and bound (nothing written: running it again changes nothing). */
  alreadyCurrent: number;
  /** Of the re-encrypted ones, how many were legacy v1 values bound to no source. */
  legacyUnbound: number;
  /** No key of the list opens them (or they belong to another source): left unchanged, named here. */
  failed: { id: string; name: string }[];
}

const PAGE = 200;
// A row edited between our read and our write is read again; more misses than this means an edit loop elsewhere.
const MAX_ATTEMPTS = 5;

/**
 * `hub secrets reencrypt` (issue 13 item 8): every source's secrets sealed with the newest key of
 * HUB_SECRET_KEYS and bound to the source's name, so the older keys can then be dropped from the
 * list. Idempotent (a value already current is not rewritten), row by row with a compare-and-set
 * (a concurrent edit through the API is never overwritten, nothing is half-written), and it never
 * changes a value it cannot open: those are reported, and the old key must stay until they are fixed.
 */
export async function reencryptSourceSecrets(deps: {
  db: Knex;
  keys: readonly string[];
  dryRun?: boolean;
  onProgress?: (p: ReencryptProgress) => void;
}): Promise<ReencryptSummary> {
  const newest = deps.keys.slice(0, 1);
  const summary: ReencryptSummary = { total: await countSources(deps.db), reencrypted: 0, alreadyCurrent: 0, legacyUnbound: 0, failed: [] };
  let done = 0;
  let after = '0';
  for (;;) {
    const page = await listSealedSecretsAfter(deps.db, after, PAGE);
    if (page.length === 0) break;
    for (const row of page) {
      const outcome = await reencryptOne(deps.db, row, deps.keys, newest, deps.dryRun === true);
      if (outcome === 'failed') summary.failed.push({ id: String(row.id), name: row.name });
      else if (outcome === 'current') summary.alreadyCurrent++;
      else {
        summary.reencrypted++;
        if (outcome === 'legacy') summary.legacyUnbound++;
      }
      done++;
      deps.onProgress?.({ done, total: Math.max(summary.total, done) });
    }
    after = String(page[page.length - 1]!.id);
  }
  summary.total = done;
  return summary;
}

async function reencryptOne(
  db: Knex,
  first: { id: string; name: string; auth_secrets_enc: string },
  keys: readonly string[],
  newest: readonly string[],
  dryRun: boolean,
): Promise<'current' | 'reencrypted' | 'legacy' | 'failed'> {
  let row = first;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const context = sourceSecretsContext(row.name);
    const format = sealedFormat(row.auth_secrets_enc);
    if (format === 'v2' && opens(row.auth_secrets_enc, newest, context)) return 'current';
    let secrets: Record<string, unknown>;
    try {
      secrets = decryptSecrets(row.auth_secrets_enc, keys, context);
    } catch {
      return 'failed';
    }
    const outcome = format === 'v1' ? 'legacy' : 'reencrypted';
    if (dryRun) return outcome;
    if (await replaceSealedSecrets(db, row.id, row.auth_secrets_enc, encryptSecrets(secrets, newest, context))) return outcome;
    // Changed meanwhile: look at what is there now.
    const fresh = await getSealedSecrets(db, row.id);
    // Deleted meanwhile: nothing left to re-encrypt.
    if (!fresh) return 'current';
    row = fresh;
  }
  return 'failed';
}

function opens(sealed: string, keys: readonly string[], context: string): boolean {
  try {
    decryptSecrets(sealed, keys, context);
    return true;
  } catch {
    return false;
  }
}

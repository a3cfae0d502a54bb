import type { Knex } from 'knex';
import type { Db } from '../connection';
import type { RulesetErrorRow, RulesetRow } from '../tables';

/**
 * Rulesets (R-RUL-3): every ruleset that goes live is a row (version, content hash, content,
 * when, by whom) and tickets carry its version. The database is the source of truth that lets
 * several worker processes converge on one version; errors of rejected rulesets are rows too,
 * so `GET /rules/status` can show them from any process.
 */

export interface RulesetRecord {
  version: number;
  contentHash: string;
  /** ISO 8601 instant. */
  activatedAt: string;
  activatedBy: string;
}

export interface StoredRuleset extends RulesetRecord {
  content: unknown;
  /** The file texts as saved (`[{ name, text }]`), or null (recorded before texts were kept). */
  files: unknown;
  message: string | null;
}

/** One version in the history list (without content). */
export interface RulesetVersionHead extends RulesetRecord {
  message: string | null;
}

export interface RulesetErrorRecord {
  id: string;
  contentHash: string;
  errors: unknown;
  detectedAt: string;
  detectedBy: string;
  /** When a good ruleset was loaded after it; null while the error is pending. */
  resolvedAt: string | null;
}

// resolved_at comes from migration 20261123053000_ruleset_reactivation.
type ErrorRow = RulesetErrorRow & { resolved_at: Date | null };

// Serialises activations (and error records) across processes: version = max + 1 is only safe under it.
const LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('hub.rulesets'))";

type HeadRow = Pick<RulesetRow, 'version' | 'content_hash' | 'activated_at' | 'activated_by'>;

const toRecord = (r: HeadRow): RulesetRecord => ({
  version: r.version,
  contentHash: r.content_hash,
  activatedAt: new Date(r.activated_at).toISOString(),
  activatedBy: r.activated_by,
});

const toErrorRecord = (r: ErrorRow): RulesetErrorRecord => ({
  id: String(r.id),
  contentHash: r.content_hash,
  errors: r.errors,
  detectedAt: new Date(r.detected_at).toISOString(),
  detectedBy: r.detected_by,
  resolvedAt: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
});

const NEWEST_FIRST = [
  { column: 'detected_at', order: 'desc' },
  { column: 'id', order: 'desc' },
] as const;

/**
 * The names and codes that exist, per table. The rules validator's `RefCatalog`
 * (rules/engine/types.ts) has exactly this shape: db/ states what it returns instead of importing
 * the engine's vocabulary (db/ imports only core/), and the engine accepts it as it is.
 */
export interface RefNames {
  contracts: Set<string>;
  services: Set<string>;
  slas: Set<string>;
}

/** Names and codes of contracts, services and SLAs: what a rules file may reference. */
export async function loadRefCatalog(db: Db): Promise<RefNames> {
  const [contracts, services, slas] = await Promise.all(
    ['contracts', 'services', 'slas'].map(async (table) => {
      const rows = (await db(table).select('name', 'code')) as Array<{ name: string; code: string | null }>;
      const set = new Set<string>();
      for (const r of rows) {
        set.add(r.name);
        if (r.code) set.add(r.code);
      }
      return set;
    }),
  );
  return { contracts: contracts ?? new Set(), services: services ?? new Set(), slas: slas ?? new Set() };
}

/**
 * Records a ruleset going live: a new version (max + 1), unless the latest version already has
 * this content hash — then that version is returned (`created: false`). Safe when several
 * processes record the same files at once: they all end up with the one version. A hash that was
 * live earlier and comes back (an edit reverted) gets a new version.
 */
export async function recordRuleset(
  db: Db,
  input: { contentHash: string; content: unknown; activatedBy: string; files?: ReadonlyArray<{ name: string; text: string }> | undefined },
): Promise<RulesetRecord & { created: boolean }> {
  return db.transaction(async (trx) => {
    await lockRulesets(trx);
    const latest = (await trx('rulesets')
      .select('version', 'content_hash', 'activated_at', 'activated_by')
      .orderBy('version', 'desc')
      .first()) as HeadRow | undefined;
    if (latest && latest.content_hash === input.contentHash) return { ...toRecord(latest), created: false };
    const row = await insertRulesetVersion(trx, { ...input, version: (latest?.version ?? 0) + 1, message: null });
    return { ...row, created: true };
  });
}

/**
 * Serialises activations across processes until the transaction ends: a caller that checks the
 * latest version and then inserts the next one (the API's save) holds it for both.
 */
export async function lockRulesets(trx: Knex.Transaction): Promise<void> {
  await trx.raw(LOCK_SQL);
}

/** Inserts one version row; the caller holds {@link lockRulesets} and chose `version` = latest + 1. */
export async function insertRulesetVersion(
  trx: Knex.Transaction,
  input: {
    version: number;
    contentHash: string;
    content: unknown;
    activatedBy: string;
    files?: ReadonlyArray<{ name: string; text: string }> | undefined;
    message: string | null;
  },
): Promise<RulesetRecord> {
  const [row] = (await trx('rulesets')
    .insert({
      version: input.version,
      content_hash: input.contentHash,
      content: trx.raw('?::jsonb', [JSON.stringify(input.content)]),
      activated_by: input.activatedBy,
      files: input.files ? trx.raw('?::jsonb', [JSON.stringify(input.files)]) : null,
      message: input.message,
    })
    .returning(['version', 'content_hash', 'activated_at', 'activated_by'])) as HeadRow[];
  if (!row) throw new Error('insert into rulesets returned no row');
  return toRecord(row);
}

/** The history, newest first, with the total count. */
export async function listRulesetVersions(db: Db, page: { limit: number; offset: number }): Promise<{ items: RulesetVersionHead[]; total: number }> {
  const [rows, count] = await Promise.all([
    db('rulesets')
      .select('version', 'content_hash', 'activated_at', 'activated_by', 'message')
      .orderBy('version', 'desc')
      .limit(page.limit)
      .offset(page.offset) as Promise<Array<HeadRow & { message: string | null }>>,
    db('rulesets').count({ n: '*' }).first() as Promise<{ n: string | number } | undefined>,
  ]);
  return { items: rows.map((r) => ({ ...toRecord(r), message: r.message })), total: Number(count?.n ?? 0) };
}

/** The latest version without its content: what each process polls. */
export async function latestRulesetHead(db: Db): Promise<RulesetRecord | null> {
  const row = (await db('rulesets')
    .select('version', 'content_hash', 'activated_at', 'activated_by')
    .orderBy('version', 'desc')
    .first()) as HeadRow | undefined;
  return row ? toRecord(row) : null;
}

export async function latestRuleset(db: Db): Promise<StoredRuleset | null> {
  const row = (await db('rulesets').select('*').orderBy('version', 'desc').first()) as RulesetRow | undefined;
  return row ? storedOf(row) : null;
}

export async function rulesetByVersion(db: Db, version: number): Promise<StoredRuleset | null> {
  const row = (await db('rulesets').select('*').where('version', version).first()) as RulesetRow | undefined;
  return row ? storedOf(row) : null;
}

const storedOf = (row: RulesetRow): StoredRuleset => ({ ...toRecord(row), content: row.content, files: row.files, message: row.message });

/**
 * Records that a ruleset was refused. Several processes watching the same files all detect the
 * same bad edit; while it is pending it is recorded once.
 */
export async function recordRulesetError(
  db: Db,
  input: { contentHash: string; errors: unknown; detectedBy: string },
): Promise<RulesetErrorRecord & { created: boolean }> {
  return db.transaction(async (trx) => {
    await trx.raw(LOCK_SQL);
    const pending = (await trx('ruleset_errors').select('*').whereNull('resolved_at').orderBy([...NEWEST_FIRST]).first()) as ErrorRow | undefined;
    if (pending && pending.content_hash === input.contentHash) return { ...toErrorRecord(pending), created: false };
    const [row] = (await trx('ruleset_errors')
      .insert({
        content_hash: input.contentHash,
        errors: trx.raw('?::jsonb', [JSON.stringify(input.errors)]),
        detected_by: input.detectedBy,
      })
      .returning('*')) as ErrorRow[];
    if (!row) throw new Error('insert into ruleset_errors returned no row');
    return { ...toErrorRecord(row), created: true };
  });
}

/** A good ruleset was loaded: pending errors are history now. Returns how many were pending. */
export async function resolveRulesetErrors(db: Db): Promise<number> {
  return db('ruleset_errors').whereNull('resolved_at').update({ resolved_at: db.fn.now() });
}

/** The newest error (or the newest pending one). */
export async function latestRulesetError(db: Db, opts: { pendingOnly?: boolean } = {}): Promise<RulesetErrorRecord | null> {
  const q = db('ruleset_errors').select('*').orderBy([...NEWEST_FIRST]);
  if (opts.pendingOnly) q.whereNull('resolved_at');
  const row = (await q.first()) as ErrorRow | undefined;
  return row ? toErrorRecord(row) : null;
}

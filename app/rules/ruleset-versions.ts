import { z } from 'zod';
import { HubError } from '../../core/errors';
import type { Db } from '../../db/connection';
import { listRulesetVersions, rulesetByVersion, type StoredRuleset } from '../../db/queries/rulesets';

/**
 * The rules editor's reads (issue 15 item 9, issue 17 item 2): the live ruleset with its files'
 * texts, the history of versions, one version with its files. Every version that went live is a
 * row of `rulesets` (R-RUL-3); its texts are those saved (API) or read (RULES_DIR) at the time.
 */

export interface RulesFileText {
  name: string;
  /** The file's text. */
  content: string;
}

export interface RulesetVersionView {
  version: number;
  contentHash: string;
  createdAt: string;
  createdBy: string;
  message: string | null;
  live: boolean;
}

export interface RulesetVersionDetail extends RulesetVersionView {
  files: RulesFileText[];
}

const storedTexts = z.array(z.object({ name: z.string(), text: z.string() }));
const storedContent = z.object({ files: z.array(z.object({ name: z.string(), content: z.unknown() })) });

/**
 * The texts of a stored version. Versions recorded before texts were kept (migration
 * 20261206182000) show their parsed content pretty-printed: the same rules, not the same bytes.
 */
export function versionFiles(stored: Pick<StoredRuleset, 'version' | 'files' | 'content'>): RulesFileText[] {
  const texts = storedTexts.safeParse(stored.files);
  if (texts.success) return texts.data.map((f) => ({ name: f.name, content: f.text }));
  const content = storedContent.safeParse(stored.content);
  if (!content.success) throw new HubError('INTERNAL', `stored ruleset version ${stored.version} has an unreadable content`);
  return content.data.files.map((f) => ({ name: f.name, content: `${JSON.stringify(f.content, null, 2)}\n` }));
}

const viewOf = (s: Pick<StoredRuleset, 'version' | 'contentHash' | 'activatedAt' | 'activatedBy' | 'message'>, liveVersion: number | null): RulesetVersionView => ({
  version: s.version,
  contentHash: s.contentHash,
  createdAt: s.activatedAt,
  createdBy: s.activatedBy,
  message: s.message,
  live: s.version === liveVersion,
});

/** One version with its files; 404 when there is none. `liveVersion`: the version this process decides with. */
export async function getRulesetVersion(db: Db, version: number, liveVersion: number | null): Promise<RulesetVersionDetail> {
  const stored = await rulesetByVersion(db, version);
  if (!stored) throw new HubError('NOT_FOUND', `ruleset version ${version} not found`);
  return { ...viewOf(stored, liveVersion), files: versionFiles(stored) };
}

export async function listRulesetHistory(
  db: Db,
  page: { limit: number; offset: number },
  liveVersion: number | null,
): Promise<{ items: RulesetVersionView[]; total: number }> {
  const { items, total } = await listRulesetVersions(db, page);
  return { items: items.map((i) => viewOf(i, liveVersion)), total };
}

import fs from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { HubError } from '../../core/errors';
import type { Db } from '../../db/connection';
import {
  latestRulesetError,
  latestRulesetHead,
  loadRefCatalog,
  recordRuleset,
  recordRulesetError,
  resolveRulesetErrors,
  rulesetByVersion,
} from '../../db/queries/rulesets';
import { createLogger, type Logger } from '../../lib/logger';
import { compileRuleset, withMeta, type CompiledRuleset } from './compile';
import { decide } from './decide';
import { explain, type Explanation } from './explain';
import { readRulesDir } from './load-dir';
import type { Decision, DecisionFacts, RefCatalog, RuleIssue } from './types';
import { validateRuleset, type RulesLimits } from './validate';

/**
 * R-RUL-3: the live ruleset of a process. Loading validates and compiles aside, records the
 * ruleset in the database, then swaps one reference — `decide` callers see the old ruleset or
 * the new one, never a half-loaded one. An invalid edit keeps the last good ruleset live and is
 * logged, recorded and shown by `status()`.
 *
 * Several processes converge because the database decides: each records what its files say
 * (the same content gets the same version) and polls the latest version, adopting a newer one by
 * compiling its stored content.
 *
 * One piece (about 360 lines): load, record, swap, watch and follow are one state machine around
 * one reference to the live ruleset; split, the ordering guarantees below would span files.
 */

export interface RulesetStoreOptions {
  db: Db;
  /** RULES_DIR. */
  dir: string;
  /** Names this process in activated_by / detected_by. @defaultValue `<hostname>:<pid>` */
  instance?: string;
  logger?: Logger;
  /** How often the latest version is polled. @defaultValue 2000 */
  pollIntervalMs?: number;
  /** Quiet time after a file event before reloading (editors write in bursts). @defaultValue 250 */
  debounceMs?: number;
  limits?: Partial<RulesLimits>;
}

export interface LiveRulesetInfo {
  version: number;
  contentHash: string;
  activatedAt: string | null;
  activatedBy: string | null;
  ruleCount: number;
  warnings: readonly RuleIssue[];
}

export interface RulesetErrorInfo {
  at: string;
  contentHash: string;
  by: string;
  errors: RuleIssue[];
}

export interface RulesetStatus {
  live: LiveRulesetInfo | null;
  lastError?: RulesetErrorInfo;
  watching: boolean;
  dir: string;
}

export type LoadOutcome =
  | { ok: true; changed: boolean; version: number; contentHash: string; warnings: RuleIssue[] }
  | { ok: false; errors: RuleIssue[]; warnings: RuleIssue[]; contentHash: string; liveVersion: number | null };

const issueSchema = z.object({
  severity: z.enum(['error', 'warning']),
  file: z.string(),
  rule: z.string().nullable(),
  pointer: z.string(),
  message: z.string(),
  line: z.number().optional(),
  column: z.number().optional(),
});
const storedIssues = z.array(issueSchema).catch([]);

const storedContent = z.object({ files: z.array(z.object({ name: z.string(), content: z.unknown() })) });

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class RulesetStore {
  private live: CompiledRuleset | null = null;
  private lastError: RulesetErrorInfo | undefined;
  private watcher: fs.FSWatcher | null = null;
  private wantWatch = false;
  private debounce: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** A stored version that does not compile here (e.g. written by newer code): not retried every poll. */
  private refusedVersion: number | null = null;
  /** Valid files that could not be recorded (database down): loaded again on the next poll. */
  private retryLoad: { dir: string; by: string } | null = null;
  private closed = false;
  readonly dir: string;
  private readonly db: Db;
  private readonly instance: string;
  private readonly logger: Logger;
  private readonly pollIntervalMs: number;
  private readonly debounceMs: number;
  private readonly limits: Partial<RulesLimits> | undefined;

  constructor(opts: RulesetStoreOptions) {
    this.db = opts.db;
    this.dir = opts.dir;
    this.instance = opts.instance ?? `${os.hostname()}:${process.pid}`;
    this.logger = opts.logger ?? createLogger(undefined, 'rules');
    this.pollIntervalMs = opts.pollIntervalMs ?? 2000;
    this.debounceMs = opts.debounceMs ?? 250;
    this.limits = opts.limits;
  }

  /** The live ruleset, or null before the first one went live. */
  current(): CompiledRuleset | null {
    return this.live;
  }

  get ready(): boolean {
    return this.live !== null;
  }

  /** The live ruleset; NOT_READY (503) before one went live. */
  require(): CompiledRuleset {
    if (!this.live) throw new HubError('NOT_READY', 'no ruleset is live yet (see GET /api/v1/rules/status)');
    return this.live;
  }

  decide(facts: DecisionFacts): Decision {
    return decide(this.require(), facts);
  }

  explain(facts: DecisionFacts): Promise<Explanation> {
    return explain(this.require(), facts);
  }

  status(): RulesetStatus {
    const live = this.live;
    return {
      live: live
        ? {
            version: live.version,
            contentHash: live.contentHash,
            activatedAt: live.activatedAt,
            activatedBy: live.activatedBy,
            ruleCount: live.ruleCount,
            warnings: live.warnings,
          }
        : null,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      watching: this.watcher !== null,
      dir: this.dir,
    };
  }

  /** Loads RULES_DIR (falling back to the latest stored version if the files are invalid), then watches. */
  async start(by = `startup:${this.instance}`): Promise<LoadOutcome> {
    const outcome = await this.loadFromDir(this.dir, by);
    if (!this.live) await this.syncFromDb();
    this.watch();
    return outcome;
  }

  /** Read, validate, compile aside, record, swap. Never throws; an invalid ruleset changes nothing live. */
  loadFromDir(dir: string, by: string): Promise<LoadOutcome> {
    return this.serial(() => this.load(dir, by));
  }

  /** Adopts the latest stored version when it is newer than the live one. Resolves true when it swapped. */
  syncFromDb(): Promise<boolean> {
    return this.serial(() => this.sync());
  }

  /** Watches the directory (debounced reload) and polls the database for newer versions. */
  watch(): void {
    if (this.closed) return;
    this.wantWatch = true;
    this.armWatcher();
    if (!this.poller) {
      this.poller = setInterval(() => {
        if (this.wantWatch && !this.watcher) this.armWatcher();
        void this.syncFromDb();
      }, this.pollIntervalMs);
      this.poller.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wantWatch = false;
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.poller) clearInterval(this.poller);
    this.debounce = null;
    this.poller = null;
    await this.queue.catch(() => undefined);
  }

  // ---- internals ----

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private armWatcher(): void {
    try {
      const watcher = fs.watch(this.dir, { persistent: false }, () => this.scheduleReload());
      watcher.on('error', (e) => {
        this.logger.warn({ err: e, dir: this.dir }, 'rules directory watch failed; retrying on the next poll');
        watcher.close();
        if (this.watcher === watcher) this.watcher = null;
      });
      this.watcher = watcher;
    } catch (e) {
      this.logger.warn({ err: e, dir: this.dir }, 'cannot watch the rules directory; retrying on the next poll');
      this.watcher = null;
    }
  }

  private scheduleReload(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      void this.loadFromDir(this.dir, `watch:${this.instance}`);
    }, this.debounceMs);
    this.debounce.unref();
  }

  private swap(next: CompiledRuleset): void {
    // One assignment of a fully built, never-mutated object: the whole swap.
    this.live = next;
  }

  private async refuse(contentHash: string, errors: RuleIssue[], warnings: RuleIssue[], by: string): Promise<LoadOutcome> {
    const liveVersion = this.live?.version ?? null;
    this.lastError = { at: new Date().toISOString(), contentHash, by, errors };
    this.logger.error(
      { contentHash, liveVersion, errors: errors.slice(0, 20), errorCount: errors.length },
      `rules refused (${errors.length} error${errors.length === 1 ? '' : 's'}); ${liveVersion === null ? 'no ruleset is live' : `version ${liveVersion} stays live`}`,
    );
    try {
      const rec = await recordRulesetError(this.db, { contentHash, errors, detectedBy: by });
      this.lastError = { at: rec.detectedAt, contentHash, by: rec.detectedBy, errors };
    } catch (e) {
      this.logger.warn({ err: e }, 'could not record the rules error in the database');
    }
    return { ok: false, errors, warnings, contentHash, liveVersion };
  }

  private async load(dir: string, by: string): Promise<LoadOutcome> {
    this.retryLoad = null;
    let catalog: RefCatalog | null;
    try {
      catalog = await loadRefCatalog(this.db);
    } catch (e) {
      this.logger.warn({ err: e }, 'database unreachable: contract/service/SLA references are not checked');
      catalog = null;
    }
    // Read here (not validateRulesDir) so the texts are recorded with the version as they were validated.
    const read = await readRulesDir(dir, this.limits?.maxFileBytes);
    const validated = validateRuleset(read.files, { catalog, ...(this.limits ? { limits: this.limits } : {}) });
    const result = read.errors.length === 0 ? validated : { ...validated, ruleset: undefined, ok: false, errors: [...read.errors, ...validated.errors] };
    const texts = read.files.map((f) => ({ name: f.name, text: f.text ?? '' }));
    if (!result.ok || !result.ruleset) return this.refuse(result.contentHash, result.errors, result.warnings, by);

    const live = this.live;
    if (live && live.contentHash === result.contentHash) {
      await this.resolveErrors();
      return { ok: true, changed: false, version: live.version, contentHash: live.contentHash, warnings: result.warnings };
    }

    let compiled: CompiledRuleset;
    try {
      compiled = compileRuleset(result.ruleset, { version: 0, contentHash: result.contentHash, warnings: result.warnings });
    } catch (e) {
      const issue: RuleIssue = { severity: 'error', file: dir, rule: null, pointer: '', message: `could not compile: ${reason(e)}` };
      return this.refuse(result.contentHash, [issue], result.warnings, by);
    }
    let record;
    try {
      record = await recordRuleset(this.db, { contentHash: result.contentHash, content: { files: result.ruleset.files }, activatedBy: by, files: texts });
    } catch (e) {
      // "Every ruleset that goes live is recorded": unrecorded, it does not go live.
      const issue: RuleIssue = { severity: 'error', file: '(database)', rule: null, pointer: '', message: `could not record the ruleset: ${reason(e)}` };
      this.lastError = { at: new Date().toISOString(), contentHash: result.contentHash, by, errors: [issue] };
      this.retryLoad = { dir, by };
      this.logger.error({ err: e }, 'rules valid but not recorded (database unreachable); the live ruleset is unchanged until it is');
      return { ok: false, errors: [issue], warnings: result.warnings, contentHash: result.contentHash, liveVersion: live?.version ?? null };
    }
    this.swap(withMeta(compiled, { version: record.version, activatedAt: record.activatedAt, activatedBy: record.activatedBy }));
    await this.resolveErrors();
    this.logger.info(
      { version: record.version, contentHash: record.contentHash, by: record.activatedBy, rules: compiled.ruleCount, warnings: result.warnings.length, created: record.created },
      `ruleset version ${record.version} live`,
    );
    return { ok: true, changed: true, version: record.version, contentHash: record.contentHash, warnings: result.warnings };
  }

  private async resolveErrors(): Promise<void> {
    this.lastError = undefined;
    try {
      await resolveRulesetErrors(this.db);
    } catch (e) {
      this.logger.warn({ err: e }, 'could not mark rules errors resolved');
    }
  }

  private async sync(): Promise<boolean> {
    if (this.closed) return false;
    if (this.retryLoad) {
      const { dir, by } = this.retryLoad;
      const outcome = await this.load(dir, by);
      if (outcome.ok) return outcome.changed;
    }
    try {
      const head = await latestRulesetHead(this.db);
      let swapped = false;
      if (head && (!this.live || head.version > this.live.version) && head.version !== this.refusedVersion) {
        swapped = await this.adopt(head.version);
      }
      const pending = await latestRulesetError(this.db, { pendingOnly: true });
      this.lastError = pending
        ? { at: pending.detectedAt, contentHash: pending.contentHash, by: pending.detectedBy, errors: storedIssues.parse(pending.errors) }
        : undefined;
      return swapped;
    } catch (e) {
      this.logger.warn({ err: e }, 'could not poll the latest ruleset version');
      return false;
    }
  }

  private async adopt(version: number): Promise<boolean> {
    const stored = await rulesetByVersion(this.db, version);
    if (!stored) return false;
    const content = storedContent.safeParse(stored.content);
    const result = content.success ? validateRuleset(content.data.files, this.limits ? { limits: this.limits } : {}) : null;
    if (!result?.ok || !result.ruleset || result.contentHash !== stored.contentHash) {
      this.refusedVersion = version;
      this.logger.error(
        { version, errors: result?.errors.slice(0, 20), hashMatches: result ? result.contentHash === stored.contentHash : false },
        `stored ruleset version ${version} does not compile here; keeping version ${this.live?.version ?? 'none'}`,
      );
      return false;
    }
    this.swap(
      compileRuleset(result.ruleset, {
        version: stored.version,
        contentHash: stored.contentHash,
        activatedAt: stored.activatedAt,
        activatedBy: stored.activatedBy,
        warnings: result.warnings,
      }),
    );
    this.logger.info({ version, contentHash: stored.contentHash, by: stored.activatedBy }, `adopted ruleset version ${version} from the database`);
    return true;
  }
}

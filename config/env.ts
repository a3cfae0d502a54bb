import 'dotenv/config';
import { z } from 'zod';

/**
 * The environment, parsed once at boot (STYLE.md principle 8). Nothing else in the
 * code reads `process.env`; everything takes a `HubConfig` (or a part of it).
 */
const intFrom = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** Days of retention: digits only (an empty or fractional value is an error, not "forever"); 0 keeps forever. */
const daysFrom = (def: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,5}$/, 'must be a whole number of days (0 keeps forever)')
    .default(String(def))
    .transform(Number)
    .refine((n) => n <= 36_500, 'must be at most 36500 days (100 years)');

const redisUrl = z
  .string()
  .min(1)
  .refine(
    (v) =>
      // Sentinels: redis+sentinel://[:pw@]host:port[,host:port…]/masterName (lib/redis.ts parseSentinelUrl).
      /^(redis\+sentinel|sentinel):\/\//.test(v.trim())
        ? /^(redis\+sentinel|sentinel):\/\/([^/@]*@)?[^,/@]+(,\s*((redis\+sentinel|sentinel):\/\/)?[^,/@]+)*(\/[^,/]*)?$/.test(v.trim())
        : v.split(',').every((u) => /^rediss?:\/\//.test(u.trim())),
    'must be redis://host:port (or a comma-separated list of cluster nodes, or redis+sentinel://host:port[,host:port]/masterName)',
  );

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** Postgres connection string. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be postgres://user@host:port/database'),
  /** Redis for BullMQ: one URL, a comma-separated list of cluster nodes, or a sentinel URL. */
  REDIS_URL: redisUrl,
  /** Port of the HTTP API. @defaultValue 3000 */
  PORT: intFrom(3000, 0, 65535),
  /** Host the API binds to. @defaultValue 0.0.0.0 */
  HOST: z.string().default('0.0.0.0'),
  /** Bootstrap admin bearer token (≥ 24 characters); optional once real tokens exist. */
  HUB_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** BullMQ prefix; braces make it a Redis Cluster hash tag so a queue's keys share one slot. @defaultValue {hub} */
  HUB_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}:-]{1,64}$/, 'letters, digits, _ - : { } only')
    .default('{hub}'),
  /** Directory of the rules files. @defaultValue rules/ */
  RULES_DIR: z.string().default('rules/'),
  /**
   * Keys that encrypt source secrets at rest, comma-separated, newest first (each ≥ 32 characters):
   * new values are sealed with the first, every key opens values (rotation; `hub secrets reencrypt`).
   */
  HUB_SECRET_KEYS: z.string().optional(),
  /** One key: the same as HUB_SECRET_KEYS with a single entry (set one of the two). */
  HUB_SECRET_KEY: z.string().optional(),
  /** When set, GET /metrics needs `Authorization: Bearer <this>` (≥ 24 characters). @defaultValue unset: /metrics is open */
  HUB_METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** Optional path of a sources file (JSON) declaring webhook sources, same meaning as POST /api/v1/sources. */
  HUB_SOURCES_FILE: z.string().optional(),
  /** Webhook body cap in bytes. @defaultValue 1048576 */
  HUB_MAX_BODY_BYTES: intFrom(1024 * 1024, 1024, 64 * 1024 * 1024),
  /** Worker concurrency per process. @defaultValue 8 */
  HUB_WORKER_CONCURRENCY: intFrom(8, 1, 256),
  /**
   * Seconds a worker's claim on a job lasts unrenewed (renewed at half-time while the process
   * lives). A job of a worker that died (SIGKILL, lost machine) is handed to another worker after
   * about this long, plus up to the same again for the next stalled-job check (BullMQ
   * `lockDuration` and `stalledInterval`). @defaultValue 30
   */
  HUB_JOB_LOCK_SECONDS: intFrom(30, 1, 600),
  /** Seconds between outbox relay sweeps. @defaultValue 5 */
  HUB_RELAY_INTERVAL_SECONDS: intFrom(5, 1, 3600),
  /** Attempts of an alerts job before it fails (its retry budget, with the backoff). @defaultValue 8 */
  HUB_ALERT_ATTEMPTS: intFrom(8, 1, 50),
  /** First retry delay of an alerts job in ms, doubling per attempt. @defaultValue 500 */
  HUB_ALERT_BACKOFF_MS: intFrom(500, 10, 600_000),
  /** Seconds between receipt sweeps (re-drive receipts whose job is gone; issue 13 item 2). @defaultValue 30 */
  HUB_SWEEPER_INTERVAL_SECONDS: intFrom(30, 1, 3600),
  /**
   * Seconds an unprocessed receipt must have been on the queue before the sweeper looks at its job;
   * doubled after each re-drive (at most 64 times). @defaultValue 60
   */
  HUB_SWEEPER_GRACE_SECONDS: intFrom(60, 1, 86_400),
  /** Re-drives of a receipt before the sweeper dead-letters it with its last error. @defaultValue 10 */
  HUB_SWEEPER_MAX_REDRIVES: intFrom(10, 1, 1000),
  /** Seconds between upkeep runs (stale tickets, maintenance-window ends). @defaultValue 60 */
  HUB_UPKEEP_INTERVAL_SECONDS: intFrom(60, 1, 3600),
  /**
   * How often the PSA status poll (the fallback of status back for PSAs without webhooks) asks each
   * enabled connection for tickets closed there since the last poll. @defaultValue 300
   */
  HUB_PSA_POLL_INTERVAL_SECONDS: intFrom(300, 10, 86_400),
  /**
   * Issue 19, retention (app/retention/, the `retention` upkeep job). Days each kind of data is
   * kept; 0 keeps it forever. Raw payloads: the sender's JSON of each alert (`alerts.raw`), emptied
   * (JSON null) after this many days; the alert itself stays. @defaultValue 30
   */
  HUB_RETENTION_RAW_PAYLOAD_DAYS: daysFrom(30),
  /** Processed receipts (one per delivery of an alert) and the deliveries nothing else refers to. Unprocessed or dead-lettered receipts are never removed. @defaultValue 90 */
  HUB_RETENTION_RECEIPT_DAYS: daysFrom(90),
  /** Alerts without a ticket or whose ticket is resolved or closed, quiet (not re-delivered) for this long. Tickets and their decisions are kept. @defaultValue 365 */
  HUB_RETENTION_ALERT_DAYS: daysFrom(365),
  /** Audit rows, by whole months (monthly partitions dropped once entirely older). @defaultValue 730 */
  HUB_RETENTION_AUDIT_DAYS: daysFrom(730),
  /** Seconds between retention runs. @defaultValue 3600 */
  HUB_RETENTION_INTERVAL_SECONDS: intFrom(3600, 60, 7 * 86_400),
  /** Rows one retention statement deletes or empties (one short transaction each). @defaultValue 5000 */
  HUB_RETENTION_BATCH_ROWS: intFrom(5000, 100, 100_000),
  /** Most batches of each kind per run: a backlog is worked off over several runs, never in one long run. @defaultValue 50 */
  HUB_RETENTION_MAX_BATCHES: intFrom(50, 1, 10_000),
  /** Local time (HH:MM) of the daily renewal run. @defaultValue 00:15 */
  HUB_RENEWAL_TIME: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM')
    .default('00:15'),
  /** IANA zone of the daily renewal run. @defaultValue UTC */
  HUB_RENEWAL_TIMEZONE: z.string().default('UTC'),
  /** How long a worker trusts "no maintenance window can apply" before asking Postgres again (ms). @defaultValue 2000 */
  HUB_MAINTENANCE_CACHE_MS: intFrom(2000, 0, 60_000),
  /** pino log level. @defaultValue info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** pino log level of the demo's in-process hub (`npm run demo`), quieter so its table stays readable. @defaultValue warn */
  DEMO_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  /** Postgres pool size per process. @defaultValue 10 */
  DATABASE_POOL_MAX: intFrom(10, 1, 200),
  /**
   * Limits on the hub's own Postgres connections (API and worker processes; not migrations or
   * one-off CLI commands), so that nothing waits without end (issue 13 item 6). A statement that
   * runs longer than this is cancelled (Postgres `statement_timeout`; 0 = no limit). @defaultValue 30000
   */
  DATABASE_STATEMENT_TIMEOUT_MS: intFrom(30_000, 0, 3_600_000),
  /** Longest wait for a row or table lock another transaction holds (`lock_timeout`; 0 = no limit). @defaultValue 10000 */
  DATABASE_LOCK_TIMEOUT_MS: intFrom(10_000, 0, 3_600_000),
  /** A transaction left idle this long is ended by Postgres, freeing its locks (`idle_in_transaction_session_timeout`; 0 = no limit). @defaultValue 60000 */
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: intFrom(60_000, 0, 3_600_000),
  /** Longest wait for a free connection of the pool before the request fails with 503. @defaultValue 10000 */
  DATABASE_ACQUIRE_TIMEOUT_MS: intFrom(10_000, 100, 600_000),
  /**
   * Deliveries the intake may hold in memory while they wait for their grouped insert; past it,
   * webhooks get 503 with Retry-After instead of piling payloads up in memory. @defaultValue 1000
   */
  HUB_INTAKE_QUEUE_MAX: intFrom(1000, 1, 1_000_000),
  /** The same bound in raw body bytes. @defaultValue 33554432 (32 MiB) */
  HUB_INTAKE_QUEUE_MAX_BYTES: intFrom(32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  /**
   * How long (ms) an API process trusts what it knows about webhook sources: the set of source
   * names (an unknown name is refused without a query) and each decrypted source. A source
   * created, edited or disabled through another API process takes effect here within this; on the
   * process that made the change, at once. @defaultValue 5000
   */
  HUB_SOURCE_REFRESH_MS: intFrom(5000, 100, 600_000),
  /** Most sources an API process keeps decrypted (least recently used go first). @defaultValue 1000 */
  HUB_SOURCE_CACHE_MAX: intFrom(1000, 1, 1_000_000),
  /** Admin API requests per token per minute, per API process (429 with Retry-After past it; 0 = no limit). @defaultValue 1200 */
  HUB_API_RATE_LIMIT_PER_MINUTE: intFrom(1200, 0, 1_000_000),
  /** Sign-in attempts at /admin/login per client address per minute, per API process (429 with Retry-After past it). @defaultValue 10 */
  HUB_LOGIN_RATE_LIMIT_PER_MINUTE: intFrom(10, 1, 10_000),
  /**
   * Issue 16, PSA delivery. Where an Autotask connection without `baseUrl` looks its zone up
   * (`<url>/v1.0/zoneInformation?user=`); tests and the demo point it at a local stand-in.
   * @defaultValue https://webservices.autotask.net/atservicesrest
   */
  HUB_AUTOTASK_ZONE_LOOKUP_URL: z.string().url().default('https://webservices.autotask.net/atservicesrest'),
  /** Timeout of one PSA request (headers and body). @defaultValue 15000 */
  HUB_PSA_TIMEOUT_MS: intFrom(15_000, 100, 300_000),
  /** Attempts of a delivery job before a transient failure fails the delivery (then visible and retryable). @defaultValue 12 */
  HUB_PSA_ATTEMPTS: intFrom(12, 1, 100),
  /** First backoff of a failed delivery; it doubles per attempt. @defaultValue 2000 */
  HUB_PSA_BACKOFF_MS: intFrom(2000, 10, 600_000),
  /** Consecutive transient failures that open a connection's circuit breaker (the queue pauses). @defaultValue 5 */
  HUB_PSA_BREAKER_FAILURES: intFrom(5, 1, 1000),
  /** How long an open breaker pauses the connection before one delivery tries again (doubling while it keeps failing, up to 16×). @defaultValue 30000 */
  HUB_PSA_BREAKER_COOLDOWN_MS: intFrom(30_000, 10, 3_600_000),
  /** How long repeats of a delivered ticket wait to be folded into one note. @defaultValue 15000 */
  HUB_PSA_COALESCE_MS: intFrom(15_000, 0, 3_600_000),
  /** How often each worker process re-enqueues pending deliveries whose job was lost (Redis down, crash). @defaultValue 15000 */
  HUB_PSA_SWEEP_MS: intFrom(15_000, 100, 3_600_000),
  /** PSA calls per hour of an Autotask connection without its own `rateLimitPerHour` (Autotask's threshold is 10,000 per database). @defaultValue 5000 */
  HUB_PSA_AUTOTASK_RATE_PER_HOUR: intFrom(5000, 1, 1_000_000),
});

const MIN_SECRET_KEY_LENGTH = 32;

/**
 * The secret keys as a list (newest first), from HUB_SECRET_KEYS or the one-key HUB_SECRET_KEY.
 * Problems name the variable so parseEnv's one line points at it.
 */
function secretKeysOf(env: { HUB_SECRET_KEYS?: string | undefined; HUB_SECRET_KEY?: string | undefined }): { keys: string[] } | { variable: string; problem: string } {
  const many = env.HUB_SECRET_KEYS?.trim() ? env.HUB_SECRET_KEYS : undefined;
  const one = env.HUB_SECRET_KEY?.trim() ? env.HUB_SECRET_KEY : undefined;
  // Both set is ambiguous (which is newest?): refuse rather than guess.
  if (many !== undefined && one !== undefined) return { variable: 'HUB_SECRET_KEY', problem: 'set either HUB_SECRET_KEYS (a list, newest first) or HUB_SECRET_KEY (one key), not both' };
  if (many === undefined && one === undefined) return { variable: 'HUB_SECRET_KEYS', problem: 'is missing (or give one key as HUB_SECRET_KEY)' };
  const variable = many !== undefined ? 'HUB_SECRET_KEYS' : 'HUB_SECRET_KEY';
  const keys = many !== undefined ? many.split(',').map((k) => k.trim()) : [one!];
  const at = (i: number) => (many !== undefined ? `key ${i + 1} ` : '');
  for (const [i, key] of keys.entries()) {
    if (key.length < MIN_SECRET_KEY_LENGTH) return { variable, problem: `is invalid: ${at(i)}must be at least ${MIN_SECRET_KEY_LENGTH} characters` };
  }
  if (new Set(keys).size !== keys.length) return { variable, problem: 'is invalid: the same key is listed twice' };
  return { keys };
}

/**
 * The values .env.example ships with. Outside development they are refused at start-up: a hub
 * reachable by others with a published admin token or encryption key is open to anyone.
 */
const PLACEHOLDER = /change-?me/i;
const PLACEHOLDER_CHECKED = ['HUB_ADMIN_TOKEN', 'HUB_SECRET_KEYS', 'HUB_SECRET_KEY', 'HUB_METRICS_TOKEN'] as const;

export type HubConfig = Omit<z.infer<typeof envSchema>, 'HUB_SECRET_KEYS' | 'HUB_SECRET_KEY'> & {
  /** Secret keys, newest first (at least one). */
  HUB_SECRET_KEYS: string[];
  /** The newest key: the one new values are encrypted with. */
  HUB_SECRET_KEY: string;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses an environment; throws a ConfigError whose message is one line naming the variable. */
export function parseEnv(env: NodeJS.ProcessEnv): HubConfig {
  const result = envSchema.safeParse(env);
  if (result.success) {
    const keys = secretKeysOf(result.data);
    if ('problem' in keys) throw new ConfigError(`configuration: ${keys.variable} ${keys.problem} (see .env.example)`);
    if (result.data.NODE_ENV !== 'development') {
      const placeholder = PLACEHOLDER_CHECKED.find((name) => PLACEHOLDER.test(result.data[name] ?? ''));
      if (placeholder) {
        throw new ConfigError(
          `configuration: ${placeholder} still holds the placeholder of .env.example; outside NODE_ENV=development set a random value (e.g. openssl rand -base64 36)`,
        );
      }
    }
    return { ...result.data, HUB_SECRET_KEYS: keys.keys, HUB_SECRET_KEY: keys.keys[0]! };
  }
  const issue = result.error.issues[0];
  const name = issue?.path.join('.') ?? '?';
  const missing = env[name] === undefined || env[name] === '';
  throw new ConfigError(
    `configuration: ${name} ${missing ? 'is missing' : `is invalid: ${issue?.message ?? 'bad value'}`} (see .env.example)`,
  );
}

let cached: HubConfig | undefined;
/** The process's configuration, parsed on first use. */
export function loadConfig(): HubConfig {
  cached ??= parseEnv(process.env);
  return cached;
}

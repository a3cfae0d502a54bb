import 'dotenv/config';
import { z } from 'zod';

/**
 * The environment, parsed once at boot (STYLE.md principle 8). Nothing else in the
 * code reads `process.env`; everything takes a `HubConfig` (or a part of it).
 */
const intFrom = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

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
  /** Key that encrypts source secrets at rest (≥ 32 characters). */
  HUB_SECRET_KEY: z.string().min(32, 'must be at least 32 characters'),
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
  /** Postgres pool size per process. @defaultValue 10 */
  DATABASE_POOL_MAX: intFrom(10, 1, 200),
});

export type HubConfig = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses an environment; throws a ConfigError whose message is one line naming the variable. */
export function parseEnv(env: NodeJS.ProcessEnv): HubConfig {
  const result = envSchema.safeParse(env);
  if (result.success) return result.data;
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

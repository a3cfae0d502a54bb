import pino, { stdSerializers, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

const CENSOR = '[redacted]';

/**
 * Paths pino blanks in every log line: secrets must never reach a log (STYLE.md principle 9). The
 * fixed paths are the fast first line; `redactSecrets` (below, run on every emitted line) catches
 * what they cannot: secrets nested at any depth and headers whose names only the configuration
 * knows (a source's custom auth header).
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-hub-token"]',
  'req.headers["x-api-key"]',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.tokens',
  '*.password',
  'auth.secret',
  'auth.secrets',
  'auth.token',
  'auth.password',
];

/**
 * Headers whose values are logged as they are; every other header's value is redacted. An allow
 * list, because a source may carry its secret in any header it likes (`auth.header`), and a deny
 * list would have to learn each of them (issue 13 item 8).
 */
export const LOGGED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'user-agent',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'idempotency-key',
  'x-delivery-id',
  'webhook-id',
  'webhook-timestamp',
]);

// Field names that hold secrets wherever they appear: exact names, and names ending in secret/password/token (webhookSecret, accessToken).
const SECRET_KEYS = new Set(['secret', 'secrets', 'token', 'tokens', 'password', 'passwd', 'authorization', 'cookie', 'set-cookie', 'apikey', 'api_key', 'api-key', 'x-api-key', 'auth_secrets_enc', 'privatekey', 'private_key']);
const SECRET_SUFFIX = /(secret|secrets|password|token|tokens)$/i;
// Names ending in "token" that are not secrets: ids and counts about a token.
const NOT_SECRET = new Set(['csrftokenname']);
const MAX_DEPTH = 12;

const isSecretKey = (key: string): boolean => {
  const k = key.toLowerCase();
  return !NOT_SECRET.has(k) && (SECRET_KEYS.has(k) || SECRET_SUFFIX.test(k));
};

/**
 * A plain object of any realm: Node's own objects (request headers) come from its core realm, whose
 * Object.prototype is not this module's under a test runner's vm context.
 */
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null || (typeof proto === 'object' && Object.getPrototypeOf(proto) === null);
};

/** Header values outside LOGGED_HEADERS replaced; names kept (that a signature header was there helps debugging). */
export function redactHeaders(headers: unknown): unknown {
  if (!isPlainObject(headers)) return headers;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = LOGGED_HEADERS.has(name.toLowerCase()) ? value : CENSOR;
  return out;
}

/**
 * A copy of a log object with secret fields blanked at any depth, and `headers` objects filtered
 * by LOGGED_HEADERS. Only plain objects and arrays are walked: requests, errors and other class
 * instances go through their serializers (which call this on their output).
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== undefined && v !== null && isSecretKey(key)) out[key] = CENSOR;
    else if (key.toLowerCase() === 'headers') out[key] = redactSecrets(redactHeaders(v), depth + 1);
    else out[key] = redactSecrets(v, depth + 1);
  }
  return out;
}

/** pino-http's request serializer (it hands us the already mapped request): headers filtered. */
export const requestSerializer = (req: Record<string, unknown>): unknown => redactSecrets({ ...req, headers: redactHeaders(req.headers) });

// Spread: pino's serialized error has its own prototype; its fields (incl. an error's custom ones) are own properties.
// Many call sites log `err` as a message (a string): kept as it is — spread, a string became {"0":"P","1":"O",…}.
const errorSerializer = (err: unknown): unknown => (typeof err === 'object' && err !== null ? redactSecrets({ ...stdSerializers.err(err as Error) }) : err);

/** The options every logger of the hub uses (tests build their capturing loggers from these too). */
export function loggerOptions(level: string, name = 'hub'): LoggerOptions {
  return {
    name,
    level,
    redact: { paths: redactPaths, censor: CENSOR },
    formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
    serializers: { req: (req: Parameters<typeof stdSerializers.req>[0]) => requestSerializer(stdSerializers.req(req) as unknown as Record<string, unknown>), err: errorSerializer },
  };
}

export function createLogger(level = 'info', name = 'hub', destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(level, name), destination) : pino(loggerOptions(level, name));
}

export type { Logger };

import pino, { type Logger } from 'pino';

/** Paths pino blanks in every log line: secrets must never reach a log (STYLE.md principle 9). */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-token"]',
  'req.headers["x-api-key"]',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.password',
  'auth.secret',
  'auth.secrets',
  'auth.token',
  'auth.password',
];

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'hub'): Logger {
  return pino({ name, level, redact: { paths: redactPaths, censor: '[redacted]' } });
}

export type { Logger };

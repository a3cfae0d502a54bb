import { z } from 'zod';
import { HubError } from '../../core/errors';
import { issuesToProblems } from '../payload-error';
import type { AuthType } from '../types';

/**
 * How a source's sender proves who it is (R-ALR-1), described as data (Trigger.dev style): one
 * zod discriminated union, secrets marked so the API can strip them and the DB can encrypt them.
 * Defaults live in verify-sender.ts and are documented here with @defaultValue, so what an admin
 * configured is exactly what GET shows back.
 */

// RFC 9110 token characters: what a header name may contain.
const headerName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name such as x-hub-token');

// Short secrets are guessable offline from one signed request; 8 is the floor, 32+ random characters is the advice.
const secretValue = z.string().min(8, 'must be at least 8 characters (use 32+ random characters)').max(1024);
const MAX_ROTATION = 5;

/**
 * What an HMAC signature covers (issue 13 item 4). Replay protection is the default: a captured
 * request replayed later must not pass, so the signed material carries a timestamp that is checked
 * against a tolerance. `body-only` is the explicit opt-out for senders that cannot sign a time.
 */
export const HMAC_SCHEMES = ['timestamped', 'standard-webhooks', 'body-only'] as const;
export type HmacScheme = (typeof HMAC_SCHEMES)[number];

export const hmacAuthSchema = z
  .strictObject({
    type: z.literal('hmac'),
    /** The shared signing secret. Secret. */
    secret: secretValue.optional(),
    /** Several secrets accepted at once, for key rotation. Secret. */
    secrets: z.array(secretValue).min(1).max(MAX_ROTATION).optional(),
    /**
     * What is signed:
     * - `timestamped`: `${timestamp}:${body}`, the timestamp in `timestampHeader` (Grafana's HMAC shape);
     * - `standard-webhooks`: `${webhook-id}.${webhook-timestamp}.${body}`, `webhook-signature: v1,<base64>`
     *   (https://www.standardwebhooks.com); the signed webhook-id is the delivery id;
     * - `body-only`: the body alone, no replay protection: only for senders that cannot sign a time.
     * @defaultValue 'timestamped'
     */
    scheme: z.enum(HMAC_SCHEMES).optional(),
    /** Header carrying the signature. @defaultValue 'x-hub-signature-256' ('webhook-signature' for standard-webhooks) */
    header: headerName.optional(),
    /** @defaultValue 'sha256' */
    algorithm: z.enum(['sha256', 'sha1', 'sha512']).optional(),
    /** SHA-1 is refused unless this is set: only for a sender that can do nothing else (e.g. Autotask callbacks). */
    allowSha1: z.literal(true).optional(),
    /** How the signature is written. @defaultValue 'hex' */
    encoding: z.enum(['hex', 'base64']).optional(),
    /** Stripped from the signature when present, e.g. 'sha256='. */
    prefix: z.string().min(1).max(32).optional(),
    /** Header carrying the signed Unix timestamp (seconds, or milliseconds); required by the `timestamped` scheme. */
    timestampHeader: headerName.optional(),
    /** How far the signed timestamp may be from the hub's clock, either way. @defaultValue 300 */
    toleranceSeconds: z.int().min(1).max(86_400).optional(),
  })
  .superRefine((auth, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (auth.secret === undefined && auth.secrets === undefined) problem('secret', 'is required: give secret (or secrets, for key rotation)');
    if (auth.algorithm === 'sha1' && auth.allowSha1 !== true) {
      problem('algorithm', 'sha1 is refused unless allowSha1: true is set too (only for senders that can sign nothing stronger)');
    }
    const scheme = auth.scheme ?? 'timestamped';
    if (scheme === 'timestamped' && auth.timestampHeader === undefined) {
      problem(
        'timestampHeader',
        'is required: HMAC sources are replay-protected by default; give the header carrying the signed timestamp (e.g. x-grafana-alerting-signature-timestamp), or scheme "standard-webhooks", or opt out with scheme "body-only"',
      );
    }
    if (scheme === 'body-only') {
      for (const field of ['timestampHeader', 'toleranceSeconds'] as const) {
        if (auth[field] !== undefined) problem(field, 'has no effect with scheme "body-only" (nothing signed carries a time): remove it or use scheme "timestamped"');
      }
    }
    if (scheme === 'standard-webhooks') {
      // The spec fixes the headers, the encoding and the algorithm; accepting overrides would only hide a misconfiguration.
      for (const field of ['header', 'encoding', 'prefix', 'timestampHeader'] as const) {
        if (auth[field] !== undefined) problem(field, 'is fixed by scheme "standard-webhooks" (webhook-id, webhook-timestamp, webhook-signature: v1,<base64>): remove it');
      }
      if (auth.algorithm !== undefined && auth.algorithm !== 'sha256') problem('algorithm', 'must be sha256 with scheme "standard-webhooks"');
    }
  });

export const tokenAuthSchema = z
  .strictObject({
    type: z.literal('token'),
    /** The shared token. Secret. */
    token: secretValue.optional(),
    /** Several tokens accepted at once, for rotation. Secret. */
    tokens: z.array(secretValue).min(1).max(MAX_ROTATION).optional(),
    /**
     * Header carrying the token. `authorization` expects `Bearer <token>`; any other header carries
     * the raw token. @defaultValue 'authorization'
     */
    header: headerName.optional(),
    /** Query parameter that may carry the token, for senders that cannot set headers (it ends up in access logs: prefer a header). */
    queryParam: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a query parameter name such as token')
      .optional(),
  })
  .superRefine((auth, ctx) => {
    if (auth.token === undefined && auth.tokens === undefined) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'is required: give token (or tokens, for rotation)' });
    }
  });

export const basicAuthSchema = z.strictObject({
  type: z.literal('basic'),
  username: z.string().min(1).max(256).regex(/^[^:]*$/, 'must not contain ":" (HTTP Basic separates user and password with it)'),
  /** Secret. */
  password: secretValue,
});

export const sourceAuthSchema = z.discriminatedUnion('type', [hmacAuthSchema, tokenAuthSchema, basicAuthSchema]);

export type HmacAuth = z.infer<typeof hmacAuthSchema>;
export type TokenAuth = z.infer<typeof tokenAuthSchema>;
export type BasicAuth = z.infer<typeof basicAuthSchema>;
export type SourceAuth = z.infer<typeof sourceAuthSchema>;

/** The secret fields of each auth type: never returned by the API, never logged, encrypted at rest. */
export const SECRET_FIELDS = {
  hmac: ['secret', 'secrets'],
  token: ['token', 'tokens'],
  basic: ['password'],
} as const satisfies Record<AuthType, readonly string[]>;

/** Every secret field name, for log redaction paths. */
export const SECRET_FIELD_NAMES: readonly string[] = [...new Set(Object.values(SECRET_FIELDS).flat())];

/** Non-secret part: safe for the API's output and the `auth_settings` column. Always carries `type`. */
export type AuthSettings = { type: AuthType } & Record<string, unknown>;
/** Secret part: for `encryptSecrets()` and nothing else. */
export type AuthSecrets = Record<string, unknown>;

export function splitAuth(auth: SourceAuth): { settings: AuthSettings; secrets: AuthSecrets } {
  const secretNames: readonly string[] = SECRET_FIELDS[auth.type];
  const settings: AuthSettings = { type: auth.type };
  const secrets: AuthSecrets = {};
  for (const [key, value] of Object.entries(auth)) {
    if (key === 'type' || value === undefined) continue;
    if (secretNames.includes(key)) secrets[key] = value;
    else settings[key] = value;
  }
  return { settings, secrets };
}

/**
 * Puts stored settings and decrypted secrets back together, validated: a row that no longer
 * parses is a server-side problem (INTERNAL), never silently an open route.
 */
export function joinAuth(settings: unknown, secrets: unknown): SourceAuth {
  const asObject = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const result = sourceAuthSchema.safeParse({ ...asObject(secrets), ...asObject(settings) });
  if (!result.success) {
    const first = issuesToProblems(result.error.issues, ['auth'])[0];
    // Field names only: the values may be secrets.
    throw new HubError('INTERNAL', `stored source auth is invalid at ${first?.field ?? 'auth'}`);
  }
  return result.data;
}

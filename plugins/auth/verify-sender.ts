import crypto from 'node:crypto';
import type { BasicAuth, HmacAuth, SourceAuth, TokenAuth } from './source-auth';

/**
 * Sender verification (R-ALR-1) as a pure function over the raw body bytes, lower-cased headers,
 * the query and an injected clock (STYLE.md principle 2). It never throws and never opens a route
 * without a configured secret: every path that is not a proven match is `{ ok: false }`.
 * Reasons are safe to log and to return: they never contain a secret or the presented value.
 */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

export interface VerifyRequest {
  /** The body exactly as received: signatures are over these bytes, never over re-serialized JSON. */
  rawBody: Buffer;
  /** Header names lower-cased (Node's IncomingMessage.headers already are). */
  headers: Readonly<Record<string, string | undefined>>;
  query?: Readonly<Record<string, string | undefined>> | undefined;
  now: Date;
}

export const HMAC_DEFAULTS = { header: 'x-hub-signature-256', algorithm: 'sha256', encoding: 'hex', toleranceSeconds: 300 } as const;
export const TOKEN_DEFAULTS = { header: 'authorization' } as const;

const refuse = (reason: string): VerifyResult => ({ ok: false, reason });
const OK: VerifyResult = { ok: true };

/** Constant-time byte equality; the length check first because timingSafeEqual needs equal lengths. */
export function safeEqualBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return crypto.timingSafeEqual(a, b);
}

export const safeEqualText = (a: string, b: string): boolean => safeEqualBytes(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Configured secrets, blanks dropped: a blank secret must never match a blank credential. */
const configured = (one: string | undefined, many: readonly string[] | undefined): string[] =>
  [one, ...(many ?? [])].filter((s): s is string => typeof s === 'string' && s.length > 0);

const header = (req: VerifyRequest, name: string): string | undefined => {
  const value = req.headers[name.toLowerCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
};

export function verifySender(auth: SourceAuth, req: VerifyRequest): VerifyResult {
  switch (auth.type) {
    case 'hmac':
      return verifyHmac(auth, req);
    case 'token':
      return verifyToken(auth, req);
    case 'basic':
      return verifyBasic(auth, req);
    default:
      return refuse('unknown auth type');
  }
}

// A sender may put several signatures in one header while it rotates keys; a cap keeps the work bounded.
const MAX_PRESENTED_SIGNATURES = 8;

function decodeSignature(text: string, encoding: 'hex' | 'base64'): Buffer | null {
  if (encoding === 'hex') return /^(?:[0-9a-fA-F]{2})+$/.test(text) ? Buffer.from(text, 'hex') : null;
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : null;
}

function verifyHmac(auth: HmacAuth, req: VerifyRequest): VerifyResult {
  const secrets = configured(auth.secret, auth.secrets);
  if (secrets.length === 0) return refuse('no secret configured for this source');

  const headerName = (auth.header ?? HMAC_DEFAULTS.header).toLowerCase();
  const presented = header(req, headerName);
  if (presented === undefined) return refuse(`missing signature header ${headerName}`);

  let signedContent = req.rawBody;
  if (auth.timestampHeader !== undefined) {
    const tsName = auth.timestampHeader.toLowerCase();
    const timestamp = header(req, tsName);
    if (timestamp === undefined) return refuse(`missing timestamp header ${tsName}`);
    if (!/^\d{1,13}$/.test(timestamp)) return refuse(`malformed timestamp in ${tsName}`);
    const value = Number(timestamp);
    // Grafana sends Unix seconds; a 13-digit value is milliseconds from another sender.
    const sentMs = timestamp.length >= 12 ? value : value * 1000;
    const toleranceMs = (auth.toleranceSeconds ?? HMAC_DEFAULTS.toleranceSeconds) * 1000;
    if (Math.abs(req.now.getTime() - sentMs) > toleranceMs) return refuse('timestamp outside the replay window');
    signedContent = Buffer.concat([Buffer.from(`${timestamp}:`, 'utf8'), req.rawBody]);
  }

  const encoding = auth.encoding ?? HMAC_DEFAULTS.encoding;
  const prefix = auth.prefix?.toLowerCase();
  const candidates = presented
    .split(/[\s,]+/)
    .filter((s) => s !== '')
    .slice(0, MAX_PRESENTED_SIGNATURES)
    .map((s) => (prefix !== undefined && s.toLowerCase().startsWith(prefix) ? s.slice(prefix.length) : s))
    .map((s) => decodeSignature(s, encoding))
    .filter((b): b is Buffer => b !== null && b.length > 0);
  if (candidates.length === 0) return refuse(`malformed signature in ${headerName}`);

  const algorithm = auth.algorithm ?? HMAC_DEFAULTS.algorithm;
  for (const secret of secrets) {
    const expected = crypto.createHmac(algorithm, secret).update(signedContent).digest();
    for (const candidate of candidates) if (safeEqualBytes(candidate, expected)) return OK;
  }
  return refuse('signature mismatch');
}

function verifyToken(auth: TokenAuth, req: VerifyRequest): VerifyResult {
  const tokens = configured(auth.token, auth.tokens);
  if (tokens.length === 0) return refuse('no token configured for this source');

  const headerName = (auth.header ?? TOKEN_DEFAULTS.header).toLowerCase();
  const presented: string[] = [];
  const headerValue = header(req, headerName);
  if (headerValue !== undefined) {
    if (headerName === 'authorization') {
      const bearer = /^Bearer\s+(\S+)$/i.exec(headerValue);
      if (bearer?.[1] !== undefined) presented.push(bearer[1]);
    } else {
      presented.push(headerValue);
    }
  }
  if (auth.queryParam !== undefined) {
    const fromQuery = req.query?.[auth.queryParam];
    if (typeof fromQuery === 'string' && fromQuery !== '') presented.push(fromQuery);
  }
  if (presented.length === 0) {
    const where = headerName === 'authorization' ? 'Authorization: Bearer <token>' : `header ${headerName}`;
    return refuse(`missing token (${where}${auth.queryParam !== undefined ? ` or ?${auth.queryParam}=` : ''})`);
  }
  for (const token of tokens) for (const candidate of presented) if (safeEqualText(candidate, token)) return OK;
  return refuse('token mismatch');
}

function verifyBasic(auth: BasicAuth, req: VerifyRequest): VerifyResult {
  if (auth.username === '' || auth.password === '') return refuse('no credentials configured for this source');
  const value = header(req, 'authorization');
  const match = value === undefined ? null : /^Basic\s+([A-Za-z0-9+/]+={0,2})$/i.exec(value);
  if (match?.[1] === undefined) return refuse('missing credentials (Authorization: Basic …)');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return refuse('malformed basic credentials');
  // Both compared every time: which half was wrong must not show in the timing.
  const userOk = safeEqualText(decoded.slice(0, colon), auth.username);
  const passwordOk = safeEqualText(decoded.slice(colon + 1), auth.password);
  return userOk && passwordOk ? OK : refuse('credentials mismatch');
}

import crypto from 'node:crypto';
import type { BasicAuth, HmacAuth, SourceAuth, TokenAuth } from './source-auth';

/**
 * Sender verification (R-ALR-1) as a pure function over the raw body bytes, lower-cased headers,
 * the query and an injected clock (STYLE.md principle 2). It never throws and never opens a route
 * without a configured secret: every path that is not a proven match is `{ ok: false }`.
 * Reasons are safe to log and to return: they never contain a secret or the presented value.
 */
export type VerifyResult =
  /** `deliveryId`: the sender's delivery id when the signature covers it (a replay within the window is then the same delivery). */
  | { ok: true; deliveryId?: string }
  | { ok: false; reason: string };

export interface VerifyRequest {
  /** The body exactly as received: signatures are over these bytes, never over re-serialized JSON. */
  rawBody: Buffer;
  /** Header names lower-cased (Node's IncomingMessage.headers already are). */
  headers: Readonly<Record<string, string | undefined>>;
  query?: Readonly<Record<string, string | undefined>> | undefined;
  now: Date;
}

export const HMAC_DEFAULTS = { scheme: 'timestamped', header: 'x-hub-signature-256', algorithm: 'sha256', encoding: 'hex', toleranceSeconds: 300 } as const;

/** Standard Webhooks 1.0 (https://www.standardwebhooks.com): fixed header names, `v1,<base64>` signatures, `whsec_` secrets. */
export const STANDARD_WEBHOOKS = {
  idHeader: 'webhook-id',
  timestampHeader: 'webhook-timestamp',
  signatureHeader: 'webhook-signature',
  secretPrefix: 'whsec_',
} as const;
// Delivery ids end up as the inbox's delivery key (≤ 200 characters); a longer one is not a real sender's id.
const MAX_DELIVERY_ID_LENGTH = 200;
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

/** Seconds (10 digits today) or milliseconds (13): some senders write the latter. Null when not a plain integer. */
function timestampMs(text: string): number | null {
  if (!/^\d{1,13}$/.test(text)) return null;
  const value = Number(text);
  return text.length >= 12 ? value : value * 1000;
}

function outsideWindow(auth: HmacAuth, sentMs: number, now: Date): boolean {
  const toleranceMs = (auth.toleranceSeconds ?? HMAC_DEFAULTS.toleranceSeconds) * 1000;
  // Both ways: a timestamp far in the future would make a captured request replayable for that long.
  return Math.abs(now.getTime() - sentMs) > toleranceMs;
}

/** The HMAC key: Standard Webhooks' `whsec_<base64>` secrets are key bytes; every other secret is its UTF-8 text. */
function hmacKey(secret: string, scheme: string): Buffer {
  if (scheme === 'standard-webhooks' && secret.startsWith(STANDARD_WEBHOOKS.secretPrefix)) {
    return Buffer.from(secret.slice(STANDARD_WEBHOOKS.secretPrefix.length), 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

function verifyHmac(auth: HmacAuth, req: VerifyRequest): VerifyResult {
  const secrets = configured(auth.secret, auth.secrets);
  if (secrets.length === 0) return refuse('no secret configured for this source');
  // The schema refuses these; a stored row that bypassed it must still fail closed.
  if (auth.algorithm === 'sha1' && auth.allowSha1 !== true) return refuse('sha1 is not allowed for this source');
  const scheme = auth.scheme ?? HMAC_DEFAULTS.scheme;

  let headerName: string;
  let encoding: 'hex' | 'base64';
  let prefix: string | undefined;
  let signedContent: Buffer;
  let deliveryId: string | undefined;
  if (scheme === 'standard-webhooks') {
    headerName = STANDARD_WEBHOOKS.signatureHeader;
    encoding = 'base64';
    prefix = 'v1,';
    const id = header(req, STANDARD_WEBHOOKS.idHeader);
    if (id === undefined) return refuse(`missing delivery id header ${STANDARD_WEBHOOKS.idHeader}`);
    if (id.length > MAX_DELIVERY_ID_LENGTH) return refuse(`${STANDARD_WEBHOOKS.idHeader} longer than ${MAX_DELIVERY_ID_LENGTH} characters`);
    const timestamp = header(req, STANDARD_WEBHOOKS.timestampHeader);
    if (timestamp === undefined) return refuse(`missing timestamp header ${STANDARD_WEBHOOKS.timestampHeader}`);
    // The spec writes seconds; milliseconds would be a different sender.
    if (!/^\d{1,11}$/.test(timestamp)) return refuse(`malformed timestamp in ${STANDARD_WEBHOOKS.timestampHeader}`);
    if (outsideWindow(auth, Number(timestamp) * 1000, req.now)) return refuse('timestamp outside the replay window');
    signedContent = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), req.rawBody]);
    deliveryId = id;
  } else {
    headerName = (auth.header ?? HMAC_DEFAULTS.header).toLowerCase();
    encoding = auth.encoding ?? HMAC_DEFAULTS.encoding;
    prefix = auth.prefix?.toLowerCase();
    signedContent = req.rawBody;
    if (scheme === 'timestamped') {
      // Fail closed: a timestamped source without its header configured is a broken row, not an open one.
      if (auth.timestampHeader === undefined) return refuse('no timestamp header configured for this source');
      const tsName = auth.timestampHeader.toLowerCase();
      const timestamp = header(req, tsName);
      if (timestamp === undefined) return refuse(`missing timestamp header ${tsName}`);
      const sentMs = timestampMs(timestamp);
      if (sentMs === null) return refuse(`malformed timestamp in ${tsName}`);
      if (outsideWindow(auth, sentMs, req.now)) return refuse('timestamp outside the replay window');
      signedContent = Buffer.concat([Buffer.from(`${timestamp}:`, 'utf8'), req.rawBody]);
    }
  }

  const presented = header(req, headerName);
  if (presented === undefined) return refuse(`missing signature header ${headerName}`);
  const candidates = presented
    // Standard Webhooks separates signatures with spaces and puts a comma inside each (v1,<sig>).
    .split(scheme === 'standard-webhooks' ? /\s+/ : /[\s,]+/)
    .filter((s) => s !== '')
    .slice(0, MAX_PRESENTED_SIGNATURES)
    .filter((s) => scheme !== 'standard-webhooks' || s.startsWith('v1,'))
    .map((s) => (prefix !== undefined && s.toLowerCase().startsWith(prefix) ? s.slice(prefix.length) : s))
    .map((s) => decodeSignature(s, encoding))
    .filter((b): b is Buffer => b !== null && b.length > 0);
  if (candidates.length === 0) return refuse(`malformed signature in ${headerName}`);

  const algorithm = auth.algorithm ?? HMAC_DEFAULTS.algorithm;
  for (const secret of secrets) {
    const expected = crypto.createHmac(algorithm, hmacKey(secret, scheme)).update(signedContent).digest();
    for (const candidate of candidates) if (safeEqualBytes(candidate, expected)) return deliveryId === undefined ? OK : { ok: true, deliveryId };
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

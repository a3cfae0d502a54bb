import crypto from 'node:crypto';

/**
 * API tokens: `hub_<prefix>_<secret>`; 8 hex prefix characters identify the token (shown in lists,
 * logs), the 32 random bytes (256 bits) are the secret. Only the SHA-256 of the whole token is
 * stored; a token is shown once, at creation.
 */
export function generateToken(): { token: string; prefix: string; hash: string } {
  const prefix = `hub_${crypto.randomBytes(4).toString('hex')}`;
  const token = `${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
  return { token, prefix, hash: hashToken(token) };
}

export const hashToken = (token: string): string => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

/** Constant-time equality of two strings (lengths compared first: timingSafeEqual needs equal lengths). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) return false;
  return crypto.timingSafeEqual(ab, bb);
}

export const prefixOf = (token: string): string | null => /^(hub_[0-9a-f]{8})_/.exec(token)?.[1] ?? null;

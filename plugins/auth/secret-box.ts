import crypto from 'node:crypto';
import { HubError } from '../../core/errors';

/**
 * Source secrets at rest (STYLE.md principle 9): AES-256-GCM under a key derived from
 * HUB_SECRET_KEY. HMAC verification needs the secret itself back, so it is encrypted, not hashed.
 *
 * Format `v1.<salt>.<iv>.<tag>.<ciphertext>` (base64url parts): the version lets the scheme change
 * without a flag day; a fresh random salt and IV per value means equal secrets never look equal.
 * HKDF-SHA256 (not scrypt) derives the key: HUB_SECRET_KEY is a high-entropy key, not a password,
 * and webhooks decrypt on the hot path.
 */
const VERSION = 'v1';
const INFO = Buffer.from('contract-alert-hub/source-secrets/v1', 'utf8');
const MIN_KEY_LENGTH = 32;

function deriveKey(masterKey: string, salt: Buffer): Buffer {
  if (masterKey.length < MIN_KEY_LENGTH) throw new HubError('INTERNAL', `HUB_SECRET_KEY must be at least ${MIN_KEY_LENGTH} characters`);
  return Buffer.from(crypto.hkdfSync('sha256', Buffer.from(masterKey, 'utf8'), salt, INFO, 32));
}

/**
 * @param context optional associated data (e.g. the source name): the value then only decrypts with
 * the same context, so a ciphertext copied onto another source's row is refused.
 */
export function encryptSecrets(secrets: Record<string, unknown>, masterKey: string, context = ''): string {
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', deriveKey(masterKey, salt), iv);
  cipher.setAAD(Buffer.from(`${VERSION}:${context}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return [VERSION, salt, iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/**
 * @param masterKeys the current key, or several (newest first) while HUB_SECRET_KEY is being rotated.
 * @throws HubError INTERNAL when no key opens the value (wrong key, tampered or truncated value).
 */
export function decryptSecrets(sealed: string, masterKeys: string | readonly string[], context = ''): Record<string, unknown> {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) throw new HubError('INTERNAL', 'source secrets: unknown format (expected v1)');
  const [, salt, iv, tag, ciphertext] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer, Buffer, Buffer];
  if (iv.length !== 12 || tag.length !== 16 || salt.length !== 16) throw new HubError('INTERNAL', 'source secrets: corrupted value');
  for (const masterKey of typeof masterKeys === 'string' ? [masterKeys] : masterKeys) {
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', deriveKey(masterKey, salt), iv);
      decipher.setAAD(Buffer.from(`${VERSION}:${context}`, 'utf8'));
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
      const value: unknown = JSON.parse(plain);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HubError('INTERNAL', 'source secrets: not an object');
      return value as Record<string, unknown>;
    } catch (e) {
      if (e instanceof HubError && e.message.startsWith('HUB_SECRET_KEY')) throw e;
      // Authentication failed under this key: try the next one.
    }
  }
  throw new HubError('INTERNAL', 'source secrets: cannot decrypt (wrong HUB_SECRET_KEY, or the value was changed)');
}

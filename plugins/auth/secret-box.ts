import crypto from 'node:crypto';
import { HubError } from '../../core/errors';

/**
 * Source secrets at rest (STYLE.md principle 9): AES-256-GCM under a key derived from the newest
 * of HUB_SECRET_KEYS. HMAC verification needs the secret itself back, so it is encrypted, not hashed.
 *
 * Format `v2.<salt>.<iv>.<tag>.<ciphertext>` (base64url parts), with the context (the source it
 * belongs to, `sourceSecretsContext`) as GCM associated data: a ciphertext copied onto another
 * source's row does not decrypt there (issue 13 item 8). `v1` values (written before) were sealed
 * without a context; they still open, and `hub secrets reencrypt` rewrites them as v2. A fresh
 * random salt and IV per value means equal secrets never look equal. HKDF-SHA256 (not scrypt)
 * derives the key: HUB_SECRET_KEYS are high-entropy keys, not passwords, and webhooks decrypt on
 * the hot path.
 */
const VERSION = 'v2';
const LEGACY_VERSION = 'v1';
const INFO = Buffer.from('contract-alert-hub/source-secrets/v1', 'utf8');
const MIN_KEY_LENGTH = 32;

function deriveKey(masterKey: string, salt: Buffer): Buffer {
  if (masterKey.length < MIN_KEY_LENGTH) throw new HubError('INTERNAL', `HUB_SECRET_KEY must be at least ${MIN_KEY_LENGTH} characters`);
  return Buffer.from(crypto.hkdfSync('sha256', Buffer.from(masterKey, 'utf8'), salt, INFO, 32));
}

/** The associated data that binds a source's secrets to that source (its name: unique, and known before the row exists). */
export const sourceSecretsContext = (sourceName: string): string => `source:${sourceName}`;

/** `v2` = bound to its context; `v1` = legacy, unbound (re-encrypt it); null = not a sealed value. */
export function sealedFormat(sealed: string): 'v1' | 'v2' | null {
  const version = sealed.slice(0, sealed.indexOf('.'));
  return version === VERSION || version === LEGACY_VERSION ? version : null;
}

const newest = (keys: string | readonly string[]): string => {
  const key = typeof keys === 'string' ? keys : keys[0];
  if (key === undefined) throw new HubError('INTERNAL', 'HUB_SECRET_KEYS is empty');
  return key;
};

/**
 * @param keys the key, or the key list (newest first): the newest one seals.
 * @param context associated data, e.g. `sourceSecretsContext(name)`: the value then only decrypts with the same context.
 */
export function encryptSecrets(secrets: Record<string, unknown>, keys: string | readonly string[], context: string): string {
  if (context === '') throw new HubError('INTERNAL', 'source secrets: a context (the source) is required');
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', deriveKey(newest(keys), salt), iv);
  cipher.setAAD(Buffer.from(`${VERSION}:${context}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return [VERSION, salt, iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/**
 * @param masterKeys the current key, or several (newest first) while HUB_SECRET_KEYS is being rotated.
 * @param context the context it was sealed with (legacy v1 values had none and ignore it).
 * @throws HubError INTERNAL when no key opens the value (wrong key, another source's value, tampered or truncated).
 */
export function decryptSecrets(sealed: string, masterKeys: string | readonly string[], context: string): Record<string, unknown> {
  const parts = sealed.split('.');
  const version = parts[0];
  if (parts.length !== 5 || (version !== VERSION && version !== LEGACY_VERSION)) throw new HubError('INTERNAL', 'source secrets: unknown format (expected v2 or v1)');
  const [, salt, iv, tag, ciphertext] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer, Buffer, Buffer];
  if (iv.length !== 12 || tag.length !== 16 || salt.length !== 16) throw new HubError('INTERNAL', 'source secrets: corrupted value');
  const aad = Buffer.from(version === VERSION ? `${VERSION}:${context}` : `${LEGACY_VERSION}:`, 'utf8');
  for (const masterKey of typeof masterKeys === 'string' ? [masterKeys] : masterKeys) {
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', deriveKey(masterKey, salt), iv);
      decipher.setAAD(aad);
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
  throw new HubError('INTERNAL', 'source secrets: cannot decrypt (no key of HUB_SECRET_KEYS opens it, it belongs to another source, or it was changed)');
}

/** The associated data of a PSA connection's secrets (issue 16): bound to the connection's name, like a source's. */
export const psaConnectionSecretsContext = (connectionName: string): string => `psa-connection:${connectionName}`;

import crypto from 'node:crypto';

/**
 * A source secret sealed the way versions before issue 13 item 8 did (format v1: AES-256-GCM,
 * HKDF-SHA256 key, associated data "v1:" — bound to nothing). Written out here independently of
 * plugins/auth/secret-box.ts so the tests of the legacy path do not trust the code they test.
 */
export function sealLegacyV1(secrets: Record<string, unknown>, masterKey: string): string {
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(12);
  const key = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(masterKey, 'utf8'), salt, Buffer.from('contract-alert-hub/source-secrets/v1', 'utf8'), 32));
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from('v1:', 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return ['v1', ...[salt, iv, cipher.getAuthTag(), ciphertext].map((p) => p.toString('base64url'))].join('.');
}

import { HubError } from '../../core/errors';
import { decryptSecrets, encryptSecrets } from './secret-box';

const KEY = 'k'.repeat(16) + '0123456789abcdef0123';
const OTHER_KEY = 'o'.repeat(40);
const SECRETS = { secret: 'hmac-secret-0123456789', secrets: ['older-secret-0000'] };

const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return null;
};

describe('secret box (secrets at rest)', () => {
  it('R-ALR-1: round-trips and does not contain the plaintext', () => {
    const sealed = encryptSecrets(SECRETS, KEY);
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(sealed).not.toContain('hmac-secret');
    expect(decryptSecrets(sealed, KEY)).toEqual(SECRETS);
  });

  it('R-ALR-1: equal secrets encrypt differently every time (random salt and IV)', () => {
    expect(encryptSecrets(SECRETS, KEY)).not.toBe(encryptSecrets(SECRETS, KEY));
  });

  it('R-ALR-1: a wrong key, a tampered value or another context is refused with INTERNAL', () => {
    const sealed = encryptSecrets(SECRETS, KEY, 'source-a');
    const parts = sealed.split('.');
    const ciphertext = Buffer.from(parts[4] ?? '', 'base64url');
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 1;
    const tampered = [...parts.slice(0, 4), ciphertext.toString('base64url')].join('.');
    for (const attempt of [
      () => decryptSecrets(sealed, OTHER_KEY, 'source-a'),
      () => decryptSecrets(tampered, KEY, 'source-a'),
      () => decryptSecrets(sealed, KEY, 'source-b'),
      () => decryptSecrets(sealed.replace(/^v1/, 'v9'), KEY, 'source-a'),
      () => decryptSecrets('garbage', KEY),
    ]) {
      const error = thrown(attempt);
      expect(error).toBeInstanceOf(HubError);
      expect((error as HubError).code).toBe('INTERNAL');
      expect((error as HubError).message).not.toContain('hmac-secret');
    }
    expect(decryptSecrets(sealed, KEY, 'source-a')).toEqual(SECRETS);
  });

  it('R-ALR-1: during HUB_SECRET_KEY rotation both the new and the old key open old values', () => {
    const sealedWithOld = encryptSecrets(SECRETS, OTHER_KEY);
    expect(decryptSecrets(sealedWithOld, [KEY, OTHER_KEY])).toEqual(SECRETS);
  });

  it('refuses a master key shorter than 32 characters', () => {
    expect((thrown(() => encryptSecrets(SECRETS, 'short')) as HubError).message).toMatch(/HUB_SECRET_KEY must be at least 32/);
  });
});

import { HubError } from '../../core/errors';
import { sealLegacyV1 } from '../../test/helpers/legacy-secrets';
import { decryptSecrets, encryptSecrets, sealedFormat, sourceSecretsContext } from './secret-box';

const KEY = 'k'.repeat(16) + '0123456789abcdef0123';
const OTHER_KEY = 'o'.repeat(40);
const SECRETS = { secret: 'hmac-secret-0123456789', secrets: ['older-secret-0000'] };
const A = sourceSecretsContext('source-a');

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
    const sealed = encryptSecrets(SECRETS, KEY, A);
    expect(sealed.startsWith('v2.')).toBe(true);
    expect(sealedFormat(sealed)).toBe('v2');
    expect(sealed).not.toContain('hmac-secret');
    expect(decryptSecrets(sealed, KEY, A)).toEqual(SECRETS);
  });

  it('R-ALR-1: equal secrets encrypt differently every time (random salt and IV)', () => {
    expect(encryptSecrets(SECRETS, KEY, A)).not.toBe(encryptSecrets(SECRETS, KEY, A));
  });

  it('issue 13 item 8: secrets are bound to their source: a wrong key, a tampered value or another source is refused with INTERNAL', () => {
    const sealed = encryptSecrets(SECRETS, KEY, A);
    const parts = sealed.split('.');
    const ciphertext = Buffer.from(parts[4] ?? '', 'base64url');
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 1;
    const tampered = [...parts.slice(0, 4), ciphertext.toString('base64url')].join('.');
    for (const attempt of [
      () => decryptSecrets(sealed, OTHER_KEY, A),
      () => decryptSecrets(tampered, KEY, A),
      () => decryptSecrets(sealed, KEY, sourceSecretsContext('source-b')),
      // Downgrading the version label to v1 (unbound) must not strip the binding.
      () => decryptSecrets(sealed.replace(/^v2/, 'v1'), KEY, A),
      () => decryptSecrets(sealed.replace(/^v2/, 'v9'), KEY, A),
      () => decryptSecrets('garbage', KEY, A),
    ]) {
      const error = thrown(attempt);
      expect(error).toBeInstanceOf(HubError);
      expect((error as HubError).code).toBe('INTERNAL');
      expect((error as HubError).message).not.toContain('hmac-secret');
    }
    expect(decryptSecrets(sealed, KEY, A)).toEqual(SECRETS);
  });

  it('issue 13 item 8: sealing without a source context is refused', () => {
    expect((thrown(() => encryptSecrets(SECRETS, KEY, '')) as HubError).code).toBe('INTERNAL');
  });

  it('issue 13 item 8: legacy v1 values (unbound, written before) still open, with any of the keys', () => {
    const legacy = sealLegacyV1(SECRETS, OTHER_KEY);
    expect(sealedFormat(legacy)).toBe('v1');
    expect(decryptSecrets(legacy, [KEY, OTHER_KEY], A)).toEqual(SECRETS);
    expect(thrown(() => decryptSecrets(legacy, [KEY], A))).toBeInstanceOf(HubError);
  });

  it('issue 13 item 8: with a key list the newest key seals, and during rotation the old key still opens old values', () => {
    const sealedWithOld = encryptSecrets(SECRETS, [OTHER_KEY], A);
    expect(decryptSecrets(sealedWithOld, [KEY, OTHER_KEY], A)).toEqual(SECRETS);
    const sealedWithList = encryptSecrets(SECRETS, [KEY, OTHER_KEY], A);
    expect(decryptSecrets(sealedWithList, [KEY], A)).toEqual(SECRETS);
    expect(thrown(() => decryptSecrets(sealedWithList, [OTHER_KEY], A))).toBeInstanceOf(HubError);
  });

  it('refuses a master key shorter than 32 characters', () => {
    expect((thrown(() => encryptSecrets(SECRETS, 'short', A)) as HubError).message).toMatch(/HUB_SECRET_KEY must be at least 32/);
  });
});

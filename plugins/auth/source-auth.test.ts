import { HubError } from '../../core/errors';
import { zodError } from '../payload-error';
import { joinAuth, SECRET_FIELD_NAMES, SECRET_FIELDS, sourceAuthSchema, splitAuth } from './source-auth';

const messageOf = (value: unknown): string => {
  const result = sourceAuthSchema.safeParse(value);
  if (result.success) throw new Error('expected a validation error');
  return zodError(result.error, ['auth'], value).message;
};

describe('sourceAuthSchema', () => {
  it('R-ALR-1: accepts the three shapes of SPEC §8', () => {
    expect(sourceAuthSchema.parse({ type: 'hmac', secret: 'abcdefgh12345678', header: 'x-sig', algorithm: 'sha256', timestampHeader: 'x-ts' }).type).toBe('hmac');
    expect(sourceAuthSchema.parse({ type: 'token', token: 'abcdefgh12345678', header: 'x-hub-token' }).type).toBe('token');
    expect(sourceAuthSchema.parse({ type: 'basic', username: 'am', password: 'abcdefgh12345678' }).type).toBe('basic');
  });

  it('R-ALR-1: at least one secret is required, and the error names the field', () => {
    expect(messageOf({ type: 'hmac', scheme: 'body-only' })).toBe('auth.secret: is required: give secret (or secrets, for key rotation)');
    expect(messageOf({ type: 'token', header: 'x-hub-token' })).toBe('auth.token: is required: give token (or tokens, for rotation)');
    expect(messageOf({ type: 'basic', username: 'u' })).toBe('auth.password: is required');
  });

  it('R-ALR-5: unknown type, unknown keys, bad header names and short secrets are named', () => {
    expect(messageOf({ type: 'oauth' })).toMatch(/^auth\.type: Invalid discriminator value/);
    expect(messageOf({ type: 'token', token: 'abcdefgh12345678', secret: 'x' })).toBe('auth.secret: unknown field');
    expect(messageOf({ type: 'token', token: 'abcdefgh12345678', header: 'bad header' })).toMatch(/^auth\.header: must be an HTTP header name/);
    expect(messageOf({ type: 'hmac', secret: 'short' })).toMatch(/^auth\.secret: must be at least 8 characters/);
    expect(messageOf({ type: 'hmac', secrets: ['abcdefgh12345678', 'short'] })).toMatch(/^auth\.secrets\[1\]: must be at least 8/);
    expect(messageOf({ type: 'basic', username: 'a:b', password: 'abcdefgh12345678' })).toMatch(/^auth\.username: must not contain ":"/);
  });
});

describe('splitAuth / joinAuth', () => {
  it('R-ALR-1: secrets are separated from settings for every type, and join restores the original', () => {
    const cases = [
      { type: 'hmac', secret: 's3cret-s3cret', secrets: ['other-s3cret'], header: 'x-sig', prefix: 'sha256=', timestampHeader: 'x-ts', toleranceSeconds: 60 },
      { type: 'token', tokens: ['t0ken-t0ken-1', 't0ken-t0ken-2'], header: 'x-hub-token', queryParam: 'token' },
      { type: 'basic', username: 'am', password: 'p4ssword-p4ssword' },
    ] as const;
    for (const input of cases) {
      const auth = sourceAuthSchema.parse(input);
      const { settings, secrets } = splitAuth(auth);
      const secretNames: readonly string[] = SECRET_FIELDS[auth.type];
      expect(Object.keys(secrets).every((k) => secretNames.includes(k))).toBe(true);
      expect(Object.keys(settings).some((k) => secretNames.includes(k))).toBe(false);
      expect(JSON.stringify(settings)).not.toMatch(/s3cret|t0ken|p4ssword/);
      expect(settings.type).toBe(auth.type);
      expect(joinAuth(settings, secrets)).toEqual(auth);
    }
  });

  it('R-ALR-1: the username of basic auth is a setting (shown), the password a secret', () => {
    const { settings, secrets } = splitAuth({ type: 'basic', username: 'am', password: 'p4ssword-p4ssword' });
    expect(settings).toEqual({ type: 'basic', username: 'am' });
    expect(secrets).toEqual({ password: 'p4ssword-p4ssword' });
  });

  it('R-ALR-1: a stored row that lost its secret is an INTERNAL error naming the field, never an open source', () => {
    const error = (() => {
      try {
        joinAuth({ type: 'token', header: 'x-hub-token' }, {});
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe('INTERNAL');
    expect((error as HubError).message).toBe('stored source auth is invalid at auth.token');
  });

  it('SECRET_FIELD_NAMES lists every secret field once', () => {
    expect([...SECRET_FIELD_NAMES].sort()).toEqual(['password', 'secret', 'secrets', 'token', 'tokens']);
  });
});

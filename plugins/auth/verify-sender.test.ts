import crypto from 'node:crypto';
import fc from 'fast-check';
import { sourceAuthSchema, type SourceAuth } from './source-auth';
import { verifySender, type VerifyRequest } from './verify-sender';

const NOW = new Date('2026-11-23T12:00:00Z');
const BODY = Buffer.from('{"alertId":"a-1","state":"firing"}\n', 'utf8');
const SECRET = 'hmac-secret-0123456789abcdef';
const OLD_SECRET = 'hmac-secret-old-0000000000000';

const hmacHex = (secret: string, content: Buffer | string, algorithm = 'sha256'): string =>
  crypto.createHmac(algorithm, secret).update(content).digest('hex');

const auth = (value: unknown): SourceAuth => sourceAuthSchema.parse(value);
const request = (headers: Record<string, string | undefined>, extra: Partial<VerifyRequest> = {}): VerifyRequest => ({
  rawBody: BODY,
  headers,
  now: NOW,
  ...extra,
});

describe('verifySender: hmac', () => {
  // GitHub's shape signs the body alone: the explicit opt-out of replay protection (issue 13 item 4).
  const github = auth({ type: 'hmac', scheme: 'body-only', secret: SECRET, prefix: 'sha256=' });

  it('R-ALR-1: accepts the right signature over the raw body (default header x-hub-signature-256)', () => {
    expect(verifySender(github, request({ 'x-hub-signature-256': `sha256=${hmacHex(SECRET, BODY)}` }))).toEqual({ ok: true });
  });

  it('R-ALR-1: the prefix is optional on the wire and the hex case does not matter', () => {
    expect(verifySender(github, request({ 'x-hub-signature-256': hmacHex(SECRET, BODY).toUpperCase() }))).toEqual({ ok: true });
  });

  it('R-ALR-1: refuses a signature made with another secret', () => {
    const result = verifySender(github, request({ 'x-hub-signature-256': `sha256=${hmacHex('another-secret-xxxxxxxx', BODY)}` }));
    expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('R-ALR-1: refuses a tampered body (one byte changed) and re-serialized JSON (whitespace changed)', () => {
    const signature = `sha256=${hmacHex(SECRET, BODY)}`;
    const tampered = Buffer.from(BODY);
    tampered[tampered.length - 3] = 'X'.charCodeAt(0);
    expect(verifySender(github, request({ 'x-hub-signature-256': signature }, { rawBody: tampered })).ok).toBe(false);
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(BODY.toString('utf8'))), 'utf8');
    expect(verifySender(github, request({ 'x-hub-signature-256': signature }, { rawBody: reserialized })).ok).toBe(false);
  });

  it('R-ALR-1: refuses a missing or empty signature header', () => {
    expect(verifySender(github, request({}))).toEqual({ ok: false, reason: 'missing signature header x-hub-signature-256' });
    expect(verifySender(github, request({ 'x-hub-signature-256': '  ' })).ok).toBe(false);
  });

  it('R-ALR-1: refuses a signature of the wrong length (truncated) without throwing', () => {
    const truncated = hmacHex(SECRET, BODY).slice(0, 40);
    expect(verifySender(github, request({ 'x-hub-signature-256': `sha256=${truncated}` }))).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySender(github, request({ 'x-hub-signature-256': 'sha256=' }))).toEqual({ ok: false, reason: 'malformed signature in x-hub-signature-256' });
    expect(verifySender(github, request({ 'x-hub-signature-256': 'sha256=zz-not-hex' })).ok).toBe(false);
  });

  it('R-ALR-1: key rotation: either configured secret verifies', () => {
    const rotating = auth({ type: 'hmac', scheme: 'body-only', secrets: [SECRET, OLD_SECRET] });
    expect(verifySender(rotating, request({ 'x-hub-signature-256': hmacHex(OLD_SECRET, BODY) }))).toEqual({ ok: true });
    expect(verifySender(rotating, request({ 'x-hub-signature-256': hmacHex(SECRET, BODY) }))).toEqual({ ok: true });
    const both = auth({ type: 'hmac', scheme: 'body-only', secret: SECRET, secrets: [OLD_SECRET] });
    expect(verifySender(both, request({ 'x-hub-signature-256': hmacHex(OLD_SECRET, BODY) }))).toEqual({ ok: true });
  });

  it('R-ALR-1: a sender that sends several signatures while rotating is accepted when one matches', () => {
    const header = `${hmacHex('unknown-secret-xxxxxxxx', BODY)}, ${hmacHex(SECRET, BODY)}`;
    expect(verifySender(auth({ type: 'hmac', scheme: 'body-only', secret: SECRET }), request({ 'x-hub-signature-256': header }))).toEqual({ ok: true });
  });

  it('R-ALR-1: custom header, sha512 and base64 encoding', () => {
    const custom = auth({ type: 'hmac', scheme: 'body-only', secret: SECRET, header: 'X-Signature', algorithm: 'sha512', encoding: 'base64' });
    const signature = crypto.createHmac('sha512', SECRET).update(BODY).digest('base64');
    expect(verifySender(custom, request({ 'x-signature': signature }))).toEqual({ ok: true });
    expect(verifySender(custom, request({ 'x-signature': hmacHex(SECRET, BODY, 'sha512') })).ok).toBe(false);
  });

  it('issue 13 item 8: sha1 for older senders only with the per-source opt-in allowSha1', () => {
    const sha1 = auth({ type: 'hmac', scheme: 'body-only', secret: SECRET, algorithm: 'sha1', allowSha1: true, header: 'x-hub-signature', prefix: 'sha1=' });
    expect(verifySender(sha1, request({ 'x-hub-signature': `sha1=${hmacHex(SECRET, BODY, 'sha1')}` }))).toEqual({ ok: true });
  });

  describe("Grafana's timestamp scheme", () => {
    const grafana = auth({
      type: 'hmac',
      secret: SECRET,
      header: 'X-Grafana-Alerting-Signature',
      timestampHeader: 'X-Grafana-Alerting-Signature-Timestamp',
    });
    const ts = String(Math.floor(NOW.getTime() / 1000) - 30);
    const signed = (timestamp: string) => hmacHex(SECRET, Buffer.concat([Buffer.from(`${timestamp}:`), BODY]));

    it('R-ALR-1: accepts HMAC over `${timestamp}:${body}` within the window', () => {
      const result = verifySender(grafana, request({ 'x-grafana-alerting-signature': signed(ts), 'x-grafana-alerting-signature-timestamp': ts }));
      expect(result).toEqual({ ok: true });
    });

    it('R-ALR-1: refuses a signature over the body alone when a timestamp header is configured', () => {
      const result = verifySender(grafana, request({ 'x-grafana-alerting-signature': hmacHex(SECRET, BODY), 'x-grafana-alerting-signature-timestamp': ts }));
      expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('R-ALR-1: refuses a replay outside the tolerance (default 300 s), even with a valid signature', () => {
      const old = String(Math.floor(NOW.getTime() / 1000) - 301);
      expect(verifySender(grafana, request({ 'x-grafana-alerting-signature': signed(old), 'x-grafana-alerting-signature-timestamp': old }))).toEqual({
        ok: false,
        reason: 'timestamp outside the replay window',
      });
      const future = String(Math.floor(NOW.getTime() / 1000) + 301);
      expect(verifySender(grafana, request({ 'x-grafana-alerting-signature': signed(future), 'x-grafana-alerting-signature-timestamp': future })).ok).toBe(false);
    });

    it('R-ALR-1: a configured tolerance widens the window', () => {
      const wide = auth({ type: 'hmac', secret: SECRET, header: 'x-sig', timestampHeader: 'x-ts', toleranceSeconds: 3600 });
      const old = String(Math.floor(NOW.getTime() / 1000) - 1800);
      expect(verifySender(wide, request({ 'x-sig': signed(old), 'x-ts': old }))).toEqual({ ok: true });
    });

    it('R-ALR-1: refuses a missing or malformed timestamp', () => {
      expect(verifySender(grafana, request({ 'x-grafana-alerting-signature': signed(ts) })).ok).toBe(false);
      expect(verifySender(grafana, request({ 'x-grafana-alerting-signature': signed(ts), 'x-grafana-alerting-signature-timestamp': '12abc' })).ok).toBe(false);
    });
  });

  describe('issue 13 item 4: replay protection is the default for HMAC sources', () => {
    const seconds = Math.floor(NOW.getTime() / 1000);

    it('item 4: an HMAC source without a timestamp (and without the explicit opt-out) is refused by the schema', () => {
      const parsed = sourceAuthSchema.safeParse({ type: 'hmac', secret: SECRET });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(['timestampHeader']);
      expect(parsed.error?.issues[0]?.message).toMatch(/replay-protected by default.*scheme "body-only"/);
      expect(sourceAuthSchema.safeParse({ type: 'hmac', secret: SECRET, scheme: 'body-only' }).success).toBe(true);
      expect(sourceAuthSchema.safeParse({ type: 'hmac', secret: SECRET, scheme: 'body-only', timestampHeader: 'x-ts' }).success).toBe(false);
    });

    it('item 4: timestamped: a request captured and replayed after the tolerance is refused, also with a timestamp 13 digits long', () => {
      const a = auth({ type: 'hmac', secret: SECRET, header: 'x-sig', timestampHeader: 'x-ts', toleranceSeconds: 60 });
      const ts = String(seconds);
      const headers = { 'x-sig': hmacHex(SECRET, Buffer.concat([Buffer.from(`${ts}:`), BODY])), 'x-ts': ts };
      expect(verifySender(a, request(headers))).toEqual({ ok: true });
      expect(verifySender(a, request(headers, { now: new Date(NOW.getTime() + 61_000) }))).toEqual({ ok: false, reason: 'timestamp outside the replay window' });
      const ms = String(NOW.getTime());
      const msHeaders = { 'x-sig': hmacHex(SECRET, Buffer.concat([Buffer.from(`${ms}:`), BODY])), 'x-ts': ms };
      expect(verifySender(a, request(msHeaders))).toEqual({ ok: true });
      expect(verifySender(a, request(msHeaders, { now: new Date(NOW.getTime() + 61_000) })).ok).toBe(false);
    });

    it('item 4: timestamped: the timestamp is part of the signed material (changing it to a fresh one breaks the signature)', () => {
      const a = auth({ type: 'hmac', secret: SECRET, header: 'x-sig', timestampHeader: 'x-ts' });
      const old = String(seconds - 3600);
      const signature = hmacHex(SECRET, Buffer.concat([Buffer.from(`${old}:`), BODY]));
      expect(verifySender(a, request({ 'x-sig': signature, 'x-ts': String(seconds) }))).toEqual({ ok: false, reason: 'signature mismatch' });
    });

    describe('Standard Webhooks', () => {
      const KEY = crypto.randomBytes(24);
      const WHSEC = `whsec_${KEY.toString('base64')}`;
      const sw = auth({ type: 'hmac', scheme: 'standard-webhooks', secret: WHSEC });
      const sign = (id: string, ts: string, key: Buffer | string = KEY, body: Buffer = BODY) =>
        crypto.createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${id}.${ts}.`), body])).digest('base64');
      const headersFor = (id: string, ts: string, signature = `v1,${sign(id, ts)}`) => ({ 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': signature });

      it('item 4: accepts `${webhook-id}.${webhook-timestamp}.${body}` signed with the whsec_ key bytes and returns the signed delivery id', () => {
        expect(verifySender(sw, request(headersFor('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', String(seconds))))).toEqual({ ok: true, deliveryId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' });
      });

      it('item 4: a replay after the tolerance is refused; a changed webhook-id (a "new" delivery) breaks the signature', () => {
        const headers = headersFor('msg_1', String(seconds));
        expect(verifySender(sw, request(headers, { now: new Date(NOW.getTime() + 301_000) }))).toEqual({ ok: false, reason: 'timestamp outside the replay window' });
        expect(verifySender(sw, request({ ...headers, 'webhook-id': 'msg_2' }))).toEqual({ ok: false, reason: 'signature mismatch' });
      });

      it('item 4: several space-separated signatures (key rotation on the sender), unknown versions skipped', () => {
        const id = 'msg_rot';
        const ts = String(seconds);
        const header = `v1a,${sign(id, ts)} v1,${sign(id, ts, crypto.randomBytes(24))} v1,${sign(id, ts)}`;
        expect(verifySender(sw, request(headersFor(id, ts, header)))).toEqual({ ok: true, deliveryId: id });
        expect(verifySender(sw, request(headersFor(id, ts, `v1a,${sign(id, ts)}`)))).toEqual({ ok: false, reason: 'malformed signature in webhook-signature' });
      });

      it('item 4: rotation on the hub: old and new whsec_ secrets both verify', () => {
        const oldKey = crypto.randomBytes(24);
        const rotating = auth({ type: 'hmac', scheme: 'standard-webhooks', secrets: [WHSEC, `whsec_${oldKey.toString('base64')}`] });
        expect(verifySender(rotating, request(headersFor('m', String(seconds), `v1,${sign('m', String(seconds), oldKey)}`))).ok).toBe(true);
      });

      it('item 4: missing id, missing or millisecond timestamp are refused', () => {
        const ts = String(seconds);
        const { 'webhook-id': _id, ...noId } = headersFor('m', ts);
        expect(verifySender(sw, request(noId))).toEqual({ ok: false, reason: 'missing delivery id header webhook-id' });
        const { 'webhook-timestamp': _ts, ...noTs } = headersFor('m', ts);
        expect(verifySender(sw, request(noTs)).ok).toBe(false);
        expect(verifySender(sw, request(headersFor('m', String(NOW.getTime())))).ok).toBe(false);
      });

      it('item 4: the spec fixes headers and encoding: overrides are refused by the schema', () => {
        const parsed = sourceAuthSchema.safeParse({ type: 'hmac', scheme: 'standard-webhooks', secret: WHSEC, header: 'x-sig' });
        expect(parsed.error?.issues[0]?.path).toEqual(['header']);
      });
    });
  });

  it('issue 13 item 8: sha1 without allowSha1 is refused by the schema, and by the verifier for a row that bypassed it', () => {
    const parsed = sourceAuthSchema.safeParse({ type: 'hmac', scheme: 'body-only', secret: SECRET, algorithm: 'sha1' });
    expect(parsed.error?.issues[0]?.path).toEqual(['algorithm']);
    const row = { type: 'hmac', scheme: 'body-only', secret: SECRET, algorithm: 'sha1' } as const satisfies SourceAuth;
    expect(verifySender(row, request({ 'x-hub-signature-256': hmacHex(SECRET, BODY, 'sha1') }))).toEqual({ ok: false, reason: 'sha1 is not allowed for this source' });
  });

  it('R-ALR-1: fails closed when no secret is configured (an unvalidated row with blanks)', () => {
    const blank = { type: 'hmac', secret: '', secrets: [''] } as const satisfies SourceAuth;
    expect(verifySender(blank, request({ 'x-hub-signature-256': crypto.createHmac('sha256', '').update(BODY).digest('hex') }))).toEqual({
      ok: false,
      reason: 'no secret configured for this source',
    });
    expect(verifySender({ type: 'hmac', scheme: 'body-only' }, request({ 'x-hub-signature-256': 'ab' })).ok).toBe(false);
  });
});

describe('verifySender: token', () => {
  const TOKEN = 'token-0123456789abcdef';

  it('R-ALR-1: default is Authorization: Bearer <token>', () => {
    const bearer = auth({ type: 'token', token: TOKEN });
    expect(verifySender(bearer, request({ authorization: `Bearer ${TOKEN}` }))).toEqual({ ok: true });
    expect(verifySender(bearer, request({ authorization: `bearer ${TOKEN}` }))).toEqual({ ok: true });
    expect(verifySender(bearer, request({ authorization: TOKEN })).ok).toBe(false);
    expect(verifySender(bearer, request({ authorization: `Bearer ${TOKEN}x` }))).toEqual({ ok: false, reason: 'token mismatch' });
    expect(verifySender(bearer, request({ authorization: `Bearer ${TOKEN.slice(0, -1)}` })).ok).toBe(false);
    expect(verifySender(bearer, request({}))).toEqual({ ok: false, reason: 'missing token (Authorization: Bearer <token>)' });
  });

  it('R-ALR-1: any other header carries the raw token (NinjaOne custom header)', () => {
    const custom = auth({ type: 'token', token: TOKEN, header: 'X-Hub-Token' });
    expect(verifySender(custom, request({ 'x-hub-token': TOKEN }))).toEqual({ ok: true });
    expect(verifySender(custom, request({ authorization: `Bearer ${TOKEN}` })).ok).toBe(false);
    expect(verifySender(custom, request({ 'x-hub-token': 'wrong-token-0000000000' })).ok).toBe(false);
  });

  it('R-ALR-1: token in the URL query for senders that cannot set headers, only when configured', () => {
    const query = auth({ type: 'token', token: TOKEN, queryParam: 'token' });
    expect(verifySender(query, request({}, { query: { token: TOKEN } }))).toEqual({ ok: true });
    expect(verifySender(query, request({}, { query: { token: 'nope-nope-nope' } })).ok).toBe(false);
    expect(verifySender(query, request({ authorization: `Bearer ${TOKEN}` }))).toEqual({ ok: true });
    const headerOnly = auth({ type: 'token', token: TOKEN });
    expect(verifySender(headerOnly, request({}, { query: { token: TOKEN } })).ok).toBe(false);
  });

  it('R-ALR-1: rotation: every configured token works', () => {
    const rotating = auth({ type: 'token', tokens: ['first-token-000000', 'second-token-00000'] });
    expect(verifySender(rotating, request({ authorization: 'Bearer second-token-00000' }))).toEqual({ ok: true });
    expect(verifySender(rotating, request({ authorization: 'Bearer first-token-000000' }))).toEqual({ ok: true });
  });

  it('R-ALR-1: fails closed without a configured token, even when the request presents an empty one', () => {
    expect(verifySender({ type: 'token', token: '' }, request({ authorization: 'Bearer ' })).ok).toBe(false);
    expect(verifySender({ type: 'token', tokens: [] }, request({ authorization: 'Bearer x' }))).toEqual({
      ok: false,
      reason: 'no token configured for this source',
    });
  });
});

describe('verifySender: basic', () => {
  const basic = auth({ type: 'basic', username: 'alertmanager', password: 'p4ssw0rd-long-enough' });
  const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('R-ALR-1: accepts the right user and password', () => {
    expect(verifySender(basic, request({ authorization: header('alertmanager', 'p4ssw0rd-long-enough') }))).toEqual({ ok: true });
  });

  it('R-ALR-1: a password containing ":" is split at the first colon only', () => {
    const colon = auth({ type: 'basic', username: 'u', password: 'pa:ss:word' });
    expect(verifySender(colon, request({ authorization: header('u', 'pa:ss:word') }))).toEqual({ ok: true });
  });

  it('R-ALR-1: refuses a wrong password, a wrong user, a missing or malformed header', () => {
    expect(verifySender(basic, request({ authorization: header('alertmanager', 'wrong') }))).toEqual({ ok: false, reason: 'credentials mismatch' });
    expect(verifySender(basic, request({ authorization: header('admin', 'p4ssw0rd-long-enough') })).ok).toBe(false);
    expect(verifySender(basic, request({})).ok).toBe(false);
    expect(verifySender(basic, request({ authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` })).ok).toBe(false);
    expect(verifySender(basic, request({ authorization: 'Bearer p4ssw0rd-long-enough' })).ok).toBe(false);
  });

  it('R-ALR-1: fails closed with an empty configured password', () => {
    expect(verifySender({ type: 'basic', username: 'u', password: '' }, request({ authorization: header('u', '') })).ok).toBe(false);
  });
});

describe('verifySender never throws', () => {
  it('R-ALR-1: hostile header values give a result, not an exception', () => {
    const all: SourceAuth[] = [
      auth({ type: 'hmac', scheme: 'body-only', secret: SECRET }),
      auth({ type: 'hmac', scheme: 'standard-webhooks', secret: SECRET }),
      auth({ type: 'hmac', secret: SECRET, encoding: 'base64', timestampHeader: 'x-ts' }),
      auth({ type: 'token', token: 'token-0123456789', queryParam: 't' }),
      auth({ type: 'basic', username: 'u', password: 'password-123' }),
    ];
    const hostile = ['', ' ', '\u0000', 'Basic ====', 'Bearer', 'x'.repeat(100_000), '=,=,=,', 'sha256=' + 'a'.repeat(65), 'v1,', 'v1,====='];
    for (const a of all) {
      for (const value of hostile) {
        const result = verifySender(a, request({ 'x-hub-signature-256': value, authorization: value, 'x-ts': value, 'webhook-id': value, 'webhook-timestamp': value, 'webhook-signature': value }, { query: { t: value } }));
        expect(result.ok).toBe(false);
      }
    }
  });
});

describe('verifySender properties', () => {
  it('R-ALR-1: for any body and secret, the right HMAC verifies and any one-byte change of the body does not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.string({ minLength: 8, maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, secret, position, flip) => {
        const rawBody = Buffer.from(bytes);
        const a = auth({ type: 'hmac', scheme: 'body-only', secret });
        const headers = { 'x-hub-signature-256': hmacHex(secret, rawBody) };
        expect(verifySender(a, { rawBody, headers, now: NOW })).toEqual({ ok: true });
        const tampered = Buffer.from(rawBody);
        const i = position % tampered.length;
        tampered[i] = (tampered[i] ?? 0) ^ flip;
        expect(verifySender(a, { rawBody: tampered, headers, now: NOW }).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

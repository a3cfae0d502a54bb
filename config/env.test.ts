import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { ConfigError, parseEnv } from './env';

const root = path.join(__dirname, '..');
// The file as shipped: its placeholders are exactly what must be refused.
const example = dotenv.parse(fs.readFileSync(path.join(root, '.env.example'), 'utf8'));

const messageOf = (env: NodeJS.ProcessEnv): string => {
  try {
    parseEnv(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
};

describe('issue 13 item 8: the placeholders of .env.example are refused outside development', () => {
  it('item 8: production and test refuse the example file with one line naming the variable', () => {
    for (const NODE_ENV of ['production', 'test']) {
      const message = messageOf({ ...example, NODE_ENV });
      expect(message).toBe(
        'configuration: HUB_ADMIN_TOKEN still holds the placeholder of .env.example; outside NODE_ENV=development set a random value (e.g. openssl rand -base64 36)',
      );
      expect(message).not.toContain('\n');
      // The secret key's placeholder is refused on its own too (not only because the token's came first).
      expect(messageOf({ ...example, NODE_ENV, HUB_ADMIN_TOKEN: 'a-real-random-admin-token-0123456789' })).toMatch(/^configuration: HUB_SECRET_KEY still holds the placeholder/);
    }
  });

  it('item 8: development (the default) accepts the example file as it is', () => {
    expect(messageOf({ ...example })).toBe('');
    expect(messageOf({ ...example, NODE_ENV: 'development' })).toBe('');
  });

  it("item 8: the README's first command writes fresh random secrets that production accepts, different on every run", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-env-'));
    try {
      const write = (name: string) => {
        execFileSync('bash', [path.join(root, 'scripts/new-env.sh'), path.join(dir, name)], { stdio: 'pipe' });
        return dotenv.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      };
      const first = write('a.env');
      const second = write('b.env');
      expect(messageOf({ ...first, NODE_ENV: 'production' })).toBe('');
      expect(first.HUB_ADMIN_TOKEN).not.toBe(example.HUB_ADMIN_TOKEN);
      expect(first.HUB_SECRET_KEY).not.toBe(second.HUB_SECRET_KEY);
      expect(first.HUB_ADMIN_TOKEN).not.toBe(second.HUB_ADMIN_TOKEN);
      expect((fs.statSync(path.join(dir, 'a.env')).mode & 0o777).toString(8)).toBe('600');
      // Everything else is the example's.
      expect({ ...first, HUB_ADMIN_TOKEN: '', HUB_SECRET_KEY: '' }).toEqual({ ...example, HUB_ADMIN_TOKEN: '', HUB_SECRET_KEY: '' });
      // An existing .env is never overwritten.
      fs.writeFileSync(path.join(dir, 'mine.env'), 'HUB_ADMIN_TOKEN=keep-me\n');
      execFileSync('bash', [path.join(root, 'scripts/new-env.sh'), path.join(dir, 'mine.env')], { stdio: 'pipe' });
      expect(fs.readFileSync(path.join(dir, 'mine.env'), 'utf8')).toBe('HUB_ADMIN_TOKEN=keep-me\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('issue 19: retention settings', () => {
  const base = { ...example, NODE_ENV: 'development' };
  it('defaults: 30 days of raw payloads, 90 of receipts, a year of alerts, two years of audit, hourly runs', () => {
    const c = parseEnv(base);
    expect([c.HUB_RETENTION_RAW_PAYLOAD_DAYS, c.HUB_RETENTION_RECEIPT_DAYS, c.HUB_RETENTION_ALERT_DAYS, c.HUB_RETENTION_AUDIT_DAYS]).toEqual([30, 90, 365, 730]);
    expect([c.HUB_RETENTION_INTERVAL_SECONDS, c.HUB_RETENTION_BATCH_ROWS, c.HUB_RETENTION_MAX_BATCHES]).toEqual([3600, 5000, 50]);
    expect(parseEnv({ ...base, HUB_RETENTION_ALERT_DAYS: ' 0 ', HUB_RETENTION_RAW_PAYLOAD_DAYS: '7' })).toMatchObject({ HUB_RETENTION_ALERT_DAYS: 0, HUB_RETENTION_RAW_PAYLOAD_DAYS: 7 });
  });

  it.each([
    ['HUB_RETENTION_RECEIPT_DAYS', '-1', 'must be a whole number of days (0 keeps forever)'],
    ['HUB_RETENTION_ALERT_DAYS', '1.5', 'must be a whole number of days (0 keeps forever)'],
    ['HUB_RETENTION_AUDIT_DAYS', '2y', 'must be a whole number of days (0 keeps forever)'],
    ['HUB_RETENTION_ALERT_DAYS', '99999', 'must be at most 36500 days (100 years)'],
  ])('%s=%j is refused with one line naming it', (name, value, problem) => {
    expect(messageOf({ ...base, [name]: value })).toBe(`configuration: ${name} is invalid: ${problem} (see .env.example)`);
  });

  it('an empty value is an error (not "keep forever"); interval and batch bounds are checked too', () => {
    expect(messageOf({ ...base, HUB_RETENTION_RAW_PAYLOAD_DAYS: '' })).toBe('configuration: HUB_RETENTION_RAW_PAYLOAD_DAYS is missing (see .env.example)');
    expect(messageOf({ ...base, HUB_RETENTION_INTERVAL_SECONDS: '5' })).toMatch(/^configuration: HUB_RETENTION_INTERVAL_SECONDS is invalid: /);
    expect(messageOf({ ...base, HUB_RETENTION_BATCH_ROWS: '0' })).toMatch(/^configuration: HUB_RETENTION_BATCH_ROWS is invalid: /);
  });
});

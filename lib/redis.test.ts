import { envSchema } from '../config/env';
import { parseSentinelUrl } from './redis';

describe('REDIS_URL redis+sentinel:// (SPEC §8)', () => {
  it('one sentinel, the master name from the path', () => {
    expect(parseSentinelUrl('redis+sentinel://10.0.0.5:26379/hubmaster')).toEqual({ sentinels: [{ host: '10.0.0.5', port: 26379 }], name: 'hubmaster', password: undefined });
  });
  it('several sentinels: every host kept, the name taken from the end', () => {
    expect(parseSentinelUrl('redis+sentinel://a:26379,b:26380,c/hub')).toEqual({
      sentinels: [
        { host: 'a', port: 26379 },
        { host: 'b', port: 26380 },
        { host: 'c', port: 26379 },
      ],
      name: 'hub',
      password: undefined,
    });
  });
  it('the scheme repeated per host, a password, the default name', () => {
    expect(parseSentinelUrl('redis+sentinel://:s%40cret@a:1,redis+sentinel://b:2')).toEqual({
      sentinels: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
      name: 'mymaster',
      password: 's@cret',
    });
  });
  it('a bad port or no host is an error naming it', () => {
    expect(() => parseSentinelUrl('redis+sentinel://a:99999/x')).toThrow(/"a:99999" is not a sentinel host:port/);
    expect(() => parseSentinelUrl('redis+sentinel:///x')).toThrow(/at least one sentinel/);
  });
});

describe('REDIS_URL validation (config/env.ts) accepts what createRedis understands', () => {
  const check = (url: string) => envSchema.safeParse({ DATABASE_URL: 'postgres://u@h/d', REDIS_URL: url, HUB_SECRET_KEY: 'k'.repeat(40) }).success;
  it.each([
    'redis://127.0.0.1:6379',
    'rediss://cache.example:6380/0',
    'redis://a:7000,redis://b:7001,redis://c:7002',
    'redis+sentinel://10.0.0.5:26379/hubmaster',
    'redis+sentinel://a:26379,b:26380/hub',
    'redis+sentinel://:pw@a:1,redis+sentinel://b:2',
  ])('accepts %s', (url) => {
    expect(check(url)).toBe(true);
    if (url.startsWith('redis+sentinel')) expect(() => parseSentinelUrl(url)).not.toThrow();
  });
  it.each(['http://x', 'redis://a,http://b', 'redis+sentinel://', 'redis+sentinel://a:1/x,b:2'])('refuses %s', (url) => {
    expect(check(url)).toBe(false);
  });
});

// Environment for integration tests: the machine's real Postgres and Redis (DEVELOPERS.md).
process.env.NODE_ENV = 'test';
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.HUB_SECRET_KEY ??= 'test-secret-key-test-secret-key-0123456789';
process.env.HUB_ADMIN_TOKEN ??= 'test-admin-token-0123456789abcdef';
process.env.LOG_LEVEL ??= 'silent';
// Tests create maintenance windows and expect the very next alert to see them.
process.env.HUB_MAINTENANCE_CACHE_MS ??= '0';
// Many test files drive hundreds of admin requests a second with one token; the rate limits have
// tests of their own (test/integration/admin/rate-limits.test.ts) that set them explicitly.
process.env.HUB_API_RATE_LIMIT_PER_MINUTE ??= '0';
process.env.HUB_LOGIN_RATE_LIMIT_PER_MINUTE ??= '10000';

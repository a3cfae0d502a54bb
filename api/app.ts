import express, { type Express } from 'express';
import pinoHttp from 'pino-http';
import { requestSerializer } from '../lib/logger';
import type { AppDeps } from './context';
import { adminRouters } from './admin';
import { docsPageRouter } from './admin/docs/docs-page.route';
import { consoleRouter } from './console/console.route';
import { adminDashboardRouter, DASHBOARD_BASE } from './admin/queues/dashboard';
import { healthRouter } from './health.route';
import { metricsRouter } from './metrics.route';
import { authenticate, rolePolicy } from './middleware/auth';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { perAddressRateLimit, perTokenRateLimit } from './middleware/rate-limit';
import { requestId } from './middleware/request-id';
import { psaHookRouter } from './webhooks/psa-hook.route';
import { serveHooksFirst } from './webhooks/hooks-first';
import { createWebhookIntake } from './webhooks/webhook-intake';
import { webhookRouter } from './webhooks/webhook.route';

/** The Express app, without listen() (tests use supertest on it). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestId);
  // Webhooks authenticate per source over the raw bytes, so they get no JSON parser and no bearer
  // auth; they are mounted before the request logger: at thousands of alerts a second a log line
  // per 202 costs more than the intake itself. They log their own refusals and failures.
  // PSA status back (R-PSA-3): signed per connection, like the alert intake, before /hooks/:source.
  app.use('/hooks/psa', psaHookRouter(deps));
  // POST /hooks/:source is served before Express sees it (serveHooksFirst, below); this route gets
  // only the paths that dispatch leaves to Express, with the same intake.
  const intake = createWebhookIntake(deps);
  app.use('/hooks', webhookRouter(intake));
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req) => (req as express.Request).requestId ?? '',
      customProps: (req) => ({ requestId: (req as express.Request).requestId }),
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
      quietReqLogger: true,
      // pino-http puts its own request serializer on the child logger; ours filters the headers (issue 13 item 8).
      serializers: { req: requestSerializer },
    }),
  );
  app.use(healthRouter(deps));
  // Prometheus target, unauthenticated by design (see api/metrics.route.ts).
  app.use(metricsRouter(deps));
  // bull-board and its cookie login: its own auth gate (admin/operator), outside /api/v1. Sign-in
  // attempts are limited per address before the form is even parsed (token guessing).
  app.post(`${DASHBOARD_BASE}/login`, perAddressRateLimit(deps.config.HUB_LOGIN_RATE_LIMIT_PER_MINUTE));
  app.use(DASHBOARD_BASE, adminDashboardRouter(deps));

  const api = express.Router();
  // Authentication first, then the per-token limit, then the JSON parser: an unauthenticated or
  // over-limit request costs no body parsing (up to 5 MB of JSON) at all (issue 13 item 3).
  api.use(authenticate(deps.db, deps.config.HUB_ADMIN_TOKEN));
  api.use(perTokenRateLimit(deps.config.HUB_API_RATE_LIMIT_PER_MINUTE));
  api.use(express.json({ limit: '5mb', strict: true }));
  for (const entry of adminRouters(deps)) {
    const r = express.Router();
    r.use(rolePolicy(entry.policy ?? { read: 'viewer', write: 'admin' }));
    r.use(entry.router);
    api.use(entry.path, r);
  }
  app.use('/api/v1', api);

  app.use(docsPageRouter());
  app.use(consoleRouter());

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  serveHooksFirst(app, intake);
  return app;
}

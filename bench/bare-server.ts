import crypto from 'node:crypto';
import express from 'express';

/**
 * The baseline of the intake benchmark: a bare Express handler that parses the same JSON and
 * answers 202 — no auth, no validation, no storage, no queue.
 */
const app = express();
app.use(express.json({ limit: '1mb' }));
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/hooks/:source', (req, res) => {
  res.status(202).json({ alertIds: [crypto.randomUUID()], got: typeof req.body });
});
app.listen(Number(process.argv[2] ?? 3999), '127.0.0.1');

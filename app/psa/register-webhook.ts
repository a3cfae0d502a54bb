import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { HubError } from '../../core/errors';
import { writeAudit } from '../../db/queries/audit';
import { PsaError, type ConnectorDeps } from '../../connectors/types';
import { connectionConfig } from './connection-secrets';
import { connectorDepsOf, findConnection, updateConnection, type PsaCallBudgetOf } from './connections';

/**
 * `hub psa register-webhook <connection> --url <public hub url>` and
 * `POST /api/v1/psa-connections/:name/webhook` (R-PSA-3, issue 16 item 4): the hub registers its own
 * Autotask ticket webhook, `<url>/hooks/psa/<connection>`, subscribed to the ticket's `status`.
 *
 * The secret key is the connection's `webhookSecret`; a connection without one gets a generated
 * one (32 random bytes, base64url), sealed with the connection's other secrets *before* Autotask
 * is called — a failure after that leaves a stored secret that the next run reuses, never a
 * webhook whose callouts the hub cannot verify. Idempotent: the connector finds an existing webhook
 * by its URL and brings it up to date (secret key, active, status field) instead of creating a
 * second one. The secret is never returned.
 *
 * Audited here, so the API and the CLI leave the same rows (actor: the token's, or `cli:<os user>`):
 * `update` of the connection when a secret was generated (in its transaction; never the secret) and
 * `register-webhook` once Autotask accepted it.
 */
export interface RegisterWebhookOptions {
  /** The hub's public base URL (https; http only for a loopback host). */
  url: string;
  /** Where Autotask reports the webhook's deactivation; default the webhook URL itself. */
  deactivationUrl?: string | undefined;
  /** Where Autotask e-mails threshold and deactivation notices; default none. */
  notificationEmail?: string | undefined;
}

export interface RegisterWebhookReport {
  connection: string;
  webhookUrl: string;
  webhookId: string;
  guid: string | null;
  created: boolean;
  statusFieldAdded: boolean;
  /** A webhookSecret was generated and stored now (the connection had none). */
  secretGenerated: boolean;
}

/** Who asked (the audit rows' actor and request id). */
export interface RegisterWebhookActor {
  actor: string;
  requestId?: string | null | undefined;
}

export interface RegisterWebhookDeps {
  db: Knex;
  secretKeys: readonly string[];
  connectorDeps: Omit<ConnectorDeps, 'connectionName'>;
  /** The connection's call budget (these calls count against the PSA's limit too); absent = none. */
  psaCallBudget?: PsaCallBudgetOf | undefined;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const SECRET_KEY_MAX = 64;

/** A public base URL: absolute http(s), no credentials, query or fragment; https unless the host is loopback. */
export function hubPublicUrl(raw: string, field = 'url'): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new HubError('VALIDATION_FAILED', `${field}: not an absolute URL`, [{ field, message: 'not an absolute URL' }]);
  }
  const bad = (message: string) => new HubError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw bad('must be an http(s) URL');
  if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) throw bad('must be https (Autotask posts ticket data and a signature to it); http only for localhost');
  if (u.username !== '' || u.password !== '') throw bad('must not carry credentials');
  if (u.search !== '' || u.hash !== '') throw bad('must not have a query or fragment');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** A PSA failure as the API's error: the PSA refused (422, its message kept) or could not be reached (503). */
export function psaFailure(e: unknown, what: string): unknown {
  if (!(e instanceof PsaError)) return e;
  return e.kind === 'permanent'
    ? new HubError('UNPROCESSABLE', `${what}: the PSA refused: ${e.message}`, { psaMessage: e.details.psaMessage ?? null, status: e.details.status ?? null })
    : new HubError('NOT_READY', `${what}: the PSA did not answer usably, try again: ${e.message}`, { status: e.details.status ?? null, retryAfterMs: e.details.retryAfterMs ?? null });
}

export async function registerPsaWebhook(deps: RegisterWebhookDeps, name: string, opts: RegisterWebhookOptions, by: RegisterWebhookActor): Promise<RegisterWebhookReport> {
  const base = hubPublicUrl(opts.url);
  const deactivationUrl = opts.deactivationUrl === undefined ? undefined : hubPublicUrl(opts.deactivationUrl, 'deactivationUrl');
  let row = await findConnection(deps.db, name);
  if (row.type !== 'autotask') throw new HubError('UNPROCESSABLE', `connection ${name}: a ${row.type} connection has no ticket webhook to register (ConnectWise: status back by polling)`);
  if (!row.enabled) throw new HubError('UNPROCESSABLE', `connection ${name} is disabled: its callouts would be refused; enable it first`);
  let { config } = connectionConfig(row, deps.secretKeys);
  let secretGenerated = false;
  if (typeof config.webhookSecret !== 'string' || config.webhookSecret === '') {
    const secret = crypto.randomBytes(32).toString('base64url');
    row = await deps.db.transaction(async (trx) => {
      const r = await updateConnection(trx, name, { config: { webhookSecret: secret } }, deps.secretKeys);
      await writeAudit(trx, { actor: by.actor, requestId: by.requestId ?? null, action: 'update', entityType: 'psa_connection', entityId: name, after: { webhookSecret: 'generated' } });
      return r.after;
    });
    config = connectionConfig(row, deps.secretKeys).config;
    secretGenerated = true;
  } else if (config.webhookSecret.length > SECRET_KEY_MAX) {
    throw new HubError('UNPROCESSABLE', `connection ${name}: its webhookSecret is longer than the ${SECRET_KEY_MAX} characters Autotask accepts as a secret key; set a shorter one (or remove it to have one generated)`);
  }
  const { connector } = connectionConfig(row, deps.secretKeys);
  const session = connector.open(config, connectorDepsOf(row, deps.connectorDeps, deps.psaCallBudget));
  const webhookUrl = `${base}/hooks/psa/${encodeURIComponent(row.name)}`;
  let report: RegisterWebhookReport;
  try {
    if (!session.registerWebhook) throw new HubError('UNPROCESSABLE', `connection ${name}: its connector cannot register webhooks`);
    const r = await session.registerWebhook({
      webhookUrl,
      deactivationUrl: deactivationUrl ?? webhookUrl,
      secretKey: String(config.webhookSecret),
      name: `Alert hub status back (${row.name})`,
      notificationEmail: opts.notificationEmail ?? null,
    });
    report = { connection: row.name, webhookUrl, webhookId: r.webhookId, guid: r.guid, created: r.created, statusFieldAdded: r.statusFieldAdded, secretGenerated };
  } catch (e) {
    throw psaFailure(e, `registering the webhook of ${name}`);
  } finally {
    await session.close?.();
  }
  await writeAudit(deps.db, {
    actor: by.actor,
    requestId: by.requestId ?? null,
    action: 'register-webhook',
    entityType: 'psa_connection',
    entityId: report.connection,
    after: { webhookUrl: report.webhookUrl, webhookId: report.webhookId, created: report.created },
  });
  return report;
}

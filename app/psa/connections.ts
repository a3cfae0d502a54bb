import type { Knex } from 'knex';
import { HubError, notFound } from '../../core/errors';
import { connectorOf, PSA_TYPES, type ConnectionTestResult, type ConnectorDeps, type PsaType } from '../../connectors';
import type { Db } from '../../db/connection';
import {
  deletePsaConnection,
  getPsaConnectionByName,
  insertPsaConnection,
  lockPsaConnection,
  updatePsaConnection,
  type PsaConnectionWrite,
} from '../../db/queries/psa-connections';
import type { PsaConnectionRow } from '../../db/tables';
import { connectionConfig, openSecrets, sealSecrets, splitConfig } from './connection-secrets';

/**
 * PSA connections (issue 16 item 2): create, change, delete, test. The config is validated by
 * its connector's strict schema, split into settings and sealed secrets. The caller (route, CLI)
 * owns the transaction and the audit row; these take the transaction.
 */
export interface ConnectionInput {
  name: string;
  type: PsaType;
  enabled: boolean;
  config: Record<string, unknown>;
  rateLimitPerHour?: number | null | undefined;
}

/** The connector's schema over the config, errors naming `config.<field>`. */
function validated(type: string, config: Record<string, unknown>): { settings: Record<string, unknown>; secrets: Record<string, unknown> } {
  const connector = connectorOf(type);
  const parsed = connector.configSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['config', ...(issue?.path ?? []).map(String)].join('.');
    throw new HubError('VALIDATION_FAILED', `${field}: ${issue?.message ?? 'invalid'}`, { field, issues: parsed.error.issues.map((i) => ({ path: ['config', ...i.path.map(String)].join('.'), message: i.message })) });
  }
  // Stored as posted (defaults are filled in when it is used), so a changed default reaches old connections.
  return splitConfig(connector, config);
}

function writeOf(input: ConnectionInput, keys: readonly string[]): PsaConnectionWrite {
  const { settings, secrets } = validated(input.type, input.config);
  return { name: input.name, type: input.type, enabled: input.enabled, config: settings, secretsEnc: sealSecrets(input.name, secrets, keys), rateLimitPerHour: input.rateLimitPerHour ?? null };
}

export async function createConnection(trx: Knex.Transaction, input: ConnectionInput, keys: readonly string[]): Promise<PsaConnectionRow> {
  return insertPsaConnection(trx, writeOf(input, keys));
}

export async function findConnection(db: Db, name: string): Promise<PsaConnectionRow> {
  const row = /^[a-z0-9][a-z0-9_-]{0,62}$/.test(name) ? await getPsaConnectionByName(db, name) : undefined;
  if (!row) throw notFound('PSA connection', name);
  return row;
}

/**
 * A PATCH: given fields replace the stored ones; `config` is merged key by key over the stored
 * config (secrets included), so changing a picklist id does not need the secret again; a key set
 * to null is removed. The whole result is validated again.
 */
export async function updateConnection(
  trx: Knex.Transaction,
  name: string,
  patch: { name?: string | undefined; enabled?: boolean | undefined; config?: Record<string, unknown> | undefined; rateLimitPerHour?: number | null | undefined },
  keys: readonly string[],
): Promise<{ before: PsaConnectionRow; after: PsaConnectionRow; secretsChanged: boolean }> {
  const found = await findConnection(trx, name);
  const before = (await lockPsaConnection(trx, found.id)) ?? found;
  const secrets = openSecrets(before, keys);
  if (!secrets) throw new HubError('CONFLICT', `PSA connection ${before.name}: stored secrets cannot be decrypted with HUB_SECRET_KEYS; send the whole config again`);
  const connector = connectorOf(before.type);
  const config: Record<string, unknown> = { ...before.config, ...secrets };
  let secretsChanged = false;
  for (const [k, v] of Object.entries(patch.config ?? {})) {
    if (connector.secretFields.includes(k)) secretsChanged = true;
    if (v === null) delete config[k];
    else config[k] = v;
  }
  const input: ConnectionInput = {
    name: patch.name ?? before.name,
    type: before.type,
    enabled: patch.enabled ?? before.enabled,
    config,
    rateLimitPerHour: patch.rateLimitPerHour === undefined ? before.rate_limit_per_hour : patch.rateLimitPerHour,
  };
  const after = await updatePsaConnection(trx, before.id, writeOf(input, keys));
  if (!after) throw notFound('PSA connection', name);
  return { before, after, secretsChanged };
}

export async function removeConnection(trx: Knex.Transaction, name: string): Promise<PsaConnectionRow> {
  const row = await findConnection(trx, name);
  await lockPsaConnection(trx, row.id);
  await deletePsaConnection(trx, row.id);
  return row;
}

/**
 * The connection's call budget for work outside the delivery runs (status poll, import, webhook
 * registration, connection test): every HTTP call takes its slot of the same sliding window as the
 * deliveries' (main/psa-call-budget.ts), since the PSA counts them all. Undefined: no limit.
 */
export type PsaCallBudgetOf = (row: PsaConnectionRow) => (() => Promise<void>) | undefined;

/** The connector deps of one connection, with its call budget when there is one. */
export function connectorDepsOf(row: PsaConnectionRow, deps: Omit<ConnectorDeps, 'connectionName'>, budget: PsaCallBudgetOf | undefined): ConnectorDeps {
  const beforeCall = budget?.(row);
  return { ...deps, connectionName: row.name, ...(beforeCall ? { beforeCall } : {}) };
}

/** Calls the PSA with the stored config: what worked and what did not (never throws for a PSA failure). */
export async function testConnection(
  db: Db,
  name: string,
  keys: readonly string[],
  deps: Omit<ConnectorDeps, 'connectionName'>,
  psaCallBudget?: PsaCallBudgetOf,
): Promise<ConnectionTestResult> {
  const row = await findConnection(db, name);
  const { connector, config } = connectionConfig(row, keys);
  const session = connector.open(config, connectorDepsOf(row, deps, psaCallBudget));
  try {
    return await session.testConnection();
  } catch (e) {
    return { ok: false, checks: [{ name: 'connection', ok: false, detail: e instanceof Error ? e.message : String(e) }] };
  } finally {
    await session.close?.();
  }
}

/** What the API shows of a connection: settings, which secret fields are set (never their values). */
export function connectionView(row: PsaConnectionRow, keys: readonly string[]): {
  id: string;
  name: string;
  type: PsaType;
  enabled: boolean;
  config: Record<string, unknown>;
  secretsConfigured: string[] | null;
  rateLimitPerHour: number | null;
  createdAt: string;
  updatedAt: string;
} {
  const secrets = openSecrets(row, keys);
  return {
    id: String(row.id),
    name: row.name,
    type: row.type,
    enabled: row.enabled,
    config: row.config,
    secretsConfigured: secrets ? Object.keys(secrets).sort() : null,
    rateLimitPerHour: row.rate_limit_per_hour,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export { PSA_TYPES };

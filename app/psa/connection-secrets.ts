import { HubError } from '../../core/errors';
import { connectorOf, type PsaConnector } from '../../connectors';
import { decryptSecrets, encryptSecrets, psaConnectionSecretsContext } from '../../plugins/auth/secret-box';
import type { PsaConnectionRow } from '../../db/tables';

/**
 * A connection's config is stored in two halves: the settings in `config` (shown by the API) and
 * the connector's `secretFields` sealed into `secrets_enc` (never returned, logged or audited),
 * bound to the connection's name.
 */
export function splitConfig(connector: PsaConnector<Record<string, unknown>>, config: Record<string, unknown>): { settings: Record<string, unknown>; secrets: Record<string, unknown> } {
  const secretKeys = new Set(connector.secretFields);
  const settings: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) (secretKeys.has(k) ? secrets : settings)[k] = v;
  return { settings, secrets };
}

export function sealSecrets(name: string, secrets: Record<string, unknown>, keys: readonly string[]): string {
  return encryptSecrets(secrets, keys, psaConnectionSecretsContext(name));
}

/** The stored secrets, or null when no key of HUB_SECRET_KEYS opens them. */
export function openSecrets(row: Pick<PsaConnectionRow, 'name' | 'secrets_enc'>, keys: readonly string[]): Record<string, unknown> | null {
  try {
    return decryptSecrets(row.secrets_enc, keys, psaConnectionSecretsContext(row.name));
  } catch {
    return null;
  }
}

/** The whole config (settings + secrets) of a stored connection, through its connector's schema (defaults filled in). */
export function connectionConfig(row: PsaConnectionRow, keys: readonly string[]): { connector: PsaConnector<Record<string, unknown>>; config: Record<string, unknown> } {
  const connector = connectorOf(row.type);
  const secrets = openSecrets(row, keys);
  if (!secrets) throw new HubError('CONFLICT', `PSA connection ${row.name}: its secrets cannot be decrypted with HUB_SECRET_KEYS; send its config again`);
  const parsed = connector.configSchema.safeParse({ ...row.config, ...secrets });
  if (!parsed.success) throw new HubError('CONFLICT', `PSA connection ${row.name}: its stored config is no longer valid (${parsed.error.issues[0]?.message ?? 'invalid'}); send its config again`);
  return { connector, config: parsed.data };
}

import { HubError } from '../core/errors';
import { autotaskConnector } from './autotask';
import { connectWiseConnector } from './connectwise';
import { PSA_TYPES, type PsaConnector, type PsaType } from './types';
import { webhookConnector } from './webhook';

/**
 * The connector registry. A type without an entry (e.g. `connectwise` before its connector
 * lands) is refused when a connection is configured. Adding one = a folder + a line here.
 */
export const connectors: Partial<Record<PsaType, PsaConnector<Record<string, unknown>>>> = {
  autotask: autotaskConnector,
  connectwise: connectWiseConnector,
  webhook: webhookConnector,
};

export const isPsaType = (t: string): t is PsaType => (PSA_TYPES as readonly string[]).includes(t);

/** The connector of a type, or a VALIDATION_FAILED naming `type`. */
export function connectorOf(type: string): PsaConnector<Record<string, unknown>> {
  const c = isPsaType(type) ? connectors[type] : undefined;
  if (!c) throw new HubError('VALIDATION_FAILED', `type: no connector "${type}" in this build (available: ${Object.keys(connectors).join(', ')})`, { field: 'type' });
  return c;
}

export * from './types';

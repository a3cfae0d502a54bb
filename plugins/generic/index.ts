import type { HubPlugin } from '../types';
import { normalizeGeneric } from './normalize';
import { genericSamples } from './samples';
import { genericConfigSchema, type GenericConfig } from './schema';

/** The hub's own alert shape: for any sender that can post templated JSON. */
export const genericPlugin: HubPlugin<GenericConfig> = {
  id: 'generic',
  displayName: 'Generic JSON (the hub\'s own alert shape)',
  docsUrl: 'plugins/generic/README.md',
  configSchema: genericConfigSchema,
  auth: ['hmac', 'token', 'basic'],
  normalize: normalizeGeneric,
  samples: genericSamples,
};

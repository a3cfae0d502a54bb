import type { HubPlugin } from '../types';
import { normalizeExample } from './normalize';
import { exampleSamples } from './samples';
import { exampleConfigSchema, type ExampleConfig } from './schema';

/** TEMPLATE: not registered. Copy the folder, rename, then add it to PLUGIN_IDS and `plugins` in ../index.ts. */
export const examplePlugin: HubPlugin<ExampleConfig> = {
  id: 'example',
  displayName: 'ExampleMon (template)',
  docsUrl: 'https://example.com/docs/webhooks',
  configSchema: exampleConfigSchema,
  // What the sender can do, the recommended first: hmac if it signs, else token, else basic.
  auth: ['hmac', 'token'],
  normalize: normalizeExample,
  samples: exampleSamples,
};

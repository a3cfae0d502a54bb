import type { HubPlugin } from '../types';
import { normalizeNinjaone } from './normalize';
import { ninjaoneSamples } from './samples';
import { ninjaoneConfigSchema, type NinjaoneConfig } from './schema';

/** NinjaOne activity webhook; authenticates with a custom header the MSP sets on the webhook. */
export const ninjaonePlugin: HubPlugin<NinjaoneConfig> = {
  id: 'ninjaone',
  displayName: 'NinjaOne (NinjaRMM)',
  docsUrl: 'https://app.ninjarmm.com/apidocs/',
  configSchema: ninjaoneConfigSchema,
  auth: ['token'],
  normalize: normalizeNinjaone,
  samples: ninjaoneSamples,
};

import type { HubPlugin } from '../types';
import { normalizeDattoRmm } from './normalize';
import { dattoRmmSamples } from './samples';
import { dattoRmmConfigSchema, type DattoRmmConfig } from './schema';

/** Datto RMM monitor / global webhooks, with the trigger and resolution templates of README.md. */
export const dattoRmmPlugin: HubPlugin<DattoRmmConfig> = {
  id: 'datto-rmm',
  displayName: 'Datto RMM',
  docsUrl: 'https://rmm.datto.com/help/en/Content/3NEWUI/Monitors/Webhooks.htm',
  configSchema: dattoRmmConfigSchema,
  auth: ['token'],
  normalize: normalizeDattoRmm,
  samples: dattoRmmSamples,
};

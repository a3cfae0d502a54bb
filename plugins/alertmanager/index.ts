import type { HubPlugin } from '../types';
import { normalizeAlertmanager } from './normalize';
import { alertmanagerSamples } from './samples';
import { alertmanagerConfigSchema, type AlertmanagerConfig } from './schema';

/** Prometheus Alertmanager webhook_config (payload version 4). It cannot sign, so: token or basic. */
export const alertmanagerPlugin: HubPlugin<AlertmanagerConfig> = {
  id: 'alertmanager',
  displayName: 'Prometheus Alertmanager',
  docsUrl: 'https://prometheus.io/docs/alerting/latest/configuration/#webhook_config',
  configSchema: alertmanagerConfigSchema,
  auth: ['token', 'basic'],
  normalize: normalizeAlertmanager,
  samples: alertmanagerSamples,
};

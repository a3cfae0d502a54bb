import type { HubPlugin } from '../types';
import { normalizeGrafana } from './normalize';
import { grafanaSamples } from './samples';
import { grafanaConfigSchema, type GrafanaConfig } from './schema';

/** Grafana unified alerting webhook contact point; signs with HMAC-SHA256 when a secret is set. */
export const grafanaPlugin: HubPlugin<GrafanaConfig> = {
  id: 'grafana',
  displayName: 'Grafana Alerting',
  docsUrl: 'https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/',
  configSchema: grafanaConfigSchema,
  auth: ['hmac', 'token', 'basic'],
  // Grafana 12+ signs `${timestamp}:${body}` when a timestamp header is set, the body alone otherwise.
  hmacSchemes: ['timestamped', 'body-only'],
  normalize: normalizeGrafana,
  samples: grafanaSamples,
};

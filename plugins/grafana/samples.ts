import type { SamplePayload } from '../types';
import docsSample from './fixtures/docs-two-firing.json';
import diskFiring from './fixtures/msp-disk-firing.json';
import diskResolved from './fixtures/msp-disk-resolved.json';

const docs = 'https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/';

export const grafanaSamples: readonly SamplePayload[] = [
  { name: "Grafana docs' example (two firing alerts)", docs, body: docsSample },
  { name: 'disk space low on a customer server (firing)', docs, body: diskFiring },
  { name: 'disk space low on a customer server (resolved)', docs, body: diskResolved },
];

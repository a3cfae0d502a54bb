import type { SamplePayload } from '../types';
import blackbox from './fixtures/blackbox-probe.json';
import firing from './fixtures/alertmanager-0.25-webhook-firing.json';
import resolved from './fixtures/alertmanager-0.25-webhook-resolved.json';
import group from './fixtures/group-mixed-status.json';

const docs = 'https://prometheus.io/docs/alerting/latest/configuration/#webhook_config';

export const alertmanagerSamples: readonly SamplePayload[] = [
  { name: 'DiskFull firing (captured from Alertmanager 0.25)', docs, body: firing },
  { name: 'DiskFull resolved (captured from Alertmanager 0.25)', docs, body: resolved },
  { name: 'group with one firing and one resolved alert', docs, body: group },
  { name: 'blackbox probe (URL instance)', docs, body: blackbox },
];

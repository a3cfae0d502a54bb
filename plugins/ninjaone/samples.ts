import type { SamplePayload } from '../types';
import priorityOnly from './fixtures/priority-only.json';
import reset from './fixtures/condition-reset.json';
import triggered from './fixtures/condition-triggered.json';

/**
 * The activity shape of NinjaRMM's "Public API v2.0.5 Webhooks" document (webhook.yaml; the API
 * docs' "webhooks" section, PUT /v2/webhook). Field values follow a real delivery a NinjaOne user
 * published (fractional activityTime, statusCode TRIGGERED with status "Triggered", empty subject)
 * and the payload description of Spike.sh's NinjaOne integration guide; hosts and names changed.
 */
const docs = 'https://app.ninjarmm.com/apidocs/ (Ninja RMM Public API 2.0, webhooks: activity notification schema)';

export const ninjaoneSamples: readonly SamplePayload[] = [
  { name: 'memory condition triggered', docs, body: triggered },
  { name: 'memory condition reset', docs, body: reset },
  { name: 'disk condition with priority but no severity', docs, body: priorityOnly },
];

import type { SamplePayload } from '../types';
import epochMs from './fixtures/trigger-epoch-ms.json';
import resolved from './fixtures/resolved.json';
import trigger from './fixtures/trigger-critical.json';

/** Bodies of the README's trigger and resolution templates as Datto fills them in (values invented). */
const docs = 'https://rmm.datto.com/help/en/Content/3NEWUI/Monitors/Webhooks.htm';

export const dattoRmmSamples: readonly SamplePayload[] = [
  { name: 'disk usage alert (trigger template)', docs, body: trigger },
  { name: 'disk usage alert resolved (resolution template)', docs, body: resolved },
  { name: 'device offline, timestamp in epoch milliseconds', docs, body: epochMs },
];

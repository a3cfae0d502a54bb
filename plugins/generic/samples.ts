import type { SamplePayload } from '../types';
import batch from './fixtures/batch.json';
import firing from './fixtures/firing.json';
import resolved from './fixtures/resolved.json';

const docs = 'SPEC.md §8 "Webhooks" and plugins/generic/README.md';

export const genericSamples: readonly SamplePayload[] = [
  { name: 'backup failed (firing)', docs, body: firing },
  { name: 'backup failed (resolved)', docs, body: resolved },
  { name: 'batch of two alerts', docs, body: batch },
];

import type { SamplePayload } from '../types';
import ok from './fixtures/ok.json';
import problem from './fixtures/problem.json';

/** TEMPLATE: every sample names the vendor page documenting its shape. */
const docs = 'https://example.com/docs/webhooks (replace with the vendor page)';

export const exampleSamples: readonly SamplePayload[] = [
  { name: 'disk free space problem', docs, body: problem },
  { name: 'disk free space ok again', docs, body: ok },
];

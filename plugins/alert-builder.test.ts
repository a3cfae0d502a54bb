import { isHubError } from '../core/errors';
import { finishAlert, type AlertDraft } from './alert-builder';
import { MAX_ALERT_KEY_LENGTH } from './alert-schema';
import type { NormalizeContext } from './types';

const ctx = (dedupFields?: string[]): NormalizeContext<{ dedupFields?: string[] }> => ({
  config: dedupFields ? { dedupFields } : {},
  sourceName: 'src',
  receivedAt: new Date('2026-11-23T12:00:00Z'),
});

const draft = (over: Partial<AlertDraft> = {}): AlertDraft => ({
  sourceAlertId: 'fp|firing|2026-11-23T00:00:00Z',
  conditionId: ['fp'],
  state: 'firing',
  severity: 'high',
  category: null,
  title: 'Disk full',
  fallbackTitle: 'alert fp',
  message: null,
  device: { sourceDeviceId: null, hostname: 'mail01', site: null },
  occurredAt: new Date('2026-11-23T00:00:00Z'),
  labels: {},
  raw: { check: 'disk' },
  ...over,
});

/** The 400 finishAlert throws, or undefined. */
const refusal = (fn: () => unknown): { status: number; message: string } | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!isHubError(e)) throw e;
    return { status: e.status, message: e.message };
  }
};

describe('finishAlert: ids too long to store are the sender\'s 400 (found by test/faults/fuzz-webhooks.test.ts)', () => {
  const long = 'x'.repeat(MAX_ALERT_KEY_LENGTH + 1);

  it('R-ALR-5: an alert id past the cap is a 400 naming the alert, not a plugin bug', () => {
    expect(refusal(() => finishAlert(ctx(), draft({ sourceAlertId: long }), ['alerts', 3]))).toEqual({
      status: 400,
      message: expect.stringMatching(/^alerts\[3\]: its alert id is 1001 characters long, at most 1000/) as unknown,
    });
  });

  it('R-ALR-5: a dedup key past the cap names the condition id, or the source\'s dedupFields when they made it', () => {
    expect(refusal(() => finishAlert(ctx(), draft({ conditionId: [long] }), []))?.message).toMatch(/^body: its dedup key .* condition id is too long/);
    expect(refusal(() => finishAlert(ctx(['check']), draft({ raw: { check: long } }), ['alerts', 0]))?.message).toMatch(/dedupFields \(check\) are too long/);
  });

  it('R-ALR-5: ids at the cap pass unchanged', () => {
    const atCap = 'y'.repeat(MAX_ALERT_KEY_LENGTH);
    const alert = finishAlert(ctx(), draft({ sourceAlertId: atCap, conditionId: ['y'.repeat(MAX_ALERT_KEY_LENGTH - 'src:'.length)] }), []);
    expect(alert.sourceAlertId).toBe(atCap);
    expect(alert.dedupKey).toHaveLength(MAX_ALERT_KEY_LENGTH);
  });
});

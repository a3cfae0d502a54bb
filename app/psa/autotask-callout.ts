import type { Knex } from 'knex';
import { autotaskCalloutSchema, calloutEventKey, calloutField, verifyAutotaskCallout } from '../../connectors/autotask/callout';
import { HubError } from '../../core/errors';
import { reverseStatusMap } from '../../core/psa/status-back';
import { getPsaConnectionByName } from '../../db/queries/psa-connections';
import { connectionConfig } from './connection-secrets';
import { applyStatusReports, type StatusBackOutcome } from './status-back';

/**
 * An Autotask ticket-webhook callout (R-PSA-3), as `POST /hooks/psa/:connection` received it:
 * the connection and its webhookSecret (none = refused, never open), the signature over the raw
 * bytes (constant time), the payload, then the status report applied once per event. Every
 * refusal before the signature is proven is the same UNAUTHORIZED (no enumeration of names).
 */
const CONNECTION_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const notVerified = () => new HubError('UNAUTHORIZED', 'PSA callout verification failed');

export interface CalloutInput {
  connection: string;
  rawBody: Buffer;
  /** The X-Hook-Signature header. */
  signature: string | undefined;
  requestId?: string | null;
  now: Date;
}

export type CalloutResult = { outcome: StatusBackOutcome; ticketId: string | null } | { outcome: 'ignored'; reason: string };

export async function receiveAutotaskCallout(deps: { db: Knex; secretKeys: readonly string[]; onRefused?: (reason: string) => void }, input: CalloutInput): Promise<CalloutResult> {
  if (!CONNECTION_NAME.test(input.connection)) throw notVerified();
  const row = await getPsaConnectionByName(deps.db, input.connection);
  if (!row || !row.enabled || row.type !== 'autotask') throw notVerified();
  let config: Record<string, unknown>;
  let statusMap: Record<string, string>;
  try {
    const c = connectionConfig(row, deps.secretKeys);
    config = c.config;
    statusMap = c.connector.statusMap(c.config);
  } catch {
    throw notVerified();
  }
  const secret = typeof config.webhookSecret === 'string' ? config.webhookSecret : undefined;
  const verdict = verifyAutotaskCallout(input.rawBody, input.signature, secret);
  if (!verdict.ok) {
    deps.onRefused?.(verdict.reason);
    throw notVerified();
  }
  let payload: unknown;
  try {
    payload = JSON.parse(input.rawBody.toString('utf8'));
  } catch {
    throw new HubError('INVALID_JSON', 'body: not valid JSON');
  }
  const parsed = autotaskCalloutSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HubError('VALIDATION_FAILED', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  const callout = parsed.data;
  if (callout.EntityType.toLowerCase() !== 'ticket') return { outcome: 'ignored', reason: `entity ${callout.EntityType} is not a ticket` };
  const psaValue = calloutField(callout, 'status');
  const status = reverseStatusMap(statusMap as Parameters<typeof reverseStatusMap>[0], psaValue as string | number | undefined);
  const [result] = await applyStatusReports(
    deps.db,
    row,
    [
      {
        state: { externalId: callout.Id, hubTicketId: null, status, psaStatus: psaValue === undefined ? '' : String(psaValue), lastActivityAt: callout.EventTime ?? null },
        deleted: callout.Action.toLowerCase() === 'delete',
        eventKey: calloutEventKey(callout, input.rawBody),
      },
    ],
    { now: input.now, requestId: input.requestId ?? null },
  );
  return { outcome: result!.outcome, ticketId: result!.ticketId };
}

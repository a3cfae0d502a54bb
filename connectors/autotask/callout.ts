import crypto from 'node:crypto';
import { z } from 'zod';

/**
 * Autotask ticket webhook callouts (status back, issue 16 item 4).
 * https://www.autotask.net/help/developerhelp/Content/APIs/Webhooks/WEBHOOKS.htm
 *
 * Autotask signs each callout with the webhook's SecretKey: `X-Hook-Signature: sha1=<base64 of
 * HMAC-SHA1(secret, body)>`. Verification is pure, over the raw bytes as received (never
 * re-serialized JSON), constant time, and fails closed: no secret configured means refused.
 */
export const AUTOTASK_SIGNATURE_HEADER = 'x-hook-signature';

export type CalloutVerification = { ok: true } | { ok: false; reason: string };

export function autotaskSignature(secret: string, rawBody: Buffer): string {
  return `sha1=${crypto.createHmac('sha1', secret).update(rawBody).digest('base64')}`;
}

export function verifyAutotaskCallout(rawBody: Buffer, header: string | undefined, secret: string | undefined): CalloutVerification {
  if (secret === undefined || secret === '') return { ok: false, reason: 'the connection has no webhookSecret' };
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'no X-Hook-Signature header' };
  const m = /^sha1=([A-Za-z0-9+/]+={0,2})$/.exec(header.trim());
  if (!m) return { ok: false, reason: 'X-Hook-Signature is not sha1=<base64>' };
  const presented = Buffer.from(m[1]!, 'base64');
  const expected = crypto.createHmac('sha1', secret).update(rawBody).digest();
  if (presented.length !== expected.length || !crypto.timingSafeEqual(presented, expected)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}

/** The callout body: `{ Action, Guid, EntityType, Id, Fields, EventTime, SequenceNumber, PersonID }` (extra keys kept). */
export const autotaskCalloutSchema = z.looseObject({
  Action: z.string().min(1).max(50),
  /** The webhook's GUID (one per registered webhook). */
  Guid: z.string().min(1).max(100),
  EntityType: z.string().min(1).max(100),
  Id: z.union([z.int().nonnegative(), z.string().regex(/^\d{1,19}$/)]).transform(String),
  Fields: z.record(z.string(), z.unknown()).default({}),
  EventTime: z.string().max(100).optional(),
  SequenceNumber: z.union([z.int(), z.string().max(50)]).optional(),
  PersonID: z.union([z.int(), z.string().max(50)]).nullable().optional(),
});
export type AutotaskCallout = z.infer<typeof autotaskCalloutSchema>;

/** A field of the callout, case-insensitively (`Status` or `status`). */
export function calloutField(callout: AutotaskCallout, name: string): unknown {
  const lower = name.toLowerCase();
  const key = Object.keys(callout.Fields).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : callout.Fields[key];
}

/**
 * What makes a callout the same event: the webhook, the ticket and Autotask's sequence number (or
 * its event time); without either, the body's own hash — a replayed body is then the same event.
 */
export function calloutEventKey(callout: AutotaskCallout, rawBody: Buffer): string {
  const seq = callout.SequenceNumber ?? callout.EventTime;
  const tail = seq === undefined ? crypto.createHash('sha256').update(rawBody).digest('hex') : String(seq);
  return `${callout.Guid}:${callout.Id}:${callout.Action}:${tail}`.slice(0, 300);
}

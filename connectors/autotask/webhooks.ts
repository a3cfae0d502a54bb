import { PsaError } from '../types';
import { queryAll, type AtContext } from './query';

/**
 * The hub's own Autotask ticket webhook (status back, R-PSA-3, issue 16 item 4), registered through
 * the REST API: a `TicketWebhooks` entity (…/APIs/Webhooks/REST_WebhooksEntity.htm: `webhookUrl`,
 * `deactivationUrl` — both required —, `secretKey` ≤ 64 characters, `name` ≤ 50, `isActive`,
 * `isSubscribedToCreateEvents`/`UpdateEvents`/`DeleteEvents`, `sendThresholdExceededNotification`)
 * plus a `TicketWebhookFields` child row (…/REST_WebhookFieldsEntity.htm: `webhookID`, `fieldID`,
 * `isSubscribedField`, `isDisplayAlwaysField`) for the ticket's `status` — a webhook needs at least
 * one subscribed field to be ready.
 *
 * Idempotent, as a PSA without idempotency keys demands: the webhook is looked up by its URL before
 * anything is created (a crash between the create and the field leaves a webhook that the next run
 * finds and completes); a found one gets the hub's secret key again and is made active, so the
 * signatures always verify with the stored webhookSecret.
 *
 * `fieldID` is Autotask's internal id of the `status` field: the connection's `webhookStatusFieldId`
 * when set, else the `fieldID` picklist of `GET /v1.0/TicketWebhookFields/entityInformation/fields`
 * (the label or value naming the field `status`).
 */
export interface RegisterWebhookInput {
  /** Where Autotask posts the callouts: `https://<hub>/hooks/psa/<connection>`. */
  webhookUrl: string;
  /** Where Autotask posts when it deactivates the webhook (required by Autotask). */
  deactivationUrl: string;
  /** The secret key (the connection's webhookSecret), at most 64 characters. */
  secretKey: string;
  /** Shown in Autotask's webhook list, at most 50 characters. */
  name: string;
  /** Where Autotask sends threshold/deactivation e-mails; none = not set. */
  notificationEmail?: string | null;
}

export interface RegisterWebhookResult {
  webhookId: string;
  /** The webhook's GUID (the callouts' `Guid`), when Autotask answered it. */
  guid: string | null;
  /** True: created now; false: an existing one for the same URL was found and brought up to date. */
  created: boolean;
  /** True when the status field subscription was added now (false: it was there already). */
  statusFieldAdded: boolean;
  statusFieldId: number;
}

interface AtWebhook {
  id: number;
  webhookUrl?: string;
  webhookGUID?: string | null;
  isActive?: boolean;
}
interface AtWebhookField {
  id: number;
  webhookID?: number;
  fieldID: number;
  isSubscribedField?: boolean;
}

export const SECRET_KEY_MAX = 64;
const NAME_MAX = 50;

async function statusFieldId(ctx: AtContext): Promise<number> {
  if (ctx.config.webhookStatusFieldId !== undefined) return ctx.config.webhookStatusFieldId;
  const res = await ctx.call('GET', '/TicketWebhookFields/entityInformation/fields');
  const fields = (res.body as { fields?: Array<{ name: string; picklistValues?: Array<{ value: string | number; label: string }> | null }> } | undefined)?.fields ?? [];
  const fieldId = fields.find((f) => f.name.toLowerCase() === 'fieldid');
  const status = (fieldId?.picklistValues ?? []).find((v) => v.label.trim().toLowerCase() === 'status');
  const id = status === undefined ? NaN : Number(status.value);
  if (!Number.isInteger(id)) {
    throw new PsaError('permanent', "Autotask does not list the ticket field 'status' among the webhook fields; set the connection's webhookStatusFieldId");
  }
  return id;
}

export async function registerTicketWebhook(ctx: AtContext, input: RegisterWebhookInput): Promise<RegisterWebhookResult> {
  if (input.secretKey.length > SECRET_KEY_MAX) throw new PsaError('permanent', `the webhook secret key is longer than Autotask's ${SECRET_KEY_MAX} characters`);
  const fieldId = await statusFieldId(ctx);
  const settings = {
    name: input.name.slice(0, NAME_MAX),
    webhookUrl: input.webhookUrl,
    deactivationUrl: input.deactivationUrl,
    secretKey: input.secretKey,
    isActive: true,
    isSubscribedToCreateEvents: false,
    isSubscribedToUpdateEvents: true,
    isSubscribedToDeleteEvents: true,
    sendThresholdExceededNotification: Boolean(input.notificationEmail),
    ...(input.notificationEmail ? { notificationEmailAddress: input.notificationEmail } : {}),
  };
  const found = (await queryAll<AtWebhook>(ctx, 'TicketWebhooks', { filter: [{ op: 'eq', field: 'webhookUrl', value: input.webhookUrl }] })).sort((a, b) => a.id - b.id)[0];
  let webhookId: number;
  let created: boolean;
  if (found) {
    webhookId = found.id;
    created = false;
    await ctx.call('PATCH', '/TicketWebhooks', { id: webhookId, ...settings });
  } else {
    const res = await ctx.call('POST', '/TicketWebhooks', settings);
    const itemId = Number((res.body as { itemId?: unknown } | undefined)?.itemId);
    if (!Number.isInteger(itemId)) throw new PsaError('transient', 'POST /TicketWebhooks: no itemId in the answer');
    webhookId = itemId;
    created = true;
  }
  const fieldsRes = await ctx.call('GET', `/TicketWebhooks/${webhookId}/Fields`);
  const fields = ((fieldsRes.body as { items?: AtWebhookField[] } | undefined)?.items ?? []).filter((f) => Number(f.fieldID) === fieldId);
  let statusFieldAdded = false;
  if (fields.length === 0) {
    await ctx.call('POST', `/TicketWebhooks/${webhookId}/Fields`, { webhookID: webhookId, fieldID: fieldId, isSubscribedField: true, isDisplayAlwaysField: false });
    statusFieldAdded = true;
  } else if (!fields.some((f) => f.isSubscribedField === true)) {
    await ctx.call('PATCH', `/TicketWebhooks/${webhookId}/Fields`, { id: fields[0]!.id, isSubscribedField: true });
    statusFieldAdded = true;
  }
  const got = await ctx.call('GET', `/TicketWebhooks/${webhookId}`);
  const item = (got.body as { item?: AtWebhook } | undefined)?.item;
  return { webhookId: String(webhookId), guid: item?.webhookGUID ?? null, created, statusFieldAdded, statusFieldId: fieldId };
}

import { z } from 'zod';
import { dedupConfigShape } from '../dedup-fields';
import { alertmanagerAlertSchema, labelMappingShape } from '../alertmanager/schema';

/**
 * Grafana unified alerting webhook contact point: Alertmanager's body plus Grafana's fields.
 * https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
 */
const stringMap = z.record(z.string(), z.string());

export const grafanaAlertSchema = alertmanagerAlertSchema.extend({
  /** Query results by refId, e.g. { "B": 44.2, "C": 1 }; null for NaN / no data. */
  values: z.record(z.string(), z.number().nullable()).nullish(),
  valueString: z.string().optional(),
  dashboardURL: z.string().optional(),
  panelURL: z.string().optional(),
  silenceURL: z.string().optional(),
  imageURL: z.string().optional(),
});

export const grafanaWebhookSchema = z.object({
  receiver: z.string().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  orgId: z.int().optional(),
  alerts: z.array(grafanaAlertSchema).max(10_000),
  groupLabels: stringMap.optional(),
  commonLabels: stringMap.optional(),
  commonAnnotations: stringMap.optional(),
  externalURL: z.string().optional(),
  version: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.int().min(0).optional(),
  /** Grafana's notification title and rendered message (templated); per-alert fields are preferred. */
  title: z.string().optional(),
  state: z.string().optional(),
  message: z.string().optional(),
});

export type GrafanaAlert = z.infer<typeof grafanaAlertSchema>;

export const grafanaConfigSchema = z.strictObject({
  ...dedupConfigShape,
  ...labelMappingShape,
  /**
   * Drop the alert Grafana sends when an admin presses "Test" on the contact point
   * (alertname TestAlert), so testing the contact point opens no ticket. @defaultValue true
   */
  ignoreTestNotifications: z.boolean().default(true),
});
export type GrafanaConfig = z.infer<typeof grafanaConfigSchema>;

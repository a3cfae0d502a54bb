import { z } from 'zod';
import { severitySchema } from '../alert-schema';
import { dedupConfigShape } from '../dedup-fields';

/**
 * Prometheus Alertmanager webhook, version 4:
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 * Fields the hub does not read are allowed and kept in raw (Alertmanager adds fields over time).
 */
const stringMap = z.record(z.string(), z.string());

export const alertmanagerAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: stringMap,
  annotations: stringMap.optional(),
  /** RFC 3339 with nanoseconds, e.g. 2026-11-23T00:30:28.088012422Z. */
  startsAt: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time such as 2026-11-23T00:30:28Z' }),
  /** 0001-01-01T00:00:00Z while firing (Go's zero time). */
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  /** Hash of the alert's labels: stable for the same condition across firings. */
  fingerprint: z.string().min(1, 'must not be empty'),
});

export const alertmanagerWebhookSchema = z.object({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.int().min(0).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().optional(),
  groupLabels: stringMap.optional(),
  commonLabels: stringMap.optional(),
  commonAnnotations: stringMap.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(alertmanagerAlertSchema).max(10_000),
});

export type AlertmanagerAlert = z.infer<typeof alertmanagerAlertSchema>;
export type AlertmanagerWebhook = z.infer<typeof alertmanagerWebhookSchema>;

const labelName = z.string().min(1).max(128);

/** Which labels carry the device, site and severity: shared with the grafana plugin. */
export const labelMappingShape = {
  /** Label naming the device; `host:port` loses the port, a URL keeps its host. @defaultValue 'instance' */
  deviceLabel: labelName.default('instance'),
  /** Label carrying the site / customer id, mapped to a company via sourceSites. @defaultValue 'site' */
  siteLabel: labelName.default('site'),
  /** Label carrying the severity (see the severity map in README.md). @defaultValue 'severity' */
  severityLabel: labelName.default('severity'),
  /** Severity when the label is missing or unknown. @defaultValue 'medium' */
  defaultSeverity: severitySchema.default('medium'),
};

export const alertmanagerConfigSchema = z.strictObject({ ...dedupConfigShape, ...labelMappingShape });
export type AlertmanagerConfig = z.infer<typeof alertmanagerConfigSchema>;

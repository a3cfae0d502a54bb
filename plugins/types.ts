import type { z } from 'zod';
import type { HmacScheme } from './auth/source-auth';

/** R-ALR-2: the one alert shape every plugin normalizes to. */
export type AlertState = 'firing' | 'resolved';
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export interface DeviceReference {
  /** The sender's own device id (Datto device UID, NinjaOne deviceId, …), if it has one. */
  sourceDeviceId: string | null;
  hostname: string | null;
  /** The sender's site / organization / customer id, mapped to a company via company_source_sites. */
  site: string | null;
  siteName?: string | null;
}

export interface NormalizedAlert {
  /**
   * Identifies this alert *event* within the source: the same on a re-delivery of the same event
   * (so a retried webhook gets the same alert ids back), different for a new firing or a resolve.
   */
  sourceAlertId: string;
  /** Identifies the *condition* (device + check): stable across firings, never contains a timestamp. */
  dedupKey: string;
  state: AlertState;
  severity: Severity;
  category: string | null;
  title: string;
  message: string | null;
  device: DeviceReference;
  /** ISO 8601 instant with offset. */
  occurredAt: string;
  /** Flat string labels/tags of the alert (for rules and maintenance-window matching). */
  labels: Record<string, string>;
  /** This alert's own part of the payload, as received. */
  raw: unknown;
}

export type NormalizeResult =
  | { kind: 'alerts'; alerts: NormalizedAlert[] }
  /** The payload is valid but carries no alert (a test ping, an ACKNOWLEDGED activity, …). */
  | { kind: 'ignored'; reason: string };

export type AuthType = 'hmac' | 'token' | 'basic';

export interface NormalizeContext<C> {
  /** The source's validated plugin config (non-secret options). */
  config: C;
  /** The source's name (namespaces dedup keys). */
  sourceName: string;
  receivedAt: Date;
}

export interface SamplePayload {
  name: string;
  /** Where this sample's shape is documented (vendor page). */
  docs: string;
  body: unknown;
}

/**
 * A plugin is a value, not a class (STYLE.md principle 1): its id, its config schema, how its
 * sender authenticates, and a pure normalize(). It throws a PayloadError naming the field for an
 * invalid payload.
 */
export interface HubPlugin<C = unknown> {
  id: string;
  displayName: string;
  /** Vendor documentation of the webhook. */
  docsUrl: string;
  configSchema: z.ZodType<C>;
  /** Auth types the sender can do, the first one recommended. */
  auth: readonly AuthType[];
  /**
   * With `auth` hmac: what the sender can sign (issue 13 item 4), so a source cannot be configured
   * with a scheme its sender never sends. @defaultValue every scheme
   */
  hmacSchemes?: readonly HmacScheme[];
  normalize(payload: unknown, ctx: NormalizeContext<C>): NormalizeResult;
  samples: readonly SamplePayload[];
}

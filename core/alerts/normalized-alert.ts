/**
 * R-ALR-2: the one alert shape every plugin normalizes to. It lives in core/ because the whole hub
 * speaks it: plugins produce it, the intake stores it (db/queries/inbox.ts), the use cases read it
 * back — and db/ may import only core/.
 */
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


import type { z } from 'zod';
import type { HmacScheme } from './auth/source-auth';

/** R-ALR-2: the one alert shape every plugin normalizes to (defined in core/, where db/ can see it too). */
export { SEVERITIES, type AlertState, type DeviceReference, type NormalizedAlert, type Severity } from '../core/alerts/normalized-alert';
import type { NormalizedAlert } from '../core/alerts/normalized-alert';

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

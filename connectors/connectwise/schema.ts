import { z } from 'zod';

/**
 * The `config` of a `connectwise` PSA connection (ConnectWise PSA, formerly Manage, REST API 3.0).
 * Authentication is an API member's key pair: HTTP Basic `companyId+publicKey:privateKey` plus the
 * `clientId` header of the integrator's registration at developer.connectwise.com.
 * https://developer.connectwise.com/Products/ConnectWise_PSA/REST
 *
 * References (board, status, priority) are given by name or by numeric id: ConnectWise resolves a
 * reference object `{ id }` or `{ name }`; names survive a database copy, ids are faster to type.
 */
export const CW_API_PATH = '/v4_6_release/apis/3.0';

/** The hub's priority → ConnectWise priority; the defaults are the priorities a new ConnectWise database ships with. */
export const CW_DEFAULT_PRIORITIES = {
  critical: 'Priority 1 - Emergency Response',
  high: 'Priority 2 - Quick Response',
  medium: 'Priority 3 - Normal Response',
  low: 'Priority 4 - Schedule Maintenance',
} as const;

const reference = z.union([z.int().positive(), z.string().trim().min(1).max(100)]);

export const connectWiseConfigSchema = z
  .object({
    /**
     * The site's base URL, e.g. `https://na.myconnectwise.net` (cloud) or your on-premise host.
     * `/v4_6_release/apis/3.0` is appended unless the URL already ends with `/apis/3.0`.
     */
    site: z.url({ protocol: /^https?$/ }).max(500),
    /** The company id you log in with. */
    companyId: z.string().trim().min(1).max(100),
    /** The API member's public key. */
    publicKey: z.string().trim().min(1).max(200),
    /** The API member's private key (a secret: encrypted at rest, never returned). */
    privateKey: z.string().min(1).max(200),
    /** The integrator's clientId (a GUID from developer.connectwise.com), sent as the `clientId` header. */
    clientId: z.string().trim().min(1).max(100),
    /** The service board tickets are created on: its id or its name. */
    board: reference,
    /** Status of a new ticket (a status of that board). @defaultValue "New" */
    statusNew: reference.default('New'),
    /** Status the hub sets when its ticket is resolved or closed. @defaultValue ">Closed" (the closed status of a default board) */
    statusClosed: reference.default('>Closed'),
    /** Status set when the hub ticket is taken in progress; absent = the hub does not change it. */
    statusInProgress: reference.optional(),
    /** Status set while the hub ticket waits for the customer; absent = the hub does not change it. */
    statusWaitingCustomer: reference.optional(),
    /** Hub priority → ConnectWise priority (id or name). @defaultValue CW_DEFAULT_PRIORITIES */
    priorityMap: z
      .object({ critical: reference, high: reference, medium: reference, low: reference })
      .partial()
      .strict()
      .default({}),
    /**
     * ConnectWise has no external id of its own: the hub writes `<markerPrefix><hub ticket id>` into the
     * ticket's `externalXRef` field and finds an earlier create with a conditions search on it.
     * Give two hubs that share a ConnectWise site different prefixes. @defaultValue "hub:"
     */
    markerPrefix: z.string().regex(/^[A-Za-z0-9:_-]{1,40}$/).default('hub:'),
    /** Timeout of one API call in milliseconds. @defaultValue 15000 */
    timeoutMs: z.int().min(100).max(120_000).default(15_000),
  })
  .strict();

export type ConnectWiseConfig = z.infer<typeof connectWiseConfigSchema>;
export type ConnectWiseReference = z.infer<typeof reference>;

/** Fields of the config that are secrets (encrypted at rest, redacted from output and logs). */
export const CW_SECRET_FIELDS = ['privateKey'] as const;

export type HubPriority = keyof typeof CW_DEFAULT_PRIORITIES;

export const cwPriority = (config: ConnectWiseConfig, priority: HubPriority): ConnectWiseReference =>
  config.priorityMap[priority] ?? CW_DEFAULT_PRIORITIES[priority];

/** `{ id }` for a number, `{ name }` for a name: the two forms ConnectWise accepts for a reference. */
export const refObject = (ref: ConnectWiseReference): { id: number } | { name: string } =>
  typeof ref === 'number' ? { id: ref } : { name: ref };

export function apiBase(site: string): string {
  const trimmed = site.replace(/\/+$/, '');
  return /\/apis\/3\.0$/i.test(trimmed) ? trimmed : `${trimmed}${CW_API_PATH}`;
}

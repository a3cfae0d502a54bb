import { apiBase, type ConnectWiseConfig } from './schema';

/**
 * One ConnectWise REST call. We use Node's fetch (undici: keep-alive, AbortSignal timeouts) rather
 * than the `connectwise-rest` package: that package wraps axios with its own promise-retry loop,
 * while every retry of ours must go through the delivery queue (backoff, rate limit, breaker, and
 * the look-up by marker before a create is retried); and we use five endpoints, not the 1,800 it binds.
 *
 * Errors follow the delivery's two kinds: 429, 5xx, timeouts and network failures are transient
 * (retried; `retryAfterMs` from `Retry-After`), any other 4xx is permanent with ConnectWise's own
 * message kept (`{ code, message, errors: [{ code, message, resource, field }] }`).
 */
export class ConnectWiseError extends Error {
  override name = 'ConnectWiseError';
  constructor(
    readonly kind: 'transient' | 'permanent',
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface CwRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

export type CwFetch = typeof fetch;

export function authHeaders(config: ConnectWiseConfig): Record<string, string> {
  const basic = Buffer.from(`${config.companyId}+${config.publicKey}:${config.privateKey}`, 'utf8').toString('base64');
  return { authorization: `Basic ${basic}`, clientid: config.clientId, accept: 'application/json' };
}

/** Seconds or an HTTP date; capped so a hostile answer cannot park a connection for days. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), 3_600_000);
}

function describe(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; errors?: unknown };
    const parts: string[] = [];
    if (typeof b.message === 'string') parts.push(b.message);
    if (Array.isArray(b.errors)) {
      for (const e of b.errors.slice(0, 5)) {
        if (e && typeof e === 'object') {
          const { field, message } = e as { field?: unknown; message?: unknown };
          parts.push([field, message].filter((x) => typeof x === 'string').join(': '));
        }
      }
    }
    if (parts.length > 0) return `ConnectWise ${status}: ${parts.join('; ').slice(0, 1000)}`;
  }
  return `ConnectWise answered ${status}`;
}

export async function cwCall<T>(config: ConnectWiseConfig, req: CwRequest, fetchImpl: CwFetch = fetch): Promise<T> {
  const url = new URL(`${apiBase(config.site)}${req.path}`);
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = authHeaders(config);
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  const signal = AbortSignal.timeout(config.timeoutMs);
  try {
    res = await fetchImpl(url, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal,
      redirect: 'error',
    });
  } catch (e) {
    const what = signal.aborted ? `timed out after ${config.timeoutMs} ms` : 'network error';
    throw new ConnectWiseError('transient', `ConnectWise ${req.method} ${req.path}: ${what}`, undefined, undefined, { cause: e });
  }
  const text = await res.text().catch(() => '');
  let body: unknown = undefined;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (res.ok) return body as T;
  const message = describe(res.status, body);
  if (res.status === 429 || res.status >= 500 || res.status === 408) {
    throw new ConnectWiseError('transient', message, res.status, parseRetryAfter(res.headers.get('retry-after')));
  }
  throw new ConnectWiseError('permanent', message, res.status);
}

/** A conditions string value: ConnectWise quotes strings with `"` and has no escape, so a quote is refused. */
export function conditionString(value: string): string {
  if (/["\\]/.test(value)) throw new ConnectWiseError('permanent', `ConnectWise conditions cannot contain quotes: ${value.slice(0, 40)}`);
  return `"${value}"`;
}

/** ConnectWise dates in conditions are written in square brackets, UTC. */
export const conditionDate = (d: Date): string => `[${d.toISOString().replace(/\.\d{3}Z$/, 'Z')}]`;

/** Every page of a list (pageSize ≤ 1000 in ConnectWise), calling onPage after each. */
export async function cwListAll<T>(
  config: ConnectWiseConfig,
  path: string,
  query: Record<string, string | number | undefined>,
  opts: { pageSize?: number; fetchImpl?: CwFetch; onPage?: (items: T[], page: number) => void } = {},
): Promise<T[]> {
  const pageSize = opts.pageSize ?? 250;
  const all: T[] = [];
  for (let page = 1; ; page += 1) {
    const items = await cwCall<T[]>(config, { method: 'GET', path, query: { ...query, page, pageSize } }, opts.fetchImpl);
    if (!Array.isArray(items)) throw new ConnectWiseError('permanent', `ConnectWise GET ${path}: expected a list`);
    all.push(...items);
    opts.onPage?.(items, page);
    if (items.length < pageSize) return all;
    if (page >= 10_000) throw new ConnectWiseError('permanent', `ConnectWise GET ${path}: more than 10,000 pages`);
  }
}

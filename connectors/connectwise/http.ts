import { httpError, type HttpClient } from '../http';
import { PsaError } from '../types';
import { apiBase, type ConnectWiseConfig } from './schema';

/**
 * One ConnectWise REST call over the connectors' HTTP client (connectors/http.ts: undici,
 * keep-alive per connection, timeouts; failures classified transient or permanent as PsaError).
 *
 * Why not the `connectwise-rest` package: it wraps axios with its own promise-retry loop, while
 * every retry of ours must go through the delivery queue (backoff, rate limit, breaker, and the
 * marker look-up before a create is retried); we use a handful of endpoints, not the 1,800 it
 * binds; and it would bring a second HTTP stack beside the one the other connectors share.
 *
 * ConnectWise answers errors as `{ code, message, errors: [{ code, message, resource, field }] }`;
 * that text is kept as the PSA's message.
 */
export interface CwContext {
  config: ConnectWiseConfig;
  http: HttpClient;
  now: () => Date;
}

export interface CwRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

export function authHeaders(config: ConnectWiseConfig): Record<string, string> {
  const basic = Buffer.from(`${config.companyId}+${config.publicKey}:${config.privateKey}`, 'utf8').toString('base64');
  return { authorization: `Basic ${basic}`, clientId: config.clientId };
}

/** ConnectWise's error body as one line. */
export function cwMessage(body: unknown): string {
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
    if (parts.length > 0) return parts.join('; ').slice(0, 1000);
  }
  return typeof body === 'string' ? body.slice(0, 200) : '';
}

export async function cwCall<T>(ctx: CwContext, req: CwRequest): Promise<T> {
  const url = new URL(`${apiBase(ctx.config.site)}${req.path}`);
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const res = await ctx.http.send(req.method, url.toString(), { headers: authHeaders(ctx.config), ...(req.body === undefined ? {} : { json: req.body }) });
  if (res.status >= 200 && res.status < 300) return res.body as T;
  throw httpError(req.method, url.toString(), res, cwMessage(res.body), ctx.now());
}

/** A conditions string value: ConnectWise quotes strings with `"` and has no escape, so a quote is refused. */
export function conditionString(value: string): string {
  if (/["\\]/.test(value)) throw new PsaError('permanent', `ConnectWise conditions cannot contain quotes: ${value.slice(0, 40)}`);
  return `"${value}"`;
}

/** ConnectWise dates in conditions are written in square brackets, UTC. */
export const conditionDate = (d: Date): string => `[${d.toISOString().replace(/\.\d{3}Z$/, 'Z')}]`;

/** One page of a list (ConnectWise: `page` from 1, `pageSize` ≤ 1000); `next` is the next page number or null. */
export async function cwPage<T>(
  ctx: CwContext,
  path: string,
  query: Record<string, string | number | undefined>,
  cursor: string | null,
  pageSize = 250,
): Promise<{ items: T[]; next: string | null }> {
  const page = cursor === null ? 1 : Number(cursor);
  if (!Number.isInteger(page) || page < 1) throw new PsaError('permanent', `bad page cursor ${cursor}`);
  const items = await cwCall<T[]>(ctx, { method: 'GET', path, query: { ...query, page, pageSize } });
  if (!Array.isArray(items)) throw new PsaError('permanent', `ConnectWise GET ${path}: expected a list`);
  return { items, next: items.length < pageSize ? null : String(page + 1) };
}

/** Every page of a list. */
export async function cwListAll<T>(ctx: CwContext, path: string, query: Record<string, string | number | undefined>, pageSize = 250): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 10_000; n += 1) {
    const { items, next }: { items: T[]; next: string | null } = await cwPage<T>(ctx, path, query, cursor, pageSize);
    all.push(...items);
    if (next === null) return all;
    cursor = next;
  }
  throw new PsaError('permanent', `ConnectWise GET ${path}: more than 10,000 pages`);
}

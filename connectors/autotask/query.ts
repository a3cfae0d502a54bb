import { httpError, type HttpClient, type JsonResponse } from '../http';
import { PsaError, type PsaPage } from '../types';
import type { AutotaskConfig } from './schema';

/**
 * Autotask REST v1.0 queries and their paging (REST API docs, "Basic query calls" and "Paging"
 * under https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/REST_API_Home.htm): `POST /v1.0/<Entity>/query` with `{ MaxRecords, IncludeFields?, filter: [{ op,
 * field, value }] }` answers `{ items, pageDetails: { count, requestCount, prevPageUrl, nextPageUrl } }`;
 * the next page is a `GET` of `nextPageUrl` (null on the last page). At most 500 records a page.
 *
 * `nextPageUrl` is the PSA's own: it is followed only when it points at the connection's zone (same
 * origin and path prefix as the base URL), so a tampered or misdirected answer never receives the
 * API user's credentials.
 */
export const AUTOTASK_PAGE_MAX = 500;
/** A runaway paging (a PSA that keeps answering nextPageUrl) stops here. @defaultValue 2000 pages (1,000,000 records) */
export const AUTOTASK_MAX_PAGES = 2000;

export interface AutotaskFilter {
  op: string;
  field?: string;
  value?: unknown;
  items?: AutotaskFilter[];
}

export interface AtContext {
  config: AutotaskConfig;
  http: HttpClient;
  headers: Record<string, string>;
  /** The zone's `…/atservicesrest` (looked up once). */
  baseUrl(): Promise<string>;
  now(): Date;
  /** A call relative to `<base>/v1.0`; non-2xx answers throw a classified PsaError. */
  call(method: 'GET' | 'POST' | 'PATCH', path: string, json?: unknown): Promise<JsonResponse>;
}

interface QueryAnswer<T> {
  items?: T[];
  pageDetails?: { nextPageUrl?: string | null };
}

/** Is `next` inside the zone `base` (same origin, path under `<base>/v1.0/`)? */
export function sameZone(base: string, next: string): boolean {
  let b: URL;
  let n: URL;
  try {
    b = new URL(base);
    n = new URL(next, `${base}/`);
  } catch {
    return false;
  }
  const prefix = `${b.pathname.replace(/\/$/, '')}/v1.0/`.toLowerCase();
  return b.origin === n.origin && n.pathname.toLowerCase().startsWith(prefix);
}

/** One page of a query: the first (`cursor` null) by POST, the next ones by GET of the PSA's `nextPageUrl`. */
export async function queryPage<T>(ctx: AtContext, entity: string, body: { filter: AutotaskFilter[]; IncludeFields?: string[] }, cursor: string | null): Promise<PsaPage<T>> {
  let res: JsonResponse;
  if (cursor === null) {
    res = await ctx.call('POST', `/${entity}/query`, { MaxRecords: AUTOTASK_PAGE_MAX, ...body });
  } else {
    const base = await ctx.baseUrl();
    if (!sameZone(base, cursor)) throw new PsaError('permanent', `${entity}: the next page URL is outside the connection's zone; not followed`);
    const url = new URL(cursor, `${base}/`).toString();
    res = await ctx.http.send('GET', url, { headers: ctx.headers });
    if (res.status < 200 || res.status > 299) throw httpError('GET', url, res, pageMessage(res.body), ctx.now());
  }
  const answer = (res.body ?? {}) as QueryAnswer<T>;
  if (!Array.isArray(answer.items)) throw new PsaError('transient', `${entity}/query: the answer has no items`);
  const next = answer.pageDetails?.nextPageUrl;
  return { items: answer.items, next: typeof next === 'string' && next !== '' ? next : null };
}

/** Every page of a query, bounded by {@link AUTOTASK_MAX_PAGES}. */
export async function queryAll<T>(ctx: AtContext, entity: string, body: { filter: AutotaskFilter[]; IncludeFields?: string[] }): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    if (pages >= AUTOTASK_MAX_PAGES) throw new PsaError('permanent', `${entity}: more than ${AUTOTASK_MAX_PAGES} pages; narrow the query`);
    const page: PsaPage<T> = await queryPage<T>(ctx, entity, body, cursor);
    all.push(...page.items);
    if (page.next === null) return all;
    cursor = page.next;
  }
}

function pageMessage(body: unknown): string {
  if (body && typeof body === 'object' && 'errors' in body && Array.isArray((body as { errors: unknown }).errors)) {
    return (body as { errors: unknown[] }).errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ');
  }
  return typeof body === 'string' ? body.slice(0, 500) : JSON.stringify(body ?? '').slice(0, 500);
}

import { Agent, request } from 'undici';
import { classifyStatus, PsaError, retryAfterMs } from './types';

/**
 * The connectors' HTTP client: undici with keep-alive (one Agent per connection, so one slow PSA
 * does not hold the sockets of another), a timeout for the headers and for the body, and every
 * failure turned into a classified {@link PsaError}. JSON in, JSON out.
 */
export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface HttpClient {
  send(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, opts?: { headers?: Record<string, string>; json?: unknown; rawBody?: string }): Promise<JsonResponse>;
  close(): Promise<void>;
}

/** Request timeout. @defaultValue 15000 ms */
export const DEFAULT_TIMEOUT_MS = 15_000;

export function createHttpClient(opts: { timeoutMs?: number | undefined; now: () => Date; beforeCall?: (() => Promise<void>) | undefined }): HttpClient {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 16, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: Math.min(timeoutMs, 10_000) });
  return {
    async send(method, url, o = {}) {
      await opts.beforeCall?.();
      const headers: Record<string, string> = { accept: 'application/json', ...(o.headers ?? {}) };
      let body: string | undefined;
      if (o.rawBody !== undefined) body = o.rawBody;
      else if (o.json !== undefined) body = JSON.stringify(o.json);
      if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      // The whole exchange (queueing for a socket, headers, body) within timeoutMs. A timer cleared when
      // the answer is in, not AbortSignal.timeout: that one's timer stays armed for the full timeout after
      // the answer and then builds a TimeoutError (a DOMException with its stack) for every request made —
      // a few percent of a delivery run's CPU at a high rate.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      let res;
      let text: string;
      try {
        try {
          res = await request(url, { method, headers, body, dispatcher: agent, signal: abort.signal });
        } catch (e) {
          // No answer: connection refused or reset, DNS, timeout. The request may or may not have reached the PSA.
          const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          throw new PsaError('transient', `${method} ${redactUrl(url)}: no answer (${message})`);
        }
        try {
          text = await res.body.text();
        } catch (e) {
          throw new PsaError('transient', `${method} ${redactUrl(url)}: answer cut off (${e instanceof Error ? e.message : String(e)})`, { status: res.statusCode });
        }
      } finally {
        clearTimeout(timer);
      }
      let parsed: unknown = text;
      if (text !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: res.statusCode, headers: res.headers, body: parsed };
    },
    async close() {
      await agent.close();
    },
  };
}

/** A non-2xx answer as a PsaError: transient for 408/425/429/5xx, else permanent, with the PSA's message and Retry-After. */
export function httpError(method: string, url: string, res: JsonResponse, psaMessage: string, now: Date): PsaError {
  const kind = classifyStatus(res.status);
  const after = retryAfterMs(res.headers['retry-after'], now);
  return new PsaError(kind, `${method} ${redactUrl(url)}: ${res.status} ${psaMessage}`.trim(), {
    status: res.status,
    psaMessage,
    ...(after !== undefined ? { retryAfterMs: after } : {}),
  });
}

/** Query strings can carry user names (the zone lookup): logs and errors show the path only. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}

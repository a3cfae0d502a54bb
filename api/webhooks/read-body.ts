import type { IncomingMessage } from 'node:http';
import { HubError } from '../../core/errors';

/** Header names as Node gives them (already lower-case); repeated headers joined. */
export function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const h = req.headers;
  for (const v of Object.values(h)) {
    if (Array.isArray(v)) {
      const out: Record<string, string | undefined> = {};
      for (const [k, x] of Object.entries(h)) out[k] = Array.isArray(x) ? x.join(', ') : x;
      return out;
    }
  }
  return h as Record<string, string | undefined>;
}

/**
 * Reads the raw body with a hard cap: 413 from Content-Length before reading, or as soon as the cap
 * is passed. Past the cap nothing more is read — the error handler answers 413 with `Connection:
 * close`, which ends the connection — so a sender streaming a chunked body without end costs
 * neither memory nor the time to drain it (issue 13 item 3). `keep: false` counts the bytes without
 * keeping them (a body that will be refused anyway).
 */
export function readBody(req: IncomingMessage, cap: number, opts: { keep?: boolean } = {}): Promise<Buffer> {
  const keep = opts.keep ?? true;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > cap) {
    return Promise.reject(new HubError('PAYLOAD_TOO_LARGE', `body exceeds ${cap} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > cap) {
        done = true;
        // Stop reading: the bytes already buffered are dropped with the connection.
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        reject(new HubError('PAYLOAD_TOO_LARGE', `body exceeds ${cap} bytes`));
        return;
      }
      if (keep) chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(keep ? Buffer.concat(chunks, size) : Buffer.alloc(0));
      }
    });
    req.on('error', (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
  });
}

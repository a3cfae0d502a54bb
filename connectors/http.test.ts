import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpClient } from './http';
import { PsaError } from './types';

/**
 * The connectors' HTTP client (issue 16 item 3): one deadline for the whole exchange. The deadline is
 * a timer cleared when the answer is in (not AbortSignal.timeout, whose timer stays armed after the
 * answer), so these prove the deadline still covers what it covered: a PSA that never answers, and one
 * that sends its headers and then stalls in the body.
 */
describe('connectors/http createHttpClient', () => {
  let server: http.Server;
  let base: string;
  const held: http.ServerResponse[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/fast') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"itemId":7}');
      } else if (req.url === '/stall-body') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"itemId":');
        held.push(res);
      } else held.push(res); // never answers
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('answers JSON and leaves no deadline armed after the answer', async () => {
    const client = createHttpClient({ timeoutMs: 150, now: () => new Date() });
    const armed: unknown[] = [];
    const cleared: unknown[] = [];
    const realSet = global.setTimeout;
    const realClear = global.clearTimeout;
    const setSpy = jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const t = realSet(fn, ms);
      if (ms === 150) armed.push(t);
      return t;
    }) as typeof setTimeout);
    const clearSpy = jest.spyOn(global, 'clearTimeout').mockImplementation(((t?: NodeJS.Timeout) => {
      cleared.push(t);
      realClear(t);
    }) as typeof clearTimeout);
    try {
      for (let i = 0; i < 3; i++) expect((await client.send('GET', `${base}/fast`)).body).toEqual({ itemId: 7 });
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
      await client.close();
    }
    // One deadline per request, each cleared once its answer was read.
    expect(armed).toHaveLength(3);
    for (const t of armed) expect(cleared).toContain(t);
  });

  it('gives up on a PSA that does not answer within the timeout (transient: the request may have arrived)', async () => {
    const client = createHttpClient({ timeoutMs: 150, now: () => new Date() });
    const t0 = Date.now();
    try {
      const err = await client.send('POST', `${base}/never`, { json: { title: 'x' } }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PsaError);
      expect((err as PsaError).kind).toBe('transient');
      expect((err as PsaError).message).toMatch(/POST .*\/never: no answer/);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      await client.close();
    }
  });

  it('gives up on an answer whose body stalls after the headers', async () => {
    const client = createHttpClient({ timeoutMs: 150, now: () => new Date() });
    try {
      const err = await client.send('GET', `${base}/stall-body`).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PsaError);
      expect((err as PsaError).kind).toBe('transient');
      expect((err as PsaError).message).toMatch(/answer cut off/);
      expect((err as PsaError).details.status).toBe(200);
    } finally {
      await client.close();
    }
  });
});

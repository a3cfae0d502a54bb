import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { clientAddress } from './hooks-first';

/**
 * clientAddress must give what Express' `req.ip` gives under the same `trust proxy` setting: the
 * address stored with a delivery did not change when the intake left Express (issue 19).
 */
describe('clientAddress', () => {
  let server: http.Server;
  let port: number;
  const seen: { express: string | undefined; ours: string | null }[] = [];

  beforeAll(async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    const trust = app.get('trust proxy fn') as (addr: string, hop: number) => boolean;
    app.use((req, res) => {
      seen.push({ express: req.ip, ours: clientAddress(req, trust) });
      res.end();
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const get = (headers: Record<string, string>) =>
    new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', headers }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });

  it.each([
    ['no header', {}],
    ['one client', { 'X-Forwarded-For': '203.0.113.7' }],
    ['a chain with a loopback proxy', { 'X-Forwarded-For': '203.0.113.7, 198.51.100.2, 127.0.0.5' }],
    ['only loopback hops', { 'X-Forwarded-For': '127.0.0.2,  ::1' }],
    ['spaces and empty entries', { 'X-Forwarded-For': ' , 203.0.113.9 ,, ' }],
    ['not an address', { 'X-Forwarded-For': 'evil host' }],
    ['an untrusted hop hides the rest', { 'X-Forwarded-For': '127.0.0.9, 198.51.100.3' }],
  ])('%s', async (_name, headers) => {
    seen.length = 0;
    await get(headers);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.ours).toBe(seen[0]!.express ?? null);
  });
});

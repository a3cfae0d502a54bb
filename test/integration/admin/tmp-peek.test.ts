import request from 'supertest';
import { createTestApp, type TestApp } from '../../helpers/app';
describe('peek', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => t.close());
  it('prints', async () => {
    const p = (m: 'post'|'get'|'delete'|'patch', u: string, b?: object) => { const r = request(t.app)[m](`/api/v1${u}`).set('Authorization', t.admin); return (b ? r.send(b) : r).then((x) => console.log(m, u, x.status, JSON.stringify(x.body))); };
    await p('post', '/companies', { name: 'A', sourceSites: [{ source: 'x', siteId: '1' }] });
    await p('post', '/companies', { name: 'A' });
    await p('post', '/companies', { name: 'B', sourceSites: [{ source: 'x', siteId: '1' }] });
    await p('post', '/service-bundles', { name: 'B', serviceIds: ['99'], unitPrice: 1 });
    await p('post', '/devices', { companyId: '1', hostname: 'h' });
    await p('delete', '/companies/1');
    await p('post', '/slas', { name: 'x', timezone: 'UTC', businessHours: { mon: [['10:00','09:00']] }, targets: { high: { firstResponseMinutes: 1, resolutionPlanMinutes: 1, resolutionMinutes: 1 } }, extra: 1 });
    await p('post', '/tokens', { name: 't', role: 'viewer', companyIds: ['77'] });
    await p('post', '/tokens', { name: 't', role: 'viewer', companyIds: ['1'] });
    await p('get', '/tokens');
    await p('get', '/openapi.json');
  });
});

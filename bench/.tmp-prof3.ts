import { benchCsv } from './import.bench';
import { parseDeviceCsv } from '../core/imports/device-csv';
const p = parseDeviceCsv(benchCsv(100000));
let t = Date.now();
const m = new Map<string, number>();
for (const r of p.rows) { const k = `${r.source}\u0000${r.site}`; if (!m.has(k)) m.set(k, 1); }
console.log('sitekeys', Date.now() - t); t = Date.now();
const h = new Map<string, number>();
for (const r of p.rows) { const k = `1\u0000${r.hostname.toLowerCase()}`; if (h.get(k) === undefined) h.set(k, r.line); }
console.log('hostkeys', Date.now() - t); t = Date.now();
const out = [];
for (const r of p.rows) out.push({ ...r, companyId: '1', contractId: '2', serviceId: null });
console.log('spread', Date.now() - t); t = Date.now();
const out2 = [];
for (const r of p.rows) out2.push({ line: r.line, hostname: r.hostname, source: r.source, sourceDeviceId: r.sourceDeviceId, site: r.site, contract: r.contract, service: r.service, companyId: '1', contractId: '2', serviceId: null });
console.log('explicit', Date.now() - t); t = Date.now();
const out3 = [];
for (const r of p.rows) out3.push({ ...r, companyId: '1', contractId: '2', serviceId: null });
console.log('spread again', Date.now() - t); t = Date.now();

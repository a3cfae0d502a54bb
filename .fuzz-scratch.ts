import './api/openapi/extend-zod';
import fc from 'fast-check';
import { z } from 'zod';
import { routeDefinitions } from './api/openapi/registry';
import { bodyArbitrary, documentWithoutDatabase, jsonBodyRoutes } from './test/helpers/fuzz';
const doc = documentWithoutDatabase();
const defs = routeDefinitions();
for (const r of jsonBodyRoutes(doc)) {
  if (process.argv[2] && !r.path.includes(process.argv[2])) continue;
  const d = defs.find((x) => x.method === r.method && x.path === r.path);
  const zs = d?.request?.body?.content['application/json']?.schema as z.ZodType;
  const samples = fc.sample(bodyArbitrary(r.schema, doc), 200);
  let ok = 0; const msgs = new Map<string, number>();
  for (const s of samples) { const p = zs.safeParse(s); if (p.success) ok++; else { const i = p.error.issues[0]!; const k = `${i.path.join('.')}: ${i.message}`.slice(0, 120); msgs.set(k, (msgs.get(k) ?? 0) + 1); } }
  console.log(`${r.method} ${r.path}: ${ok}/200 valid; top: ${[...msgs].sort((a,b)=>b[1]-a[1]).slice(0,4).map(([k,n])=>`${n}× ${k}`).join(' | ')}`);
}

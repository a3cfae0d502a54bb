import { benchFixtures } from './bench/rules.bench';
const { compiled, source } = benchFixtures(1000);
const byName = new Map(source.rules.map((r) => [r.name, r]));
const kinds = new Map<string, number>();
for (const rank of compiled.plan.unindexed) { const r = compiled.plan.rules[rank]!; const c = JSON.stringify(byName.get(r.name)!.conditions).slice(0, 80); const k = r.file + ' ' + (c.includes('containsText') ? 'text' : c.slice(0, 60)); kinds.set(k, (kinds.get(k) ?? 0) + 1); }
console.log(kinds);
for (const g of compiled.plan.groups) console.log('slot', g.slot, 'buckets', g.buckets.size, 'max', Math.max(...[...g.buckets.values()].map((b) => b.length)));

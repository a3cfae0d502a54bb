import { benchFixtures } from './bench/rules.bench';
import { decide, firedRules, readSlots, candidates } from './rules/engine/decide';
const size = Number(process.argv[2] ?? 1000);
const { compiled, facts } = benchFixtures(size);
const slotsList = facts.map((f) => readSlots(compiled, f));
const fns: Record<string, (i: number) => unknown> = {
  readSlots: (i) => readSlots(compiled, facts[i & 1023]!),
  candidates: (i) => candidates(compiled, facts[i & 1023]!),
  fired: (i) => firedRules(compiled, facts[i & 1023]!),
  decide: (i) => decide(compiled, facts[i & 1023]!),
};
const best: Record<string, number> = {};
for (let round = 0; round < 6; round++) {
  for (const [label, fn] of Object.entries(fns)) {
    for (let i = 0; i < 5000; i++) fn(i);
    const c0 = process.cpuUsage(); let n = 0;
    const t0 = process.hrtime.bigint();
    while (Number(process.hrtime.bigint() - t0) < 3e8) { for (let i = 0; i < 500; i++) fn(n + i); n += 500; }
    const c = process.cpuUsage(c0);
    const ns = (c.user + c.system) * 1000 / n;
    best[label] = Math.min(best[label] ?? Infinity, ns);
  }
}
let cand = 0, fired = 0; for (const f of facts) { cand += candidates(compiled, f).length; fired += firedRules(compiled, f).length; }
console.log(size, Object.entries(best).map(([k, v]) => `${k} ${v.toFixed(0)}ns`).join('  '), `cand ${(cand / 1024).toFixed(1)} fired ${(fired / 1024).toFixed(1)} slots ${compiled.plan.getters.length}+${compiled.plan.memoSlots}`);

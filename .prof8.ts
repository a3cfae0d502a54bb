import { benchFixtures } from './bench/rules.bench';
import { firedRules, readSlots } from './rules/engine/decide';
const { compiled, facts } = benchFixtures(1000);
const noText = { ...compiled, plan: { ...compiled.plan, unindexed: compiled.plan.unindexed.filter((r) => compiled.plan.rules[r]!.tree.kind !== 'any') } };
const onlyText = { ...compiled, plan: { ...compiled.plan, groups: [], unindexed: compiled.plan.unindexed.filter((r) => compiled.plan.rules[r]!.tree.kind === 'any') } };
const slots = facts.map((f) => readSlots(compiled, f));
const fns: Record<string, (i: number) => unknown> = {
  full: (i) => firedRules(compiled, facts[i & 1023]!, [...slots[i & 1023]!]),
  noText: (i) => firedRules(noText, facts[i & 1023]!, [...slots[i & 1023]!]),
  onlyText: (i) => firedRules(onlyText, facts[i & 1023]!, [...slots[i & 1023]!]),
  copy: (i) => [...slots[i & 1023]!],
};
const best: Record<string, number> = {};
for (let round = 0; round < 6; round++) for (const [label, fn] of Object.entries(fns)) {
  for (let i = 0; i < 5000; i++) fn(i);
  const c0 = process.cpuUsage(); let n = 0; const t0 = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - t0) < 3e8) { for (let i = 0; i < 500; i++) fn(n + i); n += 500; }
  const c = process.cpuUsage(c0); best[label] = Math.min(best[label] ?? Infinity, (c.user + c.system) * 1000 / n);
}
console.log(best, noText.plan.unindexed.length, onlyText.plan.unindexed.length);

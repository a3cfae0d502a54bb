import { benchFixtures } from './bench/rules.bench';
import { readSlots, firedRules, decide } from './rules/engine/decide';
const { compiled, facts } = benchFixtures(1000);
const time = (label: string, fn: (i: number) => unknown) => {
  for (let i = 0; i < 20000; i++) fn(i);
  const t0 = process.hrtime.bigint(); let n = 0;
  while (Number(process.hrtime.bigint() - t0) < 1e9) { for (let i = 0; i < 1000; i++) fn(n + i); n += 1000; }
  console.log(label.padEnd(12), (Number(process.hrtime.bigint() - t0) / n).toFixed(0), 'ns');
};
time('readSlots', (i) => readSlots(compiled, facts[i & 1023]!));
const slots = facts.map((f) => readSlots(compiled, f));
time('fired', (i) => firedRules(compiled, facts[i & 1023]!, slots[i & 1023]));
time('decide', (i) => decide(compiled, facts[i & 1023]!));
const rules = compiled.plan.rules;
time('all preds', (i) => { let c = 0; const s = slots[i & 1023]!; for (const r of rules) if (r.pred(s)) c++; return c; });
const un = compiled.plan.unindexed.map((r) => rules[r]!);
time('unindexed', (i) => { let c = 0; const s = slots[i & 1023]!; for (const r of un) if (r.pred(s)) c++; return c; });

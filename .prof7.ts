import { benchFixtures } from './bench/rules.bench';
import { decide, firedRules, readSlots } from './rules/engine/decide';
for (const size of [10, 100, 1000]) {
const { compiled, facts } = benchFixtures(size);
const time = (label: string, fn: (i: number) => unknown) => {
  for (let i = 0; i < 20000; i++) fn(i);
  const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint(); let n = 0;
  while (Number(process.hrtime.bigint() - t0) < 1.5e9) { for (let i = 0; i < 1000; i++) fn(n + i); n += 1000; }
  const c = process.cpuUsage(c0);
  console.log(String(size).padEnd(6), label.padEnd(12), ((c.user + c.system) * 1000 / n).toFixed(0), 'ns cpu', (Number(process.hrtime.bigint() - t0) / n).toFixed(0), 'ns wall');
};
time('readSlots', (i) => readSlots(compiled, facts[i & 1023]!));
time('fired', (i) => firedRules(compiled, facts[i & 1023]!));
time('decide', (i) => decide(compiled, facts[i & 1023]!));
}

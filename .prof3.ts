import { benchFixtures } from './bench/rules.bench';
import { firedRules } from './rules/engine/decide';
const { compiled, facts } = benchFixtures(1000);
const t0 = process.hrtime.bigint(); let n = 0;
while (Number(process.hrtime.bigint() - t0) < 5e9) { for (let i = 0; i < 1000; i++) firedRules(compiled, facts[(n + i) & 1023]!); n += 1000; }
console.log('firedRules/s', n / 5);

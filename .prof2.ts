import { benchFixtures } from './bench/rules.bench';
import { decide, candidates, firedRules } from './rules/engine/decide';
const { compiled, facts } = benchFixtures(1000);
let cand = 0, fired = 0;
for (const f of facts) { cand += candidates(compiled, f).length; fired += firedRules(compiled, f).length; }
console.log('avg candidates', cand / facts.length, 'avg fired', fired / facts.length, 'unindexed', compiled.plan.unindexed.length, 'groups', compiled.plan.groups.length);
const t0 = process.hrtime.bigint(); let n = 0;
while (Number(process.hrtime.bigint() - t0) < 3e9) { for (let i = 0; i < 1000; i++) decide(compiled, facts[(n + i) & 1023]!); n += 1000; }
console.log('decide/s', n / 3);
const t1 = process.hrtime.bigint(); n = 0;
while (Number(process.hrtime.bigint() - t1) < 2e9) { for (let i = 0; i < 1000; i++) firedRules(compiled, facts[(n + i) & 1023]!); n += 1000; }
console.log('firedRules/s', n / 2);
const t2 = process.hrtime.bigint(); n = 0;
while (Number(process.hrtime.bigint() - t2) < 2e9) { for (let i = 0; i < 1000; i++) candidates(compiled, facts[(n + i) & 1023]!); n += 1000; }
console.log('candidates/s', n / 2);
console.log('slots', compiled.plan.getters.length);

import { benchFixtures } from './bench/rules.bench';
import { firedRules } from './rules/engine/decide';
const { compiled, facts } = benchFixtures(1000);
const h = new Map<string, number>();
for (const f of facts) for (const r of firedRules(compiled, f)) { const k = r.fixedFired ? 'fixed' : r.allLeaves ? 'allLeaves:' + r.allLeaves.map((l) => l.fixedEvidence ? 'F' : l.evidenceByValue ? 'V' : l.operator).join(',') : 'tree:' + r.tree.kind; h.set(k, (h.get(k) ?? 0) + 1); }
console.log([...h.entries()].map(([k, v]) => `${k} ${(v / 1024).toFixed(2)}`).join('\n'));

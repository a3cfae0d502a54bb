import type { ContractFact, DecisionFacts } from './types';
import { compileRuleset, type CompiledRuleset } from './compile';
import { validateRuleset, type RulesFileInput, type ValidateOptions } from './validate';

/** Facts and ruleset builders shared by the engine's tests and the benchmark (no test framework imports). */

export const contractFact = (code: string, over: Partial<ContractFact> = {}): ContractFact => ({
  name: `Contract ${code}`,
  code,
  type: 'recurring_service',
  serviceName: null,
  serviceCode: null,
  slaName: null,
  slaCode: null,
  ...over,
});

export function baseFacts(over: Partial<DecisionFacts> = {}, alert: Partial<DecisionFacts['alert']> = {}): DecisionFacts {
  return {
    alert: {
      source: 'generic',
      sourceAlertId: 'a-1',
      dedupKey: 'generic:srv01:disk',
      state: 'firing',
      severity: 'high',
      category: 'disk',
      title: 'Disk C: almost full',
      message: null,
      hostname: 'srv01',
      site: 'site-1',
      labels: {},
      occurredAt: '2026-03-02T10:00:00Z',
      ...alert,
    },
    device: { hostname: 'srv01', site: 'site-1', role: 'server', discovered: false, known: true },
    company: { name: 'Acme', code: 'ACME' },
    deviceContract: null,
    defaultContract: null,
    contract: null,
    sla: null,
    time: { weekday: 'mon', hour: 10, minute: 0, date: '2026-03-02', isBusinessHours: true, timezone: 'UTC' },
    ...over,
  };
}

/** Validates and compiles in-memory files, throwing with every error when they are invalid. */
export function compileFiles(files: Record<string, unknown>, opts: ValidateOptions = {}, version = 1): CompiledRuleset {
  const inputs: RulesFileInput[] = Object.entries(files)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, content]) => ({ name, text: JSON.stringify(content, null, 2) }));
  const result = validateRuleset(inputs, opts);
  if (!result.ok || !result.ruleset) throw new Error(`invalid rules:\n${result.errors.map((e) => `${e.file} ${e.rule ?? ''} ${e.pointer}: ${e.message}`).join('\n')}`);
  return compileRuleset(result.ruleset, { version, contentHash: result.contentHash, warnings: result.warnings });
}

// Lints pieces of code as files of the project with ESLint's Node API and the project's own
// eslint.config.mjs: stdin is JSON [{ code, filePath }], stdout JSON [[{ ruleId, message }]].
// A child process of its own because ESLint loads its (ESM) config with a dynamic import, which
// jest's module sandbox refuses without --experimental-vm-modules (test/unit/import-boundaries.test.ts).
import { ESLint } from 'eslint';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const probes = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const eslint = new ESLint({ cwd: process.cwd() });
const out = [];
for (const p of probes) {
  const [result] = await eslint.lintText(p.code, { filePath: p.filePath });
  out.push((result?.messages ?? []).map((m) => ({ ruleId: m.ruleId, message: m.message })));
}
process.stdout.write(JSON.stringify(out));

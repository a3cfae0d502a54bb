/**
 * Builds the admin console (console/src → console/dist) with esbuild: one hashed script and one
 * hashed style sheet (served with a year's cache), and index.html naming them (served no-cache).
 * `npm run build:console`; run by `prepare` (npm ci / npm install), by the test global setup and by
 * the demo whenever the bundle is missing or older than its sources (`ensureConsoleBuilt`).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const ROOT = path.resolve(__dirname, '..');
export const CONSOLE_SRC = path.join(ROOT, 'console', 'src');
export const CONSOLE_DIST = path.join(ROOT, 'console', 'dist');
const STAMP = path.join(CONSOLE_DIST, 'build.json');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** True when console/dist is missing or older than a file of console/src (or the lock file: new library versions). */
export function consoleIsStale(): boolean {
  if (!fs.existsSync(STAMP)) return true;
  const built = fs.statSync(STAMP).mtimeMs;
  return newestMtime(CONSOLE_SRC) > built || fs.statSync(path.join(ROOT, 'package-lock.json')).mtimeMs > built;
}

export interface ConsoleBuild {
  script: string;
  style: string;
  /** Gzipped size of the script and the style sheet, in bytes. */
  gzipBytes: number;
}

export async function buildConsole(): Promise<ConsoleBuild> {
  // Imported lazily: the API process only serves the result and never needs esbuild.
  const esbuild = await import('esbuild');
  const out = path.join(CONSOLE_DIST, 'assets');
  fs.rmSync(CONSOLE_DIST, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: [path.join(CONSOLE_SRC, 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: out,
    entryNames: 'console-[hash]',
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
  const script = outputs.find((f) => f.endsWith('.js'));
  const style = outputs.find((f) => f.endsWith('.css'));
  if (!script || !style) throw new Error(`console build produced ${outputs.join(', ')}`);
  const html = fs
    .readFileSync(path.join(CONSOLE_SRC, 'index.html'), 'utf8')
    .replace('%SCRIPT%', `/console/assets/${script}`)
    .replace('%STYLE%', `/console/assets/${style}`);
  fs.writeFileSync(path.join(CONSOLE_DIST, 'index.html'), html);
  const gzipBytes = [script, style].reduce((n, f) => n + zlib.gzipSync(fs.readFileSync(path.join(out, f)), { level: 9 }).length, 0);
  fs.writeFileSync(STAMP, JSON.stringify({ script, style, gzipBytes }, null, 2));
  return { script, style, gzipBytes };
}

/** Builds when missing or stale; cheap otherwise. */
export async function ensureConsoleBuilt(): Promise<void> {
  if (consoleIsStale()) await buildConsole();
}

if (require.main === module) {
  buildConsole()
    .then((b) => console.log(`console built: ${b.script}, ${b.style} — ${(b.gzipBytes / 1024).toFixed(1)} kB gzipped`))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}

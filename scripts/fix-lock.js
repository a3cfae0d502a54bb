#!/usr/bin/env node
// Usage: node scripts/fix-lock.js package-lock.json — run after every `npm install` that rewrites the lock.
// The registry this project installs from does not serve other platforms' optional binaries
// (e.g. @swc/core-darwin-arm64), so npm leaves them out of the lock and `npm ci` then refuses it.
// Adds lock entries for optional platform packages the registry mirror does not serve, so that
// `npm ci` accepts the lock; os/cpu keep npm from ever installing them on another platform.
const fs = require('fs');
const file = process.argv[2];
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pk = lock.packages;
const osOf = (n) => (/darwin/.test(n) ? 'darwin' : /win32/.test(n) ? 'win32' : /android/.test(n) ? 'android' : /freebsd/.test(n) ? 'freebsd' : /openharmony/.test(n) ? 'openharmony' : /sunos/.test(n) ? 'sunos' : /netbsd/.test(n) ? 'netbsd' : /openbsd/.test(n) ? 'openbsd' : /aix/.test(n) ? 'aix' : /linux/.test(n) ? 'linux' : null);
const cpuOf = (n) => {
  const m = /(arm64|aarch64|x64|ia32|arm|ppc64|s390x|riscv64|loong64|mips64el|wasm32)(?![a-z0-9])/.exec(n.replace(/-(gnu|musl|msvc|eabi|gnueabihf|musleabihf)\b/g, ''));
  return m ? (m[1] === 'aarch64' ? 'arm64' : m[1]) : null;
};
let added = 0;
for (const [key, entry] of Object.entries(pk)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies || {})) {
    const where = `node_modules/${name}`;
    if (pk[where]) continue;
    const os = osOf(name);
    const cpu = cpuOf(name);
    if (!os || !cpu) { console.error(`cannot place ${name} (from ${key})`); continue; }
    pk[where] = { version, optional: true, os: [os], cpu: [cpu], ...(/musl/.test(name) ? { libc: ['musl'] } : /gnu/.test(name) ? { libc: ['glibc'] } : {}) };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(pk).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} placeholder entries`);

#!/usr/bin/env bash
# The README's first command: installs what is missing, brings Postgres and Redis up, and runs the
# hub's main job with the demo. Extra arguments go to the demo (e.g. --once to exit after it).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "demo: Node.js 20 or newer is needed (https://nodejs.org)" >&2; exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "▶ installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
[ -f .env ] || { echo "▶ creating .env from .env.example"; cp .env.example .env; }
bash scripts/services.sh
exec npm run --silent demo -- "$@"

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
# Fresh random secrets, never the example's placeholders (those are refused outside development).
[ -f .env ] || { echo "▶ creating .env with freshly generated secrets"; bash scripts/new-env.sh .env; }
if grep -Eiq '^(HUB_ADMIN_TOKEN|HUB_SECRET_KEYS?|HUB_METRICS_TOKEN)=.*change-?me' .env; then
  echo "▶ note: .env still holds placeholder secrets from .env.example; fine for this demo, refused outside NODE_ENV=development (delete .env to get fresh ones)"
fi
bash scripts/services.sh
exec npm run --silent demo -- "$@"

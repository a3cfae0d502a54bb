#!/usr/bin/env bash
# Writes .env from .env.example with freshly generated random secrets in place of the example's
# placeholders (issue 13 item 8: a hub outside NODE_ENV=development refuses the placeholders).
# Never overwrites an existing .env. Usage: bash scripts/new-env.sh [target, default .env]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-.env}"
if [ -e "$target" ]; then echo "new-env: $target exists; not touching it" >&2; exit 0; fi
random() { node -e "process.stdout.write(require('node:crypto').randomBytes($1).toString('base64url'))"; }
admin_token="$(random 32)"
secret_key="$(random 48)"
tmp="$(mktemp "${target}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
# base64url has no characters special to sed's replacement with "|" as the delimiter.
sed -e "s|^HUB_ADMIN_TOKEN=.*|HUB_ADMIN_TOKEN=${admin_token}|" \
    -e "s|^HUB_SECRET_KEY=.*|HUB_SECRET_KEY=${secret_key}|" .env.example > "$tmp"
if grep -Eiq '^[A-Z_]+=.*change-?me' "$tmp"; then
  echo "new-env: .env.example has a placeholder this script does not replace: $(grep -Ei '^[A-Z_]+=.*change-?me' "$tmp" | cut -d= -f1 | tr '\n' ' ')" >&2
  exit 1
fi
chmod 600 "$tmp"
mv "$tmp" "$target"
trap - EXIT
echo "new-env: wrote $target with a new random HUB_ADMIN_TOKEN and HUB_SECRET_KEY (keep it private)"

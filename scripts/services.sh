#!/usr/bin/env bash
# Makes sure Postgres and Redis answer on loopback (the machine's own services, DEVELOPERS.md),
# and that the databases the hub and its tests use exist. Safe to run again.
set -euo pipefail

PGHOST=127.0.0.1
PGPORT=5432
wait_for() { # name, command…
  local name=$1; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "services: $name did not come up" >&2; return 1
}

if ! pg_isready -h "$PGHOST" -p "$PGPORT" -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  else
    echo "services: no PostgreSQL on $PGHOST:$PGPORT and no local cluster to start; run 'docker compose up -d' or point DATABASE_URL at one" >&2
    exit 1
  fi
fi
wait_for PostgreSQL pg_isready -h "$PGHOST" -p "$PGPORT" -q

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "services: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  else
    echo "services: no Redis on 127.0.0.1:6379 and no redis-server to start; run 'docker compose up -d'" >&2
    exit 1
  fi
fi
wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
# BullMQ must not lose jobs to eviction (the worker refuses to start otherwise).
redis-cli -h 127.0.0.1 -p 6379 CONFIG SET maxmemory-policy noeviction >/dev/null

for db in test hub; do
  if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" postgres 2>/dev/null | grep -q 1; then
    echo "services: creating database $db"
    psql -h "$PGHOST" -p "$PGPORT" -U postgres -c "CREATE DATABASE $db" postgres >/dev/null
  fi
done
echo "services: PostgreSQL and Redis are up"

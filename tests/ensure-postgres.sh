#!/usr/bin/env bash
# Make sure a local PostgreSQL answers on 127.0.0.1:5432 with a test role that
# may create databases. As root on Debian: start the packaged cluster (no
# systemd here) and create the role. Prints nothing on success.
set -euo pipefail
role=sandbox_test
if [ "$(id -u)" != 0 ] || ! command -v pg_lsclusters >/dev/null; then
  echo "ensure-postgres: no PostgreSQL to start here (need root and the postgresql package);" >&2
  echo "ensure-postgres: PostgreSQL tests will skip (or fail with SANDBOX_REQUIRE_DOCKER=1)." >&2
  exit 0
fi
version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
if [ -z "$version" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q online; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='$role'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create role $role login createdb password '$role'\"" >/dev/null

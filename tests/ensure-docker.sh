#!/usr/bin/env bash
# Make sure a Docker engine answers. Where none runs and we are root, start
# dockerd in the background (no systemd here) and wait for its socket, with
# the settings the docker_engine role writes (sandbox/host/dockerd.py: live-restore,
# no icc, no-new-privileges, log limits), so tests run the engine as users do.
set -euo pipefail
project=$(cd "$(dirname "$0")/.." && pwd)
if docker info >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null; then
  echo "ensure-docker: no Docker engine answers and I cannot start one (need root and dockerd)." >&2
  echo "ensure-docker: Docker-dependent tests will skip (or fail with SANDBOX_REQUIRE_DOCKER=1)." >&2
  exit 0
fi
PYTHONPATH="$project" python3 -m sandbox.host.dockerd /etc/docker/daemon.json >/dev/null
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl start docker
else
  mkdir -p /var/log
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then echo "ensure-docker: engine is up"; exit 0; fi
  sleep 1
done
echo "ensure-docker: dockerd did not come up; see /var/log/dockerd.log" >&2
exit 1

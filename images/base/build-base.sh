#!/bin/sh
# Build a minimal Debian base image without a container registry:
# debootstrap a root filesystem from the Debian mirror and `docker import` it.
# Usage: build-base.sh TAG [SUITE] [MIRROR] [CACHE_DIR]
set -eu
tag=${1:?usage: build-base.sh TAG [SUITE] [MIRROR] [CACHE_DIR]}
suite=${2:-bookworm}
mirror=${3:-http://deb.debian.org/debian}
cache=${4:-/var/cache/data-sandbox}

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "debootstrap is not installed (apt-get install debootstrap)" >&2
  exit 3
fi
mkdir -p "$cache"
root=$(mktemp -d "$cache/rootfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase \
  --include=ca-certificates,python3,python3-venv,tini,locales \
  "$suite" "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    tail -20 "$cache/debootstrap.log" >&2; exit 1; }
# Keep the image small: no apt lists, docs or caches.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
       "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$tag" >/dev/null
echo "built $tag"

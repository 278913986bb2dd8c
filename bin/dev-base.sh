#!/usr/bin/env bash
# Makes the dev stack's base image locally: Debian bookworm (debootstrap minbase) with the OpenCL
# packages the bench image needs already installed, imported into the local engine. With it the
# bench image builds without a registry or the internet (its Dockerfile installs only what is
# missing). Idempotent: an image already present is kept. The tests make their plain minbase
# image with it too (SEALBENCH_BASE_PACKAGES="").
#   bash bin/dev-base.sh [image-name]     (root, debootstrap and a Debian mirror)
#   SEALBENCH_BASE_PACKAGES  comma-separated packages to include; default the OpenCL ones
set -euo pipefail
name="${1:-sealbench/dev-base:bookworm-opencl}"
packages=${SEALBENCH_BASE_PACKAGES-ocl-icd-opencl-dev,opencl-headers}
if docker image inspect "$name" >/dev/null 2>&1; then
  echo "dev-base: $name is already there"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "dev-base: debootstrap is not installed (apt-get install debootstrap), or set image.base in Pulumi.dev.yaml to an image you can pull" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "dev-base: debootstrap needs root (sudo bash bin/dev-base.sh)" >&2; exit 1; }

# The machine's own Debian mirror (deb822 or one-line sources), else the public one.
mirror=$(sed -n -E 's|^URIs:[[:space:]]*([^[:space:]]*/debian)/?[[:space:]]*$|\1|p; s|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]*/debian)/?[[:space:]]+bookworm[[:space:]].*|\2|p' \
  /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -n 1 || true)
mirror="${mirror:-http://deb.debian.org/debian}"

dir=$(mktemp -d /tmp/sealbench-dev-base.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "dev-base: debootstrap bookworm from $mirror (about a minute)"
include=()
[ -z "$packages" ] || include=("--include=$packages")
debootstrap --variant=minbase "${include[@]}" bookworm "$dir" "$mirror" >/dev/null
tar -C "$dir" -c . | docker import -c 'CMD ["/bin/bash"]' - "$name" >/dev/null
echo "dev-base: made $name"

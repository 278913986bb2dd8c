#!/usr/bin/env bash
# Builds the dev stack's seal binary (seal/: one 2 KiB sector through filecoin-proofs, CPU only)
# from the crate registry into a cache folder outside the checkout, keyed by the sources, the
# lock file and the Rust toolchain; prints the binary's path as its last line. A warm build is
# reused at once (no cargo run at all).
#
# Why a cache outside the checkout: the cold build is minutes of CPU on CI's 2 CPUs; the key
# makes a changed source, lock or toolchain rebuild, and nothing else.
#
#   bash .ci/seal.sh             # build (or reuse) and print the binary's path
#   bash .ci/seal.sh --cached    # print the path only if a build for this key exists; else exit 3
#   SEALBENCH_SEAL_CACHE         cache root (default /var/cache/sealbench/seal)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../seal" && pwd)"
cache="${SEALBENCH_SEAL_CACHE:-/var/cache/sealbench/seal}"
mode="${1:-build}"
case "$mode" in build | --cached) ;; *) echo "seal: unknown argument $mode (expected none or --cached)" >&2; exit 2 ;; esac

for tool in cargo rustc cc; do
  command -v "$tool" >/dev/null || { echo "seal: no $tool on PATH (the seal binary is built with cargo from crates.io; cc builds blst's C code)" >&2; exit 1; }
done

# filecoin-proofs 19 uses u64::is_multiple_of (Rust 1.87); Debian's rustc (1.63) is too old.
rust_version=$(rustc --version | sed -E 's/^rustc ([0-9]+)\.([0-9]+).*/\1 \2/')
read -r rust_major rust_minor <<<"$rust_version"
if [ "$rust_major" -lt 1 ] || { [ "$rust_major" -eq 1 ] && [ "$rust_minor" -lt 87 ]; }; then
  echo "seal: $(rustc --version) is too old; filecoin-proofs 19 needs Rust 1.87 or newer (rustup)" >&2
  exit 1
fi

# The key: this script, the crate's manifest, lock file and sources, and the toolchain.
key="$( { rustc -vV; cargo -V; cd "$here/.." && find .ci/seal.sh seal/Cargo.toml seal/Cargo.lock seal/src -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)"
bin="$cache/$key/bin/sealbench-seal"

if [ -f "$cache/$key/bin/.complete" ]; then
  echo "seal: reusing $bin" >&2
  echo "$bin"
  exit 0
fi
if [ "$mode" = --cached ]; then
  echo "seal: no build for key $key under $cache (run bash .ci/seal.sh)" >&2
  exit 3
fi

start=$SECONDS
# One target folder for every key: a changed source recompiles our crate only, not the ~160
# dependencies. Outside the checkout, so the repo never holds build output.
export CARGO_TARGET_DIR="$cache/target"
mkdir -p "$CARGO_TARGET_DIR"
# --locked: the committed Cargo.lock is the build; a drifted lock is an error, not a silent update.
cargo build --release --locked --manifest-path "$src/Cargo.toml" >&2
work="$cache/$key/bin.tmp.$$"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cp "$CARGO_TARGET_DIR/release/sealbench-seal" "$work/sealbench-seal"
# A smoke check before anything is kept: the binary starts and refuses to run without scratch.
if env -u TMPDIR "$work/sealbench-seal" >/dev/null 2>"$work/smoke.err"; then
  echo "seal: the binary ran without a scratch folder; it must refuse" >&2
  exit 1
fi
grep -q 'no scratch folder' "$work/smoke.err" || { echo "seal: unexpected smoke-check error:" >&2; cat "$work/smoke.err" >&2; exit 1; }
rm -f "$work/smoke.err"
touch "$work/.complete"
# Rename last, so an interrupted build is never taken for a finished one.
rm -rf "${cache:?}/$key/bin"
mv "$work" "$cache/$key/bin"
trap - EXIT
echo "seal: built in $((SECONDS - start)) s into $cache/$key" >&2
echo "$bin"

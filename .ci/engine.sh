#!/usr/bin/env bash
# Builds the Pulumi engine the tests drive — the CLI, the Node.js language host, and the command
# and Docker provider plugins — from Go modules, into a cache folder outside the checkout keyed by
# the wrapper modules' content; installs the two providers as Pulumi plugins (in PULUMI_HOME, as
# `pulumi plugin install` would from the registry); prints the bin folder (CLI and language host)
# as its last line.
#
# Why: the Pulumi download site and GitHub releases are out of reach on CI machines; the Go module
# proxy is not. Users install the Pulumi CLI as usual and never need this script.
#
#   bash .ci/engine.sh            # build (or reuse) and print the bin folder
#   PATH="$(bash .ci/engine.sh | tail -n 1):$PATH"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
modules="$here/engine"
cache="${SEALBENCH_ENGINE_CACHE:-/var/cache/sealbench/engine}"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

command -v go >/dev/null || { echo "engine: no Go toolchain on PATH (the engine is built from Go modules)" >&2; exit 1; }

# The key: this script, every wrapper module file, and the Go version (a new Go rebuilds).
key="$( { go version; cd "$here" && find engine.sh engine -type f \( -name '*.go' -o -name go.mod -o -name go.sum -o -name '*.sh' \) -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)"
bin="$cache/$key/bin"

# name  module-folder  build-tags  ldflags  plugin-version (providers: the npm packages' versions)
plugins=(
  "pulumi|cli||-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.248.0|"
  "pulumi-language-nodejs|language-nodejs||-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.248.0|"
  "pulumi-resource-command|command|||1.2.1"
  # no_compose: upstream's flag; compose drags in cgo-only packages and no stack uses it.
  "pulumi-resource-docker|docker|no_compose|-X main.version=5.2.0|5.2.0"
)

# Providers go into PULUMI_HOME rather than on PATH: a provider found on PATH is used whatever
# version the program asks for, and the engine warns about it on every run.
install_providers() {
  local entry name folder tags ldflags version kind short dest
  for entry in "${plugins[@]}"; do
    IFS='|' read -r name folder tags ldflags version <<<"$entry"
    [ -n "$version" ] || continue
    kind=resource
    short=${name#pulumi-resource-}
    dest="${PULUMI_HOME:-$HOME/.pulumi}/plugins/$kind-$short-v$version/$name"
    cmp -s "$bin/../plugins/$name" "$dest" && continue
    # --reinstall: without it a plugin of the same version already there (an earlier key's) is
    # kept, and the engine would run that one, not this build's.
    "$bin/pulumi" plugin install "$kind" "$short" "$version" --reinstall --file "$bin/../plugins/$name" >&2
  done
}

if [ -f "$bin/.complete" ]; then
  echo "engine: reusing $bin" >&2
  install_providers
  echo "$bin"
  exit 0
fi

start=$SECONDS
work="$cache/$key/build.tmp.$$"
rm -rf "$work"
mkdir -p "$work/bin" "$work/plugins"
trap 'rm -rf "$work"' EXIT
for entry in "${plugins[@]}"; do
  IFS='|' read -r name folder tags ldflags version <<<"$entry"
  out="$work/bin/$name"
  [ -n "$version" ] && out="$work/plugins/$name"
  t0=$SECONDS
  # The CLI's wrapper pins it through tools.go (a main package cannot be imported); the others
  # are main packages of their own.
  target=.
  [ "$folder" = cli ] && target=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  (cd "$modules/$folder" && go build -trimpath -tags "$tags" -ldflags "-s -w $ldflags" -o "$out" "$target")
  echo "engine: built $name in $((SECONDS - t0)) s" >&2
done
# Our own plugins' tests, before anything is kept: the command provider's (a fake engine, an
# in-process SSH server), the language host's (the real node against stand-in SDK entry points)
# and the Docker provider's name check, which reads the npm SDK from node_modules (npm ci first):
# every input it sends must map to a Terraform attribute.
(cd "$modules/command" && go test -trimpath -count=1 ./... >&2)
(cd "$modules/language-nodejs" && go test -trimpath -count=1 ./... >&2)
(cd "$modules/docker" && go test -trimpath -tags no_compose -count=1 . >&2)
touch "$work/bin/.complete"
# Rename last, so an interrupted build is never taken for a finished one.
rm -rf "${cache:?}/$key/bin" "${cache:?}/$key/plugins"
# bin (with .complete) last.
mv "$work/plugins" "$cache/$key/plugins"
mv "$work/bin" "$cache/$key/bin"
trap - EXIT
rm -rf "$work"
echo "engine: built in $((SECONDS - start)) s into $cache/$key" >&2
install_providers
echo "$bin"

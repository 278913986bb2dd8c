#!/usr/bin/env bash
# npm run up [-- pulumi up flags]: `pulumi up` of the dev stack, from a fresh machine.
# Finds what it needs or makes it the way CI does, and says so: a Pulumi CLI on PATH (else the
# engine built from Go modules by .ci/engine.sh, for this command only), a Docker engine (started
# by .ci/start-docker.sh when root on a machine without systemd), a backend (the user's, else the
# project-local file backend through PULUMI_BACKEND_URL: never `pulumi login`, which would change
# the user's login for every other project); then checks the stack file and runs `pulumi up` with
# the policy pack. Where it cannot help, it prints what is missing and how to get it.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${SEALBENCH_STACK:-dev}"

# Docker first: it is quick to check, and the engine build below is not worth starting without it.
if ! docker info >/dev/null 2>&1; then
  if command -v dockerd >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && [ ! -d /run/systemd/system ]; then
    # A container or CI machine: no service manager to ask, so start the daemon as CI does.
    echo "sealbench: no Docker engine answers; starting dockerd (.ci/start-docker.sh, log /var/log/sealbench-dockerd.log)"
    bash .ci/start-docker.sh
  elif command -v docker >/dev/null 2>&1; then
    echo "sealbench: Docker is installed but no engine answers \`docker info\`: start it (sudo systemctl start docker), or add your user to the docker group." >&2
    exit 127
  else
    echo "sealbench: Docker is not installed. Install it: sudo apt-get install docker.io (Debian/Ubuntu) or see https://docs.docker.com/engine/install/" >&2
    exit 127
  fi
fi

# shellcheck source=bin/lib/pulumi-env.sh
. bin/lib/pulumi-env.sh
pulumi_cli_or_hint

# Fail on a bad stack file before Pulumi starts: every problem, with line and column.
npx --no-install tsx bin/check.ts --stack "$stack"
# The dev stack's base image is made here, not pulled: no registry is needed for the bench image.
[ "$stack" = dev ] && bash bin/dev-base.sh

pulumi_cli
pulumi_backend

pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"

policy=()
[ -f policies/PulumiPolicy.yaml ] && policy=(--policy-pack policies)
exec pulumi up --stack "$stack" "${policy[@]}" "$@"

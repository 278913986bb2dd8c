#!/usr/bin/env bash
# npm run up [-- pulumi up flags]: `pulumi up` of the dev stack on a fresh machine.
# Says what is missing (Pulumi CLI, Docker) and how to get it, instead of a stack trace; logs into
# a project-local file backend when no backend is set; selects or creates the stack; validates its
# config first; runs with the policy pack.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${SEALBENCH_STACK:-dev}"

missing=0
if ! command -v pulumi >/dev/null 2>&1; then
  cat >&2 <<'TXT'
sealbench: the Pulumi CLI is not installed (no `pulumi` on PATH).
  Install it:  curl -fsSL https://get.pulumi.com | sh    (or: brew install pulumi/tap/pulumi)
  then open a new shell, or add ~/.pulumi/bin to PATH, and run `npm run up` again.
TXT
  missing=1
fi
if ! docker info >/dev/null 2>&1; then
  if command -v docker >/dev/null 2>&1; then
    echo "sealbench: Docker is installed but no engine answers \`docker info\`: start it (sudo systemctl start docker), or add your user to the docker group." >&2
  else
    echo "sealbench: Docker is not installed. Install it: sudo apt-get install docker.io (Debian/Ubuntu) or see https://docs.docker.com/engine/install/" >&2
  fi
  missing=1
fi
[ "$missing" -eq 0 ] || exit 127

# Fail on a bad stack file before Pulumi starts: every problem, with line and column.
npx --no-install tsx bin/check.ts --stack "$stack"
# The dev stack's base image is made here, not pulled: no registry is needed for the bench image.
[ "$stack" = dev ] && bash bin/dev-base.sh

if [ -z "${PULUMI_BACKEND_URL:-}" ] && ! pulumi whoami >/dev/null 2>&1; then
  mkdir -p .pulumi-state
  echo "sealbench: no Pulumi backend set; using the project-local file backend .pulumi-state/"
  pulumi login "file://$PWD/.pulumi-state"
fi
# The dev stack holds no secrets; a file backend still asks for a passphrase to create it.
if [ "$stack" = dev ] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE=""
fi
pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"

policy=()
[ -f policies/PulumiPolicy.yaml ] && policy=(--policy-pack policies)
exec pulumi up --stack "$stack" "${policy[@]}" "$@"

#!/usr/bin/env bash
# npm run down [-- pulumi destroy flags]: `pulumi destroy` of the dev stack (or SEALBENCH_STACK),
# with the same CLI and backend `npm run up` used, so a project-local state is found again.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${SEALBENCH_STACK:-dev}"
# shellcheck source=bin/lib/pulumi-env.sh
. bin/lib/pulumi-env.sh
pulumi_cli
pulumi_backend
exec pulumi destroy --stack "$stack" "$@"

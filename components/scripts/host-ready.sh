#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The wait step: every other host command depends on it, so nothing talks to a new host before
# SSH answers (the connection itself retries) and cloud-init has finished (packages, users,
# sshd config). A host without cloud-init is ready as soon as SSH answers.
#
# Inputs: SEALBENCH_HOST.
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-host-ready}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline

action=$(action_arg "${1:-}")
[ "$action" = delete ] && exit 0
require_env SEALBENCH_HOST

if command -v cloud-init >/dev/null; then
    # Exit 2 means "done, with recoverable errors" (cloud-init ≥ 23.4): the host is up.
    rc=0
    status=$(cloud-init status --wait 2>&1) || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
        die "cloud-init failed on host $SEALBENCH_HOST (exit $rc): ${status//$'\n'/ }; see /var/log/cloud-init-output.log there"
    fi
    log "host $SEALBENCH_HOST: cloud-init ${status##*status: }"
else
    log "host $SEALBENCH_HOST: no cloud-init; SSH answers"
fi

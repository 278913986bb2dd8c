#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Before the worker starts: as the worker user, create, write, read and delete a file in every
# folder it writes (<local_dir>/nfs/<storage-ip>/{cache,sealed}), and reach the scheduler. The
# notes found a wrong folder owner at P1 and a wrong storage setup only at p3 or p5; a dead NFS
# server hung every shell. Every probe runs under `timeout`, so a failure names the host, the
# path or URL and what to fix within seconds, instead of hanging the step.
#
# Inputs: SEALBENCH_HOST, SEALBENCH_SEALER_USER, SEALBENCH_PREFLIGHT_FOLDERS (newline-separated),
# SEALBENCH_PREFLIGHT_SCHEDULER_URL, SEALBENCH_PREFLIGHT_TIMEOUT (seconds per probe).
# create only; delete does nothing.
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-worker-preflight}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline

[ "$(action_arg "${1:-}")" = create ] || exit 0
require_env SEALBENCH_HOST SEALBENCH_SEALER_USER SEALBENCH_PREFLIGHT_SCHEDULER_URL
host=$SEALBENCH_HOST
user=$SEALBENCH_SEALER_USER
limit=${SEALBENCH_PREFLIGHT_TIMEOUT:-10}
getent passwd "$user" >/dev/null || die "user $user does not exist on host $host"
command -v timeout >/dev/null || die "host $host has no timeout(1) (coreutils); the probes must not hang"
as_user() {
    if [ "$(id -un)" = "$user" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

failed=0
while IFS= read -r folder; do
    [ -n "$folder" ] || continue
    # Named after the host: members of a group probe the same shared folders at once.
    probe="$folder/.sealbench-preflight-$host"
    # One shell per folder, under one timeout: a hung NFS mount fails here, it does not hang.
    # shellcheck disable=SC2016 # $1 is expanded by the inner shell, as the worker user.
    if out=$(as_user timeout "$limit" sh -c 'set -e; printf ok >"$1"; [ "$(cat "$1")" = ok ]; rm -f "$1"' sh "$probe" 2>&1); then
        log "$folder: $user can create, write, read and delete"
    else
        code=$?
        if [ "$code" = 124 ]; then
            log "FAILED $folder on host $host: no answer within ${limit}s (a dead NFS server?); check the mount and its server"
        else
            log "FAILED $folder on host $host: $user cannot write there (${out:-exit $code}); the folder must belong to $user (the layout step, mode 2775) and exist on the share"
        fi
        failed=1
    fi
done <<<"${SEALBENCH_PREFLIGHT_FOLDERS:-}"

url="${SEALBENCH_PREFLIGHT_SCHEDULER_URL%/}/acquire-task"
command -v curl >/dev/null || die "host $host has no curl to reach the scheduler $url"
# A GET: any HTTP answer shows the scheduler is there. A POST would take a task off the queue.
# -g: the URL is the stack's, taken as written ([] and {} would be curl's globs: several requests).
if code=$(as_user timeout "$limit" curl -g -sS -o /dev/null -w '%{http_code}' "$url" 2>&1) && [ "$code" != 000 ]; then
    log "scheduler $url answers (HTTP $code)"
else
    log "FAILED scheduler $url from host $host: ${code:-no answer} within ${limit}s; check worker.schedulerUrl and the network"
    failed=1
fi
[ "$failed" = 0 ] || die "preflight failed on host $host (see above); nothing was started"
log "preflight passed"

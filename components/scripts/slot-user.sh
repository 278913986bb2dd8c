#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The worker user's numeric ids for the bench slots, which run as that user instead of
# `privileged: true` (the notes' fix for "permission denied"): the image has no such user, so the
# container needs "uid:gid". Also makes sure each slot's work folder and its tmp/ exist and belong
# to the user (the sealer layout step normally made them; this only fills gaps, never chmod 777).
# Prints `sealbench-slot-user <uid>:<gid>` as its last line.
#
# Inputs: SEALBENCH_HOST, SEALBENCH_SEALER_USER, SEALBENCH_SEALER_GROUP,
# SEALBENCH_SLOT_DIRS (newline-separated absolute folders).
# create only; delete does nothing (the folders hold sealed sectors; the layout step owns them).
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-slot-user}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline
# shellcheck source=lib/paths.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/paths.sh" # sealbench:inline

[ "$(action_arg "${1:-}")" = create ] || exit 0
require_env SEALBENCH_HOST SEALBENCH_SEALER_USER SEALBENCH_SEALER_GROUP
user=$SEALBENCH_SEALER_USER
group=$SEALBENCH_SEALER_GROUP

# --- checks, before anything changes -------------------------------------------------------
getent passwd "$user" >/dev/null || die "user $user does not exist on host $SEALBENCH_HOST; the layout step creates it (user.createUser: true)"
getent group "$group" >/dev/null || die "group $group does not exist on host $SEALBENCH_HOST; expected the layout step to create it"
uid=$(id -u "$user")
gid=$(getent group "$group" | cut -d: -f3)
dirs=()
while IFS= read -r d; do
    [ -n "$d" ] || continue
    case "$d" in
        /?*) ;;
        *) die "slot folder '$d' must be an absolute path other than /" ;;
    esac
    for p in "$d" "$d/tmp"; do
        if [ -e "$p" ] && [ ! -d "$p" ]; then die "$p exists and is not a folder; expected the slot's work folder"; fi
    done
    dirs+=("${d%/}")
done <<<"${SEALBENCH_SLOT_DIRS:-}"

# --- changes -------------------------------------------------------------------------------
# A slot folder is the user's: it may swap tmp/ for a link between a mkdir and a chown by name.
# So each folder is made and entered with safe_mkdir (lib/paths.sh) and owned as ".".
for d in "${dirs[@]}"; do
    for p in "$d" "$d/tmp"; do
        safe_mkdir "$p"
        if [ "${#SAFE_MADE[@]}" -gt 0 ]; then
            chown "$uid:$gid" .
            chmod 2775 .
            log "made $p for $user:$group"
        elif [ "$(stat -c %u .)" != "$uid" ]; then
            # A folder the user cannot write is the notes' "permission denied"; say so, do not guess.
            die "$p belongs to uid $(stat -c %u .), not $user ($uid); the slot runs as $user. Fix: chown $user:$group $p"
        fi
        cd /
    done
done
printf 'sealbench-slot-user %s:%s\n' "$uid" "$gid"

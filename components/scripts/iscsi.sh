#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# iSCSI login for OCI block volumes. Bare-metal shapes have no paravirtualized attachment, so
# each attached volume must be logged in on the host (and set to log in again at boot) before
# its /dev/disk/by-path device exists for the mounts step, whose devices it writes down by volume
# name (the device is known only once attached, and what the mounts step carries for the policies
# must be known in a preview). delete logs out, forgets the node and removes that list.
#
# Inputs: SEALBENCH_HOST, SEALBENCH_ISCSI_TARGETS lines "volume|iqn|ipv4|port",
# SEALBENCH_ISCSI_DEVICES the "volume|device" file the mounts step reads.
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-iscsi}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline

action=$(action_arg "${1:-}")
require_env SEALBENCH_HOST SEALBENCH_ISCSI_DEVICES
command -v iscsiadm >/dev/null || die "no iscsiadm on host $SEALBENCH_HOST; install open-iscsi (Oracle Linux: iscsi-initiator-utils)"

logged_in() {
    iscsiadm -m session 2>/dev/null | grep -qF -- " $1 " || iscsiadm -m session 2>/dev/null | grep -q -- " $1\$"
}

devices=""
while IFS='|' read -r volume iqn ip port; do
    [ -n "$iqn" ] || continue
    case "$iqn" in iqn.*) ;; *) die "'$iqn' is not an iSCSI qualified name (iqn.…)" ;; esac
    portal="$ip:${port:-3260}"
    if [ "$action" = delete ]; then
        if logged_in "$iqn"; then iscsiadm -m node -T "$iqn" -p "$portal" -u >/dev/null; fi
        iscsiadm -m node -o delete -T "$iqn" -p "$portal" >/dev/null 2>&1 || true
        log "logged out of $iqn at $portal"
        continue
    fi
    if ! logged_in "$iqn"; then
        iscsiadm -m node -o new -T "$iqn" -p "$portal" >/dev/null
        iscsiadm -m node -o update -T "$iqn" -p "$portal" -n node.startup -v automatic >/dev/null
        iscsiadm -m node -T "$iqn" -p "$portal" -l >/dev/null || die "iSCSI login to $iqn at $portal failed on host $SEALBENCH_HOST"
        log "logged in to $iqn at $portal"
    fi
    dev="/dev/disk/by-path/ip-$portal-iscsi-$iqn-lun-1"
    for _ in $(seq 1 60); do
        [ -b "$dev" ] && break
        sleep 1
    done
    [ -b "$dev" ] || die "logged in to $iqn but $dev did not appear within 60 s"
    devices+="$volume|$dev"$'\n'
done <<<"${SEALBENCH_ISCSI_TARGETS:-}"

if [ "$action" = delete ]; then
    rm -f -- "$SEALBENCH_ISCSI_DEVICES"
else
    write_if_changed "$SEALBENCH_ISCSI_DEVICES" "${devices%$'\n'}" >/dev/null
fi

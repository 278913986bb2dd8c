#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Storage mounts and the boot-disk guard. Mounts the declared NFS shares and block devices,
# keeps them in fstab (our lines carry a "# sealbench:<host>:mounts" marker, removed on delete),
# then makes sure the folders that need a big disk (/sealer, slot scratch, parameters) are not on
# the disk that holds /. The notes: /sealer once landed on the system disk sda instead of the RAID
# md1, and P1 crawled.
#
# Inputs: SEALBENCH_HOST, SEALBENCH_BOOT_DISK (may be empty: then the disk under /),
# SEALBENCH_ALLOW_BOOT_DISK ("true" skips the guard; dev stack only),
# SEALBENCH_MOUNT_TABLE   lines "kind|source|mountPoint|fsType|options|format"
#                         (kind nfs|block|existing; format true|false; a block source
#                         "iscsi:<volume>" is an OCI volume the iscsi step logged in),
# SEALBENCH_ISCSI_DEVICES the iscsi step's "volume|device" file, for "iscsi:" sources,
# SEALBENCH_BIG_DISK_TABLE lines "role|path",
# SEALBENCH_FSTAB         the fstab to keep (default /etc/fstab; the dev stack's is under its root),
# SEALBENCH_MOUNTS_STATE  the mount points this step mounted itself, one per line (default beside
#                         the fstab): delete unmounts only those, never an admin's own mount.
# SEALBENCH_NFS_TIMEOUT   seconds an NFS mount or a probe of a mounted share may take (default
#                         60): a dead server fails the step instead of hanging it (the notes: a
#                         dead server hung every shell, not even `cd` returned).
# SEALBENCH_MOUNTS and SEALBENCH_BIG_DISK_PATHS carry the same as JSON for the policies.
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-mounts}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline
# shellcheck source=lib/disk.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/disk.sh" # sealbench:inline
# shellcheck source=lib/paths.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/paths.sh" # sealbench:inline

action=$(action_arg "${1:-}")
require_env SEALBENCH_HOST
fstab=${SEALBENCH_FSTAB:-/etc/fstab}
tag="$SEALBENCH_HOST:mounts"
state=${SEALBENCH_MOUNTS_STATE:-$(dirname "$fstab")/.sealbench-$SEALBENCH_HOST-mounts.state}
nfs_timeout=${SEALBENCH_NFS_TIMEOUT:-60}
case "$nfs_timeout" in '' | *[!0-9]* | 0) die "SEALBENCH_NFS_TIMEOUT must be a whole number of seconds above 0, got '$nfs_timeout'" ;; esac

kinds=() sources=() points=() fstypes=() options=() formats=()
while IFS='|' read -r kind source point fstype opts format; do
    [ -n "$kind" ] || continue
    case "$kind" in nfs | block | existing) ;; *) die "mount table: unknown kind '$kind' for $point (expected nfs, block or existing)" ;; esac
    case "$point" in /*) ;; *) die "mount table: mount point '$point' is not an absolute path" ;; esac
    if [ "$kind" = block ] && [ "${source#iscsi:}" != "$source" ] && [ "$action" = create ]; then
        # The volume's device is known only once attached and logged in: the iscsi step wrote it.
        # (delete needs no device: it unmounts by mount point.)
        devices=${SEALBENCH_ISCSI_DEVICES:-}
        if [ -z "$devices" ] || [ ! -f "$devices" ]; then
            die "$point is OCI volume ${source#iscsi:}, but the iscsi step's device list ${devices:-(SEALBENCH_ISCSI_DEVICES unset)} is missing on host $SEALBENCH_HOST; expected the iscsi step to have run first"
        fi
        dev=$(awk -F'|' -v v="${source#iscsi:}" '$1 == v { print $2 }' "$devices")
        [ -n "$dev" ] || die "$point is OCI volume ${source#iscsi:}, which the iscsi step's device list $devices does not name on host $SEALBENCH_HOST"
        source=$dev
    fi
    kinds+=("$kind") sources+=("$source") points+=("${point%/}") fstypes+=("$fstype") options+=("$opts") formats+=("$format")
done <<<"${SEALBENCH_MOUNT_TABLE:-}"

# reload_fstab: systemd makes .mount units from /etc/fstab (systemd-fstab-generator) and keeps
# the old ones until a daemon-reload; without it a removed line's unit outlives destroy. Only for
# the system's fstab on a host that runs systemd (a stack root's fstab is nobody's).
reload_fstab() {
    [ "$fstab" = /etc/fstab ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null || return 0
    systemctl daemon-reload || log "systemctl daemon-reload failed; systemd still knows the old $fstab"
}

# The mounted filesystem's source at exactly this mount point, or nothing.
mounted_source() {
    findmnt -no SOURCE --mountpoint "$1" 2>/dev/null | tail -n1 || true
}

# made_here POINT: this step mounted POINT (and so may unmount it).
made_here() {
    [ -f "$state" ] && grep -qxF -- "$1" "$state"
}

# in_admin_fstab POINT: the fstab already has a line for POINT that is not ours.
in_admin_fstab() {
    [ -f "$fstab" ] || return 1
    grep -v -- " $(fstab_marker "$tag")\$" "$fstab" | awk -v p="$1" '$1 !~ /^#/ && $2 == p { found = 1 } END { exit !found }'
}

if [ "$action" = delete ]; then
    # Unmount what this step mounted, deepest first, then drop our fstab lines. Data on the
    # devices stays, and so does a mount that was there before the step.
    for ((i = ${#points[@]} - 1; i >= 0; i--)); do
        [ "${kinds[$i]}" = existing ] && continue
        if ! made_here "${points[$i]}"; then
            mountpoint -q "${points[$i]}" && log "left ${points[$i]} mounted: this step did not mount it"
            continue
        fi
        if mountpoint -q "${points[$i]}"; then
            umount "${points[$i]}" || die "cannot unmount ${points[$i]} (in use?); stop what uses it and run destroy again"
            log "unmounted ${points[$i]}"
        fi
    done
    if [ "$(fstab_set "$fstab" "$tag" "")" = changed ]; then reload_fstab; fi
    rm -f -- "$state"
    drop_state_dir "$state"
    exit 0
fi

# --- checks, before anything changes -------------------------------------------------------

for i in "${!kinds[@]}"; do
    case "${kinds[$i]}" in
        nfs)
            case "${sources[$i]}" in *:/*) ;; *) die "NFS source '${sources[$i]}' for ${points[$i]} is not server:/export" ;; esac
            ;;
        block)
            [ -b "${sources[$i]}" ] || die "block device ${sources[$i]} for ${points[$i]} does not exist on host $SEALBENCH_HOST (for an iSCSI volume: is the session logged in?)"
            have=$(blkid -p -s TYPE -o value "${sources[$i]}" 2>/dev/null || true)
            if [ -z "$have" ] && [ "${formats[$i]}" != true ]; then
                die "block device ${sources[$i]} for ${points[$i]} has no filesystem; set format: true to make ${fstypes[$i]} on it (only a device without a filesystem is ever formatted)"
            fi
            ;;
        existing)
            if [ -n "${sources[$i]}" ] && [ -e "${points[$i]}" ]; then
                dev=$(path_device "${points[$i]}")
                [ "$(disk_of_device "$dev")" = "$(disk_of_device "${sources[$i]}")" ] ||
                    die "existing mount ${points[$i]} is on $dev, but the stack says it is on ${sources[$i]}"
            fi
            ;;
    esac
done

# Every mount point's path is root's alone, checked before the first mount (an existing mount
# is only made sure of as a folder: nothing mounts it by name later).
for i in "${!kinds[@]}"; do
    [ "${kinds[$i]}" = existing ] || fixed_dir "${points[$i]}" "mount point" check
done
cd /

# covering PATH: the index of the deepest declared mount at or above PATH, or -1.
covering() {
    local path=$1 best=-1 len=-1 i
    for i in "${!points[@]}"; do
        case "$path/" in "${points[$i]}/"*)
            if [ "${#points[$i]}" -gt "$len" ]; then best=$i len=${#points[$i]}; fi
            ;;
        esac
    done
    printf '%s' "$best"
}

# Where a folder will live once the declared mounts are in place: the deepest declared mount
# above it, else whatever holds it now.
planned_device() {
    local best
    best=$(covering "$1")
    if [ "$best" -ge 0 ] && [ "${kinds[$best]}" != existing ]; then
        printf '%s' "${sources[$best]}"
    elif [ "$best" -ge 0 ] && [ -n "${sources[$best]}" ]; then
        printf '%s' "${sources[$best]}"
    else
        path_device "$1"
    fi
}

# will_be_mounted PATH: a declared NFS or block mount this step mounts will hold PATH.
will_be_mounted() {
    local best
    best=$(covering "$1")
    [ "$best" -ge 0 ] && [ "${kinds[$best]}" != existing ]
}

guard_all() {
    local how=$1 boot role path dev
    [ "${SEALBENCH_ALLOW_BOOT_DISK:-false}" = true ] && return 0
    boot=$(boot_disk "${SEALBENCH_BOOT_DISK:-}")
    while IFS='|' read -r role path; do
        [ -n "$role" ] || continue
        if [ "$how" = planned ]; then dev=$(planned_device "$path"); else dev=$(path_device "$path"); fi
        guard_device "$role" "$path" "$dev" "$boot"
        if [ "$how" = mounted ] || ! will_be_mounted "$path"; then guard_root_fs "$role" "$path"; fi
    done <<<"${SEALBENCH_BIG_DISK_TABLE:-}"
}
guard_all planned

# --- changes -------------------------------------------------------------------------------

lines=""
for i in "${!kinds[@]}"; do
    point=${points[$i]} source=${sources[$i]}
    case "${kinds[$i]}" in
        existing)
            # Made, if missing, without following a link another user planted (lib/paths.sh).
            safe_mkdir "$point"
            cd /
            continue
            ;;
        block)
            have=$(blkid -p -s TYPE -o value "$source" 2>/dev/null || true)
            if [ -z "$have" ]; then
                log "making ${fstypes[$i]} on $source (it has no filesystem)"
                "mkfs.${fstypes[$i]}" -q "$source" >/dev/null
                have=${fstypes[$i]}
            fi
            uuid=$(blkid -p -s UUID -o value "$source" 2>/dev/null || true)
            # Device names of iSCSI and SATA disks can change across boots; UUIDs do not.
            spec=$source
            [ -z "$uuid" ] || spec="UUID=$uuid"
            line="$spec $point $have ${options[$i]} 0 2"
            fstype=$have
            ;;
        nfs)
            line="$source $point nfs ${options[$i]} 0 0"
            fstype=nfs
            ;;
    esac
    # A second line for the same mount point would mount it twice at boot: the admin's stays.
    if in_admin_fstab "$point"; then
        log "$point is already in $fstab (not a sealbench line): left it as it is"
    else
        lines+="$line"$'\n'
    fi
    current=$(mounted_source "$point")
    # A hard NFS mount of a dead server blocks every process that touches it: probe first.
    if [ "$fstype" = nfs ] && [ -n "$current" ]; then
        timeout -k 5 "$nfs_timeout" stat -f -- "$point" >/dev/null ||
            die "NFS share $current on $point does not answer within $nfs_timeout s on host $SEALBENCH_HOST; is its server up?"
    fi
    # mount and fstab name the point again at every boot: its path must be root's alone (a
    # mount point under the worker's tree could be swapped for a link to /etc).
    fixed_dir "$point" "mount point" create
    cd /
    if [ -z "$current" ]; then
        rc=0
        if [ "$fstype" = nfs ]; then
            timeout -k 5 "$nfs_timeout" mount -t nfs -o "${options[$i]}" "$source" "$point" || rc=$?
        else
            mount -t "$fstype" -o "${options[$i]}" "$source" "$point" || rc=$?
        fi
        # timeout(1): 124 when the limit was hit, 137 when the mount had to be killed.
        case "$rc" in
            0) ;;
            124 | 137) die "mounting $source on $point did not finish within $nfs_timeout s on host $SEALBENCH_HOST; is the NFS server up and does it export that folder to this host?" ;;
            *) die "mounting $source on $point ($fstype, ${options[$i]}) failed on host $SEALBENCH_HOST" ;;
        esac
        made_here "$point" || { mkdir -p "$(dirname "$state")" && printf '%s\n' "$point" >>"$state"; }
        log "mounted $source on $point"
    elif [ "${kinds[$i]}" = block ] && [ "$(readlink -f "$current")" != "$(readlink -f "$source")" ]; then
        die "$point already has $current mounted, expected $source; unmount it or fix storage: in the stack config"
    fi
done
changed=$(fstab_set "$fstab" "$tag" "$lines")
log "fstab $fstab: $changed"
if [ "$changed" = changed ]; then reload_fstab; fi

# Now that everything is mounted, check again with what the kernel says.
guard_all mounted
while IFS='|' read -r role path; do
    [ -n "$role" ] || continue
    log "$role $path on $(path_device "$path")"
done <<<"${SEALBENCH_BIG_DISK_TABLE:-}"

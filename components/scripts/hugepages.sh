#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Hugepages for p1 (benchy built with hugepage support, FORCE_HUGE_PAGE). Reserves the pages,
# persists them across boots, and mounts hugetlbfs where p1 expects it; a count of 0 (and
# delete) means 0 pages, no persisted setting and nothing mounted, so p4 gets the memory back.
# 2 MiB pages: vm.nr_hugepages, persisted in sysctl.d. 1 GiB pages: spread over the NUMA nodes
# through sysfs (sysctl cannot set them), persisted as tmpfiles.d writes.
# Refuses, with the numbers, a count that leaves the OS less than memoryReserveGb of the real
# MemTotal (the config refuses it at plan time against the declared memory; this is the host).
#
# Inputs: SEALBENCH_HOST, SEALBENCH_HUGEPAGE_COUNT, SEALBENCH_HUGEPAGE_KB (2048|1048576),
# SEALBENCH_HUGEPAGE_MOUNT, SEALBENCH_MEMORY_RESERVE_GB, and the places it reads and writes (the
# dev stack points them under its root; tests at temp files): SEALBENCH_NR_HUGEPAGES
# (/proc/sys/vm/nr_hugepages), SEALBENCH_SYSFS (/sys), SEALBENCH_SYSCTL_FILE,
# SEALBENCH_TMPFILES_FILE, SEALBENCH_FSTAB (/etc/fstab), SEALBENCH_MEMINFO (/proc/meminfo).
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-hugepages}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline
# shellcheck source=lib/paths.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/paths.sh" # sealbench:inline

action=$(action_arg "${1:-}")
require_env SEALBENCH_HOST SEALBENCH_HUGEPAGE_KB SEALBENCH_HUGEPAGE_MOUNT SEALBENCH_SYSCTL_FILE SEALBENCH_TMPFILES_FILE
count=${SEALBENCH_HUGEPAGE_COUNT:-0}
[ "$action" = delete ] && count=0
kb=$SEALBENCH_HUGEPAGE_KB
mount_point=${SEALBENCH_HUGEPAGE_MOUNT%/}
reserve_gb=${SEALBENCH_MEMORY_RESERVE_GB:-0}
nr=${SEALBENCH_NR_HUGEPAGES:-/proc/sys/vm/nr_hugepages}
sysfs=${SEALBENCH_SYSFS:-/sys}
fstab=${SEALBENCH_FSTAB:-/etc/fstab}
meminfo=${SEALBENCH_MEMINFO:-/proc/meminfo}
tag="$SEALBENCH_HOST:hugepages"

case "$count" in '' | *[!0-9]*) die "SEALBENCH_HUGEPAGE_COUNT must be a whole number, got '$count'" ;; esac
case "$kb" in
    2048) size=2M ;;
    1048576) size=1G ;;
    *) die "SEALBENCH_HUGEPAGE_KB must be 2048 (2MiB) or 1048576 (1GiB), got '$kb'" ;;
esac

# --- checks, before anything changes -------------------------------------------------------
if [ "$count" -gt 0 ]; then
    mem_kb=$(awk '$1 == "MemTotal:" { print $2 }' "$meminfo")
    [ -n "$mem_kb" ] || die "no MemTotal line in $meminfo"
    # GB = 10^9 bytes, as in the stack config.
    if ! verdict=$(awk -v n="$count" -v kb="$kb" -v mem="$mem_kb" -v r="$reserve_gb" -v size="$size" 'BEGIN {
        want = n * kb * 1024 / 1e9; total = mem * 1024 / 1e9; left = total - want
        fit = int((total - r) * 1e9 / (kb * 1024)); if (fit < 0) fit = 0
        if (left < r) {
            printf "%d pages of %s = %.1f GB of hugepages on a host with %.1f GB (MemTotal) leave %.1f GB for the OS, less than memoryReserveGb (%s GB); at most %d pages fit", n, size, want, total, left, r, fit
            exit 1
        }
        printf "%d pages of %s = %.1f GB, leaving %.1f GB of %.1f GB", n, size, want, left, total
    }'); then
        die "refusing on host $SEALBENCH_HOST: $verdict. Lower hugepages.count or memoryReserveGb"
    fi
    log "$verdict"
fi

# The files that hold the page count: one for 2 MiB pages, one per NUMA node for 1 GiB pages.
targets=()
if [ "$kb" = 2048 ]; then
    targets=("$nr")
else
    for f in "$sysfs"/devices/system/node/node[0-9]*/hugepages/hugepages-1048576kB/nr_hugepages; do
        [ -e "$f" ] && targets+=("$f")
    done
    if [ "${#targets[@]}" -eq 0 ] && [ -e "$sysfs/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages" ]; then
        targets=("$sysfs/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages")
    fi
    if [ "${#targets[@]}" -eq 0 ] && [ "$count" -gt 0 ]; then
        die "host $SEALBENCH_HOST has no 1GiB hugepage support ($sysfs/kernel/mm/hugepages/hugepages-1048576kB missing); use pageSize 2MiB"
    fi
fi

# --- changes -------------------------------------------------------------------------------
n=${#targets[@]}
persist=""
for i in "${!targets[@]}"; do
    f=${targets[$i]}
    # Spread evenly; the first nodes take the remainder.
    want=$((count / n + (i < count % n ? 1 : 0)))
    have=0
    [ -e "$f" ] && have=$(cat "$f")
    if [ "$have" != "$want" ] && { [ -e "$f" ] || [ "$want" -gt 0 ]; }; then
        # Only a path under a dev stack's root can be missing; the kernel's always exist.
        [ -e "$f" ] || mkdir -p "$(dirname "$f")"
        printf '%s\n' "$want" >"$f"
        got=$(cat "$f")
        if [ "$got" != "$want" ]; then
            die "asked the kernel for $want pages of $size in $f, it reserved $got (memory too fragmented?); reboot with hugepagesz=$size hugepages=$count on the kernel command line, or lower hugepages.count"
        fi
        log "$f: $have -> $want"
    fi
    persist+="w $f - - - - $want"$'\n'
done

if [ "$count" -gt 0 ] && [ "$kb" = 2048 ]; then
    write_if_changed "$SEALBENCH_SYSCTL_FILE" "# sealbench: hugepages for p1 on $SEALBENCH_HOST
vm.nr_hugepages = $count" >/dev/null
else
    rm -f -- "$SEALBENCH_SYSCTL_FILE"
fi
if [ "$count" -gt 0 ] && [ "$kb" = 1048576 ]; then
    write_if_changed "$SEALBENCH_TMPFILES_FILE" "# sealbench: 1GiB hugepages for p1 on $SEALBENCH_HOST
${persist%$'\n'}" >/dev/null
else
    rm -f -- "$SEALBENCH_TMPFILES_FILE"
fi

if [ "$count" -gt 0 ]; then
    # Mounted by name at every boot (fstab): a path only root may change (lib/paths.sh).
    fixed_dir "$mount_point" "hugepages mount point" create
    cd /
    if ! mountpoint -q "$mount_point"; then
        mount -t hugetlbfs -o "pagesize=$size" hugetlbfs "$mount_point"
        log "mounted hugetlbfs ($size pages) on $mount_point"
    fi
    fstab_set "$fstab" "$tag" "hugetlbfs $mount_point hugetlbfs pagesize=$size 0 0" >/dev/null
else
    if [ -d "$mount_point" ] && mountpoint -q "$mount_point" && [ "$(findmnt -no FSTYPE --mountpoint "$mount_point" | tail -n1)" = hugetlbfs ]; then
        umount "$mount_point" || die "cannot unmount hugetlbfs at $mount_point (a p1 still running?)"
        log "unmounted $mount_point"
    fi
    fstab_set "$fstab" "$tag" "" >/dev/null
fi
log "host $SEALBENCH_HOST: $count pages of $size"

#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Host facts check: the plan sized slots, C2 memory and hugepages from the host's declared CPUs,
# memory and boot disk. Compare them with the machine and stop, before any other step, when the
# plan assumed more than the host has. Reads only; "delete" has nothing to undo.
#
# Inputs (HostFactsEnv in components/policy-keys.ts): SEALBENCH_HOST, SEALBENCH_CPUS,
# SEALBENCH_MEMORY_GB, SEALBENCH_BOOT_DISK (may be empty), SEALBENCH_NUMA_NODES (JSON list).
# SEALBENCH_MEMINFO: where to read MemTotal (default /proc/meminfo; tests point it elsewhere).
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-host-facts}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline
# shellcheck source=lib/disk.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/disk.sh" # sealbench:inline

action=$(action_arg "${1:-}")
[ "$action" = delete ] && exit 0

require_env SEALBENCH_HOST SEALBENCH_CPUS SEALBENCH_MEMORY_GB
meminfo=${SEALBENCH_MEMINFO:-/proc/meminfo}
# MemTotal leaves out what firmware and the kernel keep, so a "512 GB" host reports a little
# less; declared memory may exceed it by this many percent before the check fails.
memory_slack_pct=3

case "$SEALBENCH_CPUS" in '' | *[!0-9]*) die "SEALBENCH_CPUS must be a whole number, got '$SEALBENCH_CPUS'" ;; esac
cpus=$(nproc --all)
mem_kb=$(awk '$1 == "MemTotal:" { print $2 }' "$meminfo")
[ -n "$mem_kb" ] || die "no MemTotal line in $meminfo"
mem_gb=$(awk -v kb="$mem_kb" 'BEGIN { printf "%.1f", kb * 1024 / 1e9 }')
boot=$(boot_disk "")

problems=()
if [ "$SEALBENCH_CPUS" -gt "$cpus" ]; then
    problems+=("host $SEALBENCH_HOST has $cpus logical CPUs (nproc --all) but the stack declares facts.cpus: $SEALBENCH_CPUS; set facts.cpus to $cpus and size the slots for it")
fi
if ! awk -v d="$SEALBENCH_MEMORY_GB" -v kb="$mem_kb" -v s="$memory_slack_pct" 'BEGIN { exit !(d <= kb * 1024 / 1e9 * (1 + s / 100)) }'; then
    problems+=("host $SEALBENCH_HOST has $mem_gb GB of memory (MemTotal in $meminfo) but the stack declares facts.memoryGb: $SEALBENCH_MEMORY_GB; set facts.memoryGb to at most $mem_gb")
fi
if [ -n "${SEALBENCH_BOOT_DISK:-}" ]; then
    declared=$(disk_of_device "$SEALBENCH_BOOT_DISK")
    if [ "$declared" != "$boot" ]; then
        problems+=("host $SEALBENCH_HOST boots from $boot (the disk under /) but the stack declares facts.bootDisk: $SEALBENCH_BOOT_DISK (disk $declared); the boot-disk guard would protect the wrong disk. Set facts.bootDisk to $boot")
    fi
fi
numa_declared=$(printf '%s' "${SEALBENCH_NUMA_NODES:-[]}" | { grep -o '"[^"]*"' || true; } | wc -l)
numa_real=$(find /sys/devices/system/node -maxdepth 1 -name 'node[0-9]*' 2>/dev/null | wc -l)
if [ "$numa_declared" -gt 0 ] && [ "$numa_real" -gt 0 ] && [ "$numa_declared" -gt "$numa_real" ]; then
    problems+=("host $SEALBENCH_HOST has $numa_real NUMA node(s) (/sys/devices/system/node) but the stack declares $numa_declared in facts.numaNodes")
fi

if [ "${#problems[@]}" -gt 0 ]; then
    for p in "${problems[@]}"; do printf '%s: %s\n' "$SEALBENCH_STEP" "$p" >&2; done
    exit 1
fi
log "host $SEALBENCH_HOST: cpus=$cpus memory_gb=$mem_gb boot_disk=$boot (declared cpus=$SEALBENCH_CPUS memory_gb=$SEALBENCH_MEMORY_GB)"

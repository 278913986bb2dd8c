# shellcheck shell=bash
# Which disk holds a folder. The boot-disk guard compares whole disks, never partition names:
# /dev/sda4 is on sda, an LVM volume is on the disk under it, an md RAID is a disk of its own.
# Reads /sys (what lsblk's PKNAME is made from), so it works on any Linux without lsblk options.
# SEALBENCH_SYS points it at another sysfs tree (tests: RAID and LVM layouts this machine lacks).

# disk_of_device DEV: the whole disk under a block device, e.g. /dev/sda4 → /dev/sda,
# /dev/loop3p1 → /dev/loop3, /dev/mapper/vg-root → the disk under its partition, /dev/md1 → /dev/md1.
disk_of_device() {
    local dev name slaves hops=0 sys=${SEALBENCH_SYS:-/sys}
    dev=$(readlink -f -- "$1")
    name=$(basename -- "$dev")
    while [ "$hops" -lt 8 ]; do
        hops=$((hops + 1))
        # Not a block device this kernel knows (yet): the name is the best answer there is.
        [ -e "$sys/class/block/$name" ] || break
        # A RAID is its own disk: its members are what makes it big, not the boot disk.
        case "$name" in md*) break ;; esac
        if [ -f "$sys/class/block/$name/partition" ]; then
            name=$(basename -- "$(dirname -- "$(readlink -f -- "$sys/class/block/$name")")")
            continue
        fi
        # device-mapper (LVM, dm-crypt): follow the first device underneath.
        slaves=("$sys/class/block/$name/slaves/"*)
        if [ -e "${slaves[0]}" ]; then
            name=$(basename -- "${slaves[0]}")
            continue
        fi
        break
    done
    printf '/dev/%s' "$name"
}

# path_device PATH: the device of the filesystem that holds PATH (or its nearest existing
# parent). Prints the source as is when it is not a local block device (NFS "host:/x", tmpfs).
path_device() {
    local p=$1 majmin src
    while [ ! -e "$p" ]; do p=$(dirname -- "$p"); done
    majmin=$(findmnt -no MAJ:MIN -T "$p" | head -n1 | tr -d ' ')
    src=$(findmnt -no SOURCE -T "$p" | head -n1)
    # /dev/root and friends: the device numbers are the truth.
    if [ -n "$majmin" ] && [ -e "/sys/dev/block/$majmin" ]; then
        printf '/dev/%s' "$(basename -- "$(readlink -f -- "/sys/dev/block/$majmin")")"
        return
    fi
    # btrfs shows "/dev/sda2[/@home]".
    src=${src%%\[*}
    printf '%s' "$src"
}

# boot_disk [DECLARED]: the whole disk that holds /, or the declared one (as a whole disk).
boot_disk() {
    if [ -n "${1:-}" ]; then
        disk_of_device "$1"
    else
        disk_of_device "$(path_device /)"
    fi
}

# guard_device ROLE PATH DEVICE BOOT: stops when DEVICE (where PATH lives or will live) is on the
# boot disk BOOT, naming both devices. Sources that are not block devices (NFS, tmpfs) pass.
guard_device() {
    local role=$1 path=$2 dev=$3 boot=$4 disk
    case "$dev" in /dev/*) ;; *) return 0 ;; esac
    disk=$(disk_of_device "$dev")
    if [ "$disk" = "$boot" ]; then
        die "boot-disk guard: the $role folder $path is on $dev (disk $disk), which is the boot disk $boot; expected a separate big disk there. Mount one (storage: in the stack config) or, on a dev host only, set allowBootDisk: true"
    fi
}

# guard_root_fs ROLE PATH: stops when PATH (or its nearest existing parent) is on the filesystem
# that holds / itself. Where / has no disk to name (an overlay or tmpfs root: a container, a live
# system) guard_device has nothing to compare, but such a folder is on the boot disk all the same.
guard_root_fs() {
    local role=$1 p=$2
    while [ ! -e "$p" ]; do p=$(dirname -- "$p"); done
    if [ "$(stat -c %d -- "$p")" = "$(stat -c %d /)" ]; then
        die "boot-disk guard: the $role folder $2 is on the filesystem that holds / ($(findmnt -no SOURCE -T /), $(findmnt -no FSTYPE -T /)); expected a separate big disk there. Mount one (storage: in the stack config) or, on a dev host only, set allowBootDisk: true"
    fi
}

#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The overlay sweep: removes benchy's leaked `.tmp*` files from the writable layers of containers
# that are not running, and reports what it finds in running ones. The notes: a 32 GB
# `/var/lib/docker/overlay2/<id>/diff/tmp/.tmpaGt389` filled a 39 GB root disk after the container
# exited; it was found with `find / -name ".tmp*" -exec du -sch {} \;`, which walks every mount
# (NFS included) and cannot tell a container's layer from an image's.
#
# What it will never do: delete in a running container (its state is read again right before),
# in an image layer (only containers' UpperDir are looked at, and one that is also an image's layer
# is refused), outside Docker's data root (every layer must be <root>/overlay2/<id>/diff), or
# across a filesystem boundary (find -xdev, rm --one-file-system).
#
# Inputs (environment):
#   SEALBENCH_HOST            stack host name, for messages
#   SEALBENCH_SWEEP_DRY_RUN   "true": report what would be freed, delete nothing. Default "false".
#   SEALBENCH_DOCKER_ROOT     Docker's data root. Default: `docker info -f {{.DockerRootDir}}`.
#   SEALBENCH_SWEEP_LABELS    only containers carrying every one of these labels (newline-separated
#                             key=value): the stack's slots. An engine holds other people's
#                             containers too (on a laptop, the user's own database), and a .tmp*
#                             in their layers is theirs.
#   SEALBENCH_SWEEP_NAME_PREFIX only containers whose name starts with it (tests share an engine).
#                             The script refuses to run with neither a label nor a prefix.
#   SEALBENCH_SWEEP_INVENTORY a file listing the layers instead of asking Docker (the benchmark's
#                             synthetic data root): tab-separated lines
#                               container <name> <true|false running> <UpperDir>
#                               image <ref> - <colon-separated layer dirs>
# Arguments: create (pulumi up) or delete (pulumi destroy): both sweep.
# Output: one line per container with .tmp* entries, then
#   overlay-sweep: total freed <bytes> bytes (<n> entries, <k> stopped containers); running <bytes> bytes (<m> entries) left alone
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-overlay-sweep}
# File names are bytes, not text: match them byte by byte (also 2x faster than UTF-8 matching).
export LC_ALL=C
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline

action_arg "${1:-}" >/dev/null
host=${SEALBENCH_HOST:-this host}
dry=${SEALBENCH_SWEEP_DRY_RUN:-false}
case "$dry" in true | false) ;; *) die "SEALBENCH_SWEEP_DRY_RUN must be true or false (got '$dry')" ;; esac
inventory_file=${SEALBENCH_SWEEP_INVENTORY:-}
prefix=${SEALBENCH_SWEEP_NAME_PREFIX:-}
label_filters=()
while IFS= read -r label; do
    [ -n "$label" ] || continue
    [[ $label =~ ^[A-Za-z0-9._/-]+=[^[:space:]]*$ ]] || die "SEALBENCH_SWEEP_LABELS: '$label' is not key=value"
    label_filters+=(--filter "label=$label")
done <<<"${SEALBENCH_SWEEP_LABELS:-}"
# An inventory lists exactly the layers to look at (the benchmark's synthetic data root).
if [ "${#label_filters[@]}" -eq 0 ] && [ -z "$prefix" ] && [ -z "$inventory_file" ]; then
    die "no container filter: set SEALBENCH_SWEEP_LABELS (the stack's slot labels) or SEALBENCH_SWEEP_NAME_PREFIX; refusing to sweep every container of the engine"
fi

# --- what is there (nothing changes in this part) -------------------------------------------
if [ -n "${SEALBENCH_DOCKER_ROOT:-}" ]; then
    root=$SEALBENCH_DOCKER_ROOT
else
    command -v docker >/dev/null || die "docker is not installed on $host; expected a Docker engine (the slots run there)"
    root=$(docker info -f '{{.DockerRootDir}}' 2>/dev/null) || die "no Docker engine answers \`docker info\` on $host"
fi
[ -d "$root" ] || die "Docker data root '$root' on $host is not a folder"

# Every tool's output goes to a file in $work and is read back from there: bash reads a pipe one
# byte per system call (it cannot seek back), which was half of the sweep's time on 200 layers.
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

if [ -n "$inventory_file" ]; then
    [ -f "$inventory_file" ] || die "inventory file '$inventory_file' does not exist"
    inventory=$inventory_file
else
    inventory="$work/inventory"
    : >"$inventory"
    docker ps -aq --no-trunc "${label_filters[@]}" >"$work/ids"
    mapfile -t containers <"$work/ids"
    if [ "${#containers[@]}" -gt 0 ]; then
        docker inspect -f $'container\t{{.Name}}\t{{.State.Running}}\t{{if eq .GraphDriver.Name "overlay2"}}{{.GraphDriver.Data.UpperDir}}{{else}}-{{end}}' \
            "${containers[@]}" | sed 's|^container\t/|container\t|' >>"$inventory"
    fi
    docker image ls -aq --no-trunc | sort -u >"$work/ids"
    mapfile -t images <"$work/ids"
    if [ "${#images[@]}" -gt 0 ]; then
        docker image inspect -f $'image\t{{.Id}}\t-\t{{with .GraphDriver.Data}}{{index . "UpperDir"}}:{{index . "LowerDir"}}{{end}}' "${images[@]}" >>"$inventory"
    fi
fi

# split_colons TEXT: sets the array parts to TEXT's ":"-separated fields. Word splitting with
# globbing off: a here-string for `read -a` is read through a pipe, one byte per system call.
split_colons() {
    local IFS=:
    set -f
    # shellcheck disable=SC2206 # splitting on ":" is the point; globbing is off
    parts=($1)
    set +f
}

# Every folder that belongs to an image: never swept, even if a container claimed it.
declare -A image_layer=()
while IFS=$'\t' read -r kind _ _ dirs; do
    [ "$kind" = image ] || continue
    split_colons "$dirs"
    for d in "${parts[@]}"; do
        case "$d" in "" | "<no value>") continue ;; esac
        image_layer[$d]=1
    done
done <"$inventory"

declare -A name_of=() running_of=()
uppers=()
c_names=() c_running=() c_uppers=()
while IFS=$'\t' read -r kind name running upper; do
    [ "$kind" = container ] || continue
    [[ "$name" == "$prefix"* ]] || continue
    if [ "$upper" = - ] || [ -z "$upper" ] || [ "$upper" = "<no value>" ]; then
        log "$name: not an overlay2 container; skipped"
        continue
    fi
    [ -d "$upper" ] || { log "$name: UpperDir $upper is gone; skipped"; continue; }
    c_names+=("$name") c_running+=("$running") c_uppers+=("$upper")
done <"$inventory"
# One realpath for the data root and all layers (a fork per container is most of the run time
# on a busy host).
realpath -z -e -- "$root" "${c_uppers[@]}" >"$work/reals" || true
mapfile -d '' -t reals <"$work/reals"
[ "${#reals[@]}" -eq $((${#c_uppers[@]} + 1)) ] || die "could not resolve the data root $root and every UpperDir (a layer vanished while reading); run again"
root=${reals[0]}
[ "$root" != / ] || die "Docker data root resolves to /; refusing to sweep the whole disk"
for i in "${!c_uppers[@]}"; do
    name=${c_names[$i]} upper=${c_uppers[$i]} real=${reals[$((i + 1))]}
    if [ -n "${image_layer[$upper]:-}" ] || [ -n "${image_layer[$real]:-}" ]; then
        log "$name: its UpperDir $upper is also an image layer; skipped"
        continue
    fi
    id=${real#"$root"/overlay2/}
    case "$real" in
        "$root"/overlay2/*/diff) ;;
        *) die "$name: UpperDir $upper is not <data root>/overlay2/<id>/diff under $root; refusing to sweep it" ;;
    esac
    [ "$id" = "${id%%/*}/diff" ] || die "$name: UpperDir $upper is nested deeper than <data root>/overlay2/<id>/diff; refusing"
    name_of[$real]=$name
    running_of[$real]=${c_running[$i]}
    uppers+=("$real")
done

# One walk over the writable layers only, never across a mount, never into a .tmp* folder.
# A character device in an upper layer is an overlay whiteout: the mark that the container
# deleted that file of its image. Removing it would bring the image's file back.
: >"$work/found"
if [ "${#uppers[@]}" -gt 0 ]; then
    # Per entry: the layer it was found under, its type, its size in 512-byte blocks (what du
    # counts for a file), its path; NUL-separated, so any byte of a name survives (a tab, a newline).
    find "${uppers[@]}" -xdev -name '.tmp*' ! -type c -prune -printf '%H\0%y\0%b\0%p\0' >"$work/found"
fi
mapfile -d '' -t found <"$work/found"
declare -A bytes_of=() count_of=() entries_of=()
entries=() entry_upper=() entry_bytes=() dir_entries=()
for ((i = 0; i < ${#found[@]}; i += 4)); do
    upper=${found[i]} type=${found[i + 1]} blocks=${found[i + 2]} path=${found[i + 3]}
    [ -n "${name_of[$upper]:-}" ] || die "found $path outside the layers being swept; refusing"
    case "$path" in "$upper"/*) ;; *) die "found $path outside $upper, the layer it was found in; refusing" ;; esac
    [ "$type" != d ] || dir_entries+=("${#entries[@]}")
    entries+=("$path") entry_upper+=("$upper") entry_bytes+=($((blocks * 512)))
done
# A .tmp* folder's size is all that is inside it: du, for the folders only (few, if any).
if [ "${#dir_entries[@]}" -gt 0 ]; then
    for e in "${dir_entries[@]}"; do printf '%s\0' "${entries[e]}"; done >"$work/dirs"
    du -0 -s -x -B1 --files0-from="$work/dirs" >"$work/sizes"
    mapfile -d '' -t sizes <"$work/sizes"
    [ "${#sizes[@]}" -eq "${#dir_entries[@]}" ] || die "du could not size every .tmp* folder (one vanished while reading); run again"
    for k in "${!dir_entries[@]}"; do
        entry_bytes[dir_entries[k]]=${sizes[k]%%$'\t'*}
    done
fi
for e in "${!entries[@]}"; do
    upper=${entry_upper[e]}
    bytes_of[$upper]=$((${bytes_of[$upper]:-0} + entry_bytes[e]))
    count_of[$upper]=$((${count_of[$upper]:-0} + 1))
    entries_of[$upper]+=" $e"
done

# --- changes ---------------------------------------------------------------------------------
still_running() {
    # Asked again right before deleting: a container may have started since the inventory.
    [ -n "$inventory_file" ] && return 1
    [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null || echo gone)" != false ]
}

freed=0 freed_n=0 freed_c=0 kept=0 kept_n=0
for upper in "${uppers[@]}"; do
    n=${count_of[$upper]:-0}
    [ "$n" -gt 0 ] || continue
    name=${name_of[$upper]}
    b=${bytes_of[$upper]}
    if [ "${running_of[$upper]}" = true ]; then
        log "$name: running; found $b bytes in $n .tmp* entries under $upper (left alone)"
        kept=$((kept + b)) kept_n=$((kept_n + n))
        continue
    fi
    if [ "$dry" = true ]; then
        log "$name: stopped; would free $b bytes in $n .tmp* entries under $upper (dry run)"
    else
        if still_running "$name"; then
            log "$name: started since the inventory; found $b bytes in $n .tmp* entries (left alone)"
            kept=$((kept + b)) kept_n=$((kept_n + n))
            continue
        fi
        for e in ${entries_of[$upper]}; do
            path=${entries[$e]}
            case "$path" in "$upper"/*) ;; *) die "refusing to remove $path: not inside $upper" ;; esac
            rm -rf --one-file-system -- "$path"
        done
        log "$name: stopped; freed $b bytes in $n .tmp* entries under $upper"
    fi
    freed=$((freed + b)) freed_n=$((freed_n + n)) freed_c=$((freed_c + 1))
done
verb=freed
[ "$dry" = true ] && verb="would free"
log "total $verb $freed bytes ($freed_n entries, $freed_c stopped containers); running $kept bytes ($kept_n entries) left alone"

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
# Layers are absolute paths; a CDPATH must not send `cd` elsewhere.
unset CDPATH
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

# Which layers to walk, checked before the walk: <data root>/overlay2/<id>/diff with no symlink on
# the way (the data root resolved once, with `cd -P`; then overlay2, <id> and diff must be folders,
# not links). So the path walked is the path checked, with no realpath per layer (a fork each,
# once a third of the sweep's time). A layer that went away since the inventory is skipped.
here=$PWD
cd -P -- "$root" 2>/dev/null || die "cannot enter the Docker data root $root on $host"
real_root=$PWD
cd -- "$here" 2>/dev/null || cd /
[ "$real_root" != / ] || die "Docker data root resolves to /; refusing to sweep the whole disk"
given_root=${root%/}
layers_dir="$real_root/overlay2"
[ ! -L "$layers_dir" ] || die "$layers_dir is a symlink (to $(readlink -- "$layers_dir")); refusing to sweep through it"
uppers=() layers=()
while IFS=$'\t' read -r kind name running upper; do
    [[ $kind == container && $name == "$prefix"* ]] || continue
    case "$upper" in - | "" | "<no value>")
        log "$name: not an overlay2 container; skipped"
        continue
        ;;
    esac
    case "$upper" in
        "$given_root"/overlay2/*/diff) rest=${upper#"$given_root"/overlay2/} ;;
        "$real_root"/overlay2/*/diff) rest=${upper#"$real_root"/overlay2/} ;;
        *) die "$name: UpperDir $upper is not <data root>/overlay2/<id>/diff under $real_root; refusing to sweep it" ;;
    esac
    id=${rest%/diff}
    case "$id" in
        */*) die "$name: UpperDir $upper is nested deeper than <data root>/overlay2/<id>/diff; refusing" ;;
        "" | . | .. | *[$'\t\n']*) die "$name: UpperDir $upper is not <data root>/overlay2/<id>/diff under $real_root; refusing to sweep it" ;;
    esac
    real="$layers_dir/$id/diff"
    if [[ -L $layers_dir/$id || -L $real || ! -d $real ]]; then
        [[ ! -L $layers_dir/$id && ! -L $real ]] ||
            die "$name: UpperDir $upper is not <data root>/overlay2/<id>/diff under $real_root (a symlink on the way); refusing to sweep it"
        log "$name: UpperDir $upper is gone; skipped"
        continue
    fi
    layers+=("$name"$'\t'"$running"$'\t'"$upper"$'\t'"$real")
    uppers+=("$real")
done <"$inventory"
[ "${#layers[@]}" -eq 0 ] || printf '%s\n' "${layers[@]}" >"$work/layers"

# One walk over the writable layers only, never across a mount, never into a .tmp* folder.
# A character device in an upper layer is an overlay whiteout: the mark that the container
# deleted that file of its image. Removing it would bring the image's file back.
# Per entry: its layer (find's starting point: one of ours), type and size in 512-byte blocks
# (what du counts for a file) as a line for awk; its path NUL-separated for bash. The walk only
# reads: an image's layer among them is left out below, before anything changes.
: >"$work/found"
: >"$work/found0"
: >"$work/dirs0"
if [ "${#uppers[@]}" -gt 0 ]; then
    find "${uppers[@]}" -xdev -name '.tmp*' ! -type c -prune \
        -fprintf "$work/found" '%H\t%y\t%b\n' -fprint0 "$work/found0" \( -type d -fprint0 "$work/dirs0" -o -true \)
fi
# A .tmp* folder's size is all that is inside it: du, for the folders only (few, if any).
: >"$work/dirsizes"
if [ -s "$work/dirs0" ]; then
    du -0 -s -x -B1 --files0-from="$work/dirs0" >"$work/du0"
    mapfile -d '' -t sizes <"$work/du0"
    printf '%s\n' "${sizes[@]%%$'\t'*}" >"$work/dirsizes"
fi

# The bookkeeping is awk's (one process, where bash spent most of the sweep's time looping over
# 200 layers and their entries). awk reads only what Docker wrote (the inventory), the layers
# above and numbers; the names found inside the layers (a container writes them: any byte, a
# newline too) are read by bash only, NUL-separated. Per layer with entries it prints a report
# line (running, or a dry run) or writes what to remove (todo: name, layer, bytes, count, entry
# numbers); then the totals so far. Values come through ENVIRON (`awk -v` reads backslashes).
SWEEP_STEP=$SEALBENCH_STEP SWEEP_WORK=$work SWEEP_INVENTORY=$inventory SWEEP_DRY=$dry awk -F '\t' '
    function say(msg) { print ENVIRON["SWEEP_STEP"] ": " msg }
    BEGIN {
        # Byte counts pass 2^31: mawk would print them as 3.43597e+10.
        CONVFMT = OFMT = "%.0f"
        work = ENVIRON["SWEEP_WORK"]
        # Every folder that belongs to an image: never swept, even if a container claimed it.
        while ((getline line < ENVIRON["SWEEP_INVENTORY"]) > 0) {
            split(line, f, "\t")
            if (f[1] != "image") continue
            n = split(f[4], dirs, ":")
            for (i = 1; i <= n; i++) if (dirs[i] != "" && dirs[i] != "<no value>") image[dirs[i]] = 1
        }
        n = 0
        while ((getline line < (work "/layers")) > 0) {
            split(line, f, "\t")
            n++
            name[n] = f[1]; running[n] = f[2]; layer[n] = f[4]; at[f[4]] = n
            if ((f[3] in image) || (f[4] in image)) { skip[n] = 1; say(f[1] ": its UpperDir " f[3] " is also an image layer; skipped") }
        }
        d = 0
        while ((getline line < (work "/dirsizes")) > 0) dirsize[++d] = line
        e = 0; d = 0
        while ((getline line < (work "/found")) > 0) {
            split(line, f, "\t")
            k = at[f[1]]
            if (k == "") { print "found an entry outside the layers being swept: " f[1] > (work "/refusal"); exit 3 }
            size = f[2] == "d" ? dirsize[++d] : f[3] * 512
            if (!(k in skip)) { bytes[k] += size; count[k]++; entries[k] = entries[k] " " e }
            e++
        }
        freed = freed_n = freed_c = kept = kept_n = 0
        for (k = 1; k <= n; k++) {
            if (!count[k]) continue
            where = bytes[k] " bytes in " count[k] " .tmp* entries under " layer[k]
            if (running[k] == "true") { say(name[k] ": running; found " where " (left alone)"); kept += bytes[k]; kept_n += count[k]; continue }
            if (ENVIRON["SWEEP_DRY"] == "true") { say(name[k] ": stopped; would free " where " (dry run)"); freed += bytes[k]; freed_n += count[k]; freed_c++; continue }
            print name[k] "\t" layer[k] "\t" bytes[k] "\t" count[k] "\t" entries[k] > (work "/todo")
        }
        print freed, freed_n, freed_c, kept, kept_n, e > (work "/totals")
    }
' || die "$(cat "$work/refusal" 2>/dev/null || echo "counting the entries failed")"
read -r freed freed_n freed_c kept kept_n found_n <"$work/totals"

# --- changes ---------------------------------------------------------------------------------
still_running() {
    # Asked again right before deleting: a container may have started since the inventory.
    [ -n "$inventory_file" ] && return 1
    [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null || echo gone)" != false ]
}

if [ -s "$work/todo" ]; then
    mapfile -d '' -t entries <"$work/found0"
    [ "${#entries[@]}" -eq "$found_n" ] || die "find listed $found_n entries but ${#entries[@]} paths; refusing"
    while IFS=$'\t' read -r name upper b n numbers; do
        if still_running "$name"; then
            log "$name: started since the inventory; found $b bytes in $n .tmp* entries (left alone)"
            kept=$((kept + b)) kept_n=$((kept_n + n))
            continue
        fi
        for e in $numbers; do
            path=${entries[e]}
            case "$path" in "$upper"/*) ;; *) die "refusing to remove $path: not inside $upper" ;; esac
            rm -rf --one-file-system -- "$path"
        done
        log "$name: stopped; freed $b bytes in $n .tmp* entries under $upper"
        freed=$((freed + b)) freed_n=$((freed_n + n)) freed_c=$((freed_c + 1))
    done <"$work/todo"
fi
verb=freed
[ "$dry" = true ] && verb="would free"
log "total $verb $freed bytes ($freed_n entries, $freed_c stopped containers); running $kept bytes ($kept_n entries) left alone"

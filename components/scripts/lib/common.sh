# shellcheck shell=bash
# Shared helpers of the host scripts. Sourced when a script runs from the checkout (tests);
# inlined by components/host-command.ts when a script is sent to a host, so a host never needs
# the checkout. No `set` here: the including script owns its shell options.

# Error to stderr, prefixed with the step, and stop. Messages say what, where and what was expected.
die() {
    printf '%s: %s\n' "${SEALBENCH_STEP:-sealbench}" "$*" >&2
    exit 1
}

log() {
    printf '%s: %s\n' "${SEALBENCH_STEP:-sealbench}" "$*"
}

# The first argument of every script: create (pulumi up) or delete (pulumi destroy).
action_arg() {
    case "${1:-}" in
        create | delete) printf '%s' "$1" ;;
        *) die "usage: $0 create|delete (got '${1:-}')" ;;
    esac
}

# require_env NAME...: stop before changing anything when an input is missing.
require_env() {
    local name
    for name in "$@"; do
        [ -n "${!name:-}" ] || die "environment variable $name is required"
    done
}

# write_if_changed PATH CONTENT: writes through a temp name and a rename, so a reader never sees
# half a file; leaves the file (and its mtime) alone when the content is already right.
# Prints "changed" or "unchanged".
write_if_changed() {
    local file=$1 content=$2 tmp
    # A file much longer than the content differs from it: never read whole (config.toml is the
    # worker's to write, and could be grown huge).
    if [ -f "$file" ] && [ "$(stat -c %s -- "$file")" -le $((${#content} * 4 + 4096)) ] && [ "$(cat "$file")" = "$content" ]; then
        echo unchanged
        return 0
    fi
    mkdir -p "$(dirname "$file")"
    tmp=$(mktemp "$file.sealbench.XXXXXX")
    printf '%s\n' "$content" >"$tmp"
    if [ -f "$file" ]; then
        chmod --reference="$file" "$tmp"
    else
        chmod 0644 "$tmp"
    fi
    mv -f "$tmp" "$file"
    echo changed
}

# fstab lines that are ours end with this marker and the owner tag (e.g. "dev:mounts").
fstab_marker() {
    printf '# sealbench:%s' "$1"
}

# fstab_set FSTAB TAG LINES: replaces the lines marked with TAG by LINES (each gets the marker);
# other lines, including other tags', stay as they are. Empty LINES removes ours.
fstab_set() {
    local fstab=$1 tag=$2 lines=$3 marker kept new line
    marker=$(fstab_marker "$tag")
    kept=""
    if [ -f "$fstab" ]; then
        # Exact tag at the end of the line: "dev:mounts" must not take "dev:mounts2"'s lines.
        kept=$(grep -v -- " $marker\$" "$fstab" || true)
    fi
    new=$kept
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        new=$(printf '%s\n%s %s' "$new" "$line" "$marker")
    done <<<"$lines"
    # A leading empty line appears when the file was empty.
    new=$(printf '%s\n' "$new" | sed '/./,$!d')
    if [ ! -f "$fstab" ] && [ -z "$lines" ]; then
        echo unchanged
        return 0
    fi
    write_if_changed "$fstab" "$new"
}

# drop_state_dir STATE_FILE: once a delete removed its state file, removes the folder that held
# it when that folder is sealbench's own (/var/lib/sealbench) and nothing else is left in it, so
# destroy leaves the host as it found it. Any other folder is never touched.
drop_state_dir() {
    local dir
    dir=$(dirname -- "$1")
    [ "$(basename -- "$dir")" = sealbench ] || return 0
    rmdir -- "$dir" 2>/dev/null || true
}

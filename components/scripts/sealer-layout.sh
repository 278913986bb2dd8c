#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The /sealer layout the production workers expect: <root>/nfs/<storage-ip>/{cache,sealed} for
# every storage node, <root>/cache and <root>/p3cache (the notes' name for the cache P3 reads),
# the same tree under the NFS export when the host serves another folder, plus each slot's work folder
# and its tmp/, all owned by the worker user with group access (setgid, mode 2775: never 777).
# The notes: P1 failed with `failed to create out dir … /sealer/nfs/10.10.13.22/sealed` because
# /sealer/nfs belonged to root and the worker runs as `fil`.
#
# Everything this script creates or re-owns is written to a state file as it happens; delete
# walks it backwards: folders are removed only when empty (rmdir, never rm -r: sealed sectors
# live there), ownership it changed is put back, the user and group go only if it made them.
#
# The worker user owns the tree, so it may swap any folder in it for a link between two runs;
# every folder is entered with safe_cd (lib/paths.sh) and re-owned as "." — never by name —
# so a planted link is refused, naming it, instead of re-owning what it points at.
#
# Inputs: SEALBENCH_HOST, SEALBENCH_SEALER_ROOT (empty on a host without the production tree,
# `sealer: false`: then only the user and the extra folders), SEALBENCH_SEALER_USER, SEALBENCH_SEALER_GROUP,
# SEALBENCH_CREATE_USER (true|false), SEALBENCH_SEALER_UID/GID (fixed ids, may be empty), SEALBENCH_STORAGE_NODES (space-separated),
# SEALBENCH_EXTRA_DIRS (newline-separated folders to own as well: the slots' work folders),
# SEALBENCH_EXPORT_ROOT (optional: the NFS export, given the same tree),
# SEALBENCH_SEALER_UID / SEALBENCH_SEALER_GID (optional fixed ids: NFS carries numbers, so every
# host of a group must agree; made with them, and a user or group that exists with others is refused),
# SEALBENCH_LAYOUT_STATE (the state file; outside the root so the root itself can be undone).
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-sealer-layout}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline
# shellcheck source=lib/paths.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/paths.sh" # sealbench:inline

action=$(action_arg "${1:-}")
require_env SEALBENCH_HOST SEALBENCH_LAYOUT_STATE
state=$SEALBENCH_LAYOUT_STATE
dir_mode=2775

if [ "$action" = delete ]; then
    [ -f "$state" ] || exit 0
    # Each undo runs in a subshell entered with safe_cd: one that meets a planted link leaves
    # that entry as it is (the message says which) and the others are still undone.
    tac "$state" | while read -r what path extra; do
        case "$what" in
            dir)
                case "$path" in /?*) ;; *) die "state file $state: refusing to remove '$path' (not an absolute path)" ;; esac
                # rmdir never follows a link at its last component, and removes only an empty folder.
                (
                    rc=0
                    safe_cd "${path%/*}" || rc=$?
                    if [ "$rc" = 0 ] && [ -d "${path##*/}" ] && [ ! -L "${path##*/}" ]; then
                        rmdir -- "${path##*/}" 2>/dev/null || log "kept $path: not empty"
                    fi
                    [ "$rc" = 0 ] || [ "$rc" = 3 ]
                ) || log "left $path as it is"
                ;;
            owner)
                (
                    rc=0
                    safe_cd "$path" || rc=$?
                    if [ "$rc" = 0 ]; then
                        # Five digits: GNU chmod keeps a folder's setgid bit unless told otherwise.
                        chown -- "${extra% *}" . && chmod -- "$(printf '0%04d' "${extra#* }")" .
                    else
                        [ "$rc" = 3 ]
                    fi
                ) || log "left the owner and mode of $path as they are"
                ;;
            user) if getent passwd "$path" >/dev/null; then userdel "$path"; fi ;;
            group) if getent group "$path" >/dev/null; then groupdel "$path"; fi ;;
            *) die "state file $state: unknown entry '$what'" ;;
        esac
    done
    rm -f -- "$state"
    drop_state_dir "$state"
    exit 0
fi

require_env SEALBENCH_SEALER_USER SEALBENCH_SEALER_GROUP
root=${SEALBENCH_SEALER_ROOT:-}
root=${root%/}
user=$SEALBENCH_SEALER_USER
group=$SEALBENCH_SEALER_GROUP
create_user=${SEALBENCH_CREATE_USER:-false}

# --- checks, before anything changes -------------------------------------------------------
dirs=()
# tree ROOT: the production tree under ROOT (the sealer root, or the folder a server exports).
tree() {
    local top=${1%/} node
    case "$top" in /?*) ;; *) die "tree root '$1' must be an absolute path other than /" ;; esac
    dirs+=("$top" "$top/nfs" "$top/cache" "$top/p3cache")
    for node in ${SEALBENCH_STORAGE_NODES:-}; do
        case "$node" in *[!A-Za-z0-9.:-]*) die "storage node '$node' is not an IP address or host name" ;; esac
        dirs+=("$top/nfs/$node" "$top/nfs/$node/cache" "$top/nfs/$node/sealed")
    done
}
[ -z "${SEALBENCH_SEALER_ROOT:-}" ] || tree "$root"
export_root=${SEALBENCH_EXPORT_ROOT:-}
export_root=${export_root%/}
[ -z "$export_root" ] || [ "$export_root" = "$root" ] || tree "$export_root"
want_uid=${SEALBENCH_SEALER_UID:-} want_gid=${SEALBENCH_SEALER_GID:-}
case "$want_uid$want_gid" in *[!0-9]*) die "uid '$want_uid' and gid '$want_gid' must be numbers" ;; esac
if [ -n "$want_gid" ] && getent group "$group" >/dev/null; then
    have=$(getent group "$group" | cut -d: -f3)
    [ "$have" = "$want_gid" ] || die "group $group has gid $have on host $SEALBENCH_HOST, but the stack says user.gid: $want_gid; NFS members write with numeric ids, so every host must agree. Change the group's gid or user.gid"
fi
if [ -n "$want_uid" ] && getent passwd "$user" >/dev/null; then
    have=$(id -u "$user")
    [ "$have" = "$want_uid" ] || die "user $user has uid $have on host $SEALBENCH_HOST, but the stack says user.uid: $want_uid; NFS members write with numeric ids, so every host must agree. Change the user's uid or user.uid"
fi
while IFS= read -r extra; do
    [ -n "$extra" ] || continue
    case "$extra" in /?*) dirs+=("${extra%/}") ;; *) die "extra folder '$extra' must be an absolute path" ;; esac
done <<<"${SEALBENCH_EXTRA_DIRS:-}"
if [ "$create_user" != true ]; then
    getent group "$group" >/dev/null || die "group $group does not exist on host $SEALBENCH_HOST; create it or set user.createUser: true"
    getent passwd "$user" >/dev/null || die "user $user does not exist on host $SEALBENCH_HOST; create it or set user.createUser: true"
fi

# --- changes -------------------------------------------------------------------------------
mkdir -p "$(dirname "$state")"
[ -e "$state" ] || : >"$state"
changes=0
record() {
    printf '%s\n' "$*" >>"$state"
    changes=$((changes + 1))
}

if ! getent group "$group" >/dev/null; then
    # A fixed id is the group's choice, not the system range's (useradd warns about it under --system).
    if [ -n "$want_gid" ]; then groupadd --gid "$want_gid" "$group"; else groupadd --system "$group"; fi
    record group "$group"
    log "created group $group"
fi
if ! getent passwd "$user" >/dev/null; then
    kind=(--system)
    [ -z "$want_uid" ] || kind=(--uid "$want_uid")
    useradd "${kind[@]}" --gid "$group" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
    record user "$user"
    log "created user $user"
fi
uid=$(id -u "$user")
gid=$(getent group "$group" | cut -d: -f3)

# Folders are made one level at a time inside folders entered safely (safe_mkdir), so each one
# made here is recorded (and undone) on its own; owner and mode are set on "." once entered.
for d in "${dirs[@]}"; do
    safe_mkdir "$d"
    for made in "${SAFE_MADE[@]}"; do record dir "$made"; done
    read -r have_uid have_gid have_mode < <(stat -c '%u %g %a' .)
    if [ "$have_uid:$have_gid" != "$uid:$gid" ] || [ "$have_mode" != "$dir_mode" ]; then
        # Remember what a folder we did not make looked like, once, so delete can put it back.
        if ! grep -qxF -- "dir $d" "$state" && ! grep -qF -- "owner $d " "$state"; then
            record owner "$d" "$have_uid:$have_gid" "$have_mode"
        fi
        chown "$uid:$gid" .
        chmod "$dir_mode" .
        changes=$((changes + 1))
    fi
    cd /
done
log "layout under ${root:-(no sealer root)} for $user:$group (mode $dir_mode): ${#dirs[@]} folders, $changes change(s)"

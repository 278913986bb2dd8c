# shellcheck shell=bash
# Root never creates, chowns, chmods, truncates or deletes through a path component that a less
# privileged user can write. A worker user owns the sealer tree and the slot folders: in there it
# can swap any folder for a symbolic link (to /etc, say) between two steps of a script, and a
# `chown fil /sealer/cache` would then re-own /etc. So:
# - in such trees a script enters a folder with safe_cd (or makes it with safe_mkdir), one
#   component at a time, and acts on "." or on names inside it: the kernel resolves "." to the
#   folder entered, whatever is renamed or replaced meanwhile;
# - a path that root or systemd opens again later by name (a mount point, the worker's log and
#   config folders) must be root's alone all the way: fixed_dir and private_dir refuse it
#   otherwise, naming the folder and the fix.
#
# Trusted are root and the user running the script; everyone else is "another user" below.
# Sourced (tests) or inlined (hosts) after lib/common.sh, which gives die.

# trusted_uid UID: root or the user running this.
trusted_uid() {
    [ "$1" = 0 ] || [ "$1" = "$EUID" ]
}

# writers_of DIR: who besides root may change DIR's entries, for messages; empty when nobody.
writers_of() {
    local uid mode name
    read -r uid mode < <(stat -L -c '%u %a' -- "$1")
    if ! trusted_uid "$uid"; then
        name=$(getent passwd "$uid" | cut -d: -f1 || true)
        printf 'uid %s%s owns it' "$uid" "${name:+ ($name)}"
    elif [ $((8#$mode & 8#022)) -ne 0 ]; then
        printf 'its mode %s lets group or others write it' "$mode"
    fi
}

# shared_entry DIR_UID DIR_MODE NAME_UID: another user may put something else at an entry of a
# folder with that owner and mode (a link, a folder of theirs): the folder is theirs, or they
# may write it, unless it is sticky and the entry exists and is trusted (then only its owner,
# the folder's owner or root may rename or remove it: /tmp, /var/tmp). NAME_UID is empty for
# an entry that does not exist yet (anyone who may write the folder may make it first).
shared_entry() {
    trusted_uid "$1" || return 0
    [ $((8#$2 & 8#022)) -ne 0 ] || return 1
    [ $((8#$2 & 8#1000)) -ne 0 ] || return 0
    [ -n "$3" ] || return 0
    ! trusted_uid "$3"
}

# safe_cd DIR: cd into the absolute folder DIR without following a link another user could have
# planted. Where such a user may replace a component, it must be a real folder, and the folder
# entered must be the one looked at (device and inode), so a swap between the look and the
# step is caught. Links only trusted users could have made (an admin's /sealer -> /data/sealer)
# are followed. Returns 3, with SAFE_MISSING the first missing component and the working folder
# its parent, when a component does not exist; dies on a link, a non-folder or a swap.
# Two stats per component: the entry before the step, the folder after it.
safe_cd() {
    local target=$1 rest comp here="" seen id kind owner dir_id dir_uid dir_mode
    case "$target" in /*) ;; *) die "safe_cd: '$target' is not an absolute path" ;; esac
    SAFE_MISSING=""
    cd / || die "cannot enter /"
    read -r dir_id dir_uid dir_mode < <(stat -c '%d:%i %u %a' .)
    rest=${target#/}
    while [ -n "$rest" ]; do
        comp=${rest%%/*}
        if [ "$comp" = "$rest" ]; then rest=""; else rest=${rest#*/}; fi
        case "$comp" in
            "" | .) continue ;;
            ..) die "$target: a path with .. is not followed (expected a plain absolute path)" ;;
        esac
        if ! seen=$(stat -c '%d:%i %u %F' -- "$comp" 2>/dev/null); then
            SAFE_MISSING=$here/$comp
            return 3
        fi
        read -r id owner kind <<<"$seen"
        if shared_entry "$dir_uid" "$dir_mode" "$owner"; then
            case "$kind" in
                directory) ;;
                "symbolic link") die "$here/$comp is a symbolic link in ${here:-/}, which another user may change ($(writers_of .)): root does not follow it (it could point at /etc). Make it a real folder (rm '$here/$comp' && mkdir '$here/$comp') and run again" ;;
                *) die "$here/$comp is a $kind, not a folder; expected a folder there (move it away and run again)" ;;
            esac
            cd -P -- "$comp" 2>/dev/null || die "cannot enter $here/$comp"
            read -r dir_id dir_uid dir_mode < <(stat -c '%d:%i %u %a' .)
            [ "$dir_id" = "$id" ] || die "$here/$comp was replaced while this step entered it (another user is changing ${here:-/}); run again"
        else
            if [ "$kind" = "symbolic link" ] && ! trusted_uid "$owner"; then
                die "$here/$comp is a symbolic link of uid $owner's (made while ${here:-/} was open to it, or by hand): root does not follow it. Remove it (rm '$here/$comp') and run again"
            fi
            cd -P -- "$comp" 2>/dev/null || die "$here/$comp is a $kind, not a folder; expected a folder there"
            read -r dir_id dir_uid dir_mode < <(stat -c '%d:%i %u %a' .)
        fi
        here=$here/$comp
    done
}

# safe_mkdir DIR [MODE]: DIR exists as a real folder and the working folder is DIR. Missing
# components are made by root one by one, with MODE (default 0755), each inside a folder
# entered by safe_cd; SAFE_MADE lists the folders made (the layout records them to undo).
safe_mkdir() {
    local dir=${1%/} mode=${2:-0755} rc
    SAFE_MADE=()
    while :; do
        rc=0
        safe_cd "$dir" || rc=$?
        [ "$rc" = 3 ] || break
        mkdir -m "$mode" -- "${SAFE_MISSING##*/}" || die "cannot make $SAFE_MISSING"
        SAFE_MADE+=("$SAFE_MISSING")
    done
    [ "$rc" = 0 ] || die "cannot enter $dir"
}

# fixed_dir DIR WHAT [create|check]: enters DIR through a path nobody else may change: every
# component is one no other user may replace, and so is every component of a link's target
# (systemd, mount and others open the path again later, by name, following links). With
# "create", missing components are made (root, 0755) where no other user may write; "check"
# only looks (before anything changes), up to the first missing one. Dies naming the path and
# the fix; WHAT names DIR in messages ("mount point", "worker.dir").
fixed_dir() {
    local dir=$1 what=$2 create=${3:-} rest name here="" seen id owner kind dir_uid dir_mode target hops=0
    case "$dir" in /*) ;; *) die "$what '$dir' is not an absolute path" ;; esac
    cd / || die "cannot enter /"
    read -r dir_uid dir_mode < <(stat -c '%u %a' .)
    rest=${dir#/}
    while [ -n "$rest" ]; do
        name=${rest%%/*}
        if [ "$name" = "$rest" ]; then rest=""; else rest=${rest#*/}; fi
        case "$name" in
            "" | .) continue ;;
            ..) die "$what $dir: a path with .. is not followed (expected a plain absolute path)" ;;
        esac
        seen=$(stat -c '%d:%i %u %F' -- "$name" 2>/dev/null) || seen=""
        read -r id owner kind <<<"$seen"
        if shared_entry "$dir_uid" "$dir_mode" "${owner:-}"; then
            if [ -n "$seen" ] && ! trusted_uid "$owner" && trusted_uid "$dir_uid" && [ $((8#$dir_mode & 8#1000)) -ne 0 ]; then
                die "$what $dir: $here/$name belongs to uid $owner, not to root or this user, in ${here:-/}, where anyone may make a name first (to catch what root writes there). Remove it (rm -rf '$here/$name') and run again"
            fi
            die "$what $dir: ${here:-/} may be changed by another user ($(writers_of .)), and root reaches $here/$name through it by name. Keep the path root's: chown root:root '${here:-/}' && chmod go-w '${here:-/}' (or use a folder of root's)"
        fi
        if [ -z "$seen" ]; then
            [ "$create" != check ] || return 0
            [ "$create" = create ] || die "$what $here/$name does not exist"
            mkdir -m 0755 -- "$name" || die "cannot make $here/$name"
        elif [ "$kind" = "symbolic link" ]; then
            trusted_uid "$owner" || die "$what $dir: $here/$name is a symbolic link of uid $owner's (made while ${here:-/} was open to it, or by hand): root does not follow it. Remove it (rm '$here/$name') and run again"
            # A trusted link (an admin's): walk its target the same way, from the start.
            hops=$((hops + 1))
            [ "$hops" -le 40 ] || die "$what $dir: too many levels of links"
            target=$(readlink -- "$name") || die "$what $dir: cannot read the link $here/$name"
            case "$target" in /*) ;; *) target=$here/$target ;; esac
            rest=${target#/}${rest:+/$rest}
            here=""
            cd / || die "cannot enter /"
            read -r dir_uid dir_mode < <(stat -c '%u %a' .)
            continue
        elif [ "$kind" != directory ]; then
            die "$what $dir: $here/$name is a $kind, not a folder"
        fi
        cd -P -- "$name" 2>/dev/null || die "$what $dir: cannot enter $here/$name"
        read -r dir_uid dir_mode < <(stat -c '%u %a' .)
        here=$here/$name
    done
}

# private_dir DIR WHAT [create]: fixed_dir, and DIR itself is a trusted user's and writable by no
# one else: for folders root writes files into by name (the worker's config.toml) or that
# systemd opens as root (the worker's log). Made 0755 when missing and asked to.
private_dir() {
    local uid mode
    fixed_dir "$@"
    read -r uid mode < <(stat -c '%u %a' .)
    if ! trusted_uid "$uid" || [ $((8#$mode & 8#022)) -ne 0 ]; then
        die "$2 $1 belongs to uid $uid with mode $mode: another user could plant links in it, and root writes there by name. Fix: chown root:root '$1' && chmod 0755 '$1'"
    fi
}

#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Proof parameters: the folder on the big disk, the well-known path (/var/tmp/...) a symlink to
# it, and the files the host's p34 slots need fetched and verified.
#
# The link: an empty folder at the link path is replaced; a folder with files is never clobbered:
# its files are moved into the parameter folder when no name clashes (a clash with other content
# stops the step, naming the files); a correct symlink is left alone; a symlink elsewhere stops
# the step. delete removes the symlink only when this step made it, never a parameter file.
#
# The fetch runs detached (systemd-run, else setsid nohup), because a 45 GB download outlives SSH
# sessions (the notes: a foreground copy died with the session at 90 %). This step starts it and
# follows its log until its status says done or failed; a new `up` while it runs re-attaches
# (flock) instead of starting over. Every file is resumed with HTTP Range, hashed while it is
# written, renamed from .part only when its digest matches, and marked verified (size, mtime,
# digest) so the next run reads nothing. A big file comes over several connections at once, one
# byte range each (a public gateway serves each connection slowly), each range resumed on its own
# after a kill; the digest still reads the bytes in order, once, as the ranges come in.
#
# Inputs: SEALBENCH_HOST, SEALBENCH_PARAMS_FOLDER, SEALBENCH_PARAMS_LINK, SEALBENCH_PARAMS_GATEWAY
# (URL prefix, the CID is appended), SEALBENCH_PARAMS_FILES (one "name cid digest" line per file),
# SEALBENCH_PARAMS_UNIT (systemd unit name), SEALBENCH_PARAMS_CONNECTIONS (byte ranges fetched at
# once per file, 4; 1: one stream), and for tests and odd hosts SEALBENCH_PARAMS_DETACH
# (auto|systemd|setsid), SEALBENCH_PARAMS_RETRIES (attempts without progress, 5),
# SEALBENCH_PARAMS_RETRY_DELAY (seconds, 2, doubling), SEALBENCH_PARAMS_PROGRESS_SECONDS (5),
# SEALBENCH_PARAMS_FOLLOW (auto|tail|python: how the digest follows the download),
# SEALBENCH_PARAMS_MIN_RANGE (bytes: the smallest range worth a connection, 16 MiB).
# State (markers, log, status, lock, pid) lives in <folder>/.sealbench.
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-parameters}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline
# shellcheck source=lib/fetch-params.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/fetch-params.sh" # sealbench:inline

action=$(action_arg "${1:-}")
require_env SEALBENCH_HOST SEALBENCH_PARAMS_FOLDER SEALBENCH_PARAMS_LINK
params_folder=${SEALBENCH_PARAMS_FOLDER%/}
link=${SEALBENCH_PARAMS_LINK%/}
params_gateway=${SEALBENCH_PARAMS_GATEWAY:-https://proofs.filecoin.io/ipfs/}
files=${SEALBENCH_PARAMS_FILES:-}
unit=${SEALBENCH_PARAMS_UNIT:-sealbench-params-$SEALBENCH_HOST}
detach=${SEALBENCH_PARAMS_DETACH:-auto}
params_retries=${SEALBENCH_PARAMS_RETRIES:-5}
params_retry_delay=${SEALBENCH_PARAMS_RETRY_DELAY:-2}
params_progress_seconds=${SEALBENCH_PARAMS_PROGRESS_SECONDS:-5}
params_follow=${SEALBENCH_PARAMS_FOLLOW:-auto}
params_connections=${SEALBENCH_PARAMS_CONNECTIONS:-4}
params_min_range=${SEALBENCH_PARAMS_MIN_RANGE:-16777216}
params_state="$params_folder/.sealbench"
log_file="$params_state/fetch.log"
status_file="$params_state/status"
lock_file="$params_state/fetch.lock"
worker_file="$params_state/fetch-worker.sh"
link_record="$params_state/link"

# --- inputs, checked before anything changes ------------------------------------------------
for pair in "SEALBENCH_PARAMS_FOLDER=$params_folder" "SEALBENCH_PARAMS_LINK=$link"; do
    case "${pair#*=}" in
        /?*) ;;
        *) die "${pair%%=*} '${pair#*=}' must be an absolute path like /mnt/storage/filecoin-proof-parameters (not /)" ;;
    esac
done
case "$link/" in "$params_folder"/*) die "SEALBENCH_PARAMS_LINK $link must not be inside the parameter folder $params_folder" ;; esac
case "$params_folder/" in "$link"/*) die "SEALBENCH_PARAMS_FOLDER $params_folder must not be the link $link or inside it" ;; esac
for pair in "SEALBENCH_PARAMS_RETRIES=$params_retries" "SEALBENCH_PARAMS_RETRY_DELAY=$params_retry_delay"; do
    [[ ${pair#*=} =~ ^[0-9]+$ ]] || die "${pair%%=*} '${pair#*=}' must be a whole number"
done
[[ $params_connections =~ ^([1-9]|1[0-6])$ ]] || die "SEALBENCH_PARAMS_CONNECTIONS '$params_connections' must be a whole number from 1 to 16"
[[ $params_min_range =~ ^[1-9][0-9]*$ ]] || die "SEALBENCH_PARAMS_MIN_RANGE '$params_min_range' must be a number of bytes"
[[ $params_progress_seconds =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SEALBENCH_PARAMS_PROGRESS_SECONDS '$params_progress_seconds' must be a number of seconds"
[[ $params_gateway =~ ^https?://[^[:space:]]+$ ]] || die "SEALBENCH_PARAMS_GATEWAY '$params_gateway' must be an http(s) URL prefix like https://proofs.filecoin.io/ipfs/"
[[ $unit =~ ^[A-Za-z0-9:_.@-]+$ ]] || die "SEALBENCH_PARAMS_UNIT '$unit' is not a systemd unit name"
case "$detach" in auto | systemd | setsid) ;; *) die "SEALBENCH_PARAMS_DETACH '$detach' must be auto, systemd or setsid" ;; esac
case "$params_follow" in auto | tail | python) ;; *) die "SEALBENCH_PARAMS_FOLLOW '$params_follow' must be auto, tail or python" ;; esac
file_count=0
while read -r name cid digest extra; do
    [ -n "$name" ] || continue
    [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ && $name != *.part ]] || die "SEALBENCH_PARAMS_FILES: '$name' is not a parameter file name (letters, digits, . _ -)"
    [[ $cid =~ ^[A-Za-z0-9]+$ ]] || die "SEALBENCH_PARAMS_FILES: $name has CID '$cid'; expected letters and digits like Qmf8ngfArxrv9tFWDqBcNegdBMymvuakwyHKd1pbW3pbsb"
    [[ $digest =~ ^[0-9a-f]{32}$ ]] || die "SEALBENCH_PARAMS_FILES: $name has digest '$digest'; expected 32 lowercase hex characters"
    [ -z "$extra" ] || die "SEALBENCH_PARAMS_FILES: the line for $name has more than name, cid and digest"
    file_count=$((file_count + 1))
done <<<"$files"

# --- status and worker ----------------------------------------------------------------------

# set_status STATE RUN [MESSAGE]: one line, replaced atomically; the step polls it.
set_status() {
    local tmp="$status_file.tmp.$$"
    if { printf '%s %s %s\n' "$1" "$2" "${3:-}" >"$tmp"; } 2>/dev/null && mv -f "$tmp" "$status_file"; then
        return 0
    fi
    # A full disk has no block for a new file: rewrite the status in place, so the step still
    # learns how the fetch ended (and no status.tmp.* is left behind).
    rm -f "$tmp"
    printf '%s %s %s\n' "$1" "$2" "${3:-}" >"$status_file"
}

# Sets st_state, st_run, st_msg from the status file.
read_status() {
    st_state="" st_run="" st_msg=""
    if [ -f "$status_file" ]; then
        read -r st_state st_run st_msg <"$status_file" || true
    fi
}

worker_running() {
    ! flock -n "$lock_file" true
}

# A worker writes its final status and then exits, releasing the lock: give it that moment, so
# a run that follows at once does not take a finished fetch for a running one.
settle_worker() {
    read_status
    case "$st_state" in "done" | failed) ;; *) return 0 ;; esac
    for _ in $(seq 1 50); do
        worker_running || return 0
        sleep 0.1
    done
}

# The detached fetch: holds the lock while it runs, writes the log and the final status.
worker_main() {
    local name cid digest failed=0
    exec >>"$log_file" 2>&1 </dev/null
    exec 9>"$lock_file"
    if ! flock -n 9; then
        params_say "another fetch holds $lock_file; this one (run $run) leaves it alone"
        exit 0
    fi
    printf '%s\n' "$$" >"$params_state/pid"
    set_status running "$run"
    # Off the parameter disk, so a full disk does not swallow curl's message and the errors list.
    params_scratch=$(mktemp -d "${TMPDIR:-/tmp}/sealbench-params.XXXXXX" 2>/dev/null) || params_scratch="$params_state"
    trap 'set_status failed "$run" "stopped by a signal"; trap - TERM INT HUP; kill -TERM 0; exit 143' TERM INT HUP
    rm -f "$params_scratch/errors"
    params_say "fetching $(printf '%s\n' "$files" | grep -c .) file(s) into $params_folder from $params_gateway (run $run, pid $$)"
    while read -r name cid digest; do
        [ -n "$name" ] || continue
        # In the background so that `set -e` holds inside it (it is off in a condition).
        params_fetch_one "$name" "$cid" "$digest" </dev/null &
        wait "$!" || failed=$((failed + 1))
    done <<<"$files"
    # Removed here, not in an EXIT trap: bash runs that in every background fetch as it exits.
    if [ "$failed" -gt 0 ]; then
        set_status failed "$run" "$(tr '\n' ' ' <"$params_scratch/errors" 2>/dev/null || echo "$failed file(s) failed; see the log")"
        drop_scratch
        exit 1
    fi
    set_status "done" "$run"
    drop_scratch
}

drop_scratch() {
    [ "$params_scratch" = "$params_state" ] || rm -rf -- "$params_scratch"
}

write_worker() {
    local tmp="$worker_file.tmp.$$"
    {
        printf '#!/usr/bin/env bash\n# Written by sealbench parameters.sh; run detached, it fetches and verifies the files.\nset -euo pipefail\n'
        declare -p SEALBENCH_STEP params_folder params_gateway params_state params_retries params_retry_delay params_progress_seconds params_follow
        declare -p params_connections params_min_range
        declare -p files run log_file status_file lock_file
        declare -f
        printf 'worker_main\n'
    } >"$tmp"
    mv -f "$tmp" "$worker_file"
}

start_worker() {
    local how=$detach
    if [ "$how" = auto ]; then
        how=setsid
        [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 && how=systemd
    fi
    if [ "$how" = systemd ]; then
        # A failed run of the same unit would block the name.
        systemctl reset-failed "$unit" >/dev/null 2>&1 || true
        systemd-run --unit="$unit" --description="sealbench proof parameters fetch" bash "$worker_file" >/dev/null 2>&1 ||
            die "systemd-run could not start unit $unit (see journalctl -u $unit)"
        log "fetch started as systemd unit $unit; following $log_file"
    else
        # No fd of this step may stay open in the worker: the caller waits for them to close.
        setsid nohup bash "$worker_file" </dev/null >/dev/null 2>&1 8>&- 9>&- &
        log "fetch started detached (setsid, pid $!); following $log_file"
    fi
}

# follow RUN OFFSET: prints the log from OFFSET as it grows until the run's status is final.
follow() {
    local run=$1 off=$2 size
    drain() {
        size=$(stat -c %s "$log_file" 2>/dev/null || echo 0)
        [ "$size" -ge "$off" ] || off=0
        if [ "$size" -gt "$off" ]; then
            tail -c +"$((off + 1))" "$log_file" | head -c "$((size - off))"
            off=$size
        fi
    }
    while :; do
        drain
        read_status
        if [ "$st_run" = "$run" ] && { [ "$st_state" = "done" ] || [ "$st_state" = failed ]; }; then
            drain
            [ "$st_state" = "done" ] || die "fetching proof parameters failed: $st_msg(log: $log_file)"
            return 0
        fi
        if ! worker_running; then
            sleep 0.3
            read_status
            if [ "$st_run" != "$run" ] || { [ "$st_state" != "done" ] && [ "$st_state" != failed ]; }; then
                drain
                die "the fetch (run $run) ended without a final status ($st_state); see $log_file. Run up again to resume."
            fi
            continue
        fi
        sleep 0.1
    done
}

# --- the link ---------------------------------------------------------------------------------

points_to_folder() {
    [ -L "$link" ] && [ "$(readlink -m "$link")" = "$(readlink -m "$params_folder")" ]
}

# owned_safely PATH: owned by the user running the step and writable by nobody else. /var/tmp
# is world-writable: a folder someone else made at the link path, or one anyone may write to,
# could hold (or be given, mid-run) symlinks to files of root's.
owned_safely() {
    [ "$(stat -c %u "$1")" = "$(id -u)" ] && [ -z "$(find "$1" -maxdepth 0 -perm /022 -print)" ]
}

# Decides what to do with the link path, or stops before anything changed.
inspect_link() {
    local entry name target clashes="" odd=""
    link_action=""
    if [ -L "$params_folder" ]; then
        die "the parameter folder $params_folder is a symlink (to $(readlink "$params_folder")); set parameters.folder to a real folder"
    fi
    if [ -d "$params_folder" ] && ! owned_safely "$params_folder"; then
        die "the parameter folder $params_folder is owned by uid $(stat -c %u "$params_folder") or writable by group or others (mode $(stat -c %a "$params_folder")); the fetch writes there as uid $(id -u): chown and chmod go-w it, then run again"
    fi
    if [ -L "$link" ]; then
        points_to_folder && link_action=ok && return 0
        die "$link is a symlink to $(readlink "$link"), not to the parameter folder $params_folder; remove it, or set parameters.folder to its target"
    elif [ -d "$link" ]; then
        owned_safely "$link" ||
            die "$link is a folder owned by uid $(stat -c %u "$link") or writable by group or others (mode $(stat -c %a "$link")); its files cannot be trusted, so nothing was moved. Check what is in it, remove it, then run again"
        if [ -z "$(find "$link" -mindepth 1 -maxdepth 1 ! -name .sealbench -print -quit)" ]; then
            link_action=replace
            return 0
        fi
        while IFS= read -r -d '' entry; do
            name=${entry##*/}
            # This step's own state, from when the link path was the parameter folder: not adopted.
            [ "$name" = .sealbench ] && [ -d "$entry" ] && [ ! -L "$entry" ] && continue
            # Only regular files are adopted: a symlink would be written through, a folder merged blind.
            if [ -L "$entry" ] || [ ! -f "$entry" ]; then
                odd="$odd $name"
                continue
            fi
            target="$params_folder/$name"
            if [ -e "$target" ] || [ -L "$target" ]; then
                [ -f "$entry" ] && [ -f "$target" ] && cmp -s "$entry" "$target" && continue
                clashes="$clashes $name"
            fi
        done < <(find "$link" -mindepth 1 -maxdepth 1 -print0)
        [ -z "$odd" ] || die "$link is a folder holding$odd, which are not regular files (symlinks, folders or devices); nothing was moved. Move them away, then run again."
        [ -z "$clashes" ] || die "$link is a folder with files, and$clashes also exist in $params_folder with other content; nothing was moved. Keep one copy of each, then run again."
        link_action=adopt
    elif [ -e "$link" ]; then
        die "$link exists and is neither a folder nor a symlink; expected nothing there, an empty folder, or a symlink to $params_folder"
    else
        link_action=create
    fi
}

# The old link folder's .sealbench (markers, logs of a parameter folder it once was): its markers
# describe files by size and mtime in another place, so it is dropped, not adopted.
drop_old_state() {
    if [ -d "$link/.sealbench" ] && [ ! -L "$link/.sealbench" ]; then
        rm -rf --one-file-system -- "$link/.sealbench"
        log "dropped $link/.sealbench (the state of an older parameter folder)"
    fi
}

# adopt_partial FILE PART: FILE becomes PART unless PART already holds more bytes.
adopt_partial() {
    local entry=$1 part=$2 name=${1##*/}
    if [ -L "$part" ]; then
        rm -f -- "$part"
    fi
    if [ -f "$part" ] && [ "$(stat -c %s "$part")" -ge "$(stat -c %s "$entry")" ]; then
        rm -f -- "$entry"
        log "$name: dropped the copy in $link; the $name.part in $params_folder is as long or longer"
    else
        mv -f -- "$entry" "$part"
        log "$name: moved from $link to $params_folder (as $name.part until verified)"
    fi
}

is_needed() {
    local name cid digest
    while read -r name cid digest; do
        [ "$name" = "$1" ] && return 0
    done <<<"$files"
    return 1
}

make_link() {
    local entry name tmp
    case "$link_action" in
        ok) log "$link already links to $params_folder" && return 0 ;;
        replace)
            drop_old_state
            rmdir "$link" && log "replaced the empty folder $link"
            ;;
        adopt)
            drop_old_state
            while IFS= read -r -d '' entry; do
                name=${entry##*/}
                if [ -e "$params_folder/$name" ] || [ -L "$params_folder/$name" ]; then
                    # Same content as the copy already in the folder (checked by inspect_link).
                    rm -f "$entry"
                    log "$name: already in $params_folder with the same content; dropped the copy in $link"
                elif is_needed "$name"; then
                    # Not trusted until its digest matches: it arrives as a .part the fetch checks,
                    # never at the final name. Of two partial copies the longer one is kept.
                    adopt_partial "$entry" "$params_folder/$name.part"
                else
                    mv -n "$entry" "$params_folder/"
                    log "$name: moved from $link to $params_folder"
                fi
            done < <(find "$link" -mindepth 1 -maxdepth 1 -type f -print0)
            rmdir "$link"
            ;;
    esac
    mkdir -p "$(dirname "$link")"
    tmp="$link.sealbench.$$"
    ln -s "$params_folder" "$tmp"
    mv -T "$tmp" "$link"
    write_if_changed "$link_record" "$link" >/dev/null
    log "$link -> $params_folder"
}

# --- delete -----------------------------------------------------------------------------------

stop_worker() {
    local pid
    worker_running || return 0
    if [ -d /run/systemd/system ] && systemctl is-active --quiet "$unit" 2>/dev/null; then
        systemctl stop "$unit" || true
    fi
    pid=$(cat "$params_state/pid" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && grep -qF "$worker_file" "/proc/$pid/cmdline" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    fi
    for _ in $(seq 1 50); do
        worker_running || break
        sleep 0.2
    done
    worker_running && die "the fetch (pid ${pid:-unknown}) still holds $lock_file after 10 s; stop it, then run destroy again"
    log "stopped the running fetch; its .part files stay for the next up"
}

if [ "$action" = delete ]; then
    was_running=false
    if [ -d "$params_state" ] && worker_running; then
        was_running=true
        stop_worker
    fi
    if [ -f "$link_record" ] && [ "$(cat "$link_record")" = "$link" ] && points_to_folder; then
        rm -f "$link"
        log "removed the symlink $link (the files stay in $params_folder)"
    elif [ -L "$link" ] || [ -e "$link" ]; then
        log "left $link alone: this step did not make it"
    fi
    rm -f "$link_record"
    # The fetch's bookkeeping goes with the step; the verified markers stay beside the files they
    # vouch for (the next up then reads nothing), and so does any .part for a later resume. A fetch
    # stopped just now keeps its status and log: an `up` still following it learns how it ended.
    if [ -d "$params_state" ] && [ "$was_running" = false ]; then
        rm -f -- "$lock_file" "$params_state/launch.lock" "$params_state/pid" "$status_file" "$log_file" "$worker_file" "$params_state/headers"
        rmdir -- "$params_state" 2>/dev/null || true
    fi
    exit 0
fi

# --- create -----------------------------------------------------------------------------------

if [ "$file_count" -gt 0 ]; then
    for tool in curl flock setsid tail stat dd; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed on $SEALBENCH_HOST; it is needed to fetch proof parameters"
    done
    params_hasher_available || die "no BLAKE2b on $SEALBENCH_HOST: install coreutils ≥ 8.26 (b2sum) or python3"
fi
inspect_link
mkdir -p "$params_folder" "$params_state"
make_link

if [ "$file_count" -eq 0 ]; then
    log "no parameter files needed on $SEALBENCH_HOST (no p34 slot)"
    exit 0
fi

all_verified() {
    local name cid digest
    while read -r name cid digest; do
        [ -n "$name" ] || continue
        params_marker_ok "$name" "$digest" || return 1
    done <<<"$files"
}

# Everything verified and nothing running: done without starting anything.
settle_worker
if ! worker_running && all_verified; then
    while read -r name cid digest; do
        [ -n "$name" ] && params_say "$name: verified (marker)"
    done <<<"$files"
    log "$file_count parameter file(s) verified in $params_folder"
    exit 0
fi

while :; do
    # One launcher at a time decides between starting a fetch and re-attaching to the running one.
    exec 8>"$params_state/launch.lock"
    flock 8
    settle_worker
    attached=0
    if worker_running; then
        attached=1
        read_status
        run=$st_run
        log "a fetch is already running (pid $(cat "$params_state/pid" 2>/dev/null || echo unknown), run $run): re-attaching to $log_file"
        offset=$(stat -c %s "$log_file" 2>/dev/null || echo 0)
        tail -n 3 "$log_file" 2>/dev/null || true
    else
        run="$(date +%s)-$$"
        write_worker
        [ -f "$log_file" ] && mv -f "$log_file" "$log_file.1"
        : >"$log_file"
        offset=0
        set_status starting "$run"
        start_worker
        # Hold the launch lock until the worker holds its own, so a second `up` cannot start another.
        for _ in $(seq 1 600); do
            read_status
            [ "$st_state" = starting ] || break
            sleep 0.05
        done
        [ "$st_state" != starting ] || die "the fetch worker did not start within 30 s; see $log_file"
    fi
    flock -u 8
    exec 8>&-
    follow "$run" "$offset"
    # The run re-attached to was started by an earlier `up`, maybe for other files.
    if [ "$attached" -eq 1 ] && ! all_verified; then
        log "the fetch re-attached to had another file list; starting one for this step's files"
        continue
    fi
    log "$file_count parameter file(s) verified in $params_folder"
    exit 0
done

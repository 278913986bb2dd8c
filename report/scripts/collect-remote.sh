#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# collect's remote side, sent over SSH on stdin (`bash -s -- <command> <key> …`). The archive of
# the slots' log folders is built by a process detached from the SSH session (setsid + nohup,
# no terminal, stdin and stdout closed) into a temp name, renamed when whole, so a session that
# drops (the notes' copies died at 90 %) neither kills the build nor leaves a half archive that
# looks whole. The local side then fetches it from an offset, resuming a cut transfer.
#   start  <key> <dir>…  build unless built or building; prints "ready <bytes> <sha256>", "building",
#                        "none" (no folder exists) and a "missing <dir>" line per absent folder
#   status <key>         "ready <bytes> <sha256>", "building", or "failed <reason>"
#   fetch  <key> <offset> the archive's bytes from offset on, to stdout
#   done   <key>         removes the archive: the next collect gathers the logs afresh
#
# The folder holding the archive is the running user's alone (default
# /var/tmp/sealbench-collect-<uid>): this script writes <key>.pid, .tmp and .err there by name, as
# root on most hosts, and collect takes the .tar it finds there for the host's logs. /var/tmp is
# everyone's, and the key is easy to compute: a folder someone else made first (holding links to
# files of root's, or a forged archive) is refused, naming it.
set -euo pipefail
SEALBENCH_STEP=collect
# shellcheck source=../../components/scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../components/scripts/lib/common.sh" # sealbench:inline
# shellcheck source=../../components/scripts/lib/paths.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../components/scripts/lib/paths.sh" # sealbench:inline

cmd=${1:?command}
key=${2:?key}
shift 2
case $key in *[!0-9a-f]*) echo "bad key $key" >&2; exit 2 ;; esac
work=${SEALBENCH_COLLECT_DIR:-/var/tmp/sealbench-collect-$EUID}
work=${work%/}
base="$work/$key"
# Made private (0700) where nobody else may have made it first; then checked whoever made it.
parent=${work%/*}
fixed_dir "${parent:-/}" "the collect folder's parent" create
if [ ! -e "${work##*/}" ] && [ ! -L "${work##*/}" ]; then mkdir -m 0700 -- "${work##*/}" 2>/dev/null || true; fi
private_dir "$work" "the collect folder"
cd /

ready() {
  [ -f "$base.tar" ] && [ -f "$base.sha256" ] || return 1
  echo "ready $(stat -c %s "$base.tar") $(cat "$base.sha256")"
}

building() {
  [ -f "$base.pid" ] && kill -0 "$(cat "$base.pid")" 2>/dev/null
}

case $cmd in
  start)
    if ready || { building && echo building; }; then exit 0; fi
    present=()
    for d in "$@"; do
      if [ -d "$d" ]; then present+=("${d#/}"); else echo "missing $d"; fi
    done
    if [ "${#present[@]}" -eq 0 ]; then echo none; exit 0; fi
    rm -f "$base.tmp" "$base.err"
    # tar exits 1 when a log grew while read (a phase still running): the archive is still good.
    # shellcheck disable=SC2016 # expanded by the inner bash
    setsid nohup bash -c '
      echo $$ > "$1.pid"
      b=$1; shift
      rc=0; tar -C / --warning=no-file-changed -cf "$b.tmp" -- "$@" || rc=$?
      if [ "$rc" -le 1 ]; then
        sha256sum "$b.tmp" | cut -d" " -f1 > "$b.sha256.tmp" && mv "$b.tmp" "$b.tar" && mv "$b.sha256.tmp" "$b.sha256"
      else
        echo "tar exited $rc" >> "$b.err"
      fi
      rm -f "$b.pid"' _ "$base" "${present[@]}" </dev/null >>"$base.err" 2>&1 &
    # The builder writes its pid itself; wait for it so a status right after sees "building".
    for _ in $(seq 50); do [ -f "$base.pid" ] || [ -f "$base.tar" ] || [ -s "$base.err" ] && break; sleep 0.1; done
    echo building
    ;;
  status)
    if ready; then exit 0; fi
    if building; then echo building; exit 0; fi
    # The first 2000 bytes of what went wrong: enough to read, and a status line stays small.
    echo "failed $(head -c 2000 "$base.err" 2>/dev/null | tr '\n' ' ' || echo "no archive and no builder")"
    ;;
  fetch)
    offset=${1:?offset}
    tail -c +"$((offset + 1))" "$base.tar"
    ;;
  done)
    rm -f "$base.tar" "$base.sha256" "$base.pid" "$base.err" "$base.tmp"
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac

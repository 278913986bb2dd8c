# shellcheck shell=bash
# Fetching and verifying proof parameter files: the work of components/scripts/parameters.sh,
# kept in functions because that script also writes them into a self-contained worker file that
# runs detached from the Pulumi step (declare -f). Sealing hosts have no Node: bash, curl and
# coreutils only. No `set` here: the including script owns its shell options.
#
# Globals the including script sets: params_folder, params_gateway, params_state (state folder:
# markers, log, status), params_retries, params_retry_delay, params_progress_seconds,
# params_follow, params_scratch (a folder off the parameter disk for curl's stderr and the
# errors list: when that disk is full, they must still be written).
# shellcheck disable=SC2154 # those globals are the including script's

# The digest parameters.json carries: the first 32 hex characters of BLAKE2b-512 of stdin.
# b2sum is coreutils ≥ 8.26; CentOS 7 has 8.22, so python3's hashlib is the fallback there.
params_hash() {
    if command -v b2sum >/dev/null 2>&1; then
        b2sum | cut -c1-32
    else
        python3 -c 'import hashlib, sys
h = hashlib.blake2b()
for chunk in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
    h.update(chunk)
print(h.hexdigest()[:32])'
    fi
}

params_hasher_available() {
    command -v b2sum >/dev/null 2>&1 || params_python_blake2
}

params_python_blake2() {
    command -v python3 >/dev/null 2>&1 && python3 -c 'import hashlib; hashlib.blake2b' >/dev/null 2>&1
}

# params_follow_hash FILE PID: the digest of FILE, read from its start while PID (curl) appends
# to it, to its end once PID has exited. Every byte is read once, from the page cache, while the
# download runs: a resumed file's prefix first, then the new bytes as they land.
# python3 reads the file in 1 MiB blocks; `tail -f | b2sum` moves it in 8 KiB reads through a
# pipe, which costs about 0.6 s more CPU per GB (measured on a 2 GiB transfer). Both beat
# `curl | tee part | b2sum` (two pipes). params_follow (auto|tail|python) picks one.
params_follow_hash() {
    local how=$params_follow
    if [ "$how" = auto ]; then
        how="tail"
        params_python_blake2 && how=python
    fi
    if [ "$how" = python ]; then
        python3 -c 'import hashlib, os, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
h = hashlib.blake2b()
writer_done = False
with open(path, "rb") as f:
    while True:
        block = f.read(1 << 20)
        if block:
            h.update(block)
            continue
        if writer_done:
            break
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            writer_done = True  # one more pass reads what it wrote last
            continue
        time.sleep(0.02)
print(h.hexdigest()[:32])' "$1" "$2"
    else
        tail -c +1 -s 0.05 --pid="$2" -f "$1" | params_hash
    fi
}

params_say() {
    # The log may be on a full disk: a lost line must not end the fetch before it says why.
    printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" || true
}

# 1.5 GiB, 300.0 MiB...
# The error that ends a file's fetch: in the log, and in the errors file the final status quotes.
params_error() {
    params_say "ERROR: $*"
    printf '%s\n' "$*" >>"$params_scratch/errors"
}

# Never write through a symlink: anyone who could plant one in the folder (or in the old link
# folder the files were adopted from) would have this root process append a download to its
# target. A symlink at a name the fetch writes is removed, not followed.
params_drop_symlink() {
    local target
    if [ -L "$1" ]; then
        target=$(readlink -- "$1" || true)
        rm -f -- "$1"
        params_say "${1##*/}: was a symlink (to $target); removed it, never written through"
    fi
}

# Bytes free for an unprivileged write in the parameter folder.
params_free_bytes() {
    { df -B1 --output=avail "$params_folder" 2>/dev/null || true; } | tail -n 1 | tr -d ' '
}

params_human() {
    awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u, " "); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ } printf(i == 1 ? "%d %s" : "%.1f %s", b, u[i]) }'
}

params_marker() {
    printf '%s/verified/%s' "$params_state" "$1"
}

# params_marker_ok NAME DIGEST: the file is there, unchanged (size and mtime) since it was
# verified against DIGEST. This is what makes a re-run take well under a second: nothing is read.
params_marker_ok() {
    local file="$params_folder/$1" marker size mtime digest
    marker=$(params_marker "$1")
    [ -f "$file" ] && [ -f "$marker" ] || return 1
    read -r size mtime digest <"$marker" || return 1
    [ "$digest" = "$2" ] && [ "$(stat -L -c '%s %Y' "$file")" = "$size $mtime" ]
}

params_write_marker() {
    local marker tmp
    marker=$(params_marker "$1")
    mkdir -p "$params_state/verified"
    tmp="$marker.tmp.$$"
    printf '%s %s\n' "$(stat -L -c '%s %Y' "$params_folder/$1")" "$2" >"$tmp"
    mv -f "$tmp" "$marker"
}

# Total size of the transfer from curl's header dump: the last response's Content-Range total
# (206) or Content-Length (200). Empty when unknown.
params_total_from_headers() {
    [ -f "$1" ] || return 0
    tr -d '\r' <"$1" | awk '
        /^HTTP\// { range = ""; length_ = "" }
        tolower($1) == "content-range:" { n = split($3, a, "/"); range = a[n] }
        tolower($1) == "content-length:" { length_ = $2 }
        END { if (range != "" && range != "*") print range; else if (length_ != "") print length_ }'
}

# params_headers_done HEADERS: the last response's headers are all in (a final status, then the
# blank line that ends them).
params_headers_done() {
    [ -f "$1" ] || return 1
    tr -d '\r' <"$1" | awk '/^HTTP\// { code = $2; blank = 0; next } /^$/ { if (code != "") blank = 1 } END { exit !(blank && code !~ /^[13]/) }'
}

# params_accepts_ranges HEADERS: the last response says the server takes byte ranges.
params_accepts_ranges() {
    [ -f "$1" ] || return 1
    tr -d '\r' <"$1" | awk '/^HTTP\// { ok = 0 } tolower($1) == "accept-ranges:" && tolower($2) == "bytes" { ok = 1 } END { exit !ok }'
}

# The last response's HTTP status code from curl's header dump.
params_http_status() {
    [ -f "$1" ] || return 0
    tr -d '\r' <"$1" | awk '/^HTTP\// { code = $2 } END { print code }'
}

# params_progress_say NAME NOW PREV NS TOTAL [WHAT]: one progress line: NOW bytes of TOTAL, the
# rate since PREV bytes NS nanoseconds ago, the ETA, and WHAT (e.g. "over 4 connections").
params_progress_say() {
    awk -v name="$1" -v now="$2" -v prev="$3" -v dt="$4" -v total="$5" -v what="${6:-}" '
        function human(b,   u, i) { split("B KiB MiB GiB TiB", u, " "); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ } return sprintf(i == 1 ? "%d %s" : "%.1f %s", b, u[i]) }
        function dur(s) { s = int(s); return s >= 3600 ? sprintf("%dh%02dm", s / 3600, (s % 3600) / 60) : s >= 60 ? sprintf("%dm%02ds", s / 60, s % 60) : sprintf("%ds", s) }
        BEGIN {
            rate = dt > 0 ? (now - prev) * 1e9 / dt : 0
            line = name ": " human(now)
            if (total > 0) line = line " of " human(total) sprintf(" (%d%%)", now * 100 / total)
            line = line ", " human(rate) "/s"
            if (total > 0 && rate > 0) line = line ", ETA " dur((total - now) / rate)
            else if (total > 0) line = line ", ETA unknown"
            if (what != "") line = line " " what
            print line
        }' | while IFS= read -r line; do params_say "$line"; done
}

# params_progress NAME PART HEADERS: a line every params_progress_seconds (bytes, rate, ETA)
# until killed.
params_progress() {
    local name=$1 part=$2 headers=$3 prev now prev_t now_t
    prev=$(stat -c %s "$part" 2>/dev/null || echo 0)
    prev_t=$(date +%s%N)
    while sleep "$params_progress_seconds"; do
        now=$(stat -c %s "$part" 2>/dev/null || echo 0)
        now_t=$(date +%s%N)
        params_progress_say "$name" "$now" "$prev" "$((now_t - prev_t))" "$(params_total_from_headers "$headers")"
        prev=$now
        prev_t=$now_t
    done
}

# --- several connections: a file in byte ranges ---------------------------------------------
# A big file is split into ranges fetched at once, each by its own curl writing at the range's
# offset in the one .part (no second copy of 45 GB to join parts). The layout,
# <state>/ranges/<name>, has one "start end done" line per range (bytes; done counted from
# start) and is rewritten as the ranges grow: after a kill each range resumes where it was (at
# most a poll behind, which is fetched again), and the digest reads the bytes in order as each
# range's next bytes arrive.

params_layout() {
    printf '%s/ranges/%s' "$params_state" "$1"
}

# params_layout_read FILE: the arrays r_start, r_end, r_done; fails on a layout that is not
# contiguous ranges from 0 (then it is not trusted, and the file starts over).
params_layout_read() {
    local s e d at=0
    r_start=() r_end=() r_done=()
    [ -f "$1" ] || return 1
    while read -r s e d; do
        [[ $s =~ ^[0-9]+$ && $e =~ ^[0-9]+$ && $d =~ ^[0-9]+$ ]] || return 1
        [ "$s" -eq "$at" ] && [ "$e" -gt "$s" ] && [ "$d" -le $((e - s)) ] || return 1
        r_start+=("$s") r_end+=("$e") r_done+=("$d")
        at=$e
    done <"$1"
    [ "${#r_start[@]}" -gt 0 ]
}

params_layout_write() {
    local k tmp="$1.tmp.$$"
    mkdir -p "${1%/*}"
    for k in "${!r_start[@]}"; do
        printf '%s %s %s\n' "${r_start[k]}" "${r_end[k]}" "${r_done[k]}"
    done >"$tmp"
    mv -f "$tmp" "$1"
}

# params_layout_split TOTAL HAVE N: the arrays for a file of TOTAL bytes whose first HAVE bytes
# are here: that prefix as one whole range, the rest in N ranges of about the same size.
params_layout_split() {
    local total=$1 have=$2 n=$3 k at chunk
    r_start=() r_end=() r_done=()
    if [ "$have" -gt 0 ]; then
        r_start+=(0) r_end+=("$have") r_done+=("$have")
    fi
    chunk=$(((total - have + n - 1) / n))
    at=$have
    for ((k = 0; k < n && at < total; k++)); do
        r_start+=("$at") r_end+=("$((at + chunk < total ? at + chunk : total))") r_done+=(0)
        at=$((at + chunk))
    done
}

params_bytes_done() {
    local k sum=0
    for k in "${!r_done[@]}"; do sum=$((sum + r_done[k])); done
    printf '%s' "$sum"
}

# params_fd_offset PID FD: sets fd_offset to the file offset of PID's descriptor FD (the next
# byte written through it); fails when there is no such descriptor. Read, not forked: the poll
# runs ten times a second.
params_fd_offset() {
    local key val
    fd_offset=""
    [ -r "/proc/$1/fdinfo/$2" ] || return 1
    while read -r key val; do
        if [ "$key" = "pos:" ]; then
            fd_offset=$val
            return 0
        fi
    done <"/proc/$1/fdinfo/$2" 2>/dev/null
    return 1
}

# params_running PID: PID is alive (not a zombie waiting to be reaped).
params_running() {
    local line
    [ -r "/proc/$1/stat" ] && read -r line <"/proc/$1/stat" 2>/dev/null || return 1
    line=${line##*) }
    [ "${line%% *}" != Z ]
}

# params_range_writer NAME K URL REPORT (in the background, with r_* set, and fd 3 the .part
# positioned at the range's next byte): fetches the missing bytes of range K through fd 3,
# resuming a broken transfer where it broke, until the range is whole (exit 0), the gateway
# stopped answering with ranges (exit 3: the file comes in one stream instead), or it fails
# params_retries times in a row without a new byte (exit 1). curl writes to fd 3 (-o - >&3):
# the same file offset as the caller's copy of that descriptor, which is how the caller sees the
# range's progress, live and after the end. REPORT says why it stopped.
params_range_writer() {
    local name=$1 k=$2 url=$3
    local start=${r_start[$2]} end=${r_end[$2]} done=${r_done[$2]}
    local from rc code stalls=0 delay=$params_retry_delay hdr="$4.headers" err="$4.err" label
    label="$name: range $((k + 1)) of ${#r_start[@]} ($(params_human "$start")-$(params_human "$end"))"
    while [ "$done" -lt $((end - start)) ]; do
        from=$((start + done))
        rc=0
        # --max-filesize: a gateway that answers with the whole file (200) instead of the range
        # is stopped before it writes a byte over the other ranges.
        curl -sS -f -L --connect-timeout 30 --speed-limit 1024 --speed-time 120 \
            -r "$from-$((end - 1))" --max-filesize $((end - from)) -D "$hdr" -o - "$url" 2>"$err" >&3 || rc=$?
        params_fd_offset "$BASHPID" 3 || fd_offset=$from
        code=$(params_http_status "$hdr")
        if [ "$fd_offset" -gt "$end" ]; then
            params_error "$label: the gateway sent more than the range asked for (up to byte $fd_offset); the partial file is kept, its digest decides"
            fd_offset=$end
        fi
        if [ "$fd_offset" -gt "$from" ]; then
            done=$((fd_offset - start)) stalls=0 delay=$params_retry_delay
        else
            stalls=$((stalls + 1))
        fi
        [ "$done" -lt $((end - start)) ] || break
        if [ "$code" = 200 ]; then
            params_say "$label: $url answered a range request with the whole file (HTTP 200); fetching it in one stream"
            exit 3
        fi
        if [ "$stalls" -gt "$params_retries" ]; then
            params_error "$name: fetching $url failed $stalls times without progress in range $((k + 1)) at byte $from (curl exit $rc: $(tr '\n' ' ' <"$err" 2>/dev/null)); the partial file $part is kept for the next run"
            exit 1
        fi
        params_say "$label: transfer broke at $(params_human "$((start + done))") (curl exit $rc: $(tr '\n' ' ' <"$err" 2>/dev/null)); resuming in ${delay}s"
        sleep "$delay"
        delay=$((delay * 2 > 60 ? 60 : delay * 2))
    done
}

# params_layout_hash PART LAYOUT: the digest of PART, read in order from its start as far as the
# layout says the bytes are there (the first range's end, then the next range's written bytes,
# ...), waiting for the next bytes, to the end of the last range. Every byte is read once:
# python3 reads the .part itself; without it (params_follow tail), dd hands it to b2sum.
params_layout_hash() {
    local how=$params_follow
    if [ "$how" = auto ]; then
        how="tail"
        params_python_blake2 && how=python
    fi
    if [ "$how" = python ]; then
        python3 -c 'import hashlib, os, sys, time
part, layout = sys.argv[1], sys.argv[2]
h = hashlib.blake2b()
fd = os.open(part, os.O_RDONLY)
pos = 0
while True:
    try:
        with open(layout) as f:
            ranges = [tuple(int(x) for x in l.split()) for l in f if l.strip()]
    except FileNotFoundError:
        sys.exit("the layout is gone: the fetch gave up")
    there = pos
    for start, end, done in ranges:
        if end <= there:
            continue
        there = start + done
        if there < end:
            break
    if there > pos:
        while pos < there:
            block = os.pread(fd, min(1 << 20, there - pos), pos)
            if not block:
                sys.exit("the .part ends at byte %d, before the layout says" % pos)
            h.update(block)
            pos += len(block)
    elif pos >= ranges[-1][1]:
        break
    else:
        time.sleep(0.02)
print(h.hexdigest()[:32])' "$1" "$2"
    else
        params_layout_feed "$1" "$2" | params_hash
    fi
}

# params_layout_feed PART LAYOUT: PART's bytes in order on stdout, as params_layout_hash reads them.
params_layout_feed() {
    local pos=0 there k
    while :; do
        params_layout_read "$2" || return 1
        there=$pos
        for k in "${!r_start[@]}"; do
            [ "${r_end[k]}" -gt "$there" ] || continue
            there=$((r_start[k] + r_done[k]))
            [ "$there" -ge "${r_end[k]}" ] || break
        done
        if [ "$there" -gt "$pos" ]; then
            dd if="$1" bs=1M skip="$pos" count=$((there - pos)) iflag=skip_bytes,count_bytes status=none || return 1
            pos=$there
        elif [ "$pos" -ge "${r_end[${#r_end[@]} - 1]}" ]; then
            return 0
        else
            sleep 0.05
        fi
    done
}

# params_fetch_ranges NAME URL DIGEST: fetches the missing bytes of every range of NAME's layout
# at once, follows them (the layout rewritten ten times a second, a progress line every
# params_progress_seconds), and checks the digest. 0: verified, renamed, marked; 1: failed (the
# .part and the layout kept for the next run); 2: digest mismatch (both deleted; ranges_actual is
# the digest found); 3: the gateway stopped answering with ranges (both deleted: one stream next).
params_fetch_ranges() {
    local name=$1 url=$2 digest=$3
    local part="$params_folder/$1.part" file="$params_folder/$1" layout k pid rc d total have need free
    local hash_pid failed=0 noranges=0 changed running prev prev_t now_t next_t interval size fd final=0
    local -a pids=() fds=()
    layout=$(params_layout "$name")
    ranges_actual=""
    params_layout_read "$layout" || return 1
    total=${r_end[${#r_end[@]} - 1]}
    have=$(params_bytes_done)
    need=$((total - have))
    free=$(params_free_bytes)
    if [[ $free =~ ^[0-9]+$ ]] && [ "$free" -lt "$need" ]; then
        params_error "$name: no space left on $params_folder: $need bytes needed, $free free; free some space (the partial file is kept), then run up again"
        return 1
    fi
    for k in "${!r_start[@]}"; do
        pids[k]="" fds[k]=""
        [ "${r_done[k]}" -lt $((r_end[k] - r_start[k])) ] || continue
        # One descriptor per range, positioned at its next byte and kept here: its offset moves
        # as curl writes through the writer's copy, so it is the range's progress, even after
        # the writer has gone.
        exec {fd}<>"$part"
        dd bs=1 count=0 seek=$((r_start[k] + r_done[k])) oflag=seek_bytes status=none >&"$fd"
        fds[k]=$fd
        params_range_writer "$name" "$k" "$url" "$params_scratch/range.$k" </dev/null 3>&"$fd" 9>&- &
        pids[k]=$!
    done
    params_layout_hash "$part" "$layout" >"$params_scratch/digest" 2>"$params_scratch/digest.err" </dev/null 9>&- &
    hash_pid=$!
    prev=$have
    prev_t=$(date +%s%N)
    interval=$(awk -v s="$params_progress_seconds" 'BEGIN { printf "%d", s * 1e9 }')
    next_t=$((prev_t + interval))
    while :; do
        changed=0 running=0
        for k in "${!r_start[@]}"; do
            [ -n "${fds[k]}" ] || continue
            params_fd_offset "$BASHPID" "${fds[k]}" || fd_offset=$((r_start[k] + r_done[k]))
            d=$((fd_offset - r_start[k]))
            [ "$d" -le $((r_end[k] - r_start[k])) ] || d=$((r_end[k] - r_start[k]))
            if [ "$d" -gt "${r_done[k]}" ]; then
                r_done[k]=$d
                changed=1
            fi
            pid=${pids[k]}
            [ -n "$pid" ] || continue
            if params_running "$pid"; then
                running=$((running + 1))
                continue
            fi
            rc=0
            wait "$pid" || rc=$?
            pids[k]=""
            [ "$rc" -eq 0 ] || failed=$((failed + 1))
            [ "$rc" -ne 3 ] || noranges=1
        done
        [ "$changed" -eq 0 ] || params_layout_write "$layout"
        now_t=$(date +%s%N)
        if [ "$now_t" -ge "$next_t" ] && [ "$running" -gt 0 ]; then
            have=$(params_bytes_done)
            params_progress_say "$name" "$have" "$prev" "$((now_t - prev_t))" "$total" "over $running connection(s)"
            prev=$have prev_t=$now_t next_t=$((now_t + interval))
        fi
        if [ "$running" -eq 0 ]; then
            # One more reading of the offsets: the last writes of a writer that just ended.
            [ "${final:-0}" -eq 1 ] && break
            final=1
            continue
        fi
        sleep 0.1
    done
    for fd in "${fds[@]}"; do
        [ -z "$fd" ] || exec {fd}>&-
    done
    if [ "$failed" -gt 0 ]; then
        kill "$hash_pid" 2>/dev/null || true
        wait "$hash_pid" 2>/dev/null || true
        if [ "$noranges" -eq 1 ]; then
            rm -f -- "$part" "$layout"
            return 3
        fi
        return 1
    fi
    rc=0
    wait "$hash_pid" || rc=$?
    ranges_actual=$(cat "$params_scratch/digest" 2>/dev/null || true)
    [ "$rc" -eq 0 ] && [ -n "$ranges_actual" ] || ranges_actual="(hashing failed: $(tr '\n' ' ' <"$params_scratch/digest.err" 2>/dev/null))"
    if [ "$ranges_actual" = "$digest" ]; then
        # The .part is as long as the file: the last range's writes reached its end.
        size=$(stat -c %s "$part")
        if [ "$size" -ne "$total" ]; then
            ranges_actual="(a .part of $size bytes, expected $total)"
        else
            mv -f "$part" "$file"
            rm -f -- "$layout"
            params_write_marker "$name" "$digest"
            params_say "$name: verified ($(params_human "$total"), digest $digest, ${#r_start[@]} range(s))"
            return 0
        fi
    fi
    rm -f -- "$part" "$layout"
    return 2
}

# params_fetch_one NAME CID DIGEST: leaves a verified NAME in the folder, or fails saying why.
# The hash is computed while curl writes (params_follow_hash), so a 45 GB file is not read a
# second time. Only a file whose digest matched gets the final name.
params_fetch_one() {
    local name=$1 digest=$3
    local file="$params_folder/$1" part="$params_folder/$1.part" url="$params_gateway$2"
    local headers="$params_state/headers" curl_err="$params_scratch/curl.err"
    local actual rc before after size total need free code mismatches=0 stalls=0 best=0 delay=$params_retry_delay progress_pid curl_pid
    local layout k have no_ranges=0 split=0
    layout=$(params_layout "$name")

    params_drop_symlink "$file"
    params_drop_symlink "$part"
    if params_marker_ok "$name" "$digest"; then
        params_say "$name: verified (marker)"
        return 0
    fi
    rm -f "$(params_marker "$name")"
    if [ -e "$file" ] && [ ! -f "$file" ]; then
        params_error "$name: $file is not a regular file; move it away, then run again"
        return 1
    fi
    if [ -f "$file" ] && [ -f "$part" ] && [ "$(stat -c %s "$part")" -ge "$(stat -c %s "$file")" ]; then
        # Two partial copies: resuming the longer one sends the fewest bytes again.
        rm -f "$file"
        params_say "$name: present without a marker beside a longer $name.part; kept the .part"
    elif [ -f "$file" ]; then
        # Put there by another tool or by hand: not trusted until its digest matches, so it leaves
        # the final name and is checked like any .part (a whole one gets a 416 and is hashed once).
        params_say "$name: present without a marker; checking it as $name.part"
        mv -f "$file" "$part"
        rm -f -- "$layout"
    fi

    while :; do
        params_drop_symlink "$part"
        # A file in byte ranges (split below, or by a run that was stopped): every range at once.
        if [ -f "$layout" ]; then
            if [ -f "$part" ] && params_layout_read "$layout"; then
                # What is past the end of a .part someone shortened is not there: fetched again.
                size=$(stat -c %s "$part")
                for k in "${!r_start[@]}"; do
                    have=$((size - r_start[k] < 0 ? 0 : size - r_start[k]))
                    [ "${r_done[k]}" -le "$have" ] || r_done[k]=$have
                done
                if [ "$split" -eq 1 ]; then
                    params_say "$name: $(params_human "${r_end[${#r_end[@]} - 1]}"); fetching the rest over $params_connections connections, one byte range each"
                else
                    params_say "$name: resuming ${#r_start[@]} byte ranges at once, $(params_human "$(params_bytes_done)") of $(params_human "${r_end[${#r_end[@]} - 1]}") here"
                fi
                split=0
                rc=0
                params_fetch_ranges "$name" "$url" "$digest" || rc=$?
                case "$rc" in
                    0) return 0 ;;
                    2)
                        mismatches=$((mismatches + 1))
                        if [ "$mismatches" -ge 2 ]; then
                            params_error "$name: digest mismatch: expected $digest, got $ranges_actual (fetched twice from $url; the bad file was deleted)"
                            return 1
                        fi
                        params_say "$name: digest mismatch: expected $digest, got $ranges_actual; deleted the partial file, fetching once more"
                        continue
                        ;;
                    3)
                        no_ranges=1
                        continue
                        ;;
                    *) return 1 ;;
                esac
            fi
            # A layout without its .part, or one not to be trusted: the file starts over.
            rm -f -- "$layout"
        fi
        before=$(stat -c %s "$part" 2>/dev/null || echo 0)
        [ "$before" -le "$best" ] || best=$before
        if [ "$before" -gt 0 ]; then
            params_say "$name: resuming at $(params_human "$before") ($before bytes) from $url"
        else
            params_say "$name: fetching from $url"
        fi
        rm -f "$headers" "$curl_err"
        # The worker's lock (fd 9) stays with curl, so no second writer starts on this .part while
        # it runs, but not with the progress loop: its last `sleep` outlives a kill.
        params_progress "$name" "$part" "$headers" 9>&- &
        progress_pid=$!
        # --speed-limit/--speed-time: a gateway that stalls is dropped and resumed, not waited on.
        curl -sS -f -L --connect-timeout 30 --speed-limit 1024 --speed-time 120 \
            -C - -D "$headers" -o "$part" "$url" 2>"$curl_err" &
        curl_pid=$!
        # curl creates a new .part itself: made empty beforehand, curl would truncate it, and
        # ext4 then flushes the whole file on close (auto_da_alloc), measured +0.5 s per GB.
        while [ ! -e "$part" ] && kill -0 "$curl_pid" 2>/dev/null; do
            sleep 0.01
        done
        # The size is known once the headers are in: a disk without room for the rest stops the
        # fetch now, with the numbers, rather than when curl cannot write (and its message, on
        # the same disk, is lost).
        total=$(params_total_from_headers "$headers")
        code=$(params_http_status "$headers")
        if [ -n "$total" ] && { [ "$code" = 200 ] || [ "$code" = 206 ]; }; then
            need=$((code == 206 ? total - before : total))
            free=$(params_free_bytes)
            # What curl wrote of this response already came out of the free space: count it back.
            [[ ! $free =~ ^[0-9]+$ ]] || free=$((free + $(stat -c %s "$part" 2>/dev/null || echo "$before") - (code == 206 ? before : 0)))
            if [[ $free =~ ^[0-9]+$ ]] && [ "$free" -lt "$need" ]; then
                kill "$curl_pid" 2>/dev/null || true
                wait "$curl_pid" 2>/dev/null || true
                kill "$progress_pid" 2>/dev/null || true
                wait "$progress_pid" 2>/dev/null || true
                params_error "$name: no space left on $params_folder: $need bytes needed, $free free; free some space (the partial file is kept), then run up again"
                return 1
            fi
        fi
        # A big file from a gateway that takes byte ranges: this transfer stops here, its bytes
        # are the first range, and the rest comes over params_connections connections.
        if [ "$params_connections" -gt 1 ] && [ "$no_ranges" -eq 0 ]; then
            while ! params_headers_done "$headers" && kill -0 "$curl_pid" 2>/dev/null; do
                sleep 0.01
            done
            total=$(params_total_from_headers "$headers")
            code=$(params_http_status "$headers")
            if [[ $total =~ ^[0-9]+$ ]] && { [ "$code" = 206 ] || { [ "$code" = 200 ] && params_accepts_ranges "$headers"; }; } &&
                [ $((total - before)) -ge $((params_connections * params_min_range)) ] && kill -0 "$curl_pid" 2>/dev/null; then
                kill "$curl_pid" 2>/dev/null || true
                wait "$curl_pid" 2>/dev/null || true
                kill "$progress_pid" 2>/dev/null || true
                wait "$progress_pid" 2>/dev/null || true
                # curl wrote the .part in order from `before`: all of it is the prefix.
                params_layout_split "$total" "$(stat -c %s "$part" 2>/dev/null || echo 0)" "$params_connections"
                params_layout_write "$layout"
                split=1
                continue
            fi
        fi
        actual=""
        if [ -e "$part" ]; then
            actual=$(params_follow_hash "$part" "$curl_pid") || actual="(hashing failed)"
        fi
        rc=0
        wait "$curl_pid" || rc=$?
        kill "$progress_pid" 2>/dev/null || true
        wait "$progress_pid" 2>/dev/null || true

        if [ "$actual" = "$digest" ]; then
            # A 416 (the .part was already whole) still ends here: the digest is what counts.
            mv -f "$part" "$file"
            params_write_marker "$name" "$digest"
            size=$(stat -c %s "$file")
            params_say "$name: verified ($(params_human "$size"), digest $digest)"
            return 0
        fi
        after=$(stat -c %s "$part" 2>/dev/null || echo 0)
        total=$(params_total_from_headers "$headers")
        code=$(params_http_status "$headers")
        if [ "$rc" -eq 0 ] && [ "$code" = 206 ] && [[ $total =~ ^[0-9]+$ ]] && [ "$after" -lt "$total" ]; then
            # An honest server may answer a Range with a shorter chunk (206, Content-Range total
            # larger than what we have): not a mismatch, just more to fetch, at once.
            if [ "$after" -gt "$best" ]; then
                best=$after stalls=0
                params_say "$name: the server sent a part (up to $(params_human "$after") of $(params_human "$total")); asking for the rest"
                continue
            fi
            rc=18 # a chunk that brought nothing new counts as a broken transfer
        fi
        if [ "$rc" -eq 23 ]; then
            free=$(params_free_bytes)
            params_error "$name: writing $part failed (curl exit 23: $(tr '\n' ' ' <"$curl_err" 2>/dev/null))${total:+; $((total - after)) more bytes needed,} ${free:-?} bytes free on $params_folder; the partial file is kept for the next run"
            return 1
        fi
        # 416: the .part already held every byte the server has.
        if [ "$rc" -eq 0 ] || [ "$code" = 416 ]; then
            # The whole file arrived and its digest is wrong: resuming cannot fix that.
            rm -f "$part"
            mismatches=$((mismatches + 1))
            if [ "$mismatches" -ge 2 ]; then
                params_error "$name: digest mismatch: expected $digest, got $actual (fetched twice from $url; the bad file was deleted)"
                return 1
            fi
            params_say "$name: digest mismatch: expected $digest, got $actual; deleted the partial file, fetching once more"
            continue
        fi
        if [ "$rc" -eq 33 ]; then
            # The server ignored the Range request: the bytes we have cannot be continued.
            params_say "$name: $url does not resume (no byte ranges); starting over"
            rm -f "$part"
            after=0
        fi
        # Progress is a byte never had before: a server that ignores Range and drops the
        # connection makes every restart from zero "grow" the file, and would loop for ever.
        if [ "$after" -gt "$best" ]; then
            best=$after
            stalls=0
            delay=$params_retry_delay
        else
            stalls=$((stalls + 1))
        fi
        if [ "$stalls" -gt "$params_retries" ]; then
            params_error "$name: fetching $url failed $stalls times without progress past $best bytes (curl exit $rc: $(tr '\n' ' ' <"$curl_err" 2>/dev/null)); the partial file $part is kept for the next run"
            return 1
        fi
        params_say "$name: transfer broke at $(params_human "$after") (curl exit $rc: $(tr '\n' ' ' <"$curl_err")); resuming in ${delay}s"
        sleep "$delay"
        delay=$((delay * 2 > 60 ? 60 : delay * 2))
    done
}

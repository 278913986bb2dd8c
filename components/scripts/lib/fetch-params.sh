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

# The last response's HTTP status code from curl's header dump.
params_http_status() {
    [ -f "$1" ] || return 0
    tr -d '\r' <"$1" | awk '/^HTTP\// { code = $2 } END { print code }'
}

# params_progress NAME PART HEADERS: a line every params_progress_seconds (bytes, rate, ETA)
# until killed.
params_progress() {
    local name=$1 part=$2 headers=$3 prev now prev_t now_t total
    prev=$(stat -c %s "$part" 2>/dev/null || echo 0)
    prev_t=$(date +%s%N)
    while sleep "$params_progress_seconds"; do
        now=$(stat -c %s "$part" 2>/dev/null || echo 0)
        now_t=$(date +%s%N)
        total=$(params_total_from_headers "$headers")
        awk -v name="$name" -v now="$now" -v prev="$prev" -v dt="$((now_t - prev_t))" -v total="$total" '
            function human(b,   u, i) { split("B KiB MiB GiB TiB", u, " "); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ } return sprintf(i == 1 ? "%d %s" : "%.1f %s", b, u[i]) }
            function dur(s) { s = int(s); return s >= 3600 ? sprintf("%dh%02dm", s / 3600, (s % 3600) / 60) : s >= 60 ? sprintf("%dm%02ds", s / 60, s % 60) : sprintf("%ds", s) }
            BEGIN {
                rate = dt > 0 ? (now - prev) * 1e9 / dt : 0
                line = name ": " human(now)
                if (total > 0) line = line " of " human(total) sprintf(" (%d%%)", now * 100 / total)
                line = line ", " human(rate) "/s"
                if (total > 0 && rate > 0) line = line ", ETA " dur((total - now) / rate)
                else if (total > 0) line = line ", ETA unknown"
                print line
            }' | while IFS= read -r line; do params_say "$line"; done
        prev=$now
        prev_t=$now_t
    done
}

# params_fetch_one NAME CID DIGEST: leaves a verified NAME in the folder, or fails saying why.
# The hash is computed while curl writes (params_follow_hash), so a 45 GB file is not read a
# second time. Only a file whose digest matched gets the final name.
params_fetch_one() {
    local name=$1 digest=$3
    local file="$params_folder/$1" part="$params_folder/$1.part" url="$params_gateway$2"
    local headers="$params_state/headers" curl_err="$params_scratch/curl.err"
    local actual rc before after size total need free code mismatches=0 stalls=0 best=0 delay=$params_retry_delay progress_pid curl_pid

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
    fi

    while :; do
        params_drop_symlink "$part"
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

#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The host-key check, run on the operator's machine (a local command) before the first remote
# step: reads the key the host offers with ssh-keyscan and compares it with the pinned one.
#
# Why here and not in the SSH connection: @pulumi/command 1.2.1 treats a host-key mismatch as
# an ordinary dial error and retries it dialErrorLimit times (the wait step's 120 × up to 30 s),
# and its message names neither key. Here a mismatch fails at once, naming the pinned and the
# offered fingerprint; only "nothing answers yet" is retried, so a new instance still booting is
# waited for (cloud images start sshd after cloud-init has made the host keys, so a booting host
# never offers a transient key).
#
# Inputs: SEALBENCH_HOST, SEALBENCH_KEY_ADDRESS, SEALBENCH_KEY_PORT, SEALBENCH_KEY_PIN
# ("<type> <base64> [comment]"), SEALBENCH_KEY_WAIT (seconds to wait for an answer),
# SEALBENCH_KEY_RETRY (seconds between attempts). create only; delete does nothing.
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-host-key}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline

[ "$(action_arg "${1:-}")" = create ] || exit 0
require_env SEALBENCH_HOST SEALBENCH_KEY_ADDRESS SEALBENCH_KEY_PORT SEALBENCH_KEY_PIN
host=$SEALBENCH_HOST
address=$SEALBENCH_KEY_ADDRESS
port=$SEALBENCH_KEY_PORT
wait_s=${SEALBENCH_KEY_WAIT:-300}
retry_s=${SEALBENCH_KEY_RETRY:-5}
for tool in ssh-keyscan ssh-keygen; do
    command -v "$tool" >/dev/null || die "no $tool on this machine (the one running pulumi): install OpenSSH's client (Debian: apt-get install openssh-client)"
done
read -r pin_type pin_blob _ <<<"$SEALBENCH_KEY_PIN"
[ -n "${pin_blob:-}" ] || die "host $host: the pinned key \"$SEALBENCH_KEY_PIN\" is not \"<type> <base64 key>\""

# fingerprint TYPE BLOB: "ssh-ed25519 SHA256:…", as ssh-keygen -l prints it.
fingerprint() {
    local fp
    fp=$(printf '%s %s\n' "$1" "$2" | ssh-keygen -l -f - 2>/dev/null | awk '{print $2}') || true
    printf '%s %s' "$1" "${fp:-(unreadable key)}"
}
want=$(fingerprint "$pin_type" "$pin_blob")
where="$address:$port"
# The command an operator runs to read the key out of band, e.g. "ssh-keyscan -t ed25519 10.0.0.5".
keyscan_hint() {
    local short=${1#ssh-}
    case $short in ecdsa-*) short=ecdsa ;; esac
    printf 'ssh-keyscan -t %s%s %s' "$short" "$([ "$port" = 22 ] || printf ' -p %s' "$port")" "$address"
}

start=$SECONDS
attempts=0
while :; do
    attempts=$((attempts + 1))
    # One attempt: every key type the host offers ("<host> <type> <base64>" lines), banners
    # ("# host:port SSH-2.0-…") and errors ("getaddrinfo …: Name or service not known") together.
    scan=$(ssh-keyscan -T 5 -p "$port" "$address" 2>&1) || true
    offered=$(awk '$2 ~ /^(ssh-|ecdsa-|sk-)/ && $3 ~ /^[A-Za-z0-9+\/]+=*$/ {print $2, $3}' <<<"$scan")
    last=$(awk '$1 !~ /^#/ && !($2 ~ /^(ssh-|ecdsa-|sk-)/ && $3 ~ /^[A-Za-z0-9+\/]+=*$/) && NF {line = $0} END {print line}' <<<"$scan")
    [ -n "$offered" ] && break
    # Nothing answered with a key yet (refused, timed out, sshd still starting): wait and retry.
    if [ $((SECONDS - start)) -ge "$wait_s" ]; then
        die "host $host: no SSH host key from $where after $attempts attempts in $((SECONDS - start)) s${last:+ (last: $last)}; is the address right and sshd running there?"
    fi
    sleep "$retry_s"
done

list=""
while read -r type blob; do
    if [ "$type" = "$pin_type" ]; then
        if [ "$blob" = "$pin_blob" ]; then
            log "host $host: $where offers the pinned key $want"
            exit 0
        fi
        die "host $host: host key mismatch at $where: expected $want (target.hostKey), offered $(fingerprint "$type" "$blob"). If the host was reinstalled, check its new key out of band ($(keyscan_hint "$type")) and update target.hostKey; otherwise another machine answers at that address"
    fi
    list="${list:+$list, }$(fingerprint "$type" "$blob")"
done <<<"$offered"
die "host $host: $where offers no $pin_type key to compare with the pinned $want; it offers $list. Pin one of those (checked out of band) in target.hostKey"

#!/bin/bash
# Stands in for the closed-source force-remote-worker in the real-systemd tests: what the unit
# and config.toml must get right is observable through it. Reads ./config.toml (only the keys
# it needs, parsed with sed: a stand-in, not a TOML reader), logs one start line with its
# identity and environment, makes {local_dir}/nfs/{ip}/{cache,sealed} as the real one does, and
# polls POST {scheduler_url}/acquire-task every wait_sec seconds (of the first [[worker]]),
# logging each answer. The body names ip and group_id so the stub scheduler can count per
# client (the real wire format is not public; only the URL and the idle answer are in the notes).
set -uo pipefail

me="force-remote-worker (stand-in)"
if [ ! -f config.toml ]; then
  echo "$me: no config.toml in $(pwd) (the unit's WorkingDirectory= must hold it)" >&2
  exit 2
fi

# The value of a top-level `key = value` (before the first table), quotes removed.
top() {
  sed -n -E '/^\[/q; s/^[[:space:]]*'"$1"'[[:space:]]*=[[:space:]]*(.*[^[:space:]])[[:space:]]*$/\1/p' config.toml | head -n 1 | sed -E 's/^"(.*)"$/\1/'
}
scheduler_url=$(top scheduler_url)
local_dir=$(top local_dir)
ip=$(top ip)
group_id=$(top group_id)
# wait_sec of the first [[worker]] table.
wait_sec=$(sed -n -E '/^\[\[worker\]\]/,$ s/^[[:space:]]*wait_sec[[:space:]]*=[[:space:]]*([0-9]+).*/\1/p' config.toml | head -n 1)

for k in scheduler_url local_dir ip group_id wait_sec; do
  [ -n "${!k}" ] || { echo "$me: config.toml in $(pwd) has no $k" >&2; exit 2; }
done

echo "$me start pid=$$ uid=$(id -u) gid=$(id -g) RUST_LOG=${RUST_LOG-} RUST_BACKTRACE=${RUST_BACKTRACE-} BELLMAN_PROOF_THREADS=${BELLMAN_PROOF_THREADS-} scheduler_url=$scheduler_url local_dir=$local_dir ip=$ip group_id=$group_id wait_sec=$wait_sec"

mkdir -p "$local_dir/nfs/$ip/cache" "$local_dir/nfs/$ip/sealed" || { echo "$me: cannot create $local_dir/nfs/$ip/{cache,sealed} as uid $(id -u)" >&2; exit 1; }

body="{\"ip\":\"$ip\",\"group_id\":$group_id}"
while :; do
  if answer=$(curl -s --max-time 5 -X POST -H 'Content-Type: application/json' -d "$body" "$scheduler_url/acquire-task"); then
    echo "$me acquire-task: $answer"
  else
    echo "$me acquire-task: no answer from $scheduler_url (curl exit $?)"
  fi
  sleep "$wait_sec"
done

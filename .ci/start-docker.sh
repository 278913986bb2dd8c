#!/usr/bin/env bash
# Starts dockerd in the background when no engine answers, and waits until one does.
set -euo pipefail
if docker info >/dev/null 2>&1; then
  echo "docker: engine already answering"
  exit 0
fi
command -v dockerd >/dev/null || { echo "docker: dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
log=/var/log/sealbench-dockerd.log
# iptables may be unavailable in a sandbox; bridge networking is not needed (slots use the host network).
nohup dockerd --iptables=false --ip6tables=false >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker: engine started ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
echo "docker: engine did not answer within 60 s; last lines of $log:" >&2
tail -n 30 "$log" >&2
exit 1

#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The Docker engine the bench runs on: present and answering. Prints its data root on a line
# "docker_root_dir=<path>", which the component turns into an output: the overlay sweep looks
# for leaked .tmp* files under <data root>/overlay2. Reads only; delete has nothing to undo.
#
# Inputs: SEALBENCH_HOST; DOCKER_HOST when the engine is not on the default socket.
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-docker-engine}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline

action=$(action_arg "${1:-}")
[ "$action" = delete ] && exit 0
require_env SEALBENCH_HOST

command -v docker >/dev/null || die "no docker command on host $SEALBENCH_HOST; install Docker Engine (Debian: apt-get install docker.io) and start it"
if ! info=$(timeout 60 docker info --format '{{.DockerRootDir}}|{{.ServerVersion}}|{{.Driver}}' 2>&1); then
    die "the Docker engine on host $SEALBENCH_HOST does not answer (docker info: ${info//$'\n'/ }); start it (systemctl start docker)"
fi
IFS='|' read -r root version driver <<<"$info"
[ -n "$root" ] || die "docker info on host $SEALBENCH_HOST reported no data root"
log "host $SEALBENCH_HOST: Docker $version, storage driver $driver"
echo "docker_root_dir=$root"

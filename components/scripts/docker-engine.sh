#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The Docker engine the bench runs on: present and answering. Prints its data root on a line
# "docker_root_dir=<path>", which the component turns into an output: the overlay sweep looks
# for leaked .tmp* files under <data root>/overlay2.
# The Docker provider reaches the engine over SSH as the stack's login user (`docker system
# dial-stdio`): a login user that is not root (a cloud image's opc or ubuntu, already root through
# sudo) is put in the docker group, and delete takes it out again only if this step put it there.
#
# Inputs: SEALBENCH_HOST; SEALBENCH_DOCKER_USER (the login user, empty for root or a local host)
# and SEALBENCH_DOCKER_STATE (where the step notes that it added the user); DOCKER_HOST when the
# engine is not on the default socket.
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-docker-engine}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline

action=$(action_arg "${1:-}")
require_env SEALBENCH_HOST
user=${SEALBENCH_DOCKER_USER:-}
state=${SEALBENCH_DOCKER_STATE:-}
if [ "$action" = delete ]; then
    if [ -n "$user" ] && [ -n "$state" ] && [ -f "$state" ] && grep -qxF -- "added $user to docker" "$state"; then
        gpasswd -d "$user" docker >/dev/null 2>&1 || log "could not take $user out of the docker group"
        rm -f -- "$state"
        log "took $user out of the docker group (this step had put it there)"
    fi
    exit 0
fi

command -v docker >/dev/null || die "no docker command on host $SEALBENCH_HOST; install Docker Engine (Debian: apt-get install docker.io) and start it"
if ! info=$(timeout 60 docker info --format '{{.DockerRootDir}}|{{.ServerVersion}}|{{.Driver}}' 2>&1); then
    die "the Docker engine on host $SEALBENCH_HOST does not answer (docker info: ${info//$'\n'/ }); start it (systemctl start docker)"
fi
IFS='|' read -r root version driver <<<"$info"
[ -n "$root" ] || die "docker info on host $SEALBENCH_HOST reported no data root"
if [ -n "$user" ] && ! id -nG "$user" | tr ' ' '\n' | grep -qxF docker; then
    getent group docker >/dev/null || die "host $SEALBENCH_HOST has no docker group, which $user needs to reach the engine over SSH; install Docker Engine from the distribution or docker.com (both make the group)"
    [ -n "$state" ] || die "SEALBENCH_DOCKER_STATE is required with SEALBENCH_DOCKER_USER"
    usermod -aG docker -- "$user"
    write_if_changed "$state" "added $user to docker" >/dev/null
    log "put $user in the docker group: the Docker provider reaches the engine over SSH as $user"
fi
log "host $SEALBENCH_HOST: Docker $version, storage driver $driver"
echo "docker_root_dir=$root"

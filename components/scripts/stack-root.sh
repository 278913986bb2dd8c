#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The stack's root folder (`sealbench:root`: the dev stack's .sealbench/dev-root, a test's own
# folder), under which every host path of the stack lies. create makes it. delete runs after every
# other step's delete (all of them depend on this step) and removes the folders they left empty
# under it, then the root itself when nothing is left: each step removes its own files, and this
# one only empty folders, never a file, never across a mount, never outside the root.
#
# Inputs: SEALBENCH_HOST, SEALBENCH_STACK_ROOT (absolute, at least two levels below /).
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-stack-root}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline

action=$(action_arg "${1:-}")
require_env SEALBENCH_HOST SEALBENCH_STACK_ROOT
root=${SEALBENCH_STACK_ROOT%/}
case "$root" in
    /*/*) ;;
    *) die "stack root '$SEALBENCH_STACK_ROOT' must be an absolute folder at least two levels below / (e.g. /home/me/sealbench/.sealbench/dev-root)" ;;
esac
case "/$root/" in */../* | */./*) die "stack root '$root' must not contain . or .. components" ;; esac

if [ "$action" = create ]; then
    mkdir -p -- "$root"
    exit 0
fi

[ -d "$root" ] || exit 0
# -depth: a folder is judged after its children, so one emptied by this pass goes too.
# A mount point is never removed: -xdev keeps find out of a mounted filesystem but still lists
# its mount point, and deleting an empty one fails with "Device or resource busy" (found by the
# ssh e2e test: an existing big disk mounted under the root, still empty when an up failed early).
find "$root" -xdev -depth -mindepth 1 -type d -empty ! -exec mountpoint -q {} \; -delete
if rmdir -- "$root" 2>/dev/null; then
    log "removed $root (empty)"
else
    log "kept $root: $(find "$root" -xdev -mindepth 1 -not -type d | wc -l) file(s) remain under it"
fi

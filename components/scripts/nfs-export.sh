#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The group's NFS server: our export lines in the exports file, between
#   # sealbench:<host>:nfs-export begin   …   # sealbench:<host>:nfs-export end
# (delete removes that block only; every other line stays), written through a temp name and a
# rename. The notes' P1 host served /sealer to the group; the tree under the export (nfs/<ip>/
# {cache,sealed}, p3cache, owned by the worker, 2775) is the layout step's, run before this one.
#
# The system's server: with SEALBENCH_NFS_MANAGE_SERVICE=true (a real host) the NFS server
# package is installed when exportfs is missing (nfs-kernel-server with apt-get, nfs-utils with
# dnf or yum), nfs-server is enabled and started, and `exportfs -ra` loads the file. Any of that
# failing fails the step: a member would otherwise hang on a share nobody serves. With "false"
# (nfsServer.manageService: false, for a server the operator's own tooling runs; or a stack with a
# root, whose file no system server reads) only the file is written: the step says so and
# installs, starts and reloads nothing.
#
# Inputs: SEALBENCH_HOST, SEALBENCH_EXPORTS_FILE, SEALBENCH_NFS_EXPORT (the folder),
# SEALBENCH_EXPORT_LINES (our lines, each starting with the folder), SEALBENCH_NFS_MANAGE_SERVICE.
set -euo pipefail
SEALBENCH_STEP=${SEALBENCH_STEP:-nfs-export}
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # sealbench:inline

action=$(action_arg "${1:-}")
require_env SEALBENCH_HOST SEALBENCH_EXPORTS_FILE
file=$SEALBENCH_EXPORTS_FILE
manage=${SEALBENCH_NFS_MANAGE_SERVICE:-true}
case "$manage" in true | false) ;; *) die "SEALBENCH_NFS_MANAGE_SERVICE must be true or false, got '$manage'" ;; esac
begin="# sealbench:$SEALBENCH_HOST:nfs-export begin"
end="# sealbench:$SEALBENCH_HOST:nfs-export end"

# The file without our block. A begin without its end (or the reverse) is a hand edit we cannot
# read safely: refused rather than guessed at.
others() {
    [ -f "$file" ] || return 0
    awk -v b="$begin" -v e="$end" -v f="$file" '
        $0 == b { if (inside) { bad = "a second begin marker"; exit } inside = 1; next }
        $0 == e { if (!inside) { bad = "an end marker without a begin"; exit } inside = 0; next }
        !inside { print }
        END { if (bad == "" && inside) bad = "a begin marker without an end"; if (bad != "") { print f ": " bad " (" b "); fix the file by hand" > "/dev/stderr"; exit 3 } }
    ' "$file"
}

# reload: make the system's server read the file again (real hosts only).
reload() {
    if [ "$manage" != true ]; then
        log "NFS service not managed (nfsServer.manageService: false, or a stack root): nothing installed, started or reloaded; whatever serves ${SEALBENCH_NFS_EXPORT:-the export} must read $file"
        return 0
    fi
    exportfs -ra || die "exportfs -ra failed on host $SEALBENCH_HOST; check $file (exportfs prints the bad line)"
    log "exportfs -ra: $file loaded"
}

if [ "$action" = delete ]; then
    kept=$(others) || die "cannot remove our export lines from $file"
    if [ -f "$file" ] && grep -qxF -- "$begin" "$file"; then
        # A file that held nothing but our block was ours (a stock host has no /etc/exports).
        if [ -z "$kept" ]; then
            rm -f -- "$file"
            log "exports $file: removed (it held only our block)"
        else
            log "exports $file: $(write_if_changed "$file" "$kept")"
        fi
        if [ "$manage" != true ] || command -v exportfs >/dev/null; then reload; fi
    fi
    # The package and the service stay: other exports may use them, and removing a server under
    # mounted clients would hang them.
    exit 0
fi

require_env SEALBENCH_NFS_EXPORT SEALBENCH_EXPORT_LINES
folder=${SEALBENCH_NFS_EXPORT%/}

# --- checks, before anything changes -------------------------------------------------------
case "$folder" in /?*) ;; *) die "export '$SEALBENCH_NFS_EXPORT' must be an absolute path other than /" ;; esac
[ -d "$folder" ] || die "export $folder does not exist on host $SEALBENCH_HOST; the layout step makes it (is it declared as nfsServer.export, and did layout run?)"
while IFS= read -r line; do
    [ -n "$line" ] || continue
    case "$line" in "$folder "*) ;; *) die "export line '$line' does not start with the export $folder" ;; esac
    case "$line" in *"#"*) die "export line '$line' contains '#', which starts a comment in exports(5)" ;; esac
done <<<"$SEALBENCH_EXPORT_LINES"
kept=$(others) || die "cannot place our export lines in $file"
# The same folder exported by a line that is not ours: exportfs would merge both, and who may
# mount it would be decided by a line this stack does not see.
if printf '%s\n' "$kept" | awk -v p="$folder" '$1 == p || $1 == p "/" { found = 1 } END { exit !found }'; then
    die "$file already exports $folder in a line that is not sealbench's; remove that line or export another folder"
fi

if [ "$manage" = true ]; then
    command -v systemctl >/dev/null || die "host $SEALBENCH_HOST has no systemctl; start an NFS server by other means and run exportfs -ra (this step manages only systemd hosts)"
    if ! command -v exportfs >/dev/null; then
        if command -v apt-get >/dev/null; then
            log "installing nfs-kernel-server (exportfs is missing)"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q nfs-kernel-server >/dev/null ||
                { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nfs-kernel-server >/dev/null; } ||
                die "apt-get could not install nfs-kernel-server on host $SEALBENCH_HOST"
        elif command -v dnf >/dev/null; then
            log "installing nfs-utils (exportfs is missing)"
            dnf install -y -q nfs-utils >/dev/null || die "dnf could not install nfs-utils on host $SEALBENCH_HOST"
        elif command -v yum >/dev/null; then
            log "installing nfs-utils (exportfs is missing)"
            yum install -y -q nfs-utils >/dev/null || die "yum could not install nfs-utils on host $SEALBENCH_HOST"
        else
            die "host $SEALBENCH_HOST has no exportfs and none of apt-get, dnf, yum; install the NFS server (nfs-kernel-server or nfs-utils) by hand"
        fi
        command -v exportfs >/dev/null || die "exportfs is still missing on host $SEALBENCH_HOST after installing the NFS server package"
    fi
fi

# --- changes -------------------------------------------------------------------------------
content=$kept
[ -z "$content" ] || content+=$'\n'
content+="$begin"$'\n'"$SEALBENCH_EXPORT_LINES"$'\n'"$end"
log "exports $file: $(write_if_changed "$file" "$content")"
if [ "$manage" = true ]; then
    # nfs-server.service on RHEL and Debian alike (Debian's nfs-kernel-server is an alias of it).
    systemctl enable --now nfs-server >/dev/null 2>&1 || die "systemctl enable --now nfs-server failed on host $SEALBENCH_HOST; see journalctl -u nfs-server"
fi
reload
log "serving $folder"

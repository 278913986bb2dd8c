// The worker unit and config.toml the real-systemd tests install, in the shape the product will
// render (issue 12). The tests read what they assert from these texts (User=, CPUAffinity=,
// LimitNOFILE=, Environment=, RestartSec=, ExecStart=, StandardOutput=), so the renderer's output
// can replace `unitText` and `configToml` here without touching the tests: keep the other fields
// (the user's uid/gid, which a unit names only by name) in step with them.

export interface WorkerFixtureOptions {
    /** The stub scheduler's URL, e.g. http://127.0.0.1:40123 (the container shares this machine's network). */
    schedulerUrl: string;
    /** The unit's CPUAffinity= (systemd's syntax: "1", "0-1", "0 2"). */
    cpus?: string;
    /** The first [[worker]]'s wait_sec: short in tests so that polls come within seconds. */
    waitSec?: number;
    groupId?: number;
    /** The storage node address the worker names its nfs folder after. */
    ip?: string;
    bellmanProofThreads?: number;
    limitNofile?: number;
}

export interface WorkerFixture {
    unitName: string;
    unitText: string;
    configToml: string;
    user: string;
    uid: number;
    gid: number;
    cpus: string;
    workingDirectory: string;
    logFile: string;
}

export function workerFixture(opts: WorkerFixtureOptions): WorkerFixture {
    const cpus = opts.cpus ?? "1";
    const groupId = opts.groupId ?? 1;
    const ip = opts.ip ?? "10.10.19.17";
    const workingDirectory = "/opt/force-remote-worker";
    const logFile = "/sealer/logs/force-remote-worker.log";
    const unitText = `[Unit]
Description=force-remote-worker of sealbench host p1 (group ${groupId})
Wants=network-online.target
After=network-online.target remote-fs.target
RequiresMountsFor=/sealer

[Service]
Type=simple
User=fil
Group=fil
WorkingDirectory=${workingDirectory}
Environment=RUST_LOG=debug
Environment=RUST_BACKTRACE=1
Environment=BELLMAN_PROOF_THREADS=${opts.bellmanProofThreads ?? 3}
ExecStart=${workingDirectory}/force-remote-worker
LimitNOFILE=${opts.limitNofile ?? 1048576}
CPUAffinity=${cpus}
Restart=on-failure
RestartSec=2
StandardOutput=append:${logFile}
StandardError=inherit

[Install]
WantedBy=multi-user.target
`;
    const configToml = `scheduler_url = "${opts.schedulerUrl}"
local_dir = "/sealer"
copy_limit_mb_per_sec = 500
group_id = [ ${groupId} ]
sector_size = 536870912
ip = "${ip}"

[[worker]]
num = 1
supported_phase = ["PreCommitPhase1", "PreCommitPhase2", "CommitPhase1", "CommitPhase2"]
wait_sec = ${opts.waitSec ?? 1}

[[worker]]
num = 1
supported_phase = ["CopyTask", "CleanTask"]
wait_sec = ${opts.waitSec ?? 1}
`;
    return { unitName: "force-remote-worker.service", unitText, configToml, user: "fil", uid: 2001, gid: 2001, cpus, workingDirectory, logFile };
}

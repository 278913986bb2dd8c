// The notes' own benchy runs (seeds/000), as logs: the twelve p2 start and end lines exactly as
// benchy logged them, and the p4 of `benchy-p34-32cpu-4bench-1.log`. Shared by the durations and
// report tests.

/** [log, start, end] of the notes' twelve p2 runs. */
export const P2: [string, string, string][] = [
    ["benchy-p2-23cpu-1.log", "2020-07-19 02:35:20", "2020-07-19 04:45:50"],
    ["benchy-p2-23cpu-2.log", "2020-07-19 02:56:48", "2020-07-19 05:10:47"],
    ["benchy-p2-23cpu-3.log", "2020-07-19 02:55:39", "2020-07-19 05:07:35"],
    ["benchy-p2-23cpu-4.log", "2020-07-19 02:52:40", "2020-07-19 04:50:48"],
    ["benchy-p2-30cpu-1.log", "2020-07-18 12:14:49", "2020-07-18 13:59:04"],
    ["benchy-p2-30cpu-2.log", "2020-07-18 12:16:50", "2020-07-18 14:02:49"],
    ["benchy-p2-30cpu-3.log", "2020-07-18 12:22:32", "2020-07-18 13:57:59"],
    ["benchy-p2-46cpu-1.log", "2020-07-17 09:02:10", "2020-07-17 10:08:25"],
    ["benchy-p2-46cpu-2.log", "2020-07-18 05:19:50", "2020-07-18 06:18:40"],
    ["benchy-p2-7742-task-1.log", "2020-07-17 09:02:10", "2020-07-17 10:08:25"],
    ["benchy-p2-7742-task-2.log", "2020-07-18 05:19:50", "2020-07-18 06:18:40"],
    ["benchy-p2-cpu30-3.log", "2020-07-18 12:22:32", "2020-07-18 13:57:59"],
];

/** A p2 log as the notes' fork writes it: the cache-dir line, the start, work, and benchy moving on. */
export function p2Log(start: string, end: string): string {
    return [
        `thread_id: ThreadId(1) ${start.slice(0, 17)}15 INFO [benchy::force] using cache dir "p2-test2", sealed file "/mnt/storage/./.tmpJLmg0A", thread id is ThreadId(1)`,
        `thread_id: ThreadId(1) ${start} INFO [filecoin_proofs::api::seal_pledge] seal_pre_commit_phase2_all_zero: start`,
        `thread_id: ThreadId(9) ${start} DEBUG [storage_proofs::porep] generating tree c`,
        `thread_id: ThreadId(1) ${end} INFO [benchy::force] p34 disabled`,
    ].join("\n");
}

/** The notes' p4: from loaded groth parameters to seal_commit_phase2:finish (48:40). */
export const P4_LOG = [
    "thread_id: ThreadId(1) 2020-07-21 12:20:01 INFO [filecoin_proofs::api::seal] seal_commit_phase2:start",
    "thread_id: ThreadId(1) 2020-07-21 12:23:48 INFO [filecoin_proofs::api::seal] got groth params (34359738368) while sealing",
    "thread_id: ThreadId(1) 2020-07-21 13:12:28 INFO [filecoin_proofs::api::seal] seal_commit_phase2:finish",
].join("\n");

/** The notes' C2 out of memory: the panic while the 45 GB parameter file is read, before "got groth params". */
export const P4_OOM_LOG = [
    "thread_id: ThreadId(1) 2020-07-21 09:00:00 INFO [filecoin_proofs::api::seal] seal_commit_phase2:start",
    "thread_id: ThreadId(1) 2020-07-21 09:04:12 INFO [filecoin_proofs::parameter_cache] read parameters from cache",
    "thread '<unnamed>' panicked at 'index 42671800440 out of range for slice of length 42671800320', src/libcore/slice/mod.rs:2725:5",
    "stack backtrace:",
    "   0: backtrace::backtrace::libunwind::trace",
    "             at /cargo/registry/src/github.com-1ecc6299db9ec823/backtrace-0.3.44/src/backtrace/libunwind.rs:86",
].join("\n");

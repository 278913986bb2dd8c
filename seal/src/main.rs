//! sealbench-seal: seals ONE 2 KiB sector with the real proofs library (filecoin-proofs) —
//! PreCommit1, PreCommit2, Commit1, Commit2, then verifies the proof — so the dev stack's slots
//! seal for real. Upstream benchy (`fil-proofs-tooling`) is not published on crates.io and the
//! notes' `benchy force` is a private fork, hence this small program.
//!
//! Log lines go to stderr in the notes' benchy format
//! (`thread_id: ThreadId(1) 2020-07-19 02:35:20.123 INFO [target] message`), so
//! `npm run durations` reads the library's own phase markers (`seal_pre_commit_phase1:start` …).
//! The last line on stdout is a JSON report: per-phase wall and CPU time, and what the process
//! ran with (sector size, CPUs allowed by sched_getaffinity, thread pools).
//!
//!   sealbench-seal [--scratch DIR]     (default: $TMPDIR; one of them is required)
//!
//! Every file it writes (staged, sealed, cache, SDR parents) goes under the scratch folder; only
//! the Groth parameters live elsewhere, in FIL_PROOFS_PARAMETER_CACHE (default <scratch>/params).

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context, Result};
use filecoin_proofs::constants::{
    DefaultPieceHasher, SectorShape2KiB, MAX_LEGACY_REGISTERED_SEAL_PROOF_ID, SECTOR_SIZE_2_KIB,
};
use filecoin_proofs::parameters::public_params;
use filecoin_proofs::types::{PoRepConfig, UnpaddedBytesAmount};
use filecoin_proofs::{
    add_piece, generate_piece_commitment, seal_commit_phase1, seal_commit_phase2,
    seal_pre_commit_phase1, seal_pre_commit_phase2, verify_seal,
};
use log::{info, Level, LevelFilter, Log, Metadata, Record};
use rand::rngs::OsRng;
use rand::RngCore;
use serde_json::json;
use storage_proofs_core::api_version::ApiVersion;
use storage_proofs_core::compound_proof::CompoundProof;
use storage_proofs_core::parameter_cache::CacheableParameters;
use storage_proofs_core::sector::SectorId;
use storage_proofs_porep::stacked::{StackedCircuit, StackedCompound, StackedDrg};

type Tree = SectorShape2KiB;

// ---------------------------------------------------------------------------------------------
// Logging in the notes' format. Our own logger rather than env_logger/fil_logger: the format is
// what `npm run durations` parses, and it keeps the crate count (and the cold build) down.

struct NotesLogger {
    level: LevelFilter,
}

// filecoin_proofs logs "got groth params (2048) while sealing" — the parser's start of p4 (C2
// once the parameters are loaded) — at trace level, so that one target is always at trace.
const C2_TARGET: &str = "filecoin_proofs::api::seal";

impl Log for NotesLogger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= self.level || (m.target() == C2_TARGET && m.level() <= Level::Trace)
    }
    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        if r.target() == C2_TARGET && r.level() == Level::Trace && self.level < LevelFilter::Trace {
            // Only the parameter-loaded marker, not every trace line of that module.
            if !format!("{}", r.args()).starts_with("got groth params") {
                return;
            }
        }
        let line = format!(
            "thread_id: {:?} {} {} [{}] {}\n",
            std::thread::current().id(),
            utc_stamp(SystemTime::now()),
            r.level(),
            r.target(),
            r.args()
        );
        // One write per line, so lines of parallel threads never interleave mid-line.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    fn flush(&self) {}
}

/// `2026-12-01 11:00:48.123456` in UTC: benchy's stamps carry no zone, and the durations parser
/// subtracts stamps of one log, so any one zone works; microseconds because a 2 KiB phase takes
/// a few milliseconds (whole seconds would time it as 0).
fn utc_stamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        d.subsec_micros()
    )
}

fn log_level() -> Result<LevelFilter> {
    // A bare level only (the slots pass RUST_LOG=info); module filters are not supported.
    match std::env::var("RUST_LOG") {
        Err(_) => Ok(LevelFilter::Info),
        Ok(v) => v.parse::<LevelFilter>().map_err(|_| {
            anyhow::anyhow!(
                "RUST_LOG={v:?}: expected one level (off, error, warn, info, debug, trace)"
            )
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// What the process runs with, and what each phase costs.

/// CPUs this process may run on, as the kernel's sched_getaffinity reports them (a container's
/// --cpuset-cpus shows up here).
fn allowed_cpus() -> Result<Vec<usize>> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it for pid 0 (this thread).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            bail!("sched_getaffinity: {}", std::io::Error::last_os_error());
        }
        Ok((0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect())
    }
}

/// User + system CPU time of the whole process (all threads), in milliseconds.
fn cpu_ms() -> f64 {
    // SAFETY: rusage is plain data; getrusage(RUSAGE_SELF) cannot fail with a valid pointer.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(ru.ru_utime) + ms(ru.ru_stime)
}

struct Phases(Vec<serde_json::Value>);

impl Phases {
    /// Runs one phase, logging its wall and CPU time under our own target (the library logs the
    /// start and finish markers itself).
    fn run<T>(&mut self, phase: &str, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let (wall0, cpu0) = (Instant::now(), cpu_ms());
        let out = f().with_context(|| format!("{name} ({phase}) failed"))?;
        let wall_ms = wall0.elapsed().as_secs_f64() * 1e3;
        let cpu = cpu_ms() - cpu0;
        info!("phase {phase} {name}: wall_ms={wall_ms:.1} cpu_ms={cpu:.1}");
        self.0.push(json!({ "phase": phase, "name": name, "wall_ms": wall_ms, "cpu_ms": cpu }));
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Scratch and parameters.

struct Paths {
    scratch: PathBuf,
    params: PathBuf,
}

const USAGE: &str =
    "usage: sealbench-seal [--scratch DIR] [--params-only | --check-params]   (scratch default: $TMPDIR)";

struct Args {
    scratch: PathBuf,
    /// Only make sure the Groth parameters are in the cache (CI warms the cache with it).
    params_only: bool,
    /// Only say whether they are (exit 3 if not): tests must not start a 13-minute generation.
    check_params: bool,
}

/// Exit status of --check-params when the parameters are missing.
const EXIT_NO_PARAMS: i32 = 3;

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let (mut scratch, mut params_only, mut check_params) = (None, false, false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--scratch" => {
                scratch = Some(PathBuf::from(args.next().context("--scratch needs a folder")?))
            }
            "--params-only" => params_only = true,
            "--check-params" => check_params = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    ensure!(!(params_only && check_params), "--params-only and --check-params exclude each other; {USAGE}");
    Ok(Args { scratch: scratch_folder(scratch)?, params_only, check_params })
}

fn scratch_folder(scratch: Option<PathBuf>) -> Result<PathBuf> {
    let dir = match scratch.or_else(|| std::env::var_os("TMPDIR").map(PathBuf::from)) {
        Some(d) => d,
        // No silent /tmp: on a slot that is the container's overlay2, the notes' 32 GB leak.
        None => bail!("no scratch folder: pass --scratch DIR or set TMPDIR to the slot's host folder"),
    };
    ensure!(dir.is_dir(), "scratch folder {} does not exist (or is not a folder)", dir.display());
    dir.canonicalize().with_context(|| format!("scratch folder {}", dir.display()))
}

/// Points every path the proofs library would write by default (/var/tmp/filecoin-parents,
/// /var/tmp/filecoin-proof-parameters, the system temp folder) into the scratch folder. Must run
/// before the library's settings are first read (a lazy static) and before any thread starts.
fn confine_to(scratch: &Path) -> Result<Paths> {
    std::env::set_var("TMPDIR", scratch);
    // FIL_PROOFS_CACHE_DIR is the base of every default cache path; the parent cache is named
    // too, so a FIL_PROOFS_PARENT_CACHE inherited from the host cannot send it elsewhere.
    std::env::set_var("FIL_PROOFS_CACHE_DIR", format!("{}/", scratch.display()));
    std::env::set_var("FIL_PROOFS_PARENT_CACHE", scratch.join("parents"));
    let params = match std::env::var_os("FIL_PROOFS_PARAMETER_CACHE") {
        Some(p) => PathBuf::from(p),
        None => {
            let p = scratch.join("params");
            std::env::set_var("FIL_PROOFS_PARAMETER_CACHE", &p);
            p
        }
    };
    fs::create_dir_all(&params)
        .with_context(|| format!("parameter cache FIL_PROOFS_PARAMETER_CACHE={}", params.display()))?;
    Ok(Paths { scratch: scratch.to_path_buf(), params })
}

/// The library loads Groth parameters from the cache and fails when they are missing
/// (filecoin-proofs calls the parameter cache without a random source). The real 2 KiB ones come
/// from the parameter gateway; offline, we generate them the way upstream's paramcache does
/// (storage-proofs-core writes them into the cache), once per cache. Generated parameters are
/// not the trusted-setup ones: fine for timing, not for a chain.
fn parameters_present(config: &PoRepConfig) -> Result<(bool, PathBuf)> {
    let params_file = config.get_cache_params_path::<Tree>()?;
    let vk_file = config.get_cache_verifying_key_path::<Tree>()?;
    Ok((params_file.exists() && vk_file.exists(), params_file))
}

fn ensure_parameters(config: &PoRepConfig) -> Result<bool> {
    let (present, params_file) = parameters_present(config)?;
    if present {
        info!("groth params found: {}", params_file.display());
        return Ok(false);
    }
    info!("groth params missing, generating: {}", params_file.display());
    let pp = public_params::<Tree>(config)?;
    let circuit = <StackedCompound<Tree, DefaultPieceHasher> as CompoundProof<
        StackedDrg<'_, Tree, DefaultPieceHasher>,
        StackedCircuit<Tree, DefaultPieceHasher>,
    >>::blank_circuit(&pp);
    StackedCompound::<Tree, DefaultPieceHasher>::get_param_metadata(circuit.clone(), &pp)?;
    StackedCompound::<Tree, DefaultPieceHasher>::get_groth_params(Some(&mut OsRng), circuit.clone(), &pp)?;
    StackedCompound::<Tree, DefaultPieceHasher>::get_verifying_key(Some(&mut OsRng), circuit, &pp)?;
    ensure!(params_file.exists(), "generated parameters but {} is not there", params_file.display());
    Ok(true)
}

// ---------------------------------------------------------------------------------------------

fn main() {
    if let Err(e) = run() {
        eprintln!("sealbench-seal: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let started = Instant::now();
    let args = parse_args()?;
    let paths = confine_to(&args.scratch)?;
    log::set_logger(Box::leak(Box::new(NotesLogger { level: log_level()? })))
        .map(|()| log::set_max_level(LevelFilter::Trace))
        .map_err(|e| anyhow::anyhow!("installing the logger: {e}"))?;

    let cpus = allowed_cpus()?;
    let parallelism = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    // StackedDrg2KiBV1_1, the first non-legacy registered proof, as lotus' 2 KiB devnets seal.
    let registered_proof = MAX_LEGACY_REGISTERED_SEAL_PROOF_ID + 1;
    let mut porep_id = [0u8; 32];
    porep_id[..8].copy_from_slice(&registered_proof.to_le_bytes());
    let config = PoRepConfig::new_groth16(SECTOR_SIZE_2_KIB, porep_id, ApiVersion::V1_1_0);
    info!(
        "sealbench-seal: sector size {SECTOR_SIZE_2_KIB} B, registered proof {registered_proof}, cpus allowed {cpus:?}, \
         available parallelism {parallelism}, rayon threads {}, scratch {}, parameters {}",
        rayon::current_num_threads(),
        paths.scratch.display(),
        paths.params.display()
    );

    if args.check_params {
        let (present, params_file) = parameters_present(&config)?;
        if !present {
            eprintln!(
                "sealbench-seal: no Groth parameters (or verifying key) at {}; make them with sealbench-seal --params-only (about 15 min on 2 CPUs)",
                params_file.display()
            );
            std::process::exit(EXIT_NO_PARAMS);
        }
        println!("{}", params_file.display());
        return Ok(());
    }

    let mut phases = Phases(Vec::new());
    let generated = phases.run("params", "groth_params", || ensure_parameters(&config))?;
    if args.params_only {
        println!("{}", json!({ "parameter_cache": paths.params, "parameters_generated": generated, "phases": phases.0 }));
        return Ok(());
    }

    let mut rng = OsRng;
    // Within 2^32, as miners number sectors, and exact in the JSON report read by JavaScript.
    let sector_id = SectorId::from(u64::from(rng.next_u32()));
    let (mut prover_id, mut ticket, mut seed) = ([0u8; 32], [0u8; 32], [0u8; 32]);
    rng.fill_bytes(&mut prover_id);
    rng.fill_bytes(&mut ticket);
    rng.fill_bytes(&mut seed);
    // Field elements are < 2^255: the top bits of the last byte must be clear.
    prover_id[31] &= 0x3f;

    let dir = paths.scratch.join(format!("sector-{}", u64::from(sector_id)));
    let cache = dir.join("cache");
    fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let (staged, sealed) = (dir.join("staged"), dir.join("sealed"));

    // One piece filling the sector, of random bytes (as upstream's own lifecycle tests).
    let piece_size = UnpaddedBytesAmount::from(config.padded_bytes_amount());
    let mut piece = vec![0u8; u64::from(piece_size) as usize];
    rng.fill_bytes(&mut piece);
    let piece_info = generate_piece_commitment(&piece[..], piece_size)?;
    let mut staged_file = File::create(&staged).with_context(|| format!("creating {}", staged.display()))?;
    add_piece(&piece[..], &mut staged_file, piece_size, &[])?;
    staged_file.seek(SeekFrom::Start(0))?;
    drop(staged_file);
    OpenOptions::new().create(true).truncate(true).write(true).open(&sealed)
        .with_context(|| format!("creating {}", sealed.display()))?;
    let pieces = [piece_info];

    let p1 = phases.run("p1", "seal_pre_commit_phase1", || {
        seal_pre_commit_phase1::<_, _, _, Tree>(&config, &cache, &staged, &sealed, prover_id, sector_id, ticket, &pieces)
    })?;
    let pre = phases.run("p2", "seal_pre_commit_phase2", || seal_pre_commit_phase2(&config, p1, &cache, &sealed))?;
    let (comm_r, comm_d) = (pre.comm_r, pre.comm_d);
    let c1 = phases.run("p3", "seal_commit_phase1", || {
        seal_commit_phase1::<_, Tree>(&config, &cache, &sealed, prover_id, sector_id, ticket, seed, pre, &pieces)
    })?;
    let c2 = phases.run("p4", "seal_commit_phase2", || seal_commit_phase2::<Tree>(&config, c1, prover_id, sector_id))?;
    let verified = phases.run("verify", "verify_seal", || {
        verify_seal::<Tree>(&config, comm_r, comm_d, prover_id, sector_id, ticket, seed, &c2.proof)
    })?;
    ensure!(verified, "the proof of sector {} does not verify", u64::from(sector_id));

    let report = json!({
        "sector_size": SECTOR_SIZE_2_KIB,
        "registered_proof": registered_proof,
        "sector_id": u64::from(sector_id),
        "cpus_allowed": cpus,
        "available_parallelism": parallelism,
        "rayon_threads": rayon::current_num_threads(),
        "scratch": paths.scratch,
        "parameter_cache": paths.params,
        "parameters_generated": generated,
        "proof_bytes": c2.proof.len(),
        "verified": verified,
        "phases": phases.0,
        "wall_ms": started.elapsed().as_secs_f64() * 1e3,
        "cpu_ms": cpu_ms(),
    });
    info!("sealbench-seal: sector {} sealed and verified", u64::from(sector_id));
    println!("{report}");
    Ok(())
}

//! Benchmark: layercache against the seed's hand-written recipes, on the real engine.
//!
//!     cargo run --release --example cache_benchmark [-- --runs N] [--scenario all|rebuild|chain]
//!
//! The app is `examples/bench-app`: a builder stage with an expensive dependency step (a few
//! seconds, ~20 MB of layer data), then the source, then a compile step, and a slim final stage.
//! Two scenarios; by default both run, the rebuild one first.
//!
//! `rebuild`: for each strategy and each of `--runs` runs, in a repository of its own, the
//! benchmark wipes the runner, times a cold build, changes only the source, wipes again and times
//! the rebuild:
//!
//! - `seed-single`: pull `:latest || true`, build with `--cache-from :latest`, push;
//! - `seed-multi`: the hand-written per-target recipe (builder target with its own cache tag);
//! - `layercache`: `layercache build` with the default settings;
//! - `local-warm`: the same `layercache build`, but the rebuild keeps the local cache: the floor
//!   that no registry cache can beat, since it runs the same steps with nothing to fetch.
//!
//! `chain`: a two-run scenario cannot show BuildKit's alternating miss (an inline cache exported
//! by a run whose early steps were cache hits lacks those steps, so the next runner misses them;
//! see ENGINE.md). So each strategy gets a chain of six CI runs in a fresh repository of its own,
//! each run changing the source and starting from a wiped runner: `seed-single`, `seed-multi`,
//! `layercache`, and `layercache-no-reexport` (`layercache build --no-reexport`, which pushes
//! each stage as built, without re-exporting it from the local cache first). It counts the runs
//! after the first whose dependency step hit, and sums the six runs' wall times. The chain runs
//! once per strategy, whatever `--runs` says: the whole default benchmark has to stay within
//! five minutes.
//!
//! Note that `seed-multi` pulls its cache images before building (`docker pull ... || true`),
//! and on the e2e engine (dockerd 20.10) that pull alone kept a chain warm: its dependency step
//! hit in every run after the first, and so did `layercache build --no-reexport --pull always`,
//! while `--no-reexport` without the pull alternated. Against that recipe layercache's chain can
//! only be about as fast, not 0.6 times its total.
//!
//! It prints a table per scenario to stdout, writes every raw figure to
//! `target/cache_benchmark.json`, and prints the targets as PASS/FAIL lines. It is a benchmark,
//! not a test: a missed target does not change the exit status; a failed docker command does.
//!
//! It uses the engine of `scripts/engine-up.sh` (which starts one only when none answers) and
//! the BuildKit client it names, for every strategy. It never stops the engine, and it leaves
//! the registry's content in place (the registry cannot drop blobs while it serves); its own
//! images are removed after each phase.
//!
//! The end-to-end tests (`cargo test --test main e2e::`) prune the same engine's builder cache:
//! before each phase (a cold build and its rebuild; one run of a chain) the benchmark waits while
//! one of their processes runs, and during a phase it holds the file lock they take around each
//! test, so neither spoils the other's cache.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const DEFAULT_RUNS: usize = 3;

/// The runs of one chain: the first from an empty registry, then five that can hit.
const CHAIN_RUNS: usize = 6;

/// The chain targets: layercache's chain total at most this share of seed-multi's.
const CHAIN_TOTAL_FACTOR: f64 = 0.6;

/// How BuildKit's progress output names the dependency step of `examples/bench-app`.
const DEPS_STEP: &str = "RUN sh install-deps.sh";

/// The processes of the integration-test crate (`target/debug/deps/main-<hash>`), where the
/// end-to-end tests run: they prune the builder cache, which would spoil these numbers, and our
/// prunes would spoil their tests. Any run of it is waited for, also one filtered to other suites.
const E2E_PROCESS: &str = "deps/main-";

/// The file lock the end-to-end tests take around each test (tests/support/engine.rs): holding it
/// during a phase keeps a test from starting in the middle of one.
const E2E_LOCK_FILE: &str = "layercache-e2e.lock";

const OVERHEAD_LIMIT_MS: f64 = 50.0;
const TIME_LIMIT: Duration = Duration::from_secs(5 * 60);

/// The client probes layercache makes before its first step (src/docker.rs), both at once.
/// They count as its overhead; the benchmark also times them alone, to show how much of it
/// they are.
const PROBES: [(&str, &[&str]); 2] = [
    ("docker --version", &["--version"]),
    ("docker buildx version", &["buildx", "version"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    SeedSingle,
    SeedMulti,
    Layercache,
    LocalWarm,
    /// `layercache build --no-reexport` (chain scenario only).
    NoReexport,
}

impl Strategy {
    /// The strategies of the rebuild scenario, in table order.
    const ALL: [Strategy; 4] = [
        Strategy::SeedSingle,
        Strategy::SeedMulti,
        Strategy::Layercache,
        Strategy::LocalWarm,
    ];

    /// The strategies of the chain scenario, in table order.
    const CHAIN: [Strategy; 4] = [
        Strategy::SeedSingle,
        Strategy::SeedMulti,
        Strategy::Layercache,
        Strategy::NoReexport,
    ];

    fn name(self) -> &'static str {
        match self {
            Strategy::SeedSingle => "seed-single",
            Strategy::SeedMulti => "seed-multi",
            Strategy::Layercache => "layercache",
            Strategy::LocalWarm => "local-warm",
            Strategy::NoReexport => "layercache-no-reexport",
        }
    }

    fn runs_layercache(self) -> bool {
        matches!(
            self,
            Strategy::Layercache | Strategy::LocalWarm | Strategy::NoReexport
        )
    }
}

/// Which scenarios to run (`--scenario`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    All,
    Rebuild,
    Chain,
}

impl Scenario {
    fn rebuild(self) -> bool {
        matches!(self, Scenario::All | Scenario::Rebuild)
    }

    fn chain(self) -> bool {
        matches!(self, Scenario::All | Scenario::Chain)
    }

    fn name(self) -> &'static str {
        match self {
            Scenario::All => "all",
            Scenario::Rebuild => "rebuild",
            Scenario::Chain => "chain",
        }
    }
}

/// The command line.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    runs: usize,
    scenario: Scenario,
}

/// What `scripts/engine-up.sh` exports, as far as the benchmark needs it.
struct Engine {
    registry: String,
    base_image: String,
    /// The client that builds with `DOCKER_BUILDKIT=1` (Debian's 20.10); used for everything.
    docker: PathBuf,
}

struct Bench {
    engine: Engine,
    layercache: PathBuf,
    fixture: PathBuf,
    /// Keeps repositories of this benchmark apart from those of an earlier one whose pid was the
    /// same: a "cold" build must not find an old run's cache in the registry.
    stamp: u64,
    waited: std::cell::Cell<Duration>,
}

/// One timed build of a strategy: a recipe of docker commands, or one layercache run.
#[derive(Debug, Clone)]
struct Build {
    wall_s: f64,
    /// Whether the dependency step came from a cache (None: not found in the output).
    deps_cached: Option<bool>,
    /// layercache's own sum of its docker steps' wall times (layercache runs only).
    docker_s: Option<f64>,
    /// Each docker command and its wall time in seconds: for a recipe as timed here, for
    /// layercache from its own summary (to a tenth of a second).
    steps: Vec<(String, f64)>,
}

impl Build {
    /// layercache's own time: its wall time minus the time its docker steps took.
    fn overhead_ms(&self) -> Option<f64> {
        self.docker_s.map(|d| (self.wall_s - d) * 1000.0)
    }
}

struct Sample {
    strategy: Strategy,
    run: usize,
    repo: String,
    cold: Build,
    rebuild: Build,
}

/// One strategy's chain: its repository and each run's build, run 1 first.
struct Chain {
    strategy: Strategy,
    repo: String,
    runs: Vec<Build>,
}

impl Chain {
    /// Runs after the first whose dependency step came from the cache.
    fn hits_after_first(&self) -> usize {
        self.runs
            .iter()
            .skip(1)
            .filter(|b| b.deps_cached == Some(true))
            .count()
    }

    fn total_s(&self) -> f64 {
        self.runs.iter().map(|b| b.wall_s).sum()
    }

    /// One letter per run: H the dependency step hit, M it re-ran, ? not seen.
    fn pattern(&self) -> String {
        self.runs
            .iter()
            .map(|b| match b.deps_cached {
                Some(true) => 'H',
                Some(false) => 'M',
                None => '?',
            })
            .collect()
    }
}

/// A docker command of a seed recipe; `tolerated` is the recipe's `|| true`.
struct Cmd {
    args: Vec<String>,
    tolerated: bool,
}

impl Cmd {
    fn new(args: &[&str]) -> Cmd {
        Cmd {
            args: args.iter().map(|a| a.to_string()).collect(),
            tolerated: false,
        }
    }

    fn tolerated(args: &[&str]) -> Cmd {
        Cmd {
            tolerated: true,
            ..Cmd::new(args)
        }
    }
}

/// A finished process: its output (stdout, then stderr) is kept, not shown, unless it failed.
struct Ran {
    line: String,
    wall: Duration,
    ok: bool,
    status: String,
    output: String,
}

impl Ran {
    fn into_ok(self) -> Result<Ran> {
        if self.ok {
            return Ok(self);
        }
        Err(anyhow!(self.failure()))
    }

    fn failure(&self) -> String {
        let shown: String = self.output.lines().map(|l| format!("  | {l}\n")).collect();
        format!(
            "`{}` failed ({}). Its output:\n{shown}",
            self.line, self.status
        )
    }
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cache_benchmark: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<()> {
    let args = parse_args(std::env::args().skip(1))?;
    let started = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let layercache = build_layercache(&root)?;
    let waited = wait_for_e2e_tests();
    let engine = engine(&root)?;
    let bench = Bench {
        engine,
        layercache,
        fixture: root.join("examples/bench-app"),
        stamp: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() % 1_000_000)
            .unwrap_or(0),
        waited: std::cell::Cell::new(waited),
    };
    let load_start = load_average();
    let mut rebuild = None;
    if args.scenario.rebuild() {
        let probes = bench.time_probes();
        let samples = bench.rebuild_scenario(args.runs)?;
        rebuild = Some((Report::new(&samples, args.runs), samples, probes));
    }
    let chains = if args.scenario.chain() {
        bench.chain_scenario()?
    } else {
        Vec::new()
    };
    let elapsed = started.elapsed();
    let load = [load_start, load_average()];

    if let Some((report, _, probes)) = &rebuild {
        print!("{}", report.render(&bench, probes));
    }
    if args.scenario.chain() {
        print!("{}", render_chains(&bench, &chains));
    }
    println!("{}", load_line(load));
    println!(
        "benchmark ({} scenario{}) took {:.0} s (limit {} s), of which {:.0} s waiting for \
         end-to-end tests",
        args.scenario.name(),
        if args.scenario == Scenario::All {
            "s"
        } else {
            ""
        },
        elapsed.as_secs_f64(),
        TIME_LIMIT.as_secs(),
        bench.waited.get().as_secs_f64()
    );
    if elapsed > TIME_LIMIT {
        println!("warning: the benchmark ran longer than its 5-minute budget");
    }

    let path = target_dir(&root).join("cache_benchmark.json");
    let mut value = json!({
        "scenario": args.scenario.name(),
        "engine": {"registry": bench.engine.registry, "base_image": bench.engine.base_image,
                   "docker": bench.engine.docker.display().to_string()},
        "layercache": bench.layercache.display().to_string(),
        "total_s": elapsed.as_secs_f64(),
        "waited_for_e2e_s": bench.waited.get().as_secs_f64(),
        "load_average_1min": {"start": load[0], "end": load[1], "cores": cores()},
    });
    if let Some((report, samples, probes)) = &rebuild {
        if let (Some(top), Value::Object(fields)) =
            (value.as_object_mut(), report.json(samples, probes))
        {
            top.extend(fields);
        }
    }
    if args.scenario.chain() {
        value["chain"] = chains_json(&chains);
    }
    let text = serde_json::to_string_pretty(&value)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    println!("raw figures: {}", path.display());
    Ok(())
}

const USAGE: &str = "usage: cargo run --release --example cache_benchmark \
                     [-- --runs N] [--scenario all|rebuild|chain]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args> {
    let mut parsed = Args {
        runs: DEFAULT_RUNS,
        scenario: Scenario::All,
    };
    while let Some(arg) = args.next() {
        let (name, value) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        match name.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--runs" => {
                parsed.runs = value
                    .or_else(|| args.next())
                    .as_deref()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n: &usize| n >= 1)
                    .ok_or_else(|| anyhow!("--runs needs a whole number of at least 1"))?;
            }
            "--scenario" => {
                parsed.scenario = match value.or_else(|| args.next()).as_deref() {
                    Some("all") => Scenario::All,
                    Some("rebuild") => Scenario::Rebuild,
                    Some("chain") => Scenario::Chain,
                    Some(other) => {
                        bail!("unknown scenario `{other}`: --scenario all, rebuild or chain")
                    }
                    None => bail!("--scenario needs a value: all, rebuild or chain"),
                };
            }
            other => bail!("unknown argument `{other}`; {USAGE}"),
        }
    }
    Ok(parsed)
}

// ------------------------------------------------------------------ set-up

/// Builds the release binary and finds it beside this example's own executable
/// (`target/release/examples/cache_benchmark` -> `target/release/layercache`), so that the
/// benchmark measures the code as it is now, whatever `CARGO_TARGET_DIR` says.
fn build_layercache(root: &Path) -> Result<PathBuf> {
    eprintln!("building the release binary (cargo build --release --bin layercache)...");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--bin", "layercache"])
        .current_dir(root);
    run(&mut cmd)?.into_ok()?;
    let exe = std::env::current_exe().context("locating this example's executable")?;
    let release = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("unexpected executable path {}", exe.display()))?;
    let binary = release.join("layercache");
    if !binary.is_file() {
        bail!(
            "{} is missing after `cargo build --release --bin layercache`",
            binary.display()
        );
    }
    Ok(binary)
}

/// `target/`: two levels above `target/release/examples/`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| root.join("target"))
}

/// The engine from the environment when `LAYERCACHE_E2E` is set, else from
/// `scripts/engine-up.sh`, which brings one up (or reuses one) and prints `export K=V` lines.
fn engine(root: &Path) -> Result<Engine> {
    let vars: HashMap<String, String> = if std::env::var_os("LAYERCACHE_E2E").is_some() {
        std::env::vars().collect()
    } else {
        eprintln!("starting or reusing the engine (scripts/engine-up.sh)...");
        let mut cmd = Command::new("bash");
        cmd.arg(root.join("scripts/engine-up.sh")).current_dir(root);
        let ran = run(&mut cmd)?.into_ok()?;
        parse_exports(&ran.output)
    };
    let var = |name: &str| {
        vars.get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| anyhow!("{name} is not set (scripts/engine-up.sh prints it)"))
    };
    Ok(Engine {
        registry: var("LAYERCACHE_E2E_REGISTRY")?,
        base_image: var("LAYERCACHE_E2E_BASE_IMAGE")?,
        docker: PathBuf::from(var("LAYERCACHE_E2E_BUILDKIT_DOCKER")?),
    })
}

/// `export K=V` lines (other lines, such as engine-up's progress on stderr, are ignored).
fn parse_exports(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches(['"', '\'']).to_string()))
        .collect()
}

// ------------------------------------------------------------------ processes

/// Runs a command to the end with its output captured; timing covers spawn to exit.
fn run(cmd: &mut Command) -> Result<Ran> {
    let line = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let started = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("cannot run `{line}`"))?;
    let wall = started.elapsed();
    let status = match out.status.code() {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".to_string(),
    };
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(Ran {
        line,
        wall,
        ok: out.status.success(),
        status,
        output,
    })
}

/// Waits while an end-to-end test process exists, polling every 5 s, and returns how long.
fn wait_for_e2e_tests() -> Duration {
    let started = Instant::now();
    let mut last_note: Option<Instant> = None;
    while let Some(pids) = e2e_pids() {
        if last_note.is_none_or(|t| t.elapsed() >= Duration::from_secs(30)) {
            eprintln!(
                "note: end-to-end tests are running (pid {pids}); waiting for them to finish \
                 before touching the engine (checking every 5 s)"
            );
            last_note = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_secs(5));
    }
    started.elapsed()
}

/// The pids of running end-to-end test processes, if any. Without `pgrep` there is no way to
/// tell, so the benchmark says so and goes on (the file lock still protects each phase).
fn e2e_pids() -> Option<String> {
    match Command::new("pgrep").args(["-f", E2E_PROCESS]).output() {
        Ok(out) if out.status.success() => Some(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Ok(_) => None,
        Err(e) => {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                eprintln!("warning: cannot run pgrep ({e}): not checking for end-to-end tests")
            });
            None
        }
    }
}

// ------------------------------------------------------------------ the benchmark

impl Bench {
    /// Every strategy of the rebuild scenario, `runs` times.
    fn rebuild_scenario(&self, runs: usize) -> Result<Vec<Sample>> {
        let mut samples = Vec::new();
        // Runs outermost, so that a drift of the machine during the benchmark spreads over every
        // strategy instead of landing on one; and each run starts with the next strategy, so that
        // none always follows the same neighbour (and whatever that one leaves the engine doing).
        for run in 1..=runs {
            for k in 0..Strategy::ALL.len() {
                let strategy = Strategy::ALL[(run - 1 + k) % Strategy::ALL.len()];
                let sample = self.measure(strategy, run)?;
                eprintln!("{}", progress_line(&sample, runs));
                samples.push(sample);
            }
        }
        Ok(samples)
    }

    /// One chain per strategy, each in a fresh repository of its own. The chains advance
    /// together, run by run, with the same rotation as the rebuild scenario, so that a drift of
    /// the machine spreads over them; a strategy's repository is all that links its runs.
    fn chain_scenario(&self) -> Result<Vec<Chain>> {
        let mut chains: Vec<Chain> = Strategy::CHAIN
            .iter()
            .map(|&strategy| Chain {
                strategy,
                repo: format!(
                    "{}/bench/chain-{}-{}-{}",
                    self.engine.registry,
                    strategy.name(),
                    std::process::id(),
                    self.stamp
                ),
                runs: Vec::new(),
            })
            .collect();
        for run in 1..=CHAIN_RUNS {
            for k in 0..chains.len() {
                let chain = &mut chains[(run - 1 + k) % Strategy::CHAIN.len()];
                let build = self.chain_run(chain.strategy, &chain.repo, run)?;
                eprintln!(
                    "[chain run {run}/{CHAIN_RUNS}] {:<22} {:6.2} s ({})",
                    chain.strategy.name(),
                    build.wall_s,
                    cached_word(build.deps_cached)
                );
                chain.runs.push(build);
            }
        }
        Ok(chains)
    }

    /// One CI run of a chain: a fresh checkout whose source differs from every other run's, a
    /// wiped runner, one timed build (pull, builds and push, as the strategy does them), and
    /// the runner thrown away: only the registry carries anything to the next run.
    fn chain_run(&self, strategy: Strategy, repo: &str, run: usize) -> Result<Build> {
        let _engine = self.hold_engine()?;
        let built = (|| {
            let context = self.context()?;
            write_source(context.path(), &format!("chain-v{run}"))?;
            self.wipe(repo)?;
            self.build(strategy, repo, context.path())
        })();
        let removed = self.remove_images(repo);
        let build = built?;
        removed?;
        Ok(build)
    }

    /// One strategy, one run: cold build, source change, rebuild, each on a wiped runner
    /// (local-warm keeps the local cache for the rebuild).
    fn measure(&self, strategy: Strategy, run: usize) -> Result<Sample> {
        let _engine = self.hold_engine()?;
        let repo = format!(
            "{}/bench/{}-{run}-{}-{}",
            self.engine.registry,
            strategy.name(),
            std::process::id(),
            self.stamp
        );
        let measured = self.cold_and_rebuild(strategy, &repo);
        // Leave no images behind, also after a failure; the next phase prunes the builder cache.
        let removed = self.remove_images(&repo);
        let (cold, rebuild) = measured?;
        removed?;
        Ok(Sample {
            strategy,
            run,
            repo,
            cold,
            rebuild,
        })
    }

    fn cold_and_rebuild(&self, strategy: Strategy, repo: &str) -> Result<(Build, Build)> {
        let context = self.context()?;
        write_source(context.path(), "v1")?;
        self.wipe(repo)?;
        let cold = self.build(strategy, repo, context.path())?;
        write_source(context.path(), "v2")?;
        if strategy != Strategy::LocalWarm {
            self.wipe(repo)?;
        }
        let rebuild = self.build(strategy, repo, context.path())?;
        Ok((cold, rebuild))
    }

    /// Waits for end-to-end tests to end, then takes their file lock for one phase.
    fn hold_engine(&self) -> Result<File> {
        let waited = wait_for_e2e_tests();
        let path = std::env::temp_dir().join(E2E_LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let lock_started = Instant::now();
        if file.try_lock().is_err() {
            eprintln!(
                "note: an end-to-end test holds {}; waiting for it",
                path.display()
            );
            file.lock()
                .with_context(|| format!("locking {}", path.display()))?;
        }
        self.waited
            .set(self.waited.get() + waited + lock_started.elapsed());
        Ok(file)
    }

    /// A private copy of the fixture, whose source the benchmark rewrites.
    fn context(&self) -> Result<tempfile::TempDir> {
        let dir = tempfile::Builder::new()
            .prefix("layercache-bench-")
            .tempdir()?;
        copy_tree(&self.fixture, dir.path())
            .with_context(|| format!("copying {}", self.fixture.display()))?;
        Ok(dir)
    }

    fn build(&self, strategy: Strategy, repo: &str, context: &Path) -> Result<Build> {
        let base = format!("BASE_IMAGE={}", self.engine.base_image);
        match strategy {
            Strategy::SeedSingle => self.recipe(&seed_single(repo, &base), context),
            Strategy::SeedMulti => self.recipe(&seed_multi(repo, &base), context),
            Strategy::Layercache | Strategy::LocalWarm => {
                self.layercache(repo, &base, context, &[])
            }
            Strategy::NoReexport => self.layercache(repo, &base, context, &["--no-reexport"]),
        }
    }

    /// Runs a seed recipe command by command, as its `sh` script would (stopping at the first
    /// failure that has no `|| true`), and times the whole.
    fn recipe(&self, cmds: &[Cmd], context: &Path) -> Result<Build> {
        let started = Instant::now();
        let mut output = String::new();
        let mut steps = Vec::new();
        for c in cmds {
            let mut cmd = self.docker(&c.args);
            cmd.env("DOCKER_BUILDKIT", "1").current_dir(context);
            let ran = run(&mut cmd)?;
            if !ran.ok && !c.tolerated {
                return Err(anyhow!(ran.failure()));
            }
            output.push_str(&ran.output);
            steps.push((c.args.join(" "), ran.wall.as_secs_f64()));
        }
        Ok(Build {
            wall_s: started.elapsed().as_secs_f64(),
            deps_cached: deps_cached(&output),
            docker_s: None,
            steps,
        })
    }

    /// `layercache build` with its defaults (and `extra`): only the image, the base image and
    /// the client are named. Variables that would change its choices are removed from its
    /// environment.
    fn layercache(&self, repo: &str, base: &str, context: &Path, extra: &[&str]) -> Result<Build> {
        let mut cmd = Command::new(&self.layercache);
        cmd.arg("build")
            .arg("--docker")
            .arg(&self.engine.docker)
            .args(["--image", repo, "--build-arg", base])
            .args(extra)
            .current_dir(context);
        for var in [
            "DOCKER_BUILDKIT",
            "LAYERCACHE_BUILDER",
            "LAYERCACHE_DOCKER",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        let ran = run(&mut cmd)?.into_ok()?;
        let docker_s = docker_seconds(&ran.output).ok_or_else(|| {
            anyhow!(
                "layercache's summary line `layercache: N steps in X.XXXs of docker` is missing \
                 from its output (did src/commands.rs change it?):\n{}",
                ran.output
            )
        })?;
        Ok(Build {
            wall_s: ran.wall.as_secs_f64(),
            deps_cached: deps_cached(&ran.output),
            docker_s: Some(docker_s),
            steps: summary_steps(&ran.output),
        })
    }

    /// A fresh CI runner, as far as `repo` goes: none of its images, and no BuildKit cache.
    /// `docker rmi` alone would leave the builder cache, which answers every step.
    fn wipe(&self, repo: &str) -> Result<()> {
        self.remove_images(repo)?;
        run(&mut self.docker(&["builder", "prune", "-af"]))?.into_ok()?;
        Ok(())
    }

    fn remove_images(&self, repo: &str) -> Result<()> {
        let mut list = self.docker(&[
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.ID}}",
            repo,
        ]);
        let listing = run(&mut list)?.into_ok()?.output;
        // By name where there is one: an id may also carry another repository's tag.
        let mut targets: Vec<&str> = listing
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(name, id)| if name.ends_with(":<none>") { id } else { name })
            .collect();
        targets.sort();
        targets.dedup();
        if targets.is_empty() {
            return Ok(());
        }
        let mut args = vec!["rmi", "-f"];
        args.extend(targets);
        run(&mut self.docker(&args))?.into_ok()?;
        Ok(())
    }

    /// The BuildKit client, without a `DOCKER_BUILDKIT` of the caller's that would change what
    /// housekeeping commands do; recipes set it themselves.
    fn docker<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(&self.engine.docker);
        cmd.args(args).env_remove("DOCKER_BUILDKIT");
        cmd
    }

    /// Median wall time of each client probe layercache makes, over five calls.
    fn time_probes(&self) -> Vec<(String, f64)> {
        PROBES
            .iter()
            .map(|(label, args)| {
                let times: Vec<f64> = (0..5)
                    .filter_map(|_| run(&mut self.docker(args)).ok())
                    .map(|r| r.wall.as_secs_f64() * 1000.0)
                    .collect();
                (label.to_string(), median(&times))
            })
            .collect()
    }
}

/// The seed's single-stage recipe: the whole Dockerfile as one image, cached in `:latest`.
fn seed_single(repo: &str, base: &str) -> Vec<Cmd> {
    let latest = format!("{repo}:latest");
    vec![
        Cmd::tolerated(&["pull", &latest]),
        Cmd::new(&[
            "build",
            "--progress=plain",
            "--cache-from",
            &latest,
            "--build-arg",
            "BUILDKIT_INLINE_CACHE=1",
            "--build-arg",
            base,
            "-t",
            &latest,
            ".",
        ]),
        Cmd::new(&["push", &latest]),
    ]
}

/// The seed's hand-written multi-stage recipe: the builder target with its own cache tag.
fn seed_multi(repo: &str, base: &str) -> Vec<Cmd> {
    let builder = format!("{repo}:builder");
    let latest = format!("{repo}:latest");
    let build = |extra: &[&str]| {
        let mut args = vec!["build", "--progress=plain"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[
            "--build-arg",
            "BUILDKIT_INLINE_CACHE=1",
            "--build-arg",
            base,
            ".",
        ]);
        Cmd::new(&args)
    };
    vec![
        Cmd::tolerated(&["pull", &builder]),
        Cmd::tolerated(&["pull", &latest]),
        build(&[
            "--target",
            "builder",
            "--cache-from",
            &builder,
            "-t",
            &builder,
        ]),
        build(&[
            "--cache-from",
            &builder,
            "--cache-from",
            &latest,
            "-t",
            &latest,
        ]),
        Cmd::new(&["push", &builder]),
        Cmd::new(&["push", &latest]),
    ]
}

/// The source change between the cold build and the rebuild; nothing else changes.
fn write_source(context: &Path, version: &str) -> Result<()> {
    let text = format!("# The app's source.\necho \"bench-app {version}\"\n");
    std::fs::write(context.join("src/main.sh"), text).context("writing src/main.sh")
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ reading docker's output

/// Whether the first build in `output` that has the dependency step took it from a cache.
/// BuildKit's plain progress names a step once (`#7 [builder 3/5] RUN sh install-deps.sh`) and
/// ends it with `#7 CACHED`, `#7 DONE 3.2s` or `#7 ERROR`. Step numbers restart in every build of
/// a recipe, so only the lines after that first naming are read; for the per-target recipes the
/// first build is the builder target, which is where the registry cache has to answer.
fn deps_cached(output: &str) -> Option<bool> {
    let mut lines = output.lines();
    let id = lines.by_ref().find_map(|l| {
        let (id, rest) = l.split_once(' ')?;
        (id.starts_with('#') && rest.starts_with('[') && rest.contains(DEPS_STEP))
            .then(|| id.to_string())
    })?;
    lines
        .filter_map(|l| l.strip_prefix(id.as_str())?.strip_prefix(' '))
        .find_map(|rest| match rest {
            "CACHED" => Some(true),
            r if r.starts_with("DONE") || r.starts_with("ERROR") => Some(false),
            _ => None,
        })
}

/// layercache's sum of its docker steps, from `layercache: N steps in X.XXXs of docker`.
fn docker_seconds(output: &str) -> Option<f64> {
    output.lines().rev().find_map(|l| {
        let rest = l.trim().strip_prefix("layercache: ")?;
        let (_, secs) = rest.split_once(" steps in ")?;
        secs.strip_suffix("s of docker")?.parse().ok()
    })
}

/// The step lines under layercache's summary line: `  ok          1.2s  build builder`.
fn summary_steps(output: &str) -> Vec<(String, f64)> {
    output
        .lines()
        .skip_while(|l| !l.starts_with("layercache: "))
        .skip(1)
        .map_while(|l| {
            let (status, rest) = l.trim().split_once(' ')?;
            let (secs, label) = rest.trim_start().split_once("s  ")?;
            Some((format!("{status}: {label}"), secs.trim().parse().ok()?))
        })
        .collect()
}

// ------------------------------------------------------------------ the report

/// The 1-minute load average: the machine is shared (other engineers compile on it), and a
/// busy CPU stretches every step, so the figures are only comparable with it in view.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn load_line([start, end]: [Option<f64>; 2]) -> String {
    let shown = |l: Option<f64>| l.map_or("?".to_string(), |l| format!("{l:.2}"));
    let mut line = format!(
        "machine load (1-min average): {} at the start, {} at the end, on {} cores",
        shown(start),
        shown(end),
        cores()
    );
    if [start, end].iter().flatten().any(|&l| l > cores() as f64) {
        line += "; other work competed for the CPU, so the figures are noisier than usual";
    }
    line
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn cached_word(c: Option<bool>) -> &'static str {
    match c {
        Some(true) => "deps cached",
        Some(false) => "deps re-ran",
        None => "deps step not seen",
    }
}

fn progress_line(s: &Sample, runs: usize) -> String {
    format!(
        "[run {}/{runs}] {:<11} cold {:6.2} s ({}), rebuild {:6.2} s ({})",
        s.run,
        s.strategy.name(),
        s.cold.wall_s,
        cached_word(s.cold.deps_cached),
        s.rebuild.wall_s,
        cached_word(s.rebuild.deps_cached)
    )
}

/// The medians per strategy, and the figures the targets compare.
struct Report {
    runs: usize,
    rows: Vec<Row>,
    overhead_ms: Vec<f64>,
}

struct Row {
    strategy: Strategy,
    cold: f64,
    rebuild: f64,
    deps_hits: usize,
    /// Cold builds whose dependency step was cached: the wipe failed, and the figures lie.
    cold_hits: usize,
}

struct Target {
    name: String,
    value: f64,
    limit: f64,
    unit: &'static str,
    detail: String,
}

impl Report {
    fn new(samples: &[Sample], runs: usize) -> Report {
        let rows = Strategy::ALL
            .iter()
            .map(|&strategy| {
                let mine: Vec<&Sample> =
                    samples.iter().filter(|s| s.strategy == strategy).collect();
                let walls =
                    |f: fn(&Sample) -> f64| median(&mine.iter().map(|s| f(s)).collect::<Vec<_>>());
                Row {
                    strategy,
                    cold: walls(|s| s.cold.wall_s),
                    rebuild: walls(|s| s.rebuild.wall_s),
                    deps_hits: mine
                        .iter()
                        .filter(|s| s.rebuild.deps_cached == Some(true))
                        .count(),
                    cold_hits: mine
                        .iter()
                        .filter(|s| s.cold.deps_cached == Some(true))
                        .count(),
                }
            })
            .collect();
        // Every layercache process counts, cold or rebuild, local-warm included: the overhead
        // target holds per run, whatever the run does.
        let overhead_ms = samples
            .iter()
            .filter(|s| s.strategy.runs_layercache())
            .flat_map(|s| [&s.cold, &s.rebuild])
            .filter_map(Build::overhead_ms)
            .collect();
        Report {
            runs,
            rows,
            overhead_ms,
        }
    }

    fn row(&self, strategy: Strategy) -> &Row {
        &self.rows[Strategy::ALL
            .iter()
            .position(|&s| s == strategy)
            .unwrap_or(0)]
    }

    fn overhead_max(&self) -> f64 {
        self.overhead_ms.iter().copied().fold(f64::NAN, f64::max)
    }

    fn targets(&self) -> Vec<Target> {
        let ours = self.row(Strategy::Layercache).rebuild;
        let mut targets: Vec<Target> = [
            (Strategy::SeedSingle, 0.5),
            (Strategy::SeedMulti, 1.0),
            (Strategy::LocalWarm, 1.5),
        ]
        .iter()
        .map(|&(other, factor)| {
            let theirs = self.row(other).rebuild;
            Target {
                name: format!("layercache rebuild <= {factor} x {} rebuild", other.name()),
                value: ours,
                limit: factor * theirs,
                unit: "s",
                detail: format!(
                    "{ours:.2} s vs {factor} x {theirs:.2} s = {:.2} s",
                    factor * theirs
                ),
            }
        })
        .collect();
        let max = self.overhead_max();
        targets.push(Target {
            name: format!("layercache overhead <= {OVERHEAD_LIMIT_MS:.0} ms per run"),
            value: max,
            limit: OVERHEAD_LIMIT_MS,
            unit: "ms",
            detail: format!(
                "max {max:.0} ms over {} runs of layercache",
                self.overhead_ms.len()
            ),
        });
        targets
    }

    fn render(&self, bench: &Bench, probes: &[(String, f64)]) -> String {
        let mut out = format!(
            "\nlayercache cache benchmark: medians of {} run(s); rebuild = after a source-only change, \
             on a wiped runner (local-warm: local cache kept); BuildKit client {}, registry {}\n\n",
            self.runs,
            bench.engine.docker.display(),
            bench.engine.registry
        );
        out += &format!(
            "{:<12} {:>9} {:>12} {:>22} {:>12}\n",
            "strategy", "cold (s)", "rebuild (s)", "rebuild vs layercache", "deps cached"
        );
        let ours = self.row(Strategy::Layercache).rebuild;
        for r in &self.rows {
            out += &format!(
                "{:<12} {:>9.2} {:>12.2} {:>21.2}x {:>12}\n",
                r.strategy.name(),
                r.cold,
                r.rebuild,
                r.rebuild / ours,
                format!("{}/{}", r.deps_hits, self.runs)
            );
        }
        out += &format!(
            "\nlayercache overhead (its wall time minus the docker steps it ran; this includes probing \
             the client: {}): median {:.0} ms, max {:.0} ms over {} runs\n",
            PROBES.map(|(label, _)| label).join(", "),
            median(&self.overhead_ms),
            self.overhead_max(),
            self.overhead_ms.len()
        );
        let probe_text: Vec<String> = probes
            .iter()
            .map(|(name, ms)| format!("{name} {ms:.0} ms"))
            .collect();
        // layercache runs the probes at the same time, so the slowest is what they add.
        let probes_ms: f64 = probes.iter().map(|(_, ms)| *ms).fold(0.0, f64::max);
        out += &format!(
            "  the same probes timed alone (median of 5 each): {}; run at once, as layercache \
             does, about {probes_ms:.0} ms, which leaves a median of {:.0} ms for the rest of layercache\n\n",
            probe_text.join(", "),
            (median(&self.overhead_ms) - probes_ms).max(0.0)
        );
        for t in self.targets() {
            let pass = t.value <= t.limit;
            out += &format!(
                "{}  {}: {}\n",
                if pass { "PASS" } else { "FAIL" },
                t.name,
                t.detail
            );
        }
        for r in self.rows.iter().filter(|r| r.cold_hits > 0) {
            out += &format!(
                "warning: {} of {}'s cold builds had the dependency step cached: the wipe did not \
                 clear the cache, so its figures are too low\n",
                r.cold_hits,
                r.strategy.name()
            );
        }
        out
    }

    /// The rebuild scenario's figures (the top level of the JSON file, beside the common ones).
    fn json(&self, samples: &[Sample], probes: &[(String, f64)]) -> Value {
        let ours = self.row(Strategy::Layercache).rebuild;
        json!({
            "runs": self.runs,
            "strategies": self.rows.iter().map(|r| json!({
                "strategy": r.strategy.name(), "cold_median_s": r.cold,
                "rebuild_median_s": r.rebuild, "rebuild_vs_layercache": r.rebuild / ours,
                "deps_cached": r.deps_hits, "cold_deps_cached": r.cold_hits})).collect::<Vec<_>>(),
            "overhead_ms": {"samples": self.overhead_ms, "median": median(&self.overhead_ms),
                            "max": self.overhead_max()},
            "probes_ms": probes.iter().map(|(n, ms)| json!({"probe": n, "median_ms": ms})).collect::<Vec<_>>(),
            "targets": self.targets().iter().map(|t| json!({"target": t.name, "value": t.value,
                "limit": t.limit, "unit": t.unit, "pass": t.value <= t.limit})).collect::<Vec<_>>(),
            "samples": samples.iter().map(|s| json!({"strategy": s.strategy.name(), "run": s.run,
                "repo": s.repo, "cold": build_json(&s.cold), "rebuild": build_json(&s.rebuild)})).collect::<Vec<_>>(),
        })
    }
}

fn build_json(b: &Build) -> Value {
    json!({"wall_s": b.wall_s, "deps_cached": b.deps_cached,
           "docker_s": b.docker_s, "overhead_ms": b.overhead_ms(),
           "steps": b.steps.iter().map(|(c, t)| json!({"step": c, "wall_s": t})).collect::<Vec<_>>()})
}

// ------------------------------------------------------------------ the chain report

fn chain_of(chains: &[Chain], strategy: Strategy) -> Option<&Chain> {
    chains.iter().find(|c| c.strategy == strategy)
}

/// The chain scenario's two targets: layercache hits in every run after the first, and its
/// total is at most `CHAIN_TOTAL_FACTOR` of seed-multi's.
fn chain_targets(chains: &[Chain]) -> Vec<Target> {
    let (Some(ours), Some(multi)) = (
        chain_of(chains, Strategy::Layercache),
        chain_of(chains, Strategy::SeedMulti),
    ) else {
        return Vec::new();
    };
    let after_first = ours.runs.len().saturating_sub(1);
    let hits = ours.hits_after_first();
    let (total, theirs) = (ours.total_s(), multi.total_s());
    vec![
        Target {
            name: "layercache chain: deps cached in every run after the first".to_string(),
            // Misses: the target is none.
            value: (after_first - hits) as f64,
            limit: 0.0,
            unit: "runs",
            detail: format!(
                "{hits}/{after_first} (runs 2-{}: {})",
                ours.runs.len(),
                ours.pattern()
            ),
        },
        Target {
            name: format!(
                "layercache chain total <= {CHAIN_TOTAL_FACTOR} x seed-multi chain total"
            ),
            value: total,
            limit: CHAIN_TOTAL_FACTOR * theirs,
            unit: "s",
            detail: format!(
                "{total:.2} s vs {CHAIN_TOTAL_FACTOR} x {theirs:.2} s = {:.2} s",
                CHAIN_TOTAL_FACTOR * theirs
            ),
        },
    ]
}

fn render_chains(bench: &Bench, chains: &[Chain]) -> String {
    let runs = chains.iter().map(|c| c.runs.len()).max().unwrap_or(0);
    let mut out = format!(
        "\nlayercache chain benchmark: one chain of {runs} runs per strategy, each run after a \
         source change on a wiped runner, each chain in a fresh repository of its own; hits = \
         runs 2-{runs} whose dependency step was cached (run 1 starts from an empty registry); \
         total = the {runs} runs' wall times; BuildKit client {}, registry {}\n\n",
        bench.engine.docker.display(),
        bench.engine.registry
    );
    out += &format!(
        "{:<24} {:>16} {:>10} {:>20} {:>10}\n",
        "strategy",
        format!("deps hits (2-{runs})"),
        "total (s)",
        "total vs layercache",
        "per run"
    );
    let ours = chain_of(chains, Strategy::Layercache).map_or(f64::NAN, Chain::total_s);
    for c in chains {
        out += &format!(
            "{:<24} {:>16} {:>10.2} {:>19.2}x {:>10}\n",
            c.strategy.name(),
            format!(
                "{}/{}",
                c.hits_after_first(),
                c.runs.len().saturating_sub(1)
            ),
            c.total_s(),
            c.total_s() / ours,
            c.pattern()
        );
    }
    out += "  per run: H the dependency step hit, M it re-ran, ? not seen in the output\n";
    let walls: Vec<String> = chains
        .iter()
        .map(|c| {
            let w: Vec<String> = c.runs.iter().map(|b| format!("{:.1}", b.wall_s)).collect();
            format!("{} {}", c.strategy.name(), w.join(" "))
        })
        .collect();
    out += &format!("  wall times per run (s): {}\n\n", walls.join("; "));
    for t in chain_targets(chains) {
        out += &format!(
            "{}  {}: {}\n",
            if t.value <= t.limit { "PASS" } else { "FAIL" },
            t.name,
            t.detail
        );
    }
    for c in chains {
        if c.runs.first().and_then(|b| b.deps_cached) == Some(true) {
            out += &format!(
                "warning: {}'s first chain run had the dependency step cached, from a registry \
                 that should have been empty or a runner that should have been wiped: its \
                 figures are too low\n",
                c.strategy.name()
            );
        }
    }
    out
}

fn chains_json(chains: &[Chain]) -> Value {
    let ours = chain_of(chains, Strategy::Layercache).map(Chain::total_s);
    json!({
        "runs_per_chain": CHAIN_RUNS,
        "strategies": chains.iter().map(|c| json!({
            "strategy": c.strategy.name(), "repo": c.repo,
            "deps_hits_after_first": c.hits_after_first(),
            "runs_after_first": c.runs.len().saturating_sub(1),
            "pattern": c.pattern(),
            "total_s": c.total_s(),
            "total_vs_layercache": ours.map(|o| c.total_s() / o),
            "runs": c.runs.iter().enumerate().map(|(i, b)| {
                let mut v = build_json(b);
                v["run"] = json!(i + 1);
                v
            }).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "targets": chain_targets(chains).iter().map(|t| json!({"target": t.name, "value": t.value,
            "limit": t.limit, "unit": t.unit, "pass": t.value <= t.limit})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_step_is_read_from_the_first_build_that_has_it() {
        let cached = "#5 [builder 2/5] COPY install-deps.sh .\n#5 DONE 0.1s\n\
                      #6 [builder 3/5] RUN sh install-deps.sh\n#6 CACHED\n\
                      #6 [builder 3/5] RUN sh install-deps.sh\n#6 DONE 3.2s\n";
        assert_eq!(deps_cached(cached), Some(true));
        let ran = "#6 [builder 3/5] RUN sh install-deps.sh\n#6 0.2 x\n#6 DONE 3.2s\n#60 CACHED\n";
        assert_eq!(deps_cached(ran), Some(false));
        assert_eq!(deps_cached("Step 2/7 : RUN sh install-deps.sh\n"), None);
    }

    #[test]
    fn summary_line_gives_the_docker_time() {
        let out = "[5/5] push x\n\nlayercache: 5 steps in 2.345s of docker\n  ok 1.0s  build\n";
        assert_eq!(docker_seconds(out), Some(2.345));
        assert_eq!(docker_seconds("nothing"), None);
        assert_eq!(summary_steps(out), vec![("ok: build".to_string(), 1.0)]);
    }

    fn args(a: &[&str]) -> Result<Args> {
        parse_args(
            a.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into_iter(),
        )
    }

    #[test]
    fn runs_come_from_the_command_line() {
        assert_eq!(args(&[]).unwrap().runs, DEFAULT_RUNS);
        assert_eq!(args(&["--runs", "1"]).unwrap().runs, 1);
        assert_eq!(args(&["--runs=4"]).unwrap().runs, 4);
        assert!(args(&["--runs", "0"]).is_err());
        assert!(args(&["--runs"]).is_err());
        assert!(args(&["--fast"]).is_err());
    }

    #[test]
    fn scenarios_come_from_the_command_line() {
        assert_eq!(args(&[]).unwrap().scenario, Scenario::All);
        assert_eq!(
            args(&["--scenario", "chain"]).unwrap(),
            Args {
                runs: DEFAULT_RUNS,
                scenario: Scenario::Chain
            }
        );
        assert_eq!(
            args(&["--scenario=rebuild", "--runs", "2"]).unwrap(),
            Args {
                runs: 2,
                scenario: Scenario::Rebuild
            }
        );
        assert!(args(&["--scenario", "both"]).is_err());
        assert!(args(&["--scenario"]).is_err());
        assert!(Scenario::All.rebuild() && Scenario::All.chain());
        assert!(!Scenario::Chain.rebuild() && !Scenario::Rebuild.chain());
    }

    fn chain(strategy: Strategy, runs: &[(f64, Option<bool>)]) -> Chain {
        Chain {
            strategy,
            repo: format!("r/{}", strategy.name()),
            runs: runs
                .iter()
                .map(|&(wall_s, deps_cached)| Build {
                    wall_s,
                    deps_cached,
                    docker_s: None,
                    steps: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn chain_hits_count_runs_after_the_first_and_totals_count_all() {
        let (h, m) = (Some(true), Some(false));
        let c = chain(
            Strategy::SeedMulti,
            &[
                (8.0, h),
                (3.0, h),
                (8.0, m),
                (3.0, h),
                (8.0, None),
                (3.0, h),
            ],
        );
        assert_eq!(c.hits_after_first(), 3);
        assert_eq!(c.total_s(), 33.0);
        assert_eq!(c.pattern(), "HHMH?H");
    }

    #[test]
    fn chain_targets_pass_and_fail() {
        let (h, m) = (Some(true), Some(false));
        let multi = chain(
            Strategy::SeedMulti,
            &[(8.0, m), (3.0, h), (8.0, m), (3.0, h), (8.0, m), (3.0, h)],
        );
        let warm = chain(
            Strategy::Layercache,
            &[(8.0, m), (2.0, h), (2.0, h), (2.0, h), (2.0, h), (3.0, h)],
        );
        let targets = chain_targets(&[multi, warm]);
        assert_eq!(targets.len(), 2);
        assert!(
            targets[0].value <= targets[0].limit,
            "{}",
            targets[0].detail
        );
        assert_eq!(targets[0].detail, "5/5 (runs 2-6: MHHHHH)");
        // 19 s against 0.6 x 33 s = 19.8 s.
        assert!(
            targets[1].value <= targets[1].limit,
            "{}",
            targets[1].detail
        );

        let multi = chain(Strategy::SeedMulti, &[(5.0, m); 6]);
        let alternating = chain(
            Strategy::Layercache,
            &[(8.0, m), (3.0, h), (8.0, m), (3.0, h), (8.0, m), (3.0, h)],
        );
        let targets = chain_targets(&[multi, alternating]);
        assert!(targets[0].value > targets[0].limit);
        assert!(targets[1].value > targets[1].limit);
        assert!(chain_targets(&[]).is_empty());
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}

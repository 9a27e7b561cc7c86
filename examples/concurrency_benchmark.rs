//! Benchmark: layercache's concurrent builds against `docker buildx bake` and `docker compose
//! build`, on one real engine set-up, in one run.
//!
//!     LAYERCACHE_ENGINES="28.5-containerd 28.5-classic" \
//!         scripts/e2e-matrix.sh cargo run --release --example concurrency_benchmark \
//!         [-- --runs N] [--app all|monorepo|diamond]
//!
//! Two apps: `examples/monorepo` (four images: `base`, `api` and `worker` built `FROM` base, and
//! `web`, which needs none of them) and `examples/diamond` (one image, six stages, two independent
//! branches). For each app, four recipes, each in registry repositories of its own:
//!
//! - `layercache --jobs 1`: `layercache build --jobs 1`, one docker command at a time;
//! - `layercache`: `layercache build` with no flags (its default `jobs` and strategy, both
//!   printed, from `layercache plan --format json`);
//! - `buildx bake`: `docker buildx bake --push` on a bake file the benchmark writes: one target
//!   per image, `api` and `worker` taking `base` as a named context (`target:base`), so bake builds
//!   all four in one BuildKit session; caches `type=registry,mode=max` where the engine can export
//!   them (the containerd image store), else `cache-from` the pushed image and `cache-to
//!   type=inline` (the classic store's docker driver exports no other cache);
//! - `compose build`: `docker compose build --push` on an equivalent compose file
//!   (`additional_contexts: service:base`, the same `cache_from` / `cache_to`); compose 2.37 and
//!   later hand the project to bake.
//!
//! Each recipe runs as a CI job would: a fresh checkout whose source differs from every other
//! run's (only `src/`), a wiped runner (its images removed, `docker builder prune -af`), one timed
//! run (pulls, builds and pushes); only the registry carries anything from one run to the next.
//! The first run seeds the registry and is not counted; then `--runs` (3) measured rebuilds, whose
//! median is the recipe's figure. The recipes take turns run by run (each run starting with the
//! next recipe), so that a drift of the shared machine spreads over all of them.
//!
//! Targets, printed as PASS/FAIL lines: layercache's default at most 1.0 x bake on each app, and at
//! most 0.7 x its own `--jobs 1` on the monorepo. Each run also says whether the dependency steps
//! (the slow `RUN ... dd` installs) came from the cache. A report goes to stdout, the raw figures
//! to `target/concurrency_benchmark-ENGINE.json`, each run's output to
//! `target/concurrency_benchmark-logs/ENGINE/APP-RECIPE-RUN.log`; the exit status is 0 whatever the targets say
//! (a benchmark, not a test), and 1 when a docker command failed.
//!
//! It needs the engine the matrix brings up (`LAYERCACHE_E2E` and the variables of
//! scripts/engine-up.sh; the matrix holds the machine's engine lock), and holds the end-to-end
//! tests' own lock (tests/support/engine.rs) while it runs.

#[path = "bench_support/mod.rs"]
mod bench_support;

use anyhow::{anyhow, bail, Context, Result};
use bench_support::{copy_tree, cores, load_average, target_dir};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const DEFAULT_RUNS: usize = 3;

/// layercache's default against bake, on each app: at most this factor.
const BAKE_FACTOR: f64 = 1.0;

/// layercache's default against its own `--jobs 1`, on the monorepo: at most this factor.
const SEQUENTIAL_FACTOR: f64 = 0.7;

/// A dependency step that ends DONE in less than this ran no command (each sleeps 2 s): its
/// layers came from a cache.
const RAN_S: f64 = 1.0;

/// The file lock the end-to-end tests take around each test (tests/support/engine.rs).
const E2E_LOCK_FILE: &str = "layercache-e2e.lock";

/// One image of an app, as the bake and compose files name it (the spec says the same).
struct Image {
    /// The bake target and compose service.
    name: &'static str,
    /// The build context, from the app's folder (its Dockerfile is `Dockerfile` in it).
    context: &'static str,
    /// The repository under the recipe's registry prefix.
    repo: &'static str,
    tags: &'static [&'static str],
    /// The image of the app this one is built `FROM` (its Dockerfile names it through the
    /// `REGISTRY` build arg); the others take `BASE_IMAGE`.
    from: Option<&'static str>,
}

struct App {
    name: &'static str,
    dir: &'static str,
    images: &'static [Image],
    /// The folders whose `src/main.sh` changes between runs.
    sources: &'static [&'static str],
    /// How BuildKit names the slow dependency steps (a part of the step's line).
    deps_steps: &'static [&'static str],
}

const APPS: [App; 2] = [
    App {
        name: "monorepo",
        dir: "examples/monorepo",
        images: &[
            Image {
                name: "base",
                context: "base",
                repo: "examples/monorepo/base",
                tags: &["latest"],
                from: None,
            },
            Image {
                name: "api",
                context: "api",
                repo: "examples/monorepo/api",
                tags: &["dev", "latest"],
                from: Some("base"),
            },
            Image {
                name: "worker",
                context: "worker",
                repo: "examples/monorepo/worker",
                tags: &["dev", "latest"],
                from: Some("base"),
            },
            Image {
                name: "web",
                context: "web",
                repo: "examples/monorepo/web",
                tags: &["dev", "latest"],
                from: None,
            },
        ],
        sources: &["api", "worker", "web"],
        deps_steps: &[
            "of=/opt/shared/toolchain",
            "of=/build/deps ",
            "of=/build/node_modules",
        ],
    },
    App {
        name: "diamond",
        dir: "examples/diamond",
        images: &[Image {
            name: "diamond",
            context: ".",
            repo: "examples/diamond",
            tags: &["dev", "latest"],
            from: None,
        }],
        sources: &["."],
        deps_steps: &["of=/build/deps-a", "of=/build/deps-b"],
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recipe {
    LayercacheSequential,
    Layercache,
    Bake,
    Compose,
}

impl Recipe {
    const ALL: [Recipe; 4] = [
        Recipe::LayercacheSequential,
        Recipe::Layercache,
        Recipe::Bake,
        Recipe::Compose,
    ];

    fn name(self) -> &'static str {
        match self {
            Recipe::LayercacheSequential => "layercache --jobs 1",
            Recipe::Layercache => "layercache",
            Recipe::Bake => "buildx bake",
            Recipe::Compose => "compose build",
        }
    }

    /// Its part of the registry path.
    fn slug(self) -> &'static str {
        match self {
            Recipe::LayercacheSequential => "lc-jobs1",
            Recipe::Layercache => "lc",
            Recipe::Bake => "bake",
            Recipe::Compose => "compose",
        }
    }
}

/// The engine set-up, from the variables scripts/engine-up.sh exports.
struct Engine {
    name: String,
    registry: String,
    base_image: String,
    /// The client with the buildx and compose plugins.
    docker: PathBuf,
    containerd_store: bool,
    /// Versions, for the report: dockerd, buildx, compose.
    versions: String,
}

struct Bench {
    engine: Engine,
    layercache: PathBuf,
    root: PathBuf,
    /// Keeps this run's repositories apart from an earlier run's: a seed must find no cache.
    stamp: u64,
}

/// One timed CI run of a recipe.
#[derive(Debug, Clone)]
struct Run {
    wall_s: f64,
    /// Per dependency step of the app: how often BuildKit took it from a cache, how often it ran.
    deps: Vec<(usize, usize)>,
}

impl Run {
    /// H: every dependency step came from the cache; M: none did; P: some did; ?: one not seen.
    fn letter(&self) -> char {
        if self.deps.iter().any(|&(hit, ran)| hit + ran == 0) {
            '?'
        } else if self.deps.iter().all(|&(_, ran)| ran == 0) {
            'H'
        } else if self.deps.iter().all(|&(hit, _)| hit == 0) {
            'M'
        } else {
            'P'
        }
    }
}

/// A recipe's runs on one app: the seed first.
struct Series {
    recipe: Recipe,
    prefix: String,
    runs: Vec<Run>,
}

impl Series {
    fn measured(&self) -> &[Run] {
        self.runs.get(1..).unwrap_or(&[])
    }

    fn median_s(&self) -> f64 {
        median(&self.measured().iter().map(|r| r.wall_s).collect::<Vec<_>>())
    }

    fn pattern(&self) -> String {
        self.runs.iter().map(Run::letter).collect()
    }
}

struct AppResult {
    app: &'static App,
    /// layercache's own choice, from its plan: strategy and jobs.
    chosen: String,
    series: Vec<Series>,
}

impl AppResult {
    fn median(&self, recipe: Recipe) -> f64 {
        self.series
            .iter()
            .find(|s| s.recipe == recipe)
            .map_or(f64::NAN, Series::median_s)
    }
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("concurrency_benchmark: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<()> {
    let (runs, apps) = parse_args(std::env::args().skip(1))?;
    if std::env::var_os("LAYERCACHE_E2E").is_none() {
        bail!(
            "no engine: run it through scripts/e2e-matrix.sh, which brings one up and exports \
             LAYERCACHE_E2E and the rest, e.g.\n  LAYERCACHE_ENGINES=28.5-containerd \
             scripts/e2e-matrix.sh cargo run --release --example concurrency_benchmark"
        );
    }
    let started = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bench = Bench {
        layercache: build_layercache(&root)?,
        engine: engine()?,
        root: root.clone(),
        stamp: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() % 100_000_000),
    };
    eprintln!("engine {}: {}", bench.engine.name, bench.engine.versions);
    let _lock = e2e_lock()?;
    let load_start = load_average();
    let mut results = Vec::new();
    for app in apps {
        results.push(bench.app(app, runs)?);
    }
    let load = [load_start, load_average()];
    let elapsed = started.elapsed().as_secs_f64();

    print!("{}", render(&bench, &results, runs, load, elapsed));
    let path = target_dir(&root).join(format!(
        "concurrency_benchmark-{}.json",
        bench.engine.name.replace(['/', ' '], "_")
    ));
    let value = json!({
        "engine": {"name": bench.engine.name, "versions": bench.engine.versions,
                   "containerd_store": bench.engine.containerd_store,
                   "registry": bench.engine.registry, "base_image": bench.engine.base_image},
        "runs": runs,
        "total_s": elapsed,
        "load_average_1min": {"start": load[0], "end": load[1], "cores": cores()},
        "targets": targets(&results).iter().map(|(pass, line)| json!({"pass": pass, "line": line}))
            .collect::<Vec<_>>(),
        "apps": results.iter().map(app_json).collect::<Vec<_>>(),
    });
    std::fs::write(&path, serde_json::to_string_pretty(&value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("raw figures: {}", path.display());
    Ok(())
}

const USAGE: &str = "usage: cargo run --release --example concurrency_benchmark \
                     [-- --runs N] [--app all|monorepo|diamond]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(usize, Vec<&'static App>)> {
    let mut runs = DEFAULT_RUNS;
    let mut apps: Vec<&'static App> = APPS.iter().collect();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n: &usize| n >= 1)
                    .ok_or_else(|| anyhow!("--runs needs a whole number of at least 1"))?;
            }
            "--app" => {
                apps = match args.next().as_deref() {
                    Some("all") => APPS.iter().collect(),
                    Some(name) => vec![APPS
                        .iter()
                        .find(|a| a.name == name)
                        .ok_or_else(|| anyhow!("unknown app `{name}`: {USAGE}"))?],
                    None => bail!("--app needs a value: {USAGE}"),
                };
            }
            other => bail!("unknown argument `{other}`; {USAGE}"),
        }
    }
    Ok((runs, apps))
}

// ------------------------------------------------------------------ set-up

/// Builds the release binary and finds it beside this example's executable
/// (`target/release/examples/X` -> `target/release/layercache`).
fn build_layercache(root: &Path) -> Result<PathBuf> {
    eprintln!("building the release binary (cargo build --release --bin layercache)...");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--bin", "layercache"])
        .current_dir(root);
    run(&mut cmd)?;
    let exe = std::env::current_exe().context("locating this example's executable")?;
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join("layercache"))
        .filter(|b| b.is_file())
        .ok_or_else(|| anyhow!("no layercache binary beside {}", exe.display()))?;
    Ok(binary)
}

fn engine() -> Result<Engine> {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| anyhow!("{name} is not set (scripts/engine-up.sh exports it)"))
    };
    let docker = PathBuf::from(var("LAYERCACHE_E2E_BUILDKIT_DOCKER")?);
    let ask = |args: &[&str]| -> String {
        let mut cmd = Command::new(&docker);
        cmd.args(args);
        run(&mut cmd).map_or_else(|_| "?".to_string(), |out| out.trim().to_string())
    };
    let info = ask(&[
        "info",
        "--format",
        "{{.ServerVersion}}|{{json .DriverStatus}}",
    ]);
    let (daemon, status) = info.split_once('|').unwrap_or((&info, ""));
    let containerd_store = status.contains("io.containerd.snapshotter");
    let buildx = ask(&["buildx", "version"]);
    let versions = format!(
        "dockerd {daemon} ({} image store), buildx {}, compose {}",
        if containerd_store {
            "containerd"
        } else {
            "classic"
        },
        buildx.split_whitespace().nth(1).unwrap_or("?"),
        ask(&["compose", "version", "--short"])
    );
    Ok(Engine {
        name: var("LAYERCACHE_ENGINE").unwrap_or_else(|_| "default".into()),
        registry: var("LAYERCACHE_E2E_REGISTRY")?,
        base_image: var("LAYERCACHE_E2E_BASE_IMAGE")?,
        docker,
        containerd_store,
        versions,
    })
}

/// The end-to-end tests' lock, so that no test prunes the builder cache during a run.
fn e2e_lock() -> Result<File> {
    let path = std::env::temp_dir().join(E2E_LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    if file.try_lock().is_err() {
        eprintln!("note: an end-to-end test holds {}; waiting", path.display());
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
    }
    Ok(file)
}

/// Runs a command to the end; its output (stdout, then stderr), or an error with that output.
fn run(cmd: &mut Command) -> Result<String> {
    let line = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd
        .output()
        .with_context(|| format!("cannot run `{line}`"))?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        let shown: String = output.lines().map(|l| format!("  | {l}\n")).collect();
        bail!("`{line}` failed ({}). Its output:\n{shown}", out.status);
    }
    Ok(output)
}

// ------------------------------------------------------------------ the benchmark

impl Bench {
    /// Every recipe on one app: a seed run, then `runs` measured ones, the recipes taking turns.
    fn app(&self, app: &'static App, runs: usize) -> Result<AppResult> {
        let chosen = self.chosen(app)?;
        eprintln!("{}: layercache chose {chosen}", app.name);
        let mut series: Vec<Series> = Recipe::ALL
            .iter()
            .map(|&recipe| Series {
                recipe,
                prefix: format!(
                    "{}/cbench/{}/{}-{}-{}",
                    self.engine.registry,
                    self.engine.name.to_lowercase(),
                    app.name,
                    recipe.slug(),
                    self.stamp
                ),
                runs: Vec::new(),
            })
            .collect();
        let measured = (|| -> Result<()> {
            for n in 0..=runs {
                for k in 0..series.len() {
                    let s = &mut series[(n + k) % Recipe::ALL.len()];
                    let run = self.ci_run(app, s.recipe, &s.prefix, n)?;
                    eprintln!(
                        "[{} {}] {:<19} {:6.2} s  deps {}",
                        app.name,
                        if n == 0 {
                            "seed".to_string()
                        } else {
                            format!("run {n}/{runs}")
                        },
                        s.recipe.name(),
                        run.wall_s,
                        run.letter()
                    );
                    s.runs.push(run);
                }
            }
            Ok(())
        })();
        // Leave no images behind, also after a failure.
        for s in &series {
            self.remove_images(&s.prefix)?;
        }
        measured?;
        Ok(AppResult {
            app,
            chosen,
            series,
        })
    }

    /// layercache's strategy and jobs for this app on this engine, from its plan (not timed).
    fn chosen(&self, app: &App) -> Result<String> {
        let prefix = format!("{}/cbench/plan", self.engine.registry);
        let mut cmd = self.layercache_cmd("plan", &prefix);
        cmd.args(["--format", "json"])
            .current_dir(self.root.join(app.dir));
        let output = run(&mut cmd)?;
        let start = output.find('{').unwrap_or(0);
        let plan: Value = serde_json::Deserializer::from_str(&output[start..])
            .into_iter::<Value>()
            .next()
            .ok_or_else(|| anyhow!("no JSON from layercache plan:\n{output}"))?
            .context("reading layercache plan's JSON")?;
        Ok(format!(
            "strategy {}, jobs {}",
            plan["images"][0]["strategy"].as_str().unwrap_or("?"),
            plan["jobs"]
        ))
    }

    /// One CI run: a fresh checkout with this run's source, a wiped runner, the timed recipe.
    fn ci_run(&self, app: &App, recipe: Recipe, prefix: &str, n: usize) -> Result<Run> {
        let checkout = tempfile::Builder::new()
            .prefix("layercache-cbench-")
            .tempdir()?;
        let dir = checkout.path();
        let from = self.root.join(app.dir);
        copy_tree(&from, dir).with_context(|| format!("copying {}", from.display()))?;
        for source in app.sources {
            let text = format!("echo \"{} {source} v{n}\"\n", app.name);
            std::fs::write(dir.join(source).join("src/main.sh"), text)?;
        }
        self.wipe(prefix)?;
        let started = Instant::now();
        let output = match recipe {
            Recipe::LayercacheSequential | Recipe::Layercache => {
                let mut cmd = self.layercache_cmd("build", prefix);
                if recipe == Recipe::LayercacheSequential {
                    cmd.args(["--jobs", "1"]);
                }
                run(cmd.current_dir(dir))?
            }
            Recipe::Bake => {
                std::fs::write(
                    dir.join("docker-bake.json"),
                    self.bake_file(app, prefix).to_string(),
                )?;
                run(self
                    .docker(&["buildx", "bake", "-f", "docker-bake.json"])
                    .args(["--progress", "plain", "--push"])
                    .current_dir(dir))?
            }
            Recipe::Compose => {
                // JSON is YAML: compose reads it as it is.
                std::fs::write(
                    dir.join("compose.yaml"),
                    self.compose_file(app, prefix).to_string(),
                )?;
                run(self
                    .docker(&["compose", "-f", "compose.yaml", "--progress", "plain"])
                    .args(["build", "--push"])
                    .current_dir(dir))?
            }
        };
        let wall_s = started.elapsed().as_secs_f64();
        // Every run's output, to check the deps column against what BuildKit printed.
        let logs = target_dir(&self.root).join(format!(
            "concurrency_benchmark-logs/{}",
            self.engine.name.replace(['/', ' '], "_")
        ));
        std::fs::create_dir_all(&logs)?;
        std::fs::write(
            logs.join(format!("{}-{}-{n}.log", app.name, recipe.slug())),
            &output,
        )?;
        Ok(Run {
            wall_s,
            deps: deps_outcome(app, &output),
        })
    }

    /// `layercache SUBCOMMAND` on the app's spec, its images under `prefix`; variables that would
    /// change its defaults are removed from its environment.
    fn layercache_cmd(&self, subcommand: &str, prefix: &str) -> Command {
        let mut cmd = Command::new(&self.layercache);
        cmd.arg(subcommand)
            .arg("--docker")
            .arg(&self.engine.docker)
            .env("LAYERCACHE_REGISTRY", prefix)
            .env("LAYERCACHE_BASE_IMAGE", &self.engine.base_image);
        for var in [
            "DOCKER_BUILDKIT",
            "LAYERCACHE_BUILDER",
            "LAYERCACHE_STRATEGY",
            "LAYERCACHE_DOCKER",
            "LAYERCACHE_JOBS",
            "LAYERCACHE_PROGRESS",
            "LAYERCACHE_FILE",
            "CI_COMMIT_SHORT_SHA",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// The caches the peers write: a registry cache with every stage's layers where the engine
    /// exports one, else the inline cache of the pushed image.
    fn caches(&self, repo: &str) -> (Vec<String>, Vec<String>) {
        if self.engine.containerd_store {
            let cache = format!("type=registry,ref={repo}:buildcache");
            (vec![cache.clone()], vec![format!("{cache},mode=max")])
        } else {
            (
                vec![format!("type=registry,ref={repo}:latest")],
                vec!["type=inline".to_string()],
            )
        }
    }

    /// The build args of an image, as the spec gives them.
    fn args(&self, image: &Image, prefix: &str) -> Value {
        match image.from {
            Some(_) => json!({"REGISTRY": prefix}),
            None => json!({"BASE_IMAGE": self.engine.base_image}),
        }
    }

    /// The name a Dockerfile's `FROM` gives the app's image `name` (BuildKit matches named
    /// contexts on the reference without `:latest`).
    fn from_name(app: &App, prefix: &str, name: &str) -> String {
        let image = app.images.iter().find(|i| i.name == name);
        format!("{prefix}/{}", image.map_or(name, |i| i.repo))
    }

    /// One bake target per image, all in the default group.
    fn bake_file(&self, app: &App, prefix: &str) -> Value {
        let mut targets = serde_json::Map::new();
        for image in app.images {
            let repo = format!("{prefix}/{}", image.repo);
            let (from, to) = self.caches(&repo);
            let mut target = json!({
                "context": image.context,
                "dockerfile": "Dockerfile",
                "tags": image.tags.iter().map(|t| format!("{repo}:{t}")).collect::<Vec<_>>(),
                "args": self.args(image, prefix),
                "cache-from": from,
                "cache-to": to,
            });
            if let Some(base) = image.from {
                target["contexts"] =
                    json!({ Self::from_name(app, prefix, base): format!("target:{base}") });
            }
            targets.insert(image.name.to_string(), target);
        }
        let names: Vec<&str> = app.images.iter().map(|i| i.name).collect();
        json!({"group": {"default": {"targets": names}}, "target": targets})
    }

    /// The same images as compose services.
    fn compose_file(&self, app: &App, prefix: &str) -> Value {
        let mut services = serde_json::Map::new();
        for image in app.images {
            let repo = format!("{prefix}/{}", image.repo);
            let (from, to) = self.caches(&repo);
            let (last, others) = image.tags.split_last().expect("every image has a tag");
            let mut build = json!({
                "context": image.context,
                "dockerfile": "Dockerfile",
                "args": self.args(image, prefix),
                "tags": others.iter().map(|t| format!("{repo}:{t}")).collect::<Vec<_>>(),
                "cache_from": from,
                "cache_to": to,
            });
            if let Some(base) = image.from {
                build["additional_contexts"] =
                    json!({ Self::from_name(app, prefix, base): format!("service:{base}") });
            }
            services.insert(
                image.name.to_string(),
                json!({"image": format!("{repo}:{last}"), "build": build}),
            );
        }
        json!({"name": format!("cbench-{}-{}", app.name, self.stamp), "services": services})
    }

    /// A fresh CI runner: none of the recipe's images, and no BuildKit cache.
    fn wipe(&self, prefix: &str) -> Result<()> {
        self.remove_images(prefix)?;
        run(&mut self.docker(&["builder", "prune", "-af"]))?;
        Ok(())
    }

    fn remove_images(&self, prefix: &str) -> Result<()> {
        let listing =
            run(&mut self.docker(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]))?;
        // By name where there is one: an id may also carry another repository's tag.
        let mut names: Vec<&str> = listing
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(name, _)| name.starts_with(&format!("{prefix}/")))
            .map(|(name, id)| if name.ends_with(":<none>") { id } else { name })
            .collect();
        names.sort();
        names.dedup();
        if !names.is_empty() {
            let mut args = vec!["rmi", "-f"];
            args.extend(names);
            run(&mut self.docker(&args))?;
        }
        Ok(())
    }

    fn docker(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.engine.docker);
        cmd.args(args).env_remove("DOCKER_BUILDKIT");
        cmd
    }
}

/// For each dependency step of the app: how often a build took it from a cache, how often it
/// ran. BuildKit's plain progress names a step (`#7 [builder 2/4] RUN ...`, bake adds the target:
/// `#7 [api builder 2/4] RUN ...`) and ends it with `#7 CACHED`, `#7 DONE 2.1s` or `#7 ERROR`; a
/// hit from a registry cache on the containerd store may show `#7 extracting sha256:...` first,
/// and a cached step whose layers are fetched later (to push them) is named again and ends with a
/// short `#7 DONE 0.2s`: every dependency step sleeps 2 s, so a DONE under `RAN_S` is a hit.
/// Step numbers restart with every docker build, so a number means the step named last under it;
/// layercache prefixes the lines of builds that run at once (`api/builder | #7 ...`), and each
/// prefix is a stream of its own.
fn deps_outcome(app: &App, output: &str) -> Vec<(usize, usize)> {
    let mut outcome = vec![(0, 0); app.deps_steps.len()];
    let mut named: HashMap<(&str, &str), usize> = HashMap::new();
    for line in output.lines() {
        let (stream, rest) = match line.split_once(" | ") {
            Some((prefix, rest)) if !prefix.starts_with('#') => (prefix, rest),
            _ => ("", line),
        };
        let Some((id, text)) = rest.split_once(' ') else {
            continue;
        };
        if !id.starts_with('#') {
            continue;
        }
        if text.starts_with('[') {
            match app.deps_steps.iter().position(|s| text.contains(s)) {
                Some(i) => named.insert((stream, id), i),
                None => named.remove(&(stream, id)),
            };
            continue;
        }
        let hit = match text {
            "CACHED" => true,
            t if t.starts_with("extracting sha256:") => true,
            t if t.starts_with("ERROR") => false,
            t => match t.strip_prefix("DONE ") {
                Some(secs) => secs
                    .trim_end_matches('s')
                    .parse::<f64>()
                    .is_ok_and(|s| s < RAN_S),
                None => continue,
            },
        };
        if let Some(i) = named.remove(&(stream, id)) {
            if hit {
                outcome[i].0 += 1;
            } else {
                outcome[i].1 += 1;
            }
        }
    }
    outcome
}

// ------------------------------------------------------------------ the report

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The PASS/FAIL lines: (passed, line).
fn targets(results: &[AppResult]) -> Vec<(bool, String)> {
    let mut lines = Vec::new();
    let mut check = |app: &str, ours: f64, factor: f64, theirs: f64, who: &str| {
        let pass = ours <= factor * theirs;
        lines.push((
            pass,
            format!(
                "{}  {app}: layercache <= {factor} x {who}: {ours:.2} s vs {:.2} s; ratio {:.2}",
                if pass { "PASS" } else { "FAIL" },
                factor * theirs,
                ours / theirs
            ),
        ));
    };
    for r in results {
        let ours = r.median(Recipe::Layercache);
        check(
            r.app.name,
            ours,
            BAKE_FACTOR,
            r.median(Recipe::Bake),
            "buildx bake",
        );
        if r.app.name == "monorepo" {
            check(
                r.app.name,
                ours,
                SEQUENTIAL_FACTOR,
                r.median(Recipe::LayercacheSequential),
                "its own --jobs 1",
            );
        }
    }
    lines
}

fn render(
    bench: &Bench,
    results: &[AppResult],
    runs: usize,
    load: [Option<f64>; 2],
    elapsed: f64,
) -> String {
    let shown = |l: Option<f64>| l.map_or("?".to_string(), |l| format!("{l:.1}"));
    let mut out = format!(
        "\n=== layercache concurrency benchmark, engine {}: {}\n\
         registry {}; load average (1 min) {} at the start, {} at the end, {} cores; {elapsed:.0} s\n\
         median of {runs} rebuild(s) after a source change, each on a wiped runner with the \
         registry cache of the run before; deps per run (seed first): H every dependency step \
         from the cache, M none, P some\n\n",
        bench.engine.name,
        bench.engine.versions,
        bench.engine.registry,
        shown(load[0]),
        shown(load[1]),
        cores()
    );
    out += "| app | recipe | median (s) | runs (s) | vs bake | deps |\n|---|---|---|---|---|---|\n";
    for r in results {
        let bake = r.median(Recipe::Bake);
        for s in &r.series {
            let times: Vec<String> = s
                .measured()
                .iter()
                .map(|m| format!("{:.2}", m.wall_s))
                .collect();
            let recipe = match s.recipe {
                Recipe::Layercache => format!("**layercache** ({})", r.chosen),
                other => other.name().to_string(),
            };
            out += &format!(
                "| {} | {recipe} | {:.2} | {} | {:.2}x | {} |\n",
                r.app.name,
                s.median_s(),
                times.join(" "),
                s.median_s() / bake,
                s.pattern()
            );
        }
    }
    out += "\n";
    for (_, line) in targets(results) {
        out += &line;
        out += "\n";
    }
    out
}

fn app_json(r: &AppResult) -> Value {
    json!({
        "app": r.app.name,
        "layercache_chose": r.chosen,
        "recipes": r.series.iter().map(|s| json!({
            "recipe": s.recipe.name(),
            "registry_prefix": s.prefix,
            "seed_s": s.runs.first().map(|r| r.wall_s),
            "runs_s": s.measured().iter().map(|r| r.wall_s).collect::<Vec<_>>(),
            "median_s": s.median_s(),
            "deps": s.pattern(),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deps_outcome_follows_step_numbers_per_build_and_per_prefix() {
        let diamond = &APPS[1];
        // Two builds one after the other (numbers restart), then two at once, prefixed.
        let output = "\
#7 [deps-a 1/1] RUN sleep 2 && dd if=/dev/urandom of=/build/deps-a bs=1048576 count=4
#7 DONE 2.3s
#7 [base 2/2] RUN mkdir -p /build/out
#7 CACHED
#8 [deps-b 1/1] RUN sleep 2 && dd if=/dev/urandom of=/build/deps-b bs=1048576 count=4
#8 CACHED
#7 [deps-a 1/1] RUN sleep 2 && dd if=/dev/urandom of=/build/deps-a bs=1048576 count=4
a/deps-a | #5 [deps-a 1/1] RUN sleep 2 && dd if=/dev/urandom of=/build/deps-a bs=1048576
b/deps-b | #5 [deps-b 1/1] RUN sleep 2 && dd if=/dev/urandom of=/build/deps-b bs=1048576
b/deps-b | #5 DONE 2.0s
a/deps-a | #5 extracting sha256:0123 0.1s done
a/deps-a | #5 DONE 0.2s
#7 CACHED
#7 [deps-a 1/1] RUN sleep 2 && dd if=/dev/urandom of=/build/deps-a bs=1048576 count=4
#7 DONE 0.3s
";
        assert_eq!(deps_outcome(diamond, output), vec![(3, 1), (1, 1)]);
        let run = Run {
            wall_s: 1.0,
            deps: deps_outcome(diamond, output),
        };
        assert_eq!(run.letter(), 'P');
    }

    #[test]
    fn deps_outcome_reads_bake_names_and_says_when_a_step_is_missing() {
        let monorepo = &APPS[0];
        let output = "\
#12 [api builder 2/4] RUN sleep 2 && dd if=/dev/urandom of=/build/deps bs=1048576 count=2
#13 [base base 2/2] RUN sleep 2 && dd if=/dev/urandom of=/opt/shared/toolchain bs=1048576
#12 CACHED
#13 CACHED
";
        let deps = deps_outcome(monorepo, output);
        assert_eq!(deps, vec![(1, 0), (1, 0), (0, 0)]);
        assert_eq!(Run { wall_s: 1.0, deps }.letter(), '?');
    }
}

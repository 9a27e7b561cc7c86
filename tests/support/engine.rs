//! Helpers for the end-to-end tests (`tests/e2e.rs`): finding the engine that
//! `scripts/engine-up.sh` started, serialising access to it, project folders, running commands,
//! wiping a "runner", reading the registry, and reading docker's build output.
//!
//! Everything here talks to the real engine; nothing fakes docker. The fake-docker tests use
//! `support::Test` (`tests/cli.rs` and most other suites).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What `scripts/engine-up.sh` exports.
#[derive(Debug, Clone)]
pub struct Engine {
    /// `127.0.0.1:5000`
    pub registry: String,
    /// A busybox image in that registry: FROM and RUN work with it, nothing is pulled from a hub.
    pub base_image: String,
    /// A client that builds with `DOCKER_BUILDKIT=1` (Debian's 20.10).
    pub buildkit_docker: String,
    /// A client without buildx (28.x): layercache must pick the legacy builder for it.
    pub legacy_docker: String,
    /// The engine set-up (`LAYERCACHE_ENGINE` of scripts/engine-up.sh): `20.10`, `20.10-tls`,
    /// `26.1-classic`, `26.1-containerd`, `28.5-classic`, `28.5-containerd`.
    pub kind: String,
}

impl Engine {
    /// The containerd image store, which can export a BuildKit cache.
    pub fn containerd_store(&self) -> bool {
        self.kind.ends_with("-containerd")
    }

    /// What `--strategy auto` must pick with the BuildKit client here (README "Strategies").
    pub fn expected_strategy(&self) -> &'static str {
        if self.containerd_store() {
            "registry"
        } else {
            "inline"
        }
    }

    /// Whether BuildKit's inline cache drops imported steps' records on this engine (the
    /// alternating miss, measured in ENGINE.md): the classic store before Docker 27.
    pub fn loses_records(&self) -> bool {
        matches!(self.kind.as_str(), "20.10" | "20.10-tls" | "26.1-classic")
    }
}

/// The engine, or `None` when the end-to-end tests are switched off (after saying so).
///
/// In CI (`CI` set) a switched-off run is a failure: a skipped end-to-end test there would let a
/// cache regression through silently.
pub fn engine() -> Option<Engine> {
    if std::env::var("LAYERCACHE_E2E").as_deref() != Ok("1") {
        if std::env::var_os("CI").is_some() {
            panic!(
                "LAYERCACHE_E2E is not set but CI is: the end-to-end tests must not be skipped in CI.\n  \
                 hint: run them through scripts/test.sh, which starts the engine and sets LAYERCACHE_E2E=1"
            );
        }
        // Straight to the process's stderr, past the test harness's capture, so the skip is
        // visible even without --nocapture.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: LAYERCACHE_E2E is not set (run scripts/test.sh)"
        );
        return None;
    }
    let var = |name: &str| {
        std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
            panic!("LAYERCACHE_E2E=1 but {name} is not set.\n  hint: eval \"$(scripts/engine-up.sh)\" sets all of them")
        })
    };
    Some(Engine {
        registry: var("LAYERCACHE_E2E_REGISTRY"),
        base_image: var("LAYERCACHE_E2E_BASE_IMAGE"),
        buildkit_docker: var("LAYERCACHE_E2E_BUILDKIT_DOCKER"),
        legacy_docker: var("LAYERCACHE_E2E_LEGACY_DOCKER"),
        kind: std::env::var("LAYERCACHE_ENGINE").unwrap_or_else(|_| "20.10".into()),
    })
}

/// Serialises the engine-touching part of every test in this binary: `docker builder prune -af`
/// is global to the engine, so a wipe in one test would empty another test's cache mid-build.
static ENGINE_LOCK: Mutex<()> = Mutex::new(());

/// One test's hold on the engine: the lock, and the repositories it made (wiped on drop).
pub struct Session {
    pub engine: Engine,
    test: String,
    repos: std::cell::RefCell<Vec<String>>,
    /// `<pid>-<millis>`: names this run's repositories and Dockerfiles.
    run_id: String,
    projects: std::cell::Cell<usize>,
    started: Instant,
    // Dropped after `Drop::drop` has cleaned up, so the clean-up runs under the locks.
    _file_lock: File,
    _guard: MutexGuard<'static, ()>,
}

/// Starts a test: `None` when the end-to-end tests are off. Takes the engine lock (a panic in
/// another test poisons it; the engine is still usable, so the poison is ignored), and also a
/// file lock, so that two `cargo test` processes on one machine do not wipe each other's cache.
pub fn start(test: &str) -> Option<Session> {
    let engine = engine()?;
    let guard = ENGINE_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let lock_path = std::env::temp_dir().join("layercache-e2e.lock");
    let file_lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
    file_lock
        .lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));
    eprintln!("e2e[{test}]: engine lock taken");
    // With the pid, a re-run with a recycled pid does not meet an earlier run's registry content.
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() % 1_000_000)
        .unwrap_or(0);
    let session = Session {
        engine,
        test: test.to_string(),
        repos: Default::default(),
        run_id: format!("{}-{stamp}", std::process::id()),
        projects: Default::default(),
        started: Instant::now(),
        _file_lock: file_lock,
        _guard: guard,
    };
    // A cold runner to begin with: every test below builds the same few Dockerfiles, so
    // BuildKit's local cache from an earlier test would otherwise answer a "first" build.
    session.prune();
    Some(session)
}

impl Session {
    /// A fresh repository in the engine's registry, e.g. `127.0.0.1:5000/e2e/<test>-<what>-<pid>-<stamp>`.
    pub fn repo(&self, what: &str) -> String {
        let registry = self.engine.registry.clone();
        self.repo_on(&registry, what)
    }

    /// A fresh repository on any registry host (for an unreachable one).
    pub fn repo_on(&self, registry: &str, what: &str) -> String {
        let repo = format!("{registry}/e2e/{}-{what}-{}", self.test, self.run_id);
        self.repos.borrow_mut().push(repo.clone());
        repo
    }

    /// A project folder whose Dockerfile is `dockerfile` with `{BASE}` replaced by the base
    /// image and `{RUN}` by a token unique to this project.
    ///
    /// The token (put it in an `ENV` right after each `FROM`) makes the first build really cold:
    /// the legacy builder takes cache hits from *any* local image with the same parent chain,
    /// whichever repository it belongs to, and a wipe only removes this test's repositories.
    /// Make it differ per stage (`{RUN}-builder`): when two stages share their first steps, the
    /// legacy builder given both stages' caches follows only one of them past the shared steps,
    /// and the other stage's steps miss.
    pub fn project(&self, dockerfile: &str) -> Project {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("context")).expect("mkdir");
        let token = format!("{}-{}", self.run_id, self.projects.get());
        self.projects.set(self.projects.get() + 1);
        let project = Project { root };
        let text = dockerfile
            .replace("{BASE}", &self.engine.base_image)
            .replace("{RUN}", &token);
        project.file("Dockerfile", &text);
        project
    }

    /// Simulates a fresh CI runner for `repo`: no local image of it, and no BuildKit cache.
    /// Only the registry still holds the cache.
    pub fn wipe(&self, repo: &str) {
        remove_images(&self.engine.buildkit_docker, repo);
        let left = run_quiet(&self.engine.buildkit_docker, &["images", "-q", repo]);
        assert!(left.trim().is_empty(), "wipe left images of {repo}: {left}");
        self.prune();
    }

    fn prune(&self) {
        run_quiet(&self.engine.buildkit_docker, &["builder", "prune", "-af"]);
    }

    /// A closed port on 127.0.0.1: bound by us, then released.
    pub fn closed_port(&self) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        listener.local_addr().expect("local addr").port()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let docker = &self.engine.buildkit_docker;
        for repo in self.repos.borrow().iter() {
            remove_images(docker, repo);
        }
        // Images that lost their tag to a later build of the same repository, and the legacy
        // builder's intermediate images of earlier stages, no longer carry the repository name;
        // they carry this run's token (in `ENV E2E_RUN`), so find them by that.
        let token = format!("E2E_RUN={}-", self.run_id);
        let dangling = run_quiet(docker, &["images", "-q", "--filter", "dangling=true"]);
        let ids: BTreeSet<&str> = dangling
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        for id in ids {
            let env = run_quiet(
                docker,
                &["image", "inspect", "--format", "{{json .Config.Env}}", id],
            );
            if env.contains(&token) {
                run_quiet(docker, &["rmi", id]);
            }
        }
        eprintln!(
            "e2e[{}]: done in {:.1}s",
            self.test,
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// `docker rmi -f` every local image of `repo`: by name where it has one (an id may also carry
/// another repository's tag), by id where it is `<none>`. The legacy builder's intermediate
/// images go with them, as untagged parents.
fn remove_images(docker: &str, repo: &str) {
    let listing = run_quiet(
        docker,
        &[
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.ID}}",
            repo,
        ],
    );
    let mut targets = BTreeSet::new();
    for line in listing.lines() {
        let Some((name, id)) = line.split_once(' ') else {
            continue;
        };
        targets.insert(if name.ends_with(":<none>") {
            id.to_string()
        } else {
            name.to_string()
        });
    }
    if !targets.is_empty() {
        let mut args = vec!["rmi", "-f"];
        args.extend(targets.iter().map(String::as_str));
        run_quiet(docker, &args);
    }
}

/// Runs a housekeeping docker command and returns its stdout; its failure is not the test's
/// subject, but it is reported.
fn run_quiet(docker: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(docker)
        .args(args)
        .env_remove("DOCKER_BUILDKIT")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {docker}: {e}"));
    if !out.status.success() {
        eprintln!(
            "e2e: `{docker} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A build context (`<tmp>/context`) in a temp folder that also has room for files that must
/// stay out of the context (generated scripts).
pub struct Project {
    root: tempfile::TempDir,
}

impl Project {
    /// The build context, where commands run.
    pub fn path(&self) -> PathBuf {
        self.root.path().join("context")
    }

    /// Writes (or overwrites) a file in the context, creating its folders.
    pub fn file(&self, name: &str, contents: &str) -> &Self {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    /// A path beside the project, outside the build context (for generated scripts).
    pub fn outside(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// `layercache ARGS` in the project folder.
    pub fn layercache(&self, args: &[&str]) -> Run {
        let mut cmd = assert_cmd::Command::cargo_bin("layercache").expect("the layercache binary");
        cmd.args(args);
        // The legacy client of the newer set-ups is the same binary with a docker config that
        // has no cli-plugins (scripts/engine-up.sh): layercache, which finds plugins where the
        // client does, runs with that config too, as on a machine without buildx.
        if let Some(config) = legacy_config_for(args) {
            cmd.env("DOCKER_CONFIG", config);
        }
        run(&format!("layercache {}", args.join(" ")), cmd, &self.path())
    }

    /// `sh -c SCRIPT` in the project folder.
    pub fn sh(&self, what: &str, script: &str) -> Run {
        let mut cmd = assert_cmd::Command::new("sh");
        cmd.arg("-c").arg(script);
        run(what, cmd, &self.path())
    }

    /// `sh FILE` in the project folder.
    pub fn sh_file(&self, file: &Path) -> Run {
        let mut cmd = assert_cmd::Command::new("sh");
        cmd.arg(file);
        run(&format!("sh {}", file.display()), cmd, &self.path())
    }
}

/// How one command ended.
#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout then stderr: what the parsers read (BuildKit writes its progress to stderr, the
    /// legacy builder to stdout, layercache streams both to its stderr).
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The whole run, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "`{}` exited {}\n----- stdout -----\n{}\n----- stderr -----\n{}\n------------------",
            self.what, self.code, self.stdout, self.stderr
        )
    }

    /// Asserts exit status 0.
    pub fn ok(self) -> Self {
        self.code(0)
    }

    /// Asserts an exit status.
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code,
            expected,
            "expected exit {expected}\n{}",
            self.dump()
        );
        self
    }

    /// Asserts that the combined output contains `needle`.
    pub fn says(&self, needle: &str) -> &Self {
        assert!(
            self.output().contains(needle),
            "expected `{needle}` in the output\n{}",
            self.dump()
        );
        self
    }
}

/// A generous bound: a wedged docker should fail the test, not hang CI.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(240);

/// `LAYERCACHE_E2E_LEGACY_DOCKER_CONFIG` when `args` name the legacy client with `--docker`.
fn legacy_config_for(args: &[&str]) -> Option<String> {
    let legacy = std::env::var("LAYERCACHE_E2E_LEGACY_DOCKER").ok()?;
    let config = std::env::var("LAYERCACHE_E2E_LEGACY_DOCKER_CONFIG")
        .ok()
        .filter(|c| !c.is_empty())?;
    args.windows(2)
        .any(|w| w[0] == "--docker" && w[1] == legacy)
        .then_some(config)
}

fn run(what: &str, mut cmd: assert_cmd::Command, dir: &Path) -> Run {
    cmd.current_dir(dir)
        .timeout(COMMAND_TIMEOUT)
        // The test states builder and docker on the command line, nothing leaks in from the
        // developer's shell.
        .env_remove("LAYERCACHE_DOCKER")
        .env_remove("LAYERCACHE_BUILDER")
        .env_remove("DOCKER_BUILDKIT")
        .env_remove("RUST_LOG");
    let started = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let run = Run {
        what: what.to_string(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "e2e: $ {what}  -> exit {} in {:.1}s",
        run.code,
        started.elapsed().as_secs_f64()
    );
    run
}

/// The tags of `repo` (`HOST:PORT/path`) in its registry, sorted; empty when the repository
/// does not exist. A plain HTTP/1.0 GET: the registry is local and speaks plain HTTP.
pub fn registry_tags(repo: &str) -> Vec<String> {
    let (host, path) = repo
        .split_once('/')
        .unwrap_or_else(|| panic!("{repo} has no registry host"));
    let mut stream = TcpStream::connect(host)
        .unwrap_or_else(|e| panic!("cannot reach the registry {host}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET /v2/{path}/tags/list HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n\r\n"
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("");
    match status {
        "200" => {}
        "404" => return Vec::new(),
        _ => panic!("GET /v2/{path}/tags/list on {host}: {head}\n{body}"),
    }
    let json: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("tags list is not JSON ({e}): {body}"));
    let mut tags: Vec<String> = json["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    tags
}

/// The tag part of every reference the plan pushes (`layercache plan --format json` with the
/// same flags), sorted: what the registry must hold after a build. A push step pushes its
/// reference; a `buildx build --push` pushes its `--tag`s and its registry `--cache-to` ref.
pub fn planned_push_tags(plan_json: &str) -> Vec<String> {
    let plan: serde_json::Value = serde_json::from_str(plan_json)
        .unwrap_or_else(|e| panic!("plan is not JSON ({e}): {plan_json}"));
    let mut refs: Vec<String> = Vec::new();
    for step in plan["images"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|image| image["steps"].as_array().into_iter().flatten())
    {
        if step["kind"] == "push" {
            refs.extend(step["reference"].as_str().map(String::from));
            continue;
        }
        let argv: Vec<&str> = step["argv"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str())
            .collect();
        if !argv.contains(&"--push") {
            continue;
        }
        for pair in argv.windows(2) {
            match pair {
                ["--tag", tag] => refs.push(tag.to_string()),
                ["--cache-to", to] => refs.extend(
                    to.strip_prefix("type=registry,ref=")
                        .and_then(|r| r.split(',').next())
                        .map(String::from),
                ),
                _ => {}
            }
        }
    }
    let mut tags: Vec<String> = refs
        .iter()
        .map(|r| {
            r.rsplit_once(':')
                .map(|(_, tag)| tag.to_string())
                .unwrap_or_default()
        })
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// One Dockerfile instruction as BuildKit's `--progress=plain` output reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildStep {
    /// `builder`, or `None` for an unnamed stage.
    pub stage: Option<String>,
    /// `RUN sleep 2 && ...`
    pub instruction: String,
    /// A `#N CACHED` line followed, or (containerd image store) its layers were unpacked from a
    /// cache instead of the step running.
    pub cached: bool,
}

/// Every Dockerfile step of every BuildKit build in `output`, in order of first appearance.
///
/// BuildKit prints `#N [stage i/n] INSTRUCTION` when vertex N starts (again whenever its output
/// resumes after another vertex's) and `#N CACHED` when it came from a cache. Vertex numbers
/// restart with each build, and every build begins with `#1 [internal] load build definition`,
/// so that line starts a new build.
pub fn buildkit_steps(output: &str) -> Vec<BuildStep> {
    let mut steps: Vec<BuildStep> = Vec::new();
    let mut by_vertex: HashMap<u32, usize> = HashMap::new();
    let mut cached: HashSet<u32> = HashSet::new();
    let flush = |steps: &mut Vec<BuildStep>,
                 by_vertex: &mut HashMap<u32, usize>,
                 cached: &mut HashSet<u32>| {
        for (vertex, &i) in by_vertex.iter() {
            steps[i].cached = cached.contains(vertex);
        }
        by_vertex.clear();
        cached.clear();
    };
    for line in output.lines() {
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let Some((number, text)) = rest.split_once(' ') else {
            continue;
        };
        let Ok(vertex) = number.parse::<u32>() else {
            continue;
        };
        let text = text.trim_end();
        if text.starts_with("[internal] load build definition") {
            flush(&mut steps, &mut by_vertex, &mut cached);
            continue;
        }
        // A hit from a registry cache on the containerd image store may print the download
        // and unpacking of the step's layers instead of `CACHED` (E2E-MATRIX.md); a step that
        // runs never unpacks layers under its own vertex.
        if text == "CACHED" || text.starts_with("extracting sha256:") {
            cached.insert(vertex);
            continue;
        }
        let Some((label, instruction)) = text.strip_prefix('[').and_then(|t| t.split_once("] "))
        else {
            continue;
        };
        let mut words: Vec<&str> = label.split_whitespace().collect();
        let is_step = words.last().is_some_and(|w| {
            w.split_once('/')
                .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
        });
        if !is_step || by_vertex.contains_key(&vertex) {
            continue;
        }
        words.pop();
        by_vertex.insert(vertex, steps.len());
        steps.push(BuildStep {
            stage: (!words.is_empty()).then(|| words.join(" ")),
            instruction: instruction.to_string(),
            cached: false,
        });
    }
    flush(&mut steps, &mut by_vertex, &mut cached);
    steps
}

/// The instructions BuildKit reported `CACHED`.
pub fn cached_steps(output: &str) -> Vec<String> {
    buildkit_steps(output)
        .into_iter()
        .filter(|s| s.cached)
        .map(|s| s.instruction)
        .collect()
}

/// The `RUN` and `COPY` steps (the ones that do work and make layers).
pub fn work_steps(output: &str) -> Vec<BuildStep> {
    buildkit_steps(output)
        .into_iter()
        .filter(|s| s.instruction.starts_with("RUN ") || s.instruction.starts_with("COPY "))
        .collect()
}

/// Every occurrence of the step whose instruction starts with `prefix`, asserting there is one.
pub fn step_runs<'a>(steps: &'a [BuildStep], prefix: &str, run: &Run) -> Vec<&'a BuildStep> {
    let found: Vec<&BuildStep> = steps
        .iter()
        .filter(|s| s.instruction.starts_with(prefix))
        .collect();
    assert!(
        !found.is_empty(),
        "no build step `{prefix}...` in the output (parsed {steps:#?})\n{}",
        run.dump()
    );
    found
}

/// How many steps the legacy builder took from its cache (` ---> Using cache`).
pub fn legacy_cache_hits(output: &str) -> usize {
    output
        .lines()
        .filter(|l| l.trim_end() == " ---> Using cache")
        .count()
}

/// One step of a legacy build (`Step 2/7 : RUN ...`) that is not `FROM` (a `FROM` step is
/// neither a hit nor a miss).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyStep {
    pub instruction: String,
    /// The next line said ` ---> Using cache`.
    pub cached: bool,
}

/// Every non-`FROM` step of every legacy build in `output`, in order.
pub fn legacy_steps(output: &str) -> Vec<LegacyStep> {
    let mut steps: Vec<LegacyStep> = Vec::new();
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((_, instruction)) = line.strip_prefix("Step ").and_then(|l| l.split_once(" : "))
        else {
            continue;
        };
        if instruction.to_ascii_uppercase().starts_with("FROM ") {
            continue;
        }
        let cached = lines
            .peek()
            .is_some_and(|next| next.trim_end() == " ---> Using cache");
        steps.push(LegacyStep {
            instruction: instruction.to_string(),
            cached,
        });
    }
    steps
}

/// Parsers checked against output captured from the engine (no docker needed).
pub mod parser_checks {
    use super::*;

    pub const BUILDKIT: &str = "\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#4 [builder 1/5] FROM 127.0.0.1:5000/layercache/base:1
#4 DONE 0.0s
#12 importing cache manifest from 127.0.0.1:1/x/y:cache
#12 ERROR: failed to do request: Head \"http://127.0.0.1:1/v2/x/y/manifests/cache\": dial tcp 127.0.0.1:1: connect: connection refused
#8 [builder 3/5] RUN sleep 2 && dd if=/dev/zero of=/blob bs=1024 count=2048
#8 sha256:2328075201d5f62ea8a9cd7f148919b1eb6484f9cf430dc0a0a036797f73fea4
#9 [builder 4/5] COPY src/ src/
#8 [builder 3/5] RUN sleep 2 && dd if=/dev/zero of=/blob bs=1024 count=2048
#8 CACHED
#9 DONE 0.0s
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#5 [2/3] RUN sleep 2 && dd if=/dev/zero of=/blob bs=1024 count=2048
#5 DONE 2.1s
";

    pub fn check() {
        let steps = buildkit_steps(BUILDKIT);
        let expected = [
            (
                Some("builder"),
                "FROM 127.0.0.1:5000/layercache/base:1",
                false,
            ),
            (
                Some("builder"),
                "RUN sleep 2 && dd if=/dev/zero of=/blob bs=1024 count=2048",
                true,
            ),
            (Some("builder"), "COPY src/ src/", false),
            (
                None,
                "RUN sleep 2 && dd if=/dev/zero of=/blob bs=1024 count=2048",
                false,
            ),
        ];
        let got: Vec<(Option<&str>, &str, bool)> = steps
            .iter()
            .map(|s| (s.stage.as_deref(), s.instruction.as_str(), s.cached))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(
            cached_steps(BUILDKIT),
            ["RUN sleep 2 && dd if=/dev/zero of=/blob bs=1024 count=2048"]
        );

        let legacy = concat!(
            "Step 1/3 : FROM base AS b\n",
            " ---> 5777da2355a1\n",
            "Step 2/3 : WORKDIR /b\n",
            " ---> Using cache\n",
            " ---> 87f7d107ff3c\n",
            "Step 3/3 : RUN x\n",
            " ---> Running in 1234\n",
        );
        let steps: Vec<(String, bool)> = legacy_steps(legacy)
            .into_iter()
            .map(|s| (s.instruction, s.cached))
            .collect();
        assert_eq!(
            steps,
            [
                ("WORKDIR /b".to_string(), true),
                ("RUN x".to_string(), false)
            ]
        );
        assert_eq!(legacy_cache_hits(legacy), 1);
    }
}

//! A small builder for CLI tests: a temp folder with a Dockerfile and spec, a fake `docker`
//! first on PATH that records every call, the layercache binary run there, and what the run
//! must show (as just's `Test`): the expectations are checked when it runs, and a failed one
//! prints the command, its folder, the files, stdout, stderr and the docker calls.
//!
//! ```ignore
//! Test::new().dockerfile(DOCKERFILE).spec("image: App\n").args(&["build"])
//!     .status(2).stderr_has("uppercase letter").no_steps()
//!     .run();
//! ```

use assert_cmd::Command;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Cloning keeps the same folder, so several runs can share one set-up; the expectations are
/// cloned too, so set them on the run they are about (last in the chain).
#[derive(Clone)]
pub struct Test {
    dir: std::rc::Rc<tempfile::TempDir>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    fail: Vec<String>,
    expect: Vec<Expect>,
}

/// One thing a run must show.
#[derive(Debug, Clone)]
enum Expect {
    Status(i32),
    Stdout(Text),
    Stderr(Text),
    /// No plan step ran (probes of the client may have).
    NoSteps,
    /// docker was not called at all, not even probed.
    NoDocker,
    /// The plan steps that ran, as `Call::line`s, in order.
    Steps(Vec<String>),
    StepCount(usize),
}

/// A check of stdout or stderr.
#[derive(Debug, Clone)]
enum Text {
    Has(String),
    Lacks(String),
    StartsWith(String),
    Is(String),
}

impl Text {
    /// What is wrong with `text`, if anything.
    fn failure(&self, text: &str) -> Option<String> {
        match self {
            Text::Has(s) if !text.contains(s.as_str()) => Some(format!("does not contain {s:?}")),
            Text::Lacks(s) if text.contains(s.as_str()) => Some(format!("contains {s:?}")),
            Text::StartsWith(s) if !text.starts_with(s.as_str()) => {
                Some(format!("does not start with {s:?}"))
            }
            Text::Is(s) if text != s => Some(format!("is not {s:?}")),
            _ => None,
        }
    }
}

impl Expect {
    /// What is wrong with `out`, if anything.
    fn failure(&self, out: &Output) -> Option<String> {
        match self {
            Expect::Status(code) => {
                (out.code != *code).then(|| format!("exit status {}, expected {code}", out.code))
            }
            Expect::Stdout(t) => t.failure(&out.stdout).map(|f| format!("stdout {f}")),
            Expect::Stderr(t) => t.failure(&out.stderr).map(|f| format!("stderr {f}")),
            Expect::NoSteps => {
                (!out.calls().is_empty()).then(|| "docker steps ran, expected none".to_string())
            }
            Expect::NoDocker => {
                (!out.all_calls.is_empty()).then(|| "docker was called, expected not".to_string())
            }
            Expect::Steps(lines) => (out.lines() != *lines)
                .then(|| format!("the docker steps differ; expected:\n{}", lines.join("\n"))),
            Expect::StepCount(n) => (out.calls().len() != *n)
                .then(|| format!("{} docker steps ran, expected {n}", out.calls().len())),
        }
    }
}

/// One recorded docker call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub argv: Vec<String>,
    /// The DOCKER_BUILDKIT the call saw, or `unset`.
    pub buildkit: String,
    pub stdin: Option<String>,
}

impl Call {
    /// Probes of the client (`--version`, `buildx version`), not plan steps.
    /// The engine probe (`--version`, `buildx version`, `buildx inspect`, `info`), not a plan
    /// step; `buildx build` is a step.
    pub fn is_probe(&self) -> bool {
        let arg = |i: usize| self.argv.get(i).map(String::as_str);
        matches!(arg(0), Some("--version" | "info"))
            || (arg(0) == Some("buildx") && matches!(arg(1), Some("version" | "inspect")))
    }
    pub fn line(&self) -> String {
        self.argv.join(" ")
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Every docker call, probes included, in order.
    pub all_calls: Vec<Call>,
    /// The command, its folder, its environment and the files there, as `dump` shows them.
    context: String,
}

impl Output {
    /// The whole run, for a failure message: command, folder, files, stdout, stderr, docker calls.
    pub fn dump(&self) -> String {
        let mut calls = String::new();
        for (i, c) in self.all_calls.iter().enumerate() {
            let _ = write!(calls, "{}. docker {}", i + 1, c.argv.join(" "));
            let _ = write!(calls, "  (DOCKER_BUILDKIT={}", c.buildkit);
            if let Some(stdin) = &c.stdin {
                let _ = write!(calls, ", stdin {} bytes", stdin.len());
            }
            calls.push_str(")\n");
        }
        format!(
            "{}exit status {}\n----- stdout -----\n{}\n----- stderr -----\n{}\n\
             ----- docker calls -----\n{calls}------------------",
            self.context, self.code, self.stdout, self.stderr
        )
    }

    /// The docker calls that are plan steps (probes left out).
    pub fn calls(&self) -> Vec<Call> {
        self.all_calls
            .iter()
            .filter(|c| !c.is_probe())
            .cloned()
            .collect()
    }
    pub fn lines(&self) -> Vec<String> {
        self.calls().iter().map(Call::line).collect()
    }
    /// The plan steps whose line starts with `prefix` (`push`, `build --quiet`, ...).
    pub fn steps_starting_with(&self, prefix: &str) -> Vec<String> {
        let mut lines = self.lines();
        lines.retain(|l| l.starts_with(prefix));
        lines
    }
    /// stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.dump()))
    }
    /// Every byte the run produced: stdout, stderr, and each call's argv and stdin.
    pub fn everything(&self) -> String {
        let calls: Vec<String> = self
            .all_calls
            .iter()
            .map(|c| {
                format!(
                    "{}\n{}",
                    c.argv.join("\n"),
                    c.stdin.clone().unwrap_or_default()
                )
            })
            .collect();
        format!("{}\n{}\n{}", self.stdout, self.stderr, calls.join("\n"))
    }
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    pub fn new() -> Self {
        Test {
            dir: std::rc::Rc::new(tempfile::tempdir().expect("temp dir")),
            args: Vec::new(),
            env: Vec::new(),
            fail: Vec::new(),
            expect: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(self, name: &str, contents: impl AsRef<[u8]>) -> Self {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, contents).expect("write");
        self
    }

    pub fn dockerfile(self, text: &str) -> Self {
        self.file("Dockerfile", text)
    }

    pub fn spec(self, text: &str) -> Self {
        self.file("layercache.yml", text)
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args = args.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The fake docker fails (exit 1) on calls whose command line matches this sh glob.
    pub fn fail_on(mut self, glob: &str) -> Self {
        self.fail.push(glob.into());
        self
    }

    /// A fake docker whose client builds with BuildKit (a pre-23 client).
    pub fn buildkit_client(self) -> Self {
        self.env("FAKE_DOCKER_VERSION", "20.10.24")
    }

    /// A fake engine as the probe sees it: a 28.2 client with buildx, its builder's driver,
    /// and the daemon's version and image store (`classic` or `containerd`).
    pub fn engine(self, server: &str, store: &str, driver: &str) -> Self {
        self.env("FAKE_DOCKER_BUILDX", "1")
            .env("FAKE_DOCKER_SERVER", server)
            .env("FAKE_DOCKER_STORE", store)
            .env("FAKE_DOCKER_DRIVER", driver)
    }

    // ---- Expectations, checked by `run` and `run_sh`.

    fn expect(mut self, e: Expect) -> Self {
        self.expect.push(e);
        self
    }

    /// The run exits with `code`.
    pub fn status(self, code: i32) -> Self {
        self.expect(Expect::Status(code))
    }

    /// The run exits 0.
    pub fn success(self) -> Self {
        self.status(0)
    }

    pub fn stdout_has(self, text: &str) -> Self {
        self.expect(Expect::Stdout(Text::Has(text.into())))
    }

    pub fn stdout_lacks(self, text: &str) -> Self {
        self.expect(Expect::Stdout(Text::Lacks(text.into())))
    }

    pub fn stdout_starts_with(self, text: &str) -> Self {
        self.expect(Expect::Stdout(Text::StartsWith(text.into())))
    }

    pub fn stdout_is(self, text: &str) -> Self {
        self.expect(Expect::Stdout(Text::Is(text.into())))
    }

    pub fn stderr_has(self, text: &str) -> Self {
        self.expect(Expect::Stderr(Text::Has(text.into())))
    }

    pub fn stderr_lacks(self, text: &str) -> Self {
        self.expect(Expect::Stderr(Text::Lacks(text.into())))
    }

    /// No plan step runs (probes of the client may).
    pub fn no_steps(self) -> Self {
        self.expect(Expect::NoSteps)
    }

    /// docker is not called at all, not even probed.
    pub fn no_docker(self) -> Self {
        self.expect(Expect::NoDocker)
    }

    /// Exactly these plan steps run, in this order (as `Call::line`s).
    pub fn steps(self, lines: &[&str]) -> Self {
        self.expect(Expect::Steps(lines.iter().map(|l| l.to_string()).collect()))
    }

    /// This many plan steps run.
    pub fn step_count(self, n: usize) -> Self {
        self.expect(Expect::StepCount(n))
    }

    fn bin_dir(&self) -> PathBuf {
        let bin = self.dir.path().join(".fakebin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-docker");
        // A link, not a copy: a file this process writes can be inherited open for writing by a
        // child another test thread forks at that moment, and exec'ing it then fails with
        // ETXTBSY ("Text file busy"), a flake of one test crate running suites in parallel.
        let link = bin.join("docker");
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(fake, &link).expect("link the fake docker");
        }
        bin
    }

    fn record_dir(&self, name: &str) -> PathBuf {
        let d = self.dir.path().join(name);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    fn path_var(&self) -> String {
        format!(
            "{}:{}",
            self.bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn apply_env(&self, cmd: &mut std::process::Command, record: &Path) {
        cmd.current_dir(self.dir.path())
            .env("PATH", self.path_var())
            .env("FAKE_DOCKER_DIR", record)
            .env("FAKE_DOCKER_FAIL", self.fail.join("\n"))
            // Retries without waiting, unless a test sets a delay.
            .env("LAYERCACHE_RETRY_DELAY", "0")
            // The docker config of the test, not the machine's (logins before the run).
            .env("DOCKER_CONFIG", self.dir.path().join(".docker"))
            // No daemon socket: the probe asks the fake's `docker info` (the machine's daemon,
            // if any, stays out of these tests).
            .env(
                "DOCKER_HOST",
                format!(
                    "unix://{}",
                    self.dir.path().join("no-daemon.sock").display()
                ),
            )
            .env_remove("DOCKER_CONTEXT")
            .env_remove("BUILDX_BUILDER")
            .env_remove("BUILDX_CONFIG")
            .env_remove("LAYERCACHE_DOCKER")
            .env_remove("LAYERCACHE_FILE")
            .env_remove("LAYERCACHE_BUILDER")
            .env_remove("RUST_LOG");
        // Compose's variables would pick other files, profiles or project names.
        for var in [
            "COMPOSE_FILE",
            "COMPOSE_PROFILES",
            "COMPOSE_PROJECT_NAME",
            "COMPOSE_PATH_SEPARATOR",
            "COMPOSE_DISABLE_ENV_FILE",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        self.install_buildx();
    }

    /// The test's value of an environment variable it sets.
    fn env_value(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The files the probe reads where the fake docker has buildx (`FAKE_DOCKER_BUILDX=1`): the
    /// plugin in the test's docker config, and for a builder that is not the docker driver,
    /// buildx's `current` and `instances/<name>` as `docker buildx create --use` writes them.
    fn install_buildx(&self) {
        if self.env_value("FAKE_DOCKER_BUILDX") != Some("1") {
            return;
        }
        let config = self.dir.path().join(".docker");
        let plugin = config.join("cli-plugins/docker-buildx");
        std::fs::create_dir_all(plugin.parent().unwrap()).expect("mkdir");
        std::fs::write(&plugin, "#!/bin/sh\nexit 1\n").expect("write plugin");
        let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&plugin, executable).expect("chmod plugin");
        let driver = self.env_value("FAKE_DOCKER_DRIVER").unwrap_or("docker");
        if driver == "docker" {
            return;
        }
        let name = self.env_value("BUILDX_BUILDER").unwrap_or("fake-builder");
        let host = format!(
            "unix://{}",
            self.dir.path().join("no-daemon.sock").display()
        );
        let host = self.env_value("DOCKER_HOST").unwrap_or(&host);
        let buildx = config.join("buildx");
        std::fs::create_dir_all(buildx.join("instances")).expect("mkdir");
        let current = format!(r#"{{"Key":"{host}","Name":"{name}","Global":false}}"#);
        std::fs::write(buildx.join("current"), current).expect("write current");
        let instance = format!(
            r#"{{"Name":"{name}","Driver":"{driver}","Nodes":[{{"Name":"{name}0","Endpoint":"{host}"}}]}}"#
        );
        std::fs::write(buildx.join("instances").join(name.to_lowercase()), instance)
            .expect("write instance");
    }

    /// Runs layercache with the arguments given, and checks the expectations.
    #[track_caller]
    pub fn run(&self) -> Output {
        let record = self.record_dir(".calls");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_layercache"));
        self.apply_env(&mut cmd, &record);
        cmd.args(&self.args);
        let out = Command::from_std(cmd).output().expect("run layercache");
        let command = format!("layercache {}", self.args.join(" "));
        self.check(self.output(out, &record, &command))
    }

    fn output(&self, out: std::process::Output, record: &Path, command: &str) -> Output {
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            all_calls: read_calls(record),
            context: self.context(command),
        }
    }

    /// Panics, showing the whole run, unless every expectation holds.
    #[track_caller]
    fn check(&self, out: Output) -> Output {
        let failures: Vec<String> = self.expect.iter().filter_map(|e| e.failure(&out)).collect();
        if !failures.is_empty() {
            panic!("{}\n{}", failures.join("\n"), out.dump());
        }
        out
    }

    /// The command, where it ran, what the test set in its environment, and the files there
    /// (small text files with their contents).
    fn context(&self, command: &str) -> String {
        let mut text = format!("$ {command}\nin {}\n", self.path().display());
        for (k, v) in &self.env {
            let _ = writeln!(text, "env {k}={v:?}");
        }
        if !self.fail.is_empty() {
            let _ = writeln!(text, "the fake docker fails on: {:?}", self.fail);
        }
        let mut files = Vec::new();
        list_files(self.path(), self.path(), &mut files);
        files.sort();
        for (name, bytes) in files {
            match String::from_utf8(bytes) {
                Ok(t) if t.len() <= 2048 => {
                    let _ = writeln!(text, "--- {name}\n{}", t.trim_end());
                }
                Ok(t) => {
                    let _ = writeln!(text, "--- {name} ({} bytes)", t.len());
                }
                Err(e) => {
                    let _ = writeln!(text, "--- {name} ({} bytes, not UTF-8)", e.as_bytes().len());
                }
            }
        }
        text
    }

    /// Starts layercache without waiting; the calls land in the returned folder.
    pub fn spawn(&self) -> (std::process::Child, PathBuf) {
        let record = self.record_dir(".calls");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_layercache"));
        self.apply_env(&mut cmd, &record);
        cmd.args(&self.args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        (cmd.spawn().expect("spawn layercache"), record)
    }

    /// Runs a shell script with `sh` in the same set-up (fake docker on PATH), and checks the
    /// expectations.
    #[track_caller]
    pub fn run_sh(&self, script: &str) -> Output {
        let record = self.record_dir(".sh-calls");
        let script_path = self.dir.path().join(".plan.sh");
        std::fs::write(&script_path, script).expect("write script");
        let mut cmd = std::process::Command::new("sh");
        self.apply_env(&mut cmd, &record);
        let out = cmd.arg(&script_path).output().expect("run sh");
        self.check(self.output(out, &record, "sh .plan.sh"))
    }
}

/// Every file below `dir` (as `(path from root, bytes)`), but the fake docker and its records.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        if matches!(name.as_str(), ".fakebin" | ".calls" | ".sh-calls") {
            continue;
        }
        if path.is_dir() {
            list_files(root, &path, out);
        } else {
            out.push((name, std::fs::read(&path).unwrap_or_default()));
        }
    }
}

pub fn read_calls(dir: &Path) -> Vec<Call> {
    let count: usize = std::fs::read_to_string(dir.join("count"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    (1..=count)
        .map(|n| {
            let argv = std::fs::read(dir.join(format!("call-{n}.argv"))).unwrap_or_default();
            let argv = argv
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>();
            let argv = argv[..argv.len().saturating_sub(1)].to_vec();
            Call {
                argv,
                buildkit: std::fs::read_to_string(dir.join(format!("call-{n}.buildkit")))
                    .unwrap_or_default(),
                stdin: std::fs::read_to_string(dir.join(format!("call-{n}.stdin"))).ok(),
            }
        })
        .collect()
}

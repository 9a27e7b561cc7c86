//! A small builder for CLI tests: a temp folder with a Dockerfile and spec, a fake `docker`
//! first on PATH that records every call, and the layercache binary run there.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// Cloning keeps the same folder, so several runs can share one set-up.
#[derive(Clone)]
pub struct Test {
    dir: std::rc::Rc<tempfile::TempDir>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    fail: Vec<String>,
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
    pub fn is_probe(&self) -> bool {
        matches!(
            self.argv.first().map(String::as_str),
            Some("--version" | "buildx")
        )
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
}

impl Output {
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

    fn bin_dir(&self) -> PathBuf {
        let bin = self.dir.path().join(".fakebin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-docker");
        std::fs::copy(fake, bin.join("docker")).expect("copy fake docker");
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
            .env_remove("LAYERCACHE_DOCKER")
            .env_remove("LAYERCACHE_BUILDER")
            .env_remove("RUST_LOG");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
    }

    /// Runs layercache with the arguments given.
    pub fn run(&self) -> Output {
        let record = self.record_dir(".calls");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_layercache"));
        self.apply_env(&mut cmd, &record);
        cmd.args(&self.args);
        let out = Command::from_std(cmd).output().expect("run layercache");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            all_calls: read_calls(&record),
        }
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

    /// Runs a shell script with `sh` in the same set-up (fake docker on PATH).
    pub fn run_sh(&self, script: &str) -> Output {
        let record = self.record_dir(".sh-calls");
        let script_path = self.dir.path().join(".plan.sh");
        std::fs::write(&script_path, script).expect("write script");
        let mut cmd = std::process::Command::new("sh");
        self.apply_env(&mut cmd, &record);
        let out = cmd.arg(&script_path).output().expect("run sh");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            all_calls: read_calls(&record),
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

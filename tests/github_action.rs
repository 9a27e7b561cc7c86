//! layercache's GitHub Action (action.yml, composite): validated against GitHub's action schema,
//! and run as the runner runs it, step by step, under recorded GitHub variables against the fake
//! docker: `${{ ... }}` evaluated for a given set of inputs, `if:` conditions, the `bash` shell,
//! and GITHUB_OUTPUT / GITHUB_PATH read between steps. It must make the docker calls that
//! `layercache build` makes in the same run, and give the outputs it promises.

use crate::ci_config::validate;
use crate::support::{Call, Output, Test};
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::process::Command;

const ACTION: &str = include_str!("../action.yml");
const TOKEN: &str = "ghs_recorded-workflow-token";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn action() -> Value {
    serde_yaml::from_str(ACTION).expect("action.yml is YAML")
}

#[test]
fn the_action_is_valid_for_github() {
    validate(
        "github-action",
        &[("action".to_string(), ACTION.to_string())],
    );
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    assert_eq!(
        action["inputs"]["version"]["default"].as_str(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    for input in [
        "spec",
        "push",
        "tags",
        "target",
        "strategy",
        "builder",
        "cache-repository",
    ] {
        assert!(
            action["inputs"][input]["description"].is_string(),
            "{input}"
        );
    }
    for output in ["image", "tags", "digest", "report"] {
        assert!(action["outputs"][output]["value"].is_string(), "{output}");
    }
}

/// The run scripts pass shellcheck (where it is installed), as bash scripts.
#[test]
fn the_run_scripts_pass_shellcheck() {
    if !Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: shellcheck is not installed; the action's scripts not checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, step) in steps().iter().enumerate() {
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        let path = dir.path().join(format!("step-{i}.sh"));
        std::fs::write(&path, run).unwrap();
        let out = Command::new("shellcheck")
            .args(["--shell=bash", "--severity=warning"])
            .arg(&path)
            .output()
            .expect("run shellcheck");
        assert!(
            out.status.success(),
            "step {i}:\n{run}\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

fn steps() -> Vec<Value> {
    action()["runs"]["steps"]
        .as_sequence()
        .expect("runs.steps")
        .clone()
}

// ---------------------------------------------------------------------------------------------
// The runner, as far as this action needs it

/// What the action's expressions can read: `inputs.*`, `github.*`, `runner.*`, `steps.*`.
type Context = BTreeMap<String, String>;

/// `${{ EXPR }}` replaced by the context's value, as the runner does in `env`, `with` and `run`;
/// an expression this test does not know fails it, so a new one in action.yml gets taught here.
fn expand(text: &str, ctx: &Context) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find("}}").expect("a closed expression") + at;
        let expr = rest[at + 3..end].trim();
        let value = ctx
            .get(expr)
            .unwrap_or_else(|| panic!("an expression this runner does not know: {expr}"));
        out.push_str(value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// An `if:` of the forms the action uses: `A != 'B'` or `A == 'B'`; a missing A is ''.
fn condition(expr: &str, ctx: &Context) -> bool {
    let (left, op, right) = if let Some((l, r)) = expr.split_once("!=") {
        (l, "!=", r)
    } else if let Some((l, r)) = expr.split_once("==") {
        (l, "==", r)
    } else {
        panic!("a condition this runner does not know: {expr}")
    };
    let left = ctx.get(left.trim()).cloned().unwrap_or_default();
    let right = right.trim().trim_matches('\'');
    (left == right) == (op == "==")
}

/// `name=value` lines and `name<<DELIMITER` blocks, as GitHub reads GITHUB_OUTPUT.
fn read_outputs(text: &str) -> Vec<(String, String)> {
    let mut outputs = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.push((name.to_string(), value.to_string()));
        }
    }
    outputs
}

fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// One run of the action.
struct Run {
    /// Every docker call the steps made, probes included.
    calls: Vec<Call>,
    /// The action's outputs.
    outputs: BTreeMap<String, String>,
    /// The step that failed, and its run.
    failed: Option<(String, Output)>,
    /// What the steps printed.
    stdout: String,
    /// Which steps ran.
    ran: Vec<String>,
}

impl Run {
    fn steps(&self) -> Vec<String> {
        self.calls
            .iter()
            .filter(|c| !c.is_probe())
            .map(Call::line)
            .collect()
    }
}

/// Runs the action in `t` (recorded variables set by `in_github`) with these inputs; the
/// cache step restores ~/.layercache when `cache_hit`.
fn run_action(t: &Test, inputs: &[(&str, &str)], cache_hit: bool) -> Run {
    let action = action();
    let home = t.path().join("home");
    let temp = t.path().join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let mut ctx = Context::new();
    ctx.insert("github.token".into(), TOKEN.into());
    ctx.insert("runner.os".into(), "Linux".into());
    ctx.insert("runner.arch".into(), "X64".into());
    ctx.insert("runner.temp".into(), temp.display().to_string());
    for (name, input) in action["inputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let value = match inputs.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => v.to_string(),
            None => expand(input["default"].as_str().unwrap_or(""), &ctx),
        };
        ctx.insert(format!("inputs.{name}"), value);
    }
    for (name, _) in inputs {
        assert!(
            ctx.contains_key(&format!("inputs.{name}")),
            "no input {name}"
        );
    }
    let mut path: Vec<String> = Vec::new();
    let mut run = Run {
        calls: Vec::new(),
        outputs: BTreeMap::new(),
        failed: None,
        stdout: String::new(),
        ran: Vec::new(),
    };
    for (i, step) in steps().iter().enumerate() {
        let name = step["name"].as_str().unwrap_or("").to_string();
        let id = step["id"].as_str().unwrap_or("").to_string();
        if let Some(cond) = step["if"].as_str() {
            if !condition(cond, &ctx) {
                continue;
            }
        }
        run.ran.push(name.clone());
        if let Some(uses) = step["uses"].as_str() {
            assert_eq!(uses, "actions/cache@v4", "a step this runner does not know");
            for (_, value) in step["with"].as_mapping().unwrap() {
                expand(value.as_str().unwrap(), &ctx);
            }
            let hit = if cache_hit { "true" } else { "false" };
            ctx.insert(format!("steps.{id}.outputs.cache-hit"), hit.into());
            continue;
        }
        assert_eq!(step["shell"].as_str(), Some("bash"), "{name}");
        let script = expand(step["run"].as_str().expect("run"), &ctx);
        let script_path = format!(".action-step-{i}.sh");
        std::fs::write(t.path().join(&script_path), script).unwrap();
        let output_file = temp.join(format!("output-{i}"));
        let path_file = temp.join(format!("path-{i}"));
        std::fs::write(&output_file, "").unwrap();
        std::fs::write(&path_file, "").unwrap();
        let mut driver = String::new();
        let mut env = vec![
            ("HOME".to_string(), home.display().to_string()),
            ("RUNNER_TEMP".to_string(), temp.display().to_string()),
            (
                "GITHUB_OUTPUT".to_string(),
                output_file.display().to_string(),
            ),
            ("GITHUB_PATH".to_string(), path_file.display().to_string()),
        ];
        if let Some(vars) = step["env"].as_mapping() {
            for (k, v) in vars {
                env.push((
                    k.as_str().unwrap().into(),
                    expand(v.as_str().unwrap(), &ctx),
                ));
            }
        }
        for (k, v) in env {
            driver.push_str(&format!("export {k}={}\n", sh_quote(&v)));
        }
        for dir in &path {
            driver.push_str(&format!("export PATH={}:\"$PATH\"\n", sh_quote(dir)));
        }
        // GitHub's `bash` shell: `bash --noprofile --norc -eo pipefail {0}`.
        driver.push_str(&format!(
            "exec bash --noprofile --norc -eo pipefail {script_path}\n"
        ));
        let out = t.run_sh(&driver);
        run.calls.extend(out.all_calls.iter().cloned());
        run.stdout.push_str(&out.stdout);
        if out.code != 0 {
            run.failed = Some((name, out));
            return run;
        }
        for (k, v) in read_outputs(&std::fs::read_to_string(&output_file).unwrap()) {
            ctx.insert(format!("steps.{id}.outputs.{k}"), v);
        }
        for dir in std::fs::read_to_string(&path_file).unwrap().lines() {
            path.insert(0, dir.to_string());
        }
    }
    for (name, output) in action["outputs"].as_mapping().unwrap() {
        let value = expand(output["value"].as_str().unwrap(), &ctx);
        run.outputs.insert(name.as_str().unwrap().into(), value);
    }
    run
}

// ---------------------------------------------------------------------------------------------
// Runs

/// Recorded variables of a GitHub Actions run: a push to main, or a pull request from Fix/Thing.
fn in_github(t: Test, event: &str) -> Test {
    let summary = t.path().join("summary.md");
    let t = t
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", event)
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_REPOSITORY", "Octo/App")
        .env("GITHUB_ACTOR", "octocat")
        .env("GITHUB_REF_TYPE", "branch")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .env("RUNNER_OS", "Linux")
        .env("GITLAB_CI", "")
        .env("CIRCLECI", "");
    match event {
        "pull_request" => t
            .env("GITHUB_REF_NAME", "42/merge")
            .env("GITHUB_HEAD_REF", "Fix/Thing")
            .env("GITHUB_BASE_REF", "main"),
        _ => t.env("GITHUB_REF_NAME", "main"),
    }
}

/// A checkout with only the multi-stage example's Dockerfile (GitHub's defaults: the image
/// ghcr.io/octo/app), layercache already installed in ~/.layercache as a cache hit leaves it.
fn checkout(event: &str) -> Test {
    let t = Test::new()
        .dockerfile(include_str!("../examples/multi-stage/Dockerfile.multi"))
        .file(
            "requirements.txt",
            include_str!("../examples/multi-stage/requirements.txt"),
        )
        .file(
            "src/main.sh",
            include_str!("../examples/multi-stage/src/main.sh"),
        );
    install_cached(&t);
    in_github(t, event).buildkit_client()
}

fn install_cached(t: &Test) {
    let bin = t.path().join("home/.layercache/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_layercache"), bin.join("layercache")).unwrap();
}

/// The action's scripts read the plan with jq, as GitHub's runners have it.
fn jq_present() -> bool {
    let found = Command::new("jq")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "jq is missing, and under CI the action's run must be tested"
        );
        eprintln!("skipped: jq is not installed; the action's steps not run");
    }
    found
}

/// `layercache build ARGS` in the same run, called as the workflow would with the token.
fn layercache_build(t: &Test, args: &[&str]) -> Output {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    t.clone()
        .env("GITHUB_TOKEN", TOKEN)
        .args(&all)
        .success()
        .run()
}

fn digest_of(reference: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(reference.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    format!("sha256:{}", &String::from_utf8_lossy(&out.stdout)[..64])
}

#[track_caller]
fn succeeded(run: &Run) {
    if let Some((step, out)) = &run.failed {
        panic!("the step `{step}` failed:\n{}", out.dump());
    }
}

#[test]
fn on_a_push_the_action_makes_the_calls_layercache_build_makes() {
    if !jq_present() {
        return;
    }
    let t = checkout("push");
    let run = run_action(&t, &[], true);
    succeeded(&run);
    assert!(
        !run.ran.contains(&"Install layercache".to_string()),
        "{:?}",
        run.ran
    );
    let expected = layercache_build(&t, &["--report", "direct-report.json"]).lines();
    assert_eq!(run.steps(), expected);
    // layercache logged in to ghcr.io with the workflow's token, on docker's stdin.
    let login = run
        .calls
        .iter()
        .find(|c| c.argv[0] == "login")
        .expect("a login");
    assert_eq!(
        login.argv,
        [
            "login",
            "--username",
            "octocat",
            "--password-stdin",
            "ghcr.io"
        ]
    );
    assert_eq!(login.stdin.as_deref().map(str::trim_end), Some(TOKEN));
    // Only in the line that tells GitHub to mask it.
    assert!(
        run.stdout
            .lines()
            .filter(|l| l.contains(TOKEN))
            .all(|l| l == format!("::add-mask::{TOKEN}")),
        "{}",
        run.stdout
    );

    assert_eq!(run.outputs["image"], "ghcr.io/octo/app");
    assert_eq!(
        run.outputs["tags"],
        format!("ghcr.io/octo/app:{SHA}\nghcr.io/octo/app:main")
    );
    // The last push is the last tag's.
    assert_eq!(run.outputs["digest"], digest_of("ghcr.io/octo/app:main"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run.outputs["report"]).unwrap()).unwrap();
    let stages: Vec<&str> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["builder", "final"]);
    assert!(run.outputs["report"].starts_with(&t.path().join("runner-temp").display().to_string()));
    let summary = std::fs::read_to_string(t.path().join("summary.md")).unwrap();
    assert!(summary.contains("### layercache cache report"), "{summary}");
    assert!(
        summary.contains(&format!(
            "**Image** `ghcr.io/octo/app` (`{}`)",
            run.outputs["digest"]
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("- `ghcr.io/octo/app:{SHA}`")),
        "{summary}"
    );
}

#[test]
fn for_a_pull_request_the_action_pushes_nothing() {
    if !jq_present() {
        return;
    }
    let t = checkout("pull_request");
    let run = run_action(&t, &[], true);
    succeeded(&run);
    let expected = layercache_build(&t, &["--no-push"]).lines();
    assert!(
        expected.iter().all(|l| !l.starts_with("push")),
        "{expected:?}"
    );
    assert_eq!(run.steps(), expected);
    assert_eq!(run.outputs["digest"], "");
    assert_eq!(
        run.outputs["tags"],
        format!("ghcr.io/octo/app:{SHA}\nghcr.io/octo/app:fix-thing-c82091c8")
    );
}

#[test]
fn the_inputs_become_the_flags_of_layercache_build() {
    if !jq_present() {
        return;
    }
    let t = checkout("push")
        .spec("image: ghcr.io/octo/app\ndockerfile: Dockerfile\n")
        .file(
            "deploy/layercache.yml",
            "image: ghcr.io/octo/other\ndockerfile: ../Dockerfile\n",
        );
    let run = run_action(
        &t,
        &[
            ("spec", "deploy/layercache.yml"),
            ("push", "true"),
            ("tags", "v1.2, latest\nedge"),
            ("target", "builder"),
            ("strategy", "inline"),
            ("builder", "buildkit"),
            ("cache-repository", "ghcr.io/octo/cache"),
            ("jobs", "2"),
            ("progress", "prefix"),
            ("flags", "--build-arg MODE=ci --retries 2"),
            ("report", "cache.json"),
        ],
        true,
    );
    succeeded(&run);
    let expected = layercache_build(
        &t,
        &[
            "-f",
            "deploy/layercache.yml",
            "--push",
            "--tag",
            "v1.2",
            "--tag",
            "latest",
            "--tag",
            "edge",
            "--target",
            "builder",
            "--strategy",
            "inline",
            "--builder",
            "buildkit",
            "--cache-repository",
            "ghcr.io/octo/cache",
            "--jobs",
            "2",
            "--progress",
            "prefix",
            "--build-arg",
            "MODE=ci",
            "--retries",
            "2",
        ],
    )
    .lines();
    assert!(
        expected
            .iter()
            .any(|l| l.contains("ghcr.io/octo/cache:cache-builder")),
        "{expected:?}"
    );
    assert_eq!(run.steps(), expected);
    assert_eq!(run.outputs["image"], "ghcr.io/octo/other");
    assert_eq!(
        run.outputs["tags"],
        "ghcr.io/octo/other:v1.2\nghcr.io/octo/other:edge\nghcr.io/octo/other:latest"
    );
    assert_eq!(run.outputs["report"], "cache.json");
    assert!(t.path().join("cache.json").is_file());

    // One multi-platform image, on an engine that can build one (the containerd store).
    let multi = checkout("push")
        .spec("image: ghcr.io/octo/app\ndockerfile: Dockerfile\n")
        .engine("28.5.2", "containerd", "docker");
    let platforms = [("platforms", "linux/amd64, linux/arm64")];
    let run = run_action(&multi, &platforms, true);
    succeeded(&run);
    let expected = layercache_build(&multi, &["--platform", "linux/amd64,linux/arm64"]).lines();
    assert!(
        expected
            .iter()
            .any(|l| l.contains("--platform linux/amd64,linux/arm64")),
        "{expected:?}"
    );
    assert_eq!(run.steps(), expected);

    let bad = run_action(&t, &[("push", "sometimes")], true);
    let (step, out) = bad.failed.as_ref().expect("a bad push input fails");
    assert_eq!(step, "Build");
    assert!(
        out.stdout.contains("push is auto, true or false"),
        "{}",
        out.stdout
    );
    assert!(bad.steps().is_empty());
}

/// A tool the install step calls, as a recording stand-in, beside the fake docker on PATH.
fn fake_tool(t: &Test, name: &str, script: &str) {
    let dir = t.path().join(".fakebin");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn without_a_cached_copy_the_action_installs_layercache() {
    if !jq_present() {
        return;
    }
    // With cargo: `cargo install --locked --version V --root ~/.layercache layercache`.
    let t = checkout("push");
    std::fs::remove_dir_all(t.path().join("home/.layercache")).unwrap();
    fake_tool(
        &t,
        "cargo",
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" > \"$HOME/cargo-args\"\n\
             root=; prev=\nfor a in \"$@\"; do [ \"$prev\" = --root ] && root=$a; prev=$a; done\n\
             mkdir -p \"$root/bin\" && cp '{}' \"$root/bin/layercache\"\n",
            env!("CARGO_BIN_EXE_layercache")
        ),
    );
    let run = run_action(&t, &[("version", "9.9.9")], false);
    succeeded(&run);
    assert!(run.ran.contains(&"Install layercache".to_string()));
    let home = t.path().join("home");
    assert_eq!(
        std::fs::read_to_string(home.join("cargo-args")).unwrap(),
        format!(
            "install --locked --version 9.9.9 --root {} layercache\n",
            home.join(".layercache").display()
        )
    );
    assert_eq!(run.outputs["image"], "ghcr.io/octo/app");

    // From a release binary with its checksum (a file:// URL stands for the download).
    let t = checkout("push");
    std::fs::remove_dir_all(t.path().join("home/.layercache")).unwrap();
    let binary = env!("CARGO_BIN_EXE_layercache");
    let url = format!("file://{binary}");
    let sha = digest_of_file(binary);
    let run = run_action(&t, &[("binary-url", &url), ("binary-sha256", &sha)], false);
    succeeded(&run);
    assert!(t.path().join("home/.layercache/bin/layercache").is_file());
    assert_eq!(run.steps(), layercache_build(&t, &[]).lines());

    // A download whose checksum differs is refused, and nothing is built.
    std::fs::remove_dir_all(t.path().join("home/.layercache")).unwrap();
    let wrong = "0".repeat(64);
    let run = run_action(
        &t,
        &[("binary-url", &url), ("binary-sha256", &wrong)],
        false,
    );
    let (step, out) = run.failed.as_ref().expect("a wrong checksum fails");
    assert_eq!(step, "Install layercache");
    assert!(
        out.stdout.contains("does not have the SHA-256 checksum"),
        "{}",
        out.stdout
    );
    assert!(!t.path().join("home/.layercache/bin/layercache").exists());
    assert!(run.steps().is_empty());
    // A URL without a checksum is refused before it is fetched.
    let run = run_action(&t, &[("binary-url", &url)], false);
    let (_, out) = run.failed.expect("no checksum fails");
    assert!(
        out.stdout.contains("binary-url needs binary-sha256"),
        "{}",
        out.stdout
    );
}

fn digest_of_file(path: &str) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

/// The README's workflows (the action's example among them) are valid for GitHub.
#[test]
fn the_readmes_workflows_are_valid() {
    let workflows: Vec<(String, String)> = crate::schema::readme_yaml()
        .into_iter()
        .filter(|(_, keys)| keys.iter().any(|k| k == "jobs") && keys.iter().any(|k| k == "on"))
        .enumerate()
        .map(|(i, (text, _))| (format!("readme-workflow-{i}"), text))
        .collect();
    assert!(
        workflows
            .iter()
            .any(|(_, t)| t.contains("uses: layercache/layercache@v")),
        "the action's example: {workflows:?}"
    );
    validate("github", &workflows);
}

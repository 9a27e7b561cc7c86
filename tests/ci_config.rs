//! `layercache ci`: the generated GitLab CI, GitHub Actions and CircleCI jobs, in both styles,
//! for the single-stage and multi-stage examples. Each job is parsed, validated against the
//! platform's own schema (check-jsonschema's built-in copies), and the standalone jobs are run
//! the way the platform would run them, against the fake docker.

use crate::support::{Call, Output, Test};
use serde_yaml::Value;
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const PLATFORMS: [&str; 3] = ["gitlab", "github", "circleci"];

/// A checkout of the examples: the spec and Dockerfile beside a `.git`, registry and CI
/// detection pinned so the plans do not depend on the machine running the tests.
fn checkout(spec: &str, files: &[(&str, &str)]) -> Test {
    let mut t = Test::new()
        .spec(spec)
        .file(".git/HEAD", "ref: refs/heads/main\n")
        .env("LAYERCACHE_REGISTRY", "registry.example.com")
        .env("GITLAB_CI", "")
        .env("GITHUB_ACTIONS", "")
        .env("CIRCLECI", "");
    for (name, text) in files {
        t = t.file(name, text);
    }
    t
}

fn single_stage() -> Test {
    checkout(
        include_str!("../examples/single-stage/layercache.yml"),
        &[
            (
                "Dockerfile",
                include_str!("../examples/single-stage/Dockerfile"),
            ),
            (
                "requirements.txt",
                include_str!("../examples/single-stage/requirements.txt"),
            ),
            ("app.sh", include_str!("../examples/single-stage/app.sh")),
        ],
    )
}

fn multi_stage() -> Test {
    checkout(
        include_str!("../examples/multi-stage/layercache.yml"),
        &[
            (
                "Dockerfile.multi",
                include_str!("../examples/multi-stage/Dockerfile.multi"),
            ),
            (
                "requirements.txt",
                include_str!("../examples/multi-stage/requirements.txt"),
            ),
            (
                "src/main.sh",
                include_str!("../examples/multi-stage/src/main.sh"),
            ),
        ],
    )
}

fn examples() -> [(&'static str, Test); 2] {
    [
        ("single-stage", single_stage()),
        ("multi-stage", multi_stage()),
    ]
}

/// Runs `layercache ci ARGS...` and parses its YAML; panics with stderr when it fails.
fn generate(t: &Test, args: &[&str]) -> (String, Value, Output) {
    let mut all = vec!["ci"];
    all.extend_from_slice(args);
    let out = t.clone().args(&all).success().run();
    let yaml: Value = serde_yaml::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "layercache ci {args:?} wrote invalid YAML: {e}\n{}",
            out.stdout
        )
    });
    (out.stdout.clone(), yaml, out)
}

/// `layercache plan --format sh` as the standalone jobs plan it.
fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

fn seq(v: &Value) -> &Vec<Value> {
    v.as_sequence()
        .unwrap_or_else(|| panic!("not a list: {v:?}"))
}

// ---------------------------------------------------------------------------------------------
// Schema validation

fn schema_of(platform: &str) -> &'static str {
    match platform {
        "gitlab" => "vendor.gitlab-ci",
        "github" => "vendor.github-workflows",
        "github-action" => "vendor.github-actions",
        _ => "vendor.circle-ci",
    }
}

/// check-jsonschema from PATH, or as the Python module scripts/test.sh installs.
fn check_jsonschema() -> Option<Vec<&'static str>> {
    let works = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works("check-jsonschema", &["--version"]) {
        return Some(vec!["check-jsonschema"]);
    }
    if works("python3", &["-m", "check_jsonschema", "--version"]) {
        return Some(vec!["python3", "-m", "check_jsonschema"]);
    }
    None
}

/// The check-jsonschema command line, for validating `what`: a missing validator under CI
/// fails the test; elsewhere it is a printed skip (`None`).
pub(crate) fn validator(what: &str) -> Option<Vec<&'static str>> {
    let found = check_jsonschema();
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "check-jsonschema is missing, and under CI the schema checks must run\n  \
                 hint: scripts/test.sh installs it (python3 -m pip install check-jsonschema)"
            );
        }
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: check-jsonschema is not installed; {what} not validated against \
             the schema (python3 -m pip install check-jsonschema)"
        );
    }
    found
}

/// Validates each file against the platform's schema: a failure, or a missing validator under
/// CI, fails the test; a missing validator elsewhere is a printed skip.
pub(crate) fn validate(platform: &str, files: &[(String, String)]) {
    let Some(validator) = validator(&format!("{platform} jobs")) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let paths: Vec<String> = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(format!("{name}.yml"));
            std::fs::write(&path, text).expect("write");
            path.display().to_string()
        })
        .collect();
    let out = Command::new(validator[0])
        .args(&validator[1..])
        .args(["--builtin-schema", schema_of(platform)])
        .args(&paths)
        .output()
        .expect("run check-jsonschema");
    assert!(
        out.status.success(),
        "{platform}: check-jsonschema --builtin-schema {} failed:\n{}{}",
        schema_of(platform),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_job_is_valid_for_its_platform() {
    for platform in PLATFORMS {
        let mut files = Vec::new();
        for (example, t) in examples() {
            for style in [&[][..], &["--standalone"][..]] {
                let mut args = vec![platform];
                args.extend_from_slice(style);
                let (text, _, _) = generate(&t, &args);
                files.push((format!("{example}-{platform}{}", style.join("")), text));
            }
        }
        validate(platform, &files);
    }
}

// ---------------------------------------------------------------------------------------------
// The default style: install layercache, run `layercache build`

#[test]
fn gitlab_default_job_installs_layercache_and_builds_in_dind() {
    let (text, yaml, _) = generate(&multi_stage(), &["gitlab"]);
    let job = &yaml["build-image"];
    assert_eq!(str_of(&job["stage"]), "build");
    assert_eq!(str_of(&job["image"]), "docker:24.0");
    assert_eq!(str_of(&seq(&job["services"])[0]), "docker:24.0-dind");
    let vars = &job["variables"];
    assert_eq!(str_of(&vars["DOCKER_HOST"]), "tcp://docker:2376");
    assert_eq!(str_of(&vars["DOCKER_TLS_CERTDIR"]), "/certs");
    assert_eq!(str_of(&vars["DOCKER_TLS_VERIFY"]), "1");
    assert_eq!(
        str_of(&vars["DOCKER_CERT_PATH"]),
        "$DOCKER_TLS_CERTDIR/client"
    );
    assert_eq!(str_of(&seq(&job["script"])[0]), "layercache build");
    // The binary comes from the install job, and leaves the build context before the build.
    assert_eq!(str_of(&seq(&job["needs"])[0]), "layercache-install");
    assert!(str_of(&seq(&job["before_script"])[0]).contains("rm -rf .layercache"));

    let install = &yaml["layercache-install"];
    assert_eq!(str_of(&install["stage"]), ".pre");
    assert_eq!(
        str_of(&install["cache"]["key"]),
        format!("layercache-{VERSION}")
    );
    assert!(str_of(&seq(&install["script"])[0]).contains(&format!(
        "cargo install --locked --version {VERSION} --root .layercache layercache"
    )));
    // layercache logs in itself in this style; no stage, tag or image is spelled out.
    assert!(!text.contains("docker login"), "{text}");
    assert!(
        !text.contains("registry.example.com") && !text.contains("--target"),
        "{text}"
    );
    assert!(
        text.starts_with("# Generated by `layercache ci gitlab`"),
        "{text}"
    );
}

#[test]
fn github_default_workflow_logs_in_to_ghcr_and_builds() {
    let (_, yaml, _) = generate(&single_stage(), &["github"]);
    assert!(yaml["on"]["push"]["branches"].is_sequence());
    assert!(yaml["on"].get("pull_request").is_some());
    assert_eq!(str_of(&yaml["permissions"]["contents"]), "read");
    assert_eq!(str_of(&yaml["permissions"]["packages"]), "write");
    let job = &yaml["jobs"]["build"];
    assert_eq!(str_of(&job["runs-on"]), "ubuntu-latest");
    let steps = seq(&job["steps"]);
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert_eq!(
        uses,
        [
            "actions/checkout@v4",
            "docker/login-action@v3",
            "actions/cache@v4"
        ]
    );
    let login = &steps[1]["with"];
    assert_eq!(str_of(&login["registry"]), "ghcr.io");
    assert_eq!(str_of(&login["username"]), "${{ github.actor }}");
    assert_eq!(str_of(&login["password"]), "${{ secrets.GITHUB_TOKEN }}");
    let runs: Vec<(&str, &str)> = steps
        .iter()
        .filter_map(|s| Some((s["run"].as_str()?, s["if"].as_str().unwrap_or(""))))
        .collect();
    assert!(runs.contains(&("layercache build", "github.event_name != 'pull_request'")));
    assert!(runs.contains(&(
        "layercache build --no-push",
        "github.event_name == 'pull_request'"
    )));
    assert!(runs
        .iter()
        .any(|(r, _)| r.contains(&format!("cargo install --locked --version {VERSION}"))));
}

#[test]
fn circleci_default_config_logs_in_through_stdin_and_builds() {
    let (_, yaml, _) = generate(&single_stage(), &["circleci"]);
    assert_eq!(yaml["version"].as_f64(), Some(2.1));
    let job = &yaml["jobs"]["build"];
    assert_eq!(str_of(&job["machine"]["image"]), "ubuntu-2204:current");
    let steps = seq(&job["steps"]);
    assert_eq!(str_of(&steps[0]), "checkout");
    let commands: Vec<&str> = steps
        .iter()
        .filter_map(|s| s["run"]["command"].as_str())
        .collect();
    let login = commands
        .iter()
        .find(|c| c.contains("docker login"))
        .expect("a login step");
    assert!(login.starts_with("echo \"$REGISTRY_PASSWORD\" | docker login --username \"$REGISTRY_USER\" --password-stdin"), "{login}");
    assert_eq!(commands.last(), Some(&"~/.layercache/bin/layercache build"));
    assert!(steps.iter().any(|s| s["save_cache"]["key"].as_str()
        == Some(&format!("layercache-{VERSION}-{{{{ arch }}}}"))));
    assert_eq!(
        str_of(&seq(&yaml["workflows"]["build"]["jobs"])[0]),
        "build"
    );
}

#[test]
fn the_job_names_the_spec_as_the_checkout_has_it() {
    let t = multi_stage()
        .file(
            "deploy/layercache.yml",
            include_str!("../examples/multi-stage/layercache.yml"),
        )
        .file(
            "deploy/Dockerfile.multi",
            include_str!("../examples/multi-stage/Dockerfile.multi"),
        );
    let (_, yaml, _) = generate(&t, &["gitlab", "-f", "deploy/layercache.yml"]);
    assert_eq!(
        str_of(&seq(&yaml["build-image"]["script"])[0]),
        "layercache -f deploy/layercache.yml build"
    );

    // An absolute path inside the checkout is written relative to it.
    let absolute = t.path().join("deploy/layercache.yml");
    let (_, yaml, _) = generate(&t, &["github", "-f", absolute.to_str().unwrap()]);
    let runs: Vec<&str> = seq(&yaml["jobs"]["build"]["steps"])
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(
        runs.contains(&"layercache -f deploy/layercache.yml build"),
        "{runs:?}"
    );

    t.clone()
        .args(&["ci", "gitlab", "-f", "../elsewhere.yml"])
        .status(2)
        .run();
    // Neither a spec nor a Dockerfile: nothing to build.
    Test::new()
        .args(&["ci", "gitlab"])
        .status(2)
        .stderr_has("no layercache.yml and no Dockerfile here")
        .run();
}

// ---------------------------------------------------------------------------------------------
// The standalone style: the planned docker commands, embedded

/// The script embedded in a standalone job (for GitHub, the push or the pull-request one).
fn embedded_script(platform: &str, yaml: &Value, pull_request: bool) -> String {
    match platform {
        "gitlab" => {
            let entry = seq(&yaml["build-image"]["script"])
                .iter()
                .map(str_of)
                .find(|e| e.starts_with("cat > "))
                .expect("the entry that writes the script");
            let lines: Vec<&str> = entry.lines().collect();
            lines[1..lines.len() - 1].join("\n") + "\n"
        }
        "github" => {
            let wanted = if pull_request { "==" } else { "!=" };
            seq(&yaml["jobs"]["build"]["steps"])
                .iter()
                .find(|s| s["shell"].as_str() == Some("sh") && str_of(&s["if"]).contains(wanted))
                .map(|s| str_of(&s["run"]).to_string())
                .expect("the step that runs the script")
        }
        _ => seq(&yaml["jobs"]["build"]["steps"])
            .iter()
            .find(|s| s["run"]["shell"].as_str() == Some("/bin/sh"))
            .map(|s| str_of(&s["run"]["command"]).to_string())
            .expect("the step that runs the script"),
    }
}

#[test]
fn standalone_jobs_embed_a_plan_that_reads_the_ci_in_each_run() {
    for (example, t) in examples() {
        for platform in PLATFORMS {
            let (text, yaml, _) = generate(&t, &[platform, "--standalone"]);
            let script = embedded_script(platform, &yaml, false);
            assert!(script.starts_with("#!/bin/sh\n"), "{script}");
            assert!(
                text.starts_with(&format!(
                    "# Generated by `layercache ci {platform} --standalone`"
                )),
                "{text}"
            );
            assert!(
                text.contains("generate it again whenever the Dockerfile's stages"),
                "{text}"
            );
            // The CI's values are shell variables, set after `set -eu` from the CI's own.
            let prelude = script.split("set -eu\n").nth(1).expect("set -eu");
            assert!(
                prelude.starts_with("\n# The CI's values, read in each run"),
                "{script}"
            );
            for var in ["LC_IMAGE=", "LC_SHA=", "LC_REF=", "LC_DEFAULT="] {
                assert!(script.contains(var), "{platform}: {var} in {script}");
            }
            assert!(script.contains(":cache-"), "{script}");
            assert!(script.contains("-\"${LC_REF}\""), "branch caches: {script}");
            let builds: Vec<&str> = script
                .lines()
                .filter(|l| l.starts_with("docker build --progress"))
                .collect();
            if example == "multi-stage" {
                assert!(builds[0].contains("--target builder"), "{script}");
                assert_eq!(builds.len(), 2, "{script}");
            } else {
                assert!(!script.contains("--target"), "{script}");
                assert_eq!(builds.len(), 1, "{script}");
            }
        }
        let (_, yaml, _) = generate(&t, &["github", "--standalone"]);
        let pull_request = embedded_script("github", &yaml, true);
        assert!(!pull_request.contains("docker push"), "{pull_request}");
    }
}

#[test]
fn standalone_jobs_log_in_through_stdin() {
    let t = multi_stage();
    let (_, gitlab, _) = generate(&t, &["gitlab", "--standalone"]);
    let job = &gitlab["build-image"];
    assert_eq!(str_of(&seq(&job["services"])[0]), "docker:24.0-dind");
    assert_eq!(
        str_of(&seq(&job["before_script"])[0]),
        "echo \"$CI_REGISTRY_PASSWORD\" | docker login --username \"$CI_REGISTRY_USER\" --password-stdin \"$CI_REGISTRY\""
    );
    let (_, circleci, _) = generate(&t, &["circleci", "--standalone"]);
    let login = seq(&circleci["jobs"]["build"]["steps"])
        .iter()
        .find_map(|s| {
            s["run"]["command"]
                .as_str()
                .filter(|c| c.contains("docker login"))
        })
        .expect("a login step");
    assert_eq!(
        login,
        "echo \"$REGISTRY_PASSWORD\" | docker login --username \"$REGISTRY_USER\" --password-stdin registry.example.com"
    );
    let (_, github, _) = generate(&t, &["github", "--standalone"]);
    let steps = seq(&github["jobs"]["build"]["steps"]);
    assert_eq!(str_of(&steps[1]["uses"]), "docker/login-action@v3");
    assert_eq!(
        str_of(&steps[1]["with"]["password"]),
        "${{ secrets.GITHUB_TOKEN }}"
    );
}

/// The shell commands the platform runs for the job on a push (or a pull request), in order,
/// each with the shell that runs it; login actions are left out.
fn job_commands(platform: &str, yaml: &Value, pull_request: bool) -> Vec<(String, String)> {
    match platform {
        "gitlab" => {
            // The runner runs before_script and script in one shell, stopping at a failure.
            let job = &yaml["build-image"];
            let lines: Vec<&str> = seq(&job["before_script"])
                .iter()
                .chain(seq(&job["script"]))
                .map(str_of)
                .collect();
            let after: Vec<&str> = job["after_script"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(str_of)
                .collect();
            let mut commands = vec![("sh -e".to_string(), lines.join("\n") + "\n")];
            // In a shell of its own, after the script.
            if !after.is_empty() {
                commands.push(("sh -e".into(), after.join("\n") + "\n"));
            }
            commands
        }
        "github" => seq(&yaml["jobs"]["build"]["steps"])
            .iter()
            .filter(|s| s["run"].is_string())
            .filter(|s| {
                let condition = s["if"].as_str().unwrap_or("");
                condition.is_empty() || condition.contains("==") == pull_request
            })
            .map(|s| {
                // GitHub's `sh` runs `sh -e {0}`; its default on Linux, `bash -e {0}`.
                let shell = if s["shell"].as_str() == Some("sh") {
                    "sh -e"
                } else {
                    "bash -e"
                };
                (shell.to_string(), str_of(&s["run"]).to_string())
            })
            .collect(),
        _ => seq(&yaml["jobs"]["build"]["steps"])
            .iter()
            .filter(|s| s["run"].is_mapping())
            .map(|s| {
                let shell = s["run"]["shell"]
                    .as_str()
                    .unwrap_or("/bin/bash -eo pipefail");
                (shell.to_string(), str_of(&s["run"]["command"]).to_string())
            })
            .collect(),
    }
}

/// Runs the job's commands as the platform would, the fake docker recording the calls.
fn run_job(t: &Test, platform: &str, yaml: &Value, pull_request: bool) -> Output {
    let mut driver = String::from("set -e\n");
    for (i, (shell, text)) in job_commands(platform, yaml, pull_request)
        .into_iter()
        .enumerate()
    {
        let name = format!(".step-{i}.sh");
        std::fs::write(t.path().join(&name), text).expect("write step");
        driver.push_str(&format!("{shell} {name}\n"));
    }
    t.run_sh(&driver)
}

fn assert_logged_in(call: &Call, registry: &str, user: &str, password: &str) {
    assert_eq!(
        call.argv,
        ["login", "--username", user, "--password-stdin", registry]
    );
    assert_eq!(call.stdin.as_deref().map(str::trim_end), Some(password));
}

/// Recorded CI variables of a branch build on each platform (a pull request on GitHub).
fn in_ci(t: &Test, platform: &str) -> Test {
    let vars: &[(&str, &str)] = match platform {
        "gitlab" => &[
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_SHA", "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c"),
            ("CI_COMMIT_SHORT_SHA", "1f2e3d4c"),
            ("CI_COMMIT_REF_NAME", "feature/Login-Page"),
            ("CI_COMMIT_REF_SLUG", "feature-login-page"),
            ("CI_DEFAULT_BRANCH", "main"),
            ("CI_REGISTRY_IMAGE", "registry.example.com/team/app"),
            ("CI_REGISTRY", "registry.example.com"),
            ("CI_REGISTRY_USER", "gitlab-ci-token"),
        ],
        "github" => &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_REF_TYPE", "branch"),
            ("GITHUB_HEAD_REF", "Fix/Thing"),
            ("GITHUB_BASE_REF", "main"),
            ("GITHUB_REPOSITORY", "Octo/App"),
        ],
        _ => &[
            ("CIRCLECI", "true"),
            ("CIRCLE_SHA1", "def456"),
            ("CIRCLE_BRANCH", "release/2.0"),
            ("CIRCLE_PROJECT_USERNAME", "Acme"),
            ("CIRCLE_PROJECT_REPONAME", "Web"),
        ],
    };
    vars.iter().fold(t.clone(), |t, (k, v)| t.env(k, v))
}

/// The standalone job, run as its platform runs it in a recorded CI, makes the docker calls
/// that `layercache build` makes in the same CI: the same branch caches, tags and steps.
#[test]
fn standalone_jobs_make_the_calls_layercache_build_makes_in_the_same_ci() {
    let password = "s3cret-registry-password";
    let t = multi_stage()
        .env("CI_REGISTRY_PASSWORD", password)
        .env("REGISTRY_USER", "circle")
        .env("REGISTRY_PASSWORD", password);
    let t = t.clone().env("TMPDIR", t.path().to_str().unwrap());

    for platform in PLATFORMS {
        // Generated outside any CI, as a developer would.
        let (_, yaml, _) = generate(&t, &[platform, "--standalone"]);
        let ci = in_ci(&t, platform);
        let built = ci
            .clone()
            .args(&["build", "--builder", "buildkit"])
            .success()
            .run();
        let expected = built.lines();
        assert!(
            expected.iter().any(|l| l.contains("--target builder")),
            "{expected:?}"
        );
        assert!(
            expected.iter().any(|l| l.contains(":cache-builder-")),
            "branch caches: {expected:?}"
        );

        let ran = run_job(&ci.clone().success(), platform, &yaml, false);
        let calls = ran.calls();
        let lines: Vec<String> = match platform {
            // layercache logs in to the CI's registry itself; the job's own login is the same call.
            "gitlab" => {
                assert_logged_in(
                    &calls[0],
                    "registry.example.com",
                    "gitlab-ci-token",
                    password,
                );
                calls.iter().map(Call::line).collect()
            }
            "circleci" => {
                assert_logged_in(&calls[0], "registry.example.com", "circle", password);
                calls[1..].iter().map(Call::line).collect()
            }
            _ => calls.iter().map(Call::line).collect(),
        };
        assert_eq!(lines, expected, "{platform}");
        assert!(!lines.join("\n").contains(password));
    }

    // A pull request on GitHub makes the calls of the build that pushes nothing.
    let ci = in_ci(&t, "github");
    let no_push = ci
        .clone()
        .args(&["build", "--builder", "buildkit", "--no-push"])
        .run()
        .lines();
    assert!(
        no_push.iter().all(|l| !l.starts_with("push")),
        "{no_push:?}"
    );
    let (_, yaml, _) = generate(&t, &["github", "--standalone"]);
    let ran = run_job(&ci.success(), "github", &yaml, true);
    assert_eq!(ran.lines(), no_push);
}

#[test]
fn standalone_jobs_warn_about_what_they_fix_at_generation_time() {
    // Without LAYERCACHE_REGISTRY the examples push to localhost:5000, which no runner has.
    let local = multi_stage().env("LAYERCACHE_REGISTRY", "");
    let (text, _, out) = generate(&local, &["gitlab", "--standalone"]);
    assert!(
        out.stderr.contains("pushes to localhost:5000"),
        "{}",
        out.stderr
    );
    // Every variable the spec read is named, in the warning and in the job's header; but the
    // CI's own (CI_COMMIT_SHORT_SHA under GitLab) are read by the job in each run.
    for name in ["LAYERCACHE_REGISTRY", "LAYERCACHE_BASE_IMAGE"] {
        assert!(out.stderr.contains(name), "{}", out.stderr);
        assert!(text.contains(&format!("#   {name} (")), "{text}");
    }
    assert!(
        !out.stderr.contains("CI_COMMIT_SHORT_SHA"),
        "{}",
        out.stderr
    );
    assert!(text.contains("\"${CI_COMMIT_SHORT_SHA}\""), "{text}");
    let (_, _, remote) = generate(&multi_stage(), &["gitlab", "--standalone"]);
    assert!(!remote.stderr.contains("localhost"), "{}", remote.stderr);
    // The default style reads the variables in each run, so it has nothing to warn about.
    let (_, _, default) = generate(&local, &["gitlab"]);
    assert_eq!(default.stderr, "");

    // GitHub logs in to ghcr.io only.
    assert!(!remote.stderr.contains("ghcr.io"), "{}", remote.stderr);
    let (_, _, github) = generate(&multi_stage(), &["github", "--standalone"]);
    assert!(
        github.stderr.contains("logs in to ghcr.io only"),
        "{}",
        github.stderr
    );
    let ghcr = multi_stage().env("LAYERCACHE_REGISTRY", "ghcr.io/octo");
    let (_, _, github) = generate(&ghcr, &["github", "--standalone"]);
    assert!(
        !github.stderr.contains("logs in to ghcr.io only"),
        "{}",
        github.stderr
    );
}

#[test]
fn platform_syntax_in_the_script_is_refused_not_passed_on() {
    let spec =
        |arg: &str| format!("image: registry.example.com/app\nbuild_args:\n  NOTE: \"{arg}\"\n");
    let t = |arg: &str| {
        checkout(
            &spec(arg),
            &[("Dockerfile", "FROM busybox:1.36\nRUN true\n")],
        )
    };
    // `$$` is the spec's literal `$`: the build arg's value is `${{ github.token }}`.
    t("$${{ github.token }}")
        .args(&["ci", "github", "--standalone"])
        .status(2)
        .stderr_has("GitHub Actions would evaluate it")
        .run();
    t("a<<b")
        .args(&["ci", "circleci", "--standalone"])
        .status(2)
        .stderr_has("pipeline parameter")
        .run();
    // GitLab passes both to the shell untouched: they are single-quoted words there.
    let (text, yaml, _) = generate(&t("a<<b $${{ x }}"), &["gitlab", "--standalone"]);
    assert!(
        embedded_script("gitlab", &yaml, false).contains("'NOTE=a<<b ${{ x }}'"),
        "{text}"
    );
    validate("gitlab", &[("syntax".into(), text)]);
}

#[test]
fn standalone_builder_is_buildkit_unless_named() {
    let t = multi_stage();
    let (_, yaml, _) = generate(&t, &["circleci", "--standalone"]);
    assert!(embedded_script("circleci", &yaml, false).contains("export DOCKER_BUILDKIT=1"));
    let (text, yaml, _) = generate(&t, &["circleci", "--standalone", "--builder", "legacy"]);
    let script = embedded_script("circleci", &yaml, false);
    assert!(
        script.contains("export DOCKER_BUILDKIT=0") && script.contains("lc_pull"),
        "{script}"
    );
    assert!(
        text.contains("layercache ci circleci --standalone --builder legacy"),
        "{text}"
    );
    // --builder only means something for the embedded plan.
    t.args(&["ci", "gitlab", "--builder", "legacy"])
        .status(2)
        .run();
}

#[test]
fn a_folder_without_git_gets_a_warning() {
    let t = Test::new()
        .spec(include_str!("../examples/single-stage/layercache.yml"))
        .dockerfile(include_str!("../examples/single-stage/Dockerfile"));
    t.args(&["ci", "gitlab"])
        .success()
        .stderr_has("no .git here")
        .run();
}

/// The project's own pipeline (`.gitlab-ci.yml`) is held to the same schema.
#[test]
fn the_projects_own_pipeline_is_valid() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.gitlab-ci.yml"))
        .expect("read .gitlab-ci.yml");
    validate("gitlab", &[("project-gitlab-ci".to_string(), text)]);
}

// ---------------------------------------------------------------------------------------------
// No spec: a Dockerfile and the CI's defaults, as `layercache build` has them

/// A checkout with the multi-stage example's Dockerfile as ./Dockerfile, and no layercache.yml.
fn dockerfile_only() -> Test {
    Test::new()
        .file(".git/HEAD", "ref: refs/heads/main\n")
        .dockerfile(include_str!("../examples/multi-stage/Dockerfile.multi"))
        .file(
            "requirements.txt",
            include_str!("../examples/multi-stage/requirements.txt"),
        )
        .file(
            "src/main.sh",
            include_str!("../examples/multi-stage/src/main.sh"),
        )
        .env("GITLAB_CI", "")
        .env("GITHUB_ACTIONS", "")
        .env("CIRCLECI", "")
}

#[test]
fn without_a_spec_every_job_is_written_and_valid() {
    let t = dockerfile_only();
    for platform in PLATFORMS {
        let mut files = Vec::new();
        for style in [&[][..], &["--standalone"][..]] {
            let mut args = vec![platform];
            args.extend_from_slice(style);
            let (text, _, out) = generate(&t, &args);
            assert!(text.contains("no layercache.yml"), "{text}");
            // Nothing was read from this machine's environment: no variable to warn about.
            assert!(
                !out.stderr.contains("warning: the spec read"),
                "{}",
                out.stderr
            );
            assert!(!text.contains(" -f "), "{text}");
            files.push((format!("no-spec-{platform}{}", style.join("")), text));
        }
        validate(platform, &files);
    }
    let (_, gitlab, _) = generate(&t, &["gitlab"]);
    assert_eq!(
        str_of(&seq(&gitlab["build-image"]["script"])[0]),
        "layercache build"
    );
    let (_, yaml, _) = generate(&t, &["gitlab", "--standalone"]);
    let script = embedded_script("gitlab", &yaml, false);
    assert!(script.contains("--target builder"), "{script}");
    assert!(script.contains("--file Dockerfile ."), "{script}");
}

/// Without a spec the standalone job, run in a recorded CI, makes the calls `layercache build`
/// makes there without a spec: the CI's registry image, its commit and branch tags.
#[test]
fn without_a_spec_standalone_jobs_make_the_calls_layercache_build_makes() {
    let password = "s3cret-registry-password";
    let t = dockerfile_only()
        .env("CI_REGISTRY_PASSWORD", password)
        .env("REGISTRY_USER", "circle")
        .env("REGISTRY_PASSWORD", password);
    for platform in PLATFORMS {
        let (_, yaml, _) = generate(&t, &[platform, "--standalone"]);
        let ci = in_ci(&t, platform);
        let expected = ci
            .clone()
            .args(&["build", "--builder", "buildkit"])
            .success()
            .run()
            .lines();
        assert!(
            expected.iter().any(|l| l.contains("--target builder")),
            "{expected:?}"
        );
        let ran = run_job(&ci.clone().success(), platform, &yaml, false);
        let calls = ran.calls();
        let lines: Vec<String> = match platform {
            "circleci" => {
                // The CircleCI job logs in to Docker Hub, the CI's default registry, itself.
                assert_logged_in(&calls[0], "docker.io", "circle", password);
                calls[1..].iter().map(Call::line).collect()
            }
            _ => calls.iter().map(Call::line).collect(),
        };
        assert_eq!(lines, expected, "{platform}");
    }
}

#[test]
fn without_a_spec_or_dockerfile_the_job_is_refused() {
    Test::new()
        .file(".git/HEAD", "ref: refs/heads/main\n")
        .args(&["ci", "github", "--standalone"])
        .status(2)
        .stderr_has("no layercache.yml and no Dockerfile here")
        .stderr_has("hint:")
        .run();
}

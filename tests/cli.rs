//! The binary against a fake docker: the steps it runs, what it tolerates, where it stops, and
//! that `plan --format sh` run by `sh` does exactly what `build` does.

use crate::support::Test;

const MULTI: &str = "FROM busybox:1.36 AS builder\nRUN echo deps\nCOPY . /src\nFROM busybox:1.36 AS final\nCOPY --from=builder /src /app\n";
const SPEC: &str = "image: localhost:5000/team/app\ntags: [v1]\n";

fn multi() -> Test {
    Test::new().dockerfile(MULTI).spec(SPEC)
}

#[test]
fn build_runs_exactly_the_planned_steps() {
    let json = multi()
        .buildkit_client()
        .args(&["plan", "--format", "json"])
        .success()
        .run();
    let plan = json.json();
    let planned: Vec<Vec<String>> = plan["images"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| serde_json::from_value::<Vec<String>>(s["argv"].clone()).unwrap()[1..].to_vec())
        .collect();

    let out = multi()
        .buildkit_client()
        .args(&["build"])
        .success()
        .steps(&[
            "build --progress=plain --target builder --cache-from localhost:5000/team/app:cache-builder \
             --build-arg BUILDKIT_INLINE_CACHE=1 --tag localhost:5000/team/app:cache-builder --file Dockerfile .",
            "build --quiet --target builder --build-arg BUILDKIT_INLINE_CACHE=1 \
             --tag localhost:5000/team/app:cache-builder --file Dockerfile .",
            "build --progress=plain --cache-from localhost:5000/team/app:cache-builder \
             --cache-from localhost:5000/team/app:cache-final --build-arg BUILDKIT_INLINE_CACHE=1 \
             --tag localhost:5000/team/app:cache-final --tag localhost:5000/team/app:v1 --file Dockerfile .",
            "build --quiet --build-arg BUILDKIT_INLINE_CACHE=1 --tag localhost:5000/team/app:cache-final \
             --tag localhost:5000/team/app:v1 --file Dockerfile .",
            "push localhost:5000/team/app:cache-builder",
            "push localhost:5000/team/app:cache-final",
            "push localhost:5000/team/app:v1",
        ])
        .stderr_has("[1/7] build builder")
        .run();
    let ran: Vec<Vec<String>> = out.calls().into_iter().map(|c| c.argv).collect();
    assert_eq!(ran, planned);
    assert!(out.calls().iter().all(|c| c.buildkit == "1"));
}

#[test]
fn legacy_builder_is_chosen_without_buildx_and_pulls_first() {
    let out = multi()
        .args(&["build"])
        .success()
        .stderr_has("warning: using the legacy builder")
        .run();
    let lines = out.lines();
    assert_eq!(lines[0], "pull localhost:5000/team/app:cache-builder");
    assert_eq!(lines[1], "pull localhost:5000/team/app:cache-final");
    assert!(out.calls().iter().all(|c| c.buildkit == "0"));
    assert!(!lines.iter().any(|l| l.contains("BUILDKIT_INLINE_CACHE")));
}

#[test]
fn buildx_plugin_means_buildkit() {
    let out = multi()
        .env("FAKE_DOCKER_BUILDX", "1")
        .args(&["build"])
        .success()
        .run();
    assert!(out.calls().iter().all(|c| c.buildkit == "1"));
}

#[test]
fn a_failed_pull_is_tolerated_with_a_warning() {
    let out = multi()
        .fail_on("pull *")
        .args(&["build"])
        .success()
        .stderr_has(
            "warning: pull localhost:5000/team/app:cache-builder failed, continuing without it",
        )
        // docker's reason is shown.
        .stderr_has("fake failure")
        .run();
    assert_eq!(out.steps_starting_with("push").len(), 3);
}

#[test]
fn a_failed_build_stops_the_run_and_nothing_is_pushed() {
    let out = multi()
        .buildkit_client()
        .fail_on("build *--target builder*")
        .args(&["build"])
        .status(1)
        .step_count(1)
        .stderr_has("error: step 1/7 failed: build builder")
        .stderr_has("no tag or cache of this image was pushed")
        .run();
    assert!(out.steps_starting_with("push").is_empty());
}

#[test]
fn a_failed_final_build_pushes_no_stage_cache_either() {
    let out = multi()
        .buildkit_client()
        .fail_on("build *--tag localhost:5000/team/app:v1*")
        .args(&["build"])
        .status(1)
        // The builder's build and re-export ran; the final build failed; nothing after it.
        .step_count(3)
        .run();
    assert!(out.steps_starting_with("push").is_empty());
}

#[test]
fn a_failed_push_names_the_registry() {
    let refused =
        "Get \"http://localhost:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection refused";
    multi()
        .buildkit_client()
        .fail_on("push *")
        .env("FAKE_DOCKER_FAIL_MESSAGE", refused)
        .args(&["build", "--retries", "1"])
        .status(1)
        // The reason is docker's stderr line, not its stdout.
        .stderr_has(&format!("exit status 1: {refused}"))
        .stderr_has("registry localhost:5000")
        .run();
}

#[test]
fn plan_sh_run_by_sh_makes_the_same_calls_as_build() {
    for client in ["20.10.24", "28.2.2"] {
        let test = multi().env("FAKE_DOCKER_VERSION", client).file(
            "extra.yml",
            "image: localhost:5000/x\npull: always\ntags: [a, b]\nbuild_args: {Q: \"it's $(x)\"}\n",
        );
        for spec in ["layercache.yml", "extra.yml"] {
            let built = test.clone().args(&["build", "-f", spec]).run();
            let script = test
                .clone()
                .args(&["plan", "-f", spec, "--format", "sh"])
                .success()
                .stdout_starts_with("#!/bin/sh\n")
                .stdout_has("set -eu\n")
                .run();
            let by_sh = test.clone().success().run_sh(&script.stdout);
            assert_eq!(by_sh.calls(), built.calls(), "client {client}, spec {spec}");
            assert!(!built.calls().is_empty());
        }
    }
}

#[test]
fn sh_script_stops_where_build_stops() {
    let test = multi()
        .buildkit_client()
        .fail_on("build *--target builder*");
    let built = test.clone().args(&["build"]).run();
    let script = test.clone().args(&["plan", "--format", "sh"]).run();
    let by_sh = test.run_sh(&script.stdout);
    assert_ne!(by_sh.code, 0);
    assert_eq!(by_sh.calls(), built.calls());
}

#[test]
fn dry_run_needs_no_docker() {
    multi()
        .env("PATH", "/nonexistent")
        .args(&["build", "--dry-run"])
        .success()
        .stdout_has("docker build --progress=plain --target builder")
        .no_docker()
        .run();
}

#[test]
fn missing_docker_is_an_environment_error() {
    multi()
        .env("LAYERCACHE_DOCKER", "/nonexistent/docker")
        .args(&["build"])
        .status(3)
        .stderr_has("docker not found")
        .run();
}

#[test]
fn unreachable_daemon_is_an_environment_error() {
    // Legacy builder: the first step is a tolerated pull, which must not hide a missing daemon.
    for client in ["28.2.2", "20.10.24"] {
        multi()
            .env("FAKE_DOCKER_VERSION", client)
            .env("FAKE_DOCKER_DAEMON_DOWN", "1")
            .args(&["build"])
            .status(3)
            .stderr_has("the Docker daemon is not reachable")
            .stderr_has("Is the docker daemon running?")
            // Stopped at the first step, not retried.
            .step_count(1)
            .run();
    }
}

#[test]
fn without_a_spec_flags_describe_the_build() {
    Test::new()
        .dockerfile("FROM busybox:1.36\nRUN true\n")
        .buildkit_client()
        .args(&[
            "build",
            "--image",
            "localhost:5000/solo",
            "--tag",
            "t1",
            "--build-arg",
            "A=1",
            "--no-push",
        ])
        .success()
        .steps(&["build --progress=plain --cache-from localhost:5000/solo:cache-stage-0 --build-arg BUILDKIT_INLINE_CACHE=1 \
          --build-arg A=1 --tag localhost:5000/solo:cache-stage-0 --tag localhost:5000/solo:t1 --file Dockerfile ."])
        .run();
}

#[test]
fn flags_override_the_spec() {
    let out = multi()
        .buildkit_client()
        .args(&["build", "--target", "builder", "--tag", "x", "--no-push"])
        .success()
        .step_count(1)
        .run();
    assert!(
        out.lines()[0].contains("--target builder")
            && out.lines()[0].contains("--tag localhost:5000/team/app:x")
    );
}

#[test]
fn plan_json_has_the_promised_shape() {
    let out = multi()
        .args(&["plan", "--format", "json", "--builder", "buildkit"])
        .success()
        .run();
    let v = out.json();
    let image = &v["images"][0];
    assert_eq!(image["name"], "localhost:5000/team/app");
    assert_eq!(image["dockerfile"], "Dockerfile");
    // The promised fields, unchanged; the fields added since (issue 12: the resolved base and
    // why a stage depends on another) are checked after.
    let promised: Vec<serde_json::Value> = image["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            serde_json::json!({"index": s["index"], "name": s["name"], "from": s["from"], "depends_on": s["depends_on"]})
        })
        .collect();
    assert_eq!(
        serde_json::Value::Array(promised),
        serde_json::json!([
            {"index": 0, "name": "builder", "from": "busybox:1.36", "depends_on": []},
            {"index": 1, "name": "final", "from": "busybox:1.36", "depends_on": [0]}
        ])
    );
    assert_eq!(image["stages"][1]["base"], "busybox:1.36");
    assert_eq!(
        image["stages"][1]["dependencies"][0]["kind"],
        serde_json::json!("copy-from")
    );
    assert_eq!(image["targets"], serde_json::json!([0, 1]));
    let step = &image["steps"][0];
    assert_eq!(step["argv"][0], "docker");
    assert_eq!(step["env"]["DOCKER_BUILDKIT"], "1");
    assert_eq!(step["allow_failure"], false);
}

#[test]
fn bad_input_exits_2_before_any_docker_step() {
    let cases: &[(&str, &str, &str)] = &[
        ("image: app\ntgas: [v1]\n", MULTI, "did you mean `tags`?"),
        ("", MULTI, "the spec is empty"),
        ("image: app\ntags: [v1\n", MULTI, "layercache.yml:"),
        ("image: App/Team\n", MULTI, "lowercase"),
        (
            "image: app\ntags: ['${NOPE_NOT_SET}']\n",
            MULTI,
            "`NOPE_NOT_SET` is not set",
        ),
        (
            "image: app\ntarget: nope\n",
            MULTI,
            "target `nope` is not a stage",
        ),
        ("image: app\n", "RUN echo no from\n", "Dockerfile:1"),
        (
            "image: app\ndockerfile: Missing.dockerfile\n",
            MULTI,
            "cannot read the Dockerfile",
        ),
    ];
    for (spec, dockerfile, expected) in cases {
        Test::new()
            .dockerfile(dockerfile)
            .spec(spec)
            .args(&["build"])
            .status(2)
            .stderr_has(expected)
            .no_steps()
            .stderr_lacks("panicked")
            .run();
    }
}

#[test]
fn a_missing_spec_file_is_named() {
    Test::new()
        .args(&["build", "-f", "nope.yml"])
        .status(2)
        .stderr_has("nope.yml: cannot read the spec")
        .run();
}

#[test]
fn version_and_help() {
    Test::new()
        .args(&["--version"])
        .success()
        .stdout_starts_with("layercache ")
        .run();
    Test::new()
        .args(&["--help"])
        .success()
        .stdout_has("Examples:")
        .stdout_has("Exit status")
        .run();
    Test::new()
        .args(&["build", "--pull", "sometimes"])
        .status(2)
        .run();
}

#[test]
fn pushes_are_retried_and_the_sh_script_retries_the_same_way() {
    let test = multi()
        .buildkit_client()
        .fail_on("push *")
        .env("FAKE_DOCKER_FAIL_TIMES", "2");
    let built = test
        .clone()
        .args(&["build"])
        .success()
        .stderr_has("failed (try 1 of 3)")
        .run();
    let pushes = built.steps_starting_with("push");
    assert_eq!(
        pushes[..3],
        ["push localhost:5000/team/app:cache-builder"; 3]
    );
    assert_eq!(pushes.len(), 5);

    let script = test
        .clone()
        .args(&["plan", "--format", "sh"])
        .stdout_has("lc_retry '0 0' docker push")
        .run();
    let by_sh = test.success().run_sh(&script.stdout);
    assert_eq!(by_sh.calls(), built.calls());
}

#[test]
fn a_push_that_keeps_failing_says_how_often_it_was_tried() {
    let out = multi()
        .buildkit_client()
        .fail_on("push *")
        .args(&["build", "--retries", "4"])
        .status(1)
        .stderr_has("(after 4 tries)")
        .run();
    assert_eq!(out.steps_starting_with("push").len(), 4);
}

#[test]
fn builds_are_never_retried() {
    multi()
        .buildkit_client()
        .fail_on("build *")
        .args(&["build", "--retries", "5"])
        .status(1)
        .step_count(1)
        .run();
}

#[test]
fn a_missing_cache_image_is_not_retried_but_a_flaky_pull_is() {
    let missing = multi()
        .fail_on("pull *")
        .env(
            "FAKE_DOCKER_FAIL_MESSAGE",
            "Error response from daemon: manifest for x not found: manifest unknown",
        )
        .args(&["build"])
        .success()
        .stderr_has("manifest unknown")
        .run();
    assert_eq!(missing.steps_starting_with("pull").len(), 2);
    assert_eq!(
        missing.stderr.matches("warning: pull").count(),
        2,
        "one warning per missing cache: {}",
        missing.stderr
    );

    let flaky = multi()
        .fail_on("pull *")
        .env("FAKE_DOCKER_FAIL_TIMES", "1")
        .args(&["build"])
        .success()
        .stderr_lacks("warning: pull")
        .run();
    assert_eq!(flaky.steps_starting_with("pull").len(), 3);

    for test in [
        multi()
            .fail_on("pull *")
            .env("FAKE_DOCKER_FAIL_MESSAGE", "manifest unknown"),
        multi().fail_on("pull *").env("FAKE_DOCKER_FAIL_TIMES", "1"),
    ] {
        let built = test.clone().args(&["build"]).run();
        let script = test.clone().args(&["plan", "--format", "sh"]).run();
        let by_sh = test.success().run_sh(&script.stdout);
        assert_eq!(by_sh.calls(), built.calls());
    }
}

const TWO_IMAGES: &str = "images:\n  - image: localhost:5000/one\n  - image: localhost:5000/two\n  - image: localhost:5000/three\n";

/// One image at a time (`--jobs 1`): the order of the spec; tests/concurrency.rs has the
/// same rules with images at once.
#[test]
fn a_failed_image_stops_the_rest_by_default() {
    let test = Test::new()
        .dockerfile(MULTI)
        .spec(TWO_IMAGES)
        .buildkit_client()
        .fail_on("build *localhost:5000/two:cache-final*");
    let out = test.clone().args(&["build", "--jobs", "1"]).status(1).run();
    assert!(out
        .lines()
        .iter()
        .any(|l| l == "push localhost:5000/one:latest"));
    assert!(!out
        .lines()
        .iter()
        .any(|l| l.contains("localhost:5000/three")));
    assert!(out
        .steps_starting_with("push localhost:5000/two")
        .is_empty());
    let by_sh = test.run_sh(
        &test
            .clone()
            .args(&["plan", "--format", "sh", "--jobs", "1"])
            .run()
            .stdout,
    );
    assert_eq!(by_sh.calls(), out.calls());
}

#[test]
fn keep_going_finishes_the_other_images_and_names_the_failure() {
    let test = Test::new()
        .dockerfile(MULTI)
        .spec(TWO_IMAGES)
        .buildkit_client()
        .fail_on("build *localhost:5000/two:cache-final*");
    let out = test
        .clone()
        .args(&["build", "--keep-going", "--jobs", "1"])
        .status(1)
        .stderr_has("(image localhost:5000/two)")
        .run();
    assert!(
        out.lines()
            .iter()
            .any(|l| l == "push localhost:5000/three:latest"),
        "{:?}",
        out.lines()
    );
    assert!(out
        .steps_starting_with("push localhost:5000/two")
        .is_empty());
    let script = test
        .clone()
        .args(&["plan", "--format", "sh", "--keep-going", "--jobs", "1"])
        .run();
    let by_sh = test
        .status(1)
        .stderr_has("failed: localhost:5000/two")
        .run_sh(&script.stdout);
    assert_eq!(by_sh.calls(), out.calls());
}

#[test]
fn buildkit_stages_are_reexported_before_pushing_unless_turned_off() {
    let built = multi()
        .buildkit_client()
        .args(&["build"])
        .success()
        .stderr_has("[2/7] re-export builder")
        .run();
    let quiet = built.steps_starting_with("build --quiet");
    assert_eq!(quiet.len(), 2, "{:?}", built.lines());
    assert!(
        quiet.iter().all(|l| !l.contains("--cache-from")),
        "{quiet:?}"
    );

    let plain = multi()
        .buildkit_client()
        .args(&["build", "--no-reexport"])
        .success()
        .run();
    assert!(
        !plain.lines().iter().any(|l| l.contains("--quiet")),
        "{:?}",
        plain.lines()
    );
    let legacy = multi().args(&["build"]).run();
    assert!(
        !legacy.lines().iter().any(|l| l.contains("--quiet")),
        "{:?}",
        legacy.lines()
    );
}

#[test]
fn a_failed_build_in_the_sh_script_stops_it_like_build() {
    // lc_build must pass the build's failure through its pipe into tee.
    let test = multi()
        .buildkit_client()
        .fail_on("build *--target builder*");
    let built = test.clone().args(&["build"]).status(1).run();
    let script = test.clone().args(&["plan", "--format", "sh"]).run();
    let by_sh = test.step_count(1).run_sh(&script.stdout);
    assert_ne!(by_sh.code, 0);
    assert_eq!(by_sh.calls(), built.calls());
}

#[test]
fn the_cache_report_is_printed_and_written() {
    let test = multi()
        .buildkit_client()
        .env("FAKE_DOCKER_CACHED", "builder");
    let summary = test.path().join("summary.md");
    test.clone()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .args(&[
            "build",
            "--report",
            "report.json",
            "--metrics",
            "metrics.txt",
        ])
        .success()
        .stderr_has("cache report:")
        .run();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(test.path().join("report.json")).unwrap())
            .unwrap();
    let stages = report["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    assert_eq!(stages[0]["stage"], "builder");
    assert_eq!(
        (stages[0]["steps"].as_u64(), stages[0]["cached"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(stages[0]["first_miss"], serde_json::Value::Null);
    assert_eq!(
        (stages[1]["cached"].as_u64(), stages[1]["executed"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(stages[1]["first_miss"], "RUN step");
    let metrics = std::fs::read_to_string(test.path().join("metrics.txt")).unwrap();
    assert!(
        metrics.contains("layercache_steps 2\nlayercache_cached_steps 1\n"),
        "{metrics}"
    );
    let markdown = std::fs::read_to_string(summary).unwrap();
    assert!(
        markdown.contains("| localhost:5000/team/app | builder | 1 | 1 | 0 |"),
        "{markdown}"
    );
}

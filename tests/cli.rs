//! The binary against a fake docker: the steps it runs, what it tolerates, where it stops, and
//! that `plan --format sh` run by `sh` does exactly what `build` does.

mod common;
use common::Test;

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
        .run();
    assert_eq!(json.code, 0, "{}", json.stderr);
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let planned: Vec<Vec<String>> = plan["images"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| serde_json::from_value::<Vec<String>>(s["argv"].clone()).unwrap()[1..].to_vec())
        .collect();

    let out = multi().buildkit_client().args(&["build"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ran: Vec<Vec<String>> = out.calls().into_iter().map(|c| c.argv).collect();
    assert_eq!(ran, planned);
    assert_eq!(
        out.lines(),
        [
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
        ]
    );
    assert!(out.calls().iter().all(|c| c.buildkit == "1"));
    assert!(out.stderr.contains("[1/7] build builder"), "{}", out.stderr);
}

#[test]
fn legacy_builder_is_chosen_without_buildx_and_pulls_first() {
    let out = multi().args(&["build"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: using the legacy builder"),
        "{}",
        out.stderr
    );
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
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.calls().iter().all(|c| c.buildkit == "1"));
}

#[test]
fn a_failed_pull_is_tolerated_with_a_warning() {
    let out = multi().fail_on("pull *").args(&["build"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "warning: pull localhost:5000/team/app:cache-builder failed, continuing without it"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("fake failure"),
        "docker's reason is shown: {}",
        out.stderr
    );
    assert_eq!(
        out.lines().iter().filter(|l| l.starts_with("push")).count(),
        3
    );
}

#[test]
fn a_failed_build_stops_the_run_and_nothing_is_pushed() {
    let out = multi()
        .buildkit_client()
        .fail_on("build *--target builder*")
        .args(&["build"])
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.calls().len(), 1, "{:?}", out.lines());
    assert!(!out.lines().iter().any(|l| l.starts_with("push")));
    assert!(
        out.stderr.contains("error: step 1/7 failed: build builder"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("no tag or cache of this image was pushed"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_failed_final_build_pushes_no_stage_cache_either() {
    let out = multi()
        .buildkit_client()
        .fail_on("build *--tag localhost:5000/team/app:v1*")
        .args(&["build"])
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    // The builder's build and re-export ran; the final build failed; nothing after it.
    assert_eq!(out.calls().len(), 3);
    assert!(!out.lines().iter().any(|l| l.starts_with("push")));
}

#[test]
fn a_failed_push_names_the_registry() {
    let refused =
        "Get \"http://localhost:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection refused";
    let out = multi()
        .buildkit_client()
        .fail_on("push *")
        .env("FAKE_DOCKER_FAIL_MESSAGE", refused)
        .args(&["build", "--retries", "1"])
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("exit status 1: {refused}")),
        "the reason is docker's stderr line, not its stdout: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("registry localhost:5000"),
        "{}",
        out.stderr
    );
}

#[test]
fn plan_sh_run_by_sh_makes_the_same_calls_as_build() {
    for client in ["20.10.24", "28.2.2"] {
        let test = multi().env("FAKE_DOCKER_VERSION", client).file(
            "extra.yml",
            "image: localhost:5000/x\npull: always\ntags: [a, b]\nbuild_args: {Q: \"it's $(x)\"}\n",
        );
        for spec in ["layercache.yml", "extra.yml"] {
            let built = test_args(&test, &["build", "-f", spec]);
            let script = test_args(&test, &["plan", "-f", spec, "--format", "sh"]);
            assert_eq!(script.code, 0, "{}", script.stderr);
            assert!(script.stdout.starts_with("#!/bin/sh\n"));
            assert!(script.stdout.contains("set -eu\n"));
            let by_sh = test.run_sh(&script.stdout);
            assert_eq!(by_sh.code, 0, "{}", by_sh.stderr);
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
    let built = test_args(&test, &["build"]);
    let script = test_args(&test, &["plan", "--format", "sh"]);
    let by_sh = test.run_sh(&script.stdout);
    assert_ne!(by_sh.code, 0);
    assert_eq!(by_sh.calls(), built.calls());
}

fn test_args(test: &Test, args: &[&str]) -> common::Output {
    test.clone().args(args).run()
}

#[test]
fn dry_run_needs_no_docker() {
    let out = multi()
        .env("PATH", "/nonexistent")
        .args(&["build", "--dry-run"])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("docker build --progress=plain --target builder"),
        "{}",
        out.stdout
    );
    assert!(out.all_calls.is_empty());
}

#[test]
fn missing_docker_is_an_environment_error() {
    let out = multi()
        .env("LAYERCACHE_DOCKER", "/nonexistent/docker")
        .args(&["build"])
        .run();
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("docker not found"), "{}", out.stderr);
}

#[test]
fn unreachable_daemon_is_an_environment_error() {
    // Legacy builder: the first step is a tolerated pull, which must not hide a missing daemon.
    for client in ["28.2.2", "20.10.24"] {
        let out = multi()
            .env("FAKE_DOCKER_VERSION", client)
            .env("FAKE_DOCKER_DAEMON_DOWN", "1")
            .args(&["build"])
            .run();
        assert_eq!(out.code, 3, "{}", out.stderr);
        assert!(
            out.stderr.contains("the Docker daemon is not reachable"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("Is the docker daemon running?"),
            "{}",
            out.stderr
        );
        assert_eq!(
            out.calls().len(),
            1,
            "stopped at the first step, not retried: {:?}",
            out.lines()
        );
    }
}

#[test]
fn without_a_spec_flags_describe_the_build() {
    let out = Test::new()
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
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.lines(),
        ["build --progress=plain --cache-from localhost:5000/solo:cache-stage-0 --build-arg BUILDKIT_INLINE_CACHE=1 \
          --build-arg A=1 --tag localhost:5000/solo:cache-stage-0 --tag localhost:5000/solo:t1 --file Dockerfile ."]
    );
}

#[test]
fn flags_override_the_spec() {
    let out = multi()
        .buildkit_client()
        .args(&["build", "--target", "builder", "--tag", "x", "--no-push"])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.calls().len(), 1);
    assert!(
        out.lines()[0].contains("--target builder")
            && out.lines()[0].contains("--tag localhost:5000/team/app:x")
    );
}

#[test]
fn plan_json_has_the_promised_shape() {
    let out = multi()
        .args(&["plan", "--format", "json", "--builder", "buildkit"])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
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
        let out = Test::new()
            .dockerfile(dockerfile)
            .spec(spec)
            .args(&["build"])
            .run();
        assert_eq!(out.code, 2, "spec {spec:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(expected),
            "spec {spec:?}: expected {expected:?} in {}",
            out.stderr
        );
        assert!(out.calls().is_empty(), "spec {spec:?}: {:?}", out.lines());
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

#[test]
fn a_missing_spec_file_is_named() {
    let out = Test::new().args(&["build", "-f", "nope.yml"]).run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("nope.yml: cannot read the spec"),
        "{}",
        out.stderr
    );
}

#[test]
fn version_and_help() {
    let v = Test::new().args(&["--version"]).run();
    assert_eq!(v.code, 0);
    assert!(v.stdout.starts_with("layercache "));
    let h = Test::new().args(&["--help"]).run();
    assert_eq!(h.code, 0);
    assert!(
        h.stdout.contains("Examples:") && h.stdout.contains("Exit status"),
        "{}",
        h.stdout
    );
    let bad = Test::new().args(&["build", "--pull", "sometimes"]).run();
    assert_eq!(bad.code, 2);
}

#[test]
fn pushes_are_retried_and_the_sh_script_retries_the_same_way() {
    let test = multi()
        .buildkit_client()
        .fail_on("push *")
        .env("FAKE_DOCKER_FAIL_TIMES", "2");
    let built = test.clone().args(&["build"]).run();
    assert_eq!(built.code, 0, "{}", built.stderr);
    let pushes: Vec<_> = built
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("push"))
        .collect();
    assert_eq!(
        pushes[..3],
        ["push localhost:5000/team/app:cache-builder"; 3]
    );
    assert_eq!(pushes.len(), 5);
    assert!(
        built.stderr.contains("failed (try 1 of 3)"),
        "{}",
        built.stderr
    );

    let script = test.clone().args(&["plan", "--format", "sh"]).run();
    assert!(
        script.stdout.contains("lc_retry '0 0' docker push"),
        "{}",
        script.stdout
    );
    let by_sh = test.run_sh(&script.stdout);
    assert_eq!(by_sh.code, 0, "{}", by_sh.stderr);
    assert_eq!(by_sh.calls(), built.calls());
}

#[test]
fn a_push_that_keeps_failing_says_how_often_it_was_tried() {
    let out = multi()
        .buildkit_client()
        .fail_on("push *")
        .args(&["build", "--retries", "4"])
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.lines().iter().filter(|l| l.starts_with("push")).count(),
        4
    );
    assert!(out.stderr.contains("(after 4 tries)"), "{}", out.stderr);
}

#[test]
fn builds_are_never_retried() {
    let out = multi()
        .buildkit_client()
        .fail_on("build *")
        .args(&["build", "--retries", "5"])
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(out.calls().len(), 1);
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
        .run();
    assert_eq!(missing.code, 0, "{}", missing.stderr);
    assert_eq!(
        missing
            .lines()
            .iter()
            .filter(|l| l.starts_with("pull"))
            .count(),
        2
    );
    assert_eq!(
        missing.stderr.matches("warning: pull").count(),
        2,
        "one warning per missing cache: {}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("manifest unknown"),
        "{}",
        missing.stderr
    );

    let flaky = multi()
        .fail_on("pull *")
        .env("FAKE_DOCKER_FAIL_TIMES", "1")
        .args(&["build"])
        .run();
    assert_eq!(flaky.code, 0, "{}", flaky.stderr);
    assert_eq!(
        flaky
            .lines()
            .iter()
            .filter(|l| l.starts_with("pull"))
            .count(),
        3
    );
    assert!(!flaky.stderr.contains("warning: pull"), "{}", flaky.stderr);

    for test in [
        multi()
            .fail_on("pull *")
            .env("FAKE_DOCKER_FAIL_MESSAGE", "manifest unknown"),
        multi().fail_on("pull *").env("FAKE_DOCKER_FAIL_TIMES", "1"),
    ] {
        let built = test.clone().args(&["build"]).run();
        let script = test.clone().args(&["plan", "--format", "sh"]).run();
        let by_sh = test.run_sh(&script.stdout);
        assert_eq!(by_sh.code, 0, "{}", by_sh.stderr);
        assert_eq!(by_sh.calls(), built.calls());
    }
}

const TWO_IMAGES: &str = "images:\n  - image: localhost:5000/one\n  - image: localhost:5000/two\n  - image: localhost:5000/three\n";

#[test]
fn a_failed_image_stops_the_rest_by_default() {
    let test = Test::new()
        .dockerfile(MULTI)
        .spec(TWO_IMAGES)
        .buildkit_client()
        .fail_on("build *localhost:5000/two:cache-final*");
    let out = test.clone().args(&["build"]).run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out
        .lines()
        .iter()
        .any(|l| l == "push localhost:5000/one:latest"));
    assert!(!out
        .lines()
        .iter()
        .any(|l| l.contains("localhost:5000/three")));
    assert!(!out
        .lines()
        .iter()
        .any(|l| l.starts_with("push localhost:5000/two")));
    let by_sh = test.run_sh(&test.clone().args(&["plan", "--format", "sh"]).run().stdout);
    assert_eq!(by_sh.calls(), out.calls());
}

#[test]
fn keep_going_finishes_the_other_images_and_names_the_failure() {
    let test = Test::new()
        .dockerfile(MULTI)
        .spec(TWO_IMAGES)
        .buildkit_client()
        .fail_on("build *localhost:5000/two:cache-final*");
    let out = test.clone().args(&["build", "--keep-going"]).run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.lines()
            .iter()
            .any(|l| l == "push localhost:5000/three:latest"),
        "{:?}",
        out.lines()
    );
    assert!(!out
        .lines()
        .iter()
        .any(|l| l.starts_with("push localhost:5000/two")));
    assert!(
        out.stderr.contains("(image localhost:5000/two)"),
        "{}",
        out.stderr
    );
    let script = test
        .clone()
        .args(&["plan", "--format", "sh", "--keep-going"])
        .run();
    let by_sh = test.run_sh(&script.stdout);
    assert_eq!(by_sh.code, 1);
    assert!(
        by_sh.stderr.contains("failed: localhost:5000/two"),
        "{}",
        by_sh.stderr
    );
    assert_eq!(by_sh.calls(), out.calls());
}

#[test]
fn buildkit_stages_are_reexported_before_pushing_unless_turned_off() {
    let built = multi().buildkit_client().args(&["build"]).run();
    assert_eq!(built.code, 0, "{}", built.stderr);
    let quiet: Vec<String> = built
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("build --quiet"))
        .collect();
    assert_eq!(quiet.len(), 2, "{:?}", built.lines());
    assert!(
        quiet.iter().all(|l| !l.contains("--cache-from")),
        "{quiet:?}"
    );
    assert!(
        built.stderr.contains("[2/7] re-export builder"),
        "{}",
        built.stderr
    );

    let plain = multi()
        .buildkit_client()
        .args(&["build", "--no-reexport"])
        .run();
    assert_eq!(plain.code, 0, "{}", plain.stderr);
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
    let built = test.clone().args(&["build"]).run();
    let by_sh = test.run_sh(&test.clone().args(&["plan", "--format", "sh"]).run().stdout);
    assert_eq!(built.code, 1);
    assert_ne!(by_sh.code, 0);
    assert_eq!(by_sh.calls(), built.calls());
    assert_eq!(by_sh.calls().len(), 1);
}

#[test]
fn the_cache_report_is_printed_and_written() {
    let test = multi()
        .buildkit_client()
        .env("FAKE_DOCKER_CACHED", "builder");
    let summary = test.path().join("summary.md");
    let out = test
        .clone()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .args(&[
            "build",
            "--report",
            "report.json",
            "--metrics",
            "metrics.txt",
        ])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("cache report:"), "{}", out.stderr);
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

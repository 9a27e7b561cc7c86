//! Images and stages at once (issue 14), against the fake docker: what runs together and what
//! waits (an image built FROM another image of the spec, pushes after every build of an
//! image), the failure rules under concurrency, signals reaching every running command, the
//! output's prefixes and groups, `plan --format sh` making the same calls per image, and
//! multi-platform images where the engine can build them.

use crate::support::{read_calls, Call, Output, Test};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

const TWO_STAGES: &str =
    "FROM busybox:1.36 AS builder\nRUN echo deps\nFROM busybox:1.36 AS final\nCOPY --from=builder /x /x\n";

/// Three images that do not need each other.
const THREE: &str = "images:\n  - image: localhost:5000/one\n  - image: localhost:5000/two\n  - image: localhost:5000/three\n";

/// The diamond: two branches on one base, joined by the final stage.
const DIAMOND: &str = "FROM busybox:1.36 AS base\nRUN echo base\n\
                       FROM base AS left\nRUN echo left\n\
                       FROM base AS right\nRUN echo right\n\
                       FROM busybox:1.36 AS final\nCOPY --from=left /l /l\nCOPY --from=right /r /r\n";

/// When a build call started and ended (seconds), from the fake docker's records.
fn times(record: &Path, call: usize) -> (f64, f64) {
    let read = |ext: &str| {
        std::fs::read_to_string(record.join(format!("call-{call}.{ext}")))
            .unwrap_or_default()
            .trim()
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("call {call} has no {ext} time"))
    };
    (read("start"), read("end"))
}

/// The 1-based call numbers (as the fake docker counts, probes included) of the calls whose
/// line contains `needle`.
fn calls_with(out: &Output, needle: &str) -> Vec<usize> {
    out.all_calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.line().contains(needle))
        .map(|(i, _)| i + 1)
        .collect()
}

/// Whether two build calls ran at once.
fn overlap(record: &Path, a: usize, b: usize) -> bool {
    let (sa, ea) = times(record, a);
    let (sb, eb) = times(record, b);
    sa < eb && sb < ea
}

/// The plan steps per image, in the order each image ran them; a step belongs to the image
/// whose repository it names.
fn per_image(calls: &[Call], images: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in calls.iter().filter(|c| !c.is_probe()) {
        let line = c.line();
        let image = images
            .iter()
            .find(|i| line.contains(&format!("{i}:")))
            .unwrap_or_else(|| panic!("no image in {line}"));
        map.entry(image.to_string()).or_default().push(line);
    }
    map
}

#[test]
fn independent_images_build_at_once() {
    let test = Test::new()
        .dockerfile(TWO_STAGES)
        .spec(THREE)
        .engine("28.5.2", "containerd", "docker")
        .env("FAKE_DOCKER_SLEEP", "2");
    let out = test
        .clone()
        .args(&["build", "--jobs", "3"])
        .success()
        .step_count(3)
        .stderr_has("[1/3] one: build and push final")
        // Each line of docker's output names its image.
        .stderr_has("two/final | #6 DONE 0.1s")
        .run();
    let record = test.path().join(".calls");
    let builds: Vec<usize> = calls_with(&out, "buildx build");
    assert_eq!(builds.len(), 3);
    assert!(overlap(&record, builds[0], builds[1]), "{}", out.dump());
    assert!(overlap(&record, builds[1], builds[2]), "{}", out.dump());

    // Two jobs: the third image waits for one of the first two.
    let out = test.clone().args(&["build", "--jobs", "2"]).success().run();
    let b = calls_with(&out, "buildx build");
    let (s3, _) = times(&record, b[2]);
    let first_end = times(&record, b[0]).1.min(times(&record, b[1]).1);
    assert!(s3 >= first_end, "{}", out.dump());
}

#[test]
fn jobs_come_from_the_flag_the_environment_or_the_spec() {
    let test = Test::new().dockerfile(TWO_STAGES);
    let jobs = |t: Test, args: &[&str]| {
        let mut a = vec!["plan", "--format", "json"];
        a.extend(args);
        t.args(&a).success().run().json()["jobs"].as_u64().unwrap()
    };
    let spec = test.clone().spec(&format!("jobs: 3\n{THREE}"));
    assert_eq!(jobs(spec.clone(), &[]), 3);
    assert_eq!(jobs(spec.clone(), &["--jobs", "2"]), 2);
    assert_eq!(jobs(spec.clone().env("LAYERCACHE_JOBS", "5"), &[]), 5);
    // One image: `jobs:` among its keys.
    assert_eq!(
        jobs(
            test.clone().spec("image: localhost:5000/one\njobs: 4\n"),
            &[]
        ),
        4
    );
    // The default: from the cores, at least 2, at most 8.
    let default = jobs(test.clone().spec(THREE), &[]);
    assert!((2..=8).contains(&default), "{default}");
    test.clone()
        .spec("images:\n  - image: localhost:5000/one\n    jobs: 2\n")
        .args(&["plan"])
        .status(2)
        .stderr_has("layercache.yml:3:5: `jobs:` is a key of the whole spec")
        .run();
    test.clone()
        .spec(&format!("jobs: many\n{THREE}"))
        .args(&["plan"])
        .status(2)
        .stderr_has("layercache.yml:1:1: `jobs: many` is not a number")
        .run();
    test.spec(THREE)
        .args(&["plan", "--jobs", "0"])
        .status(2)
        .run();
}

/// A monorepo: two images built FROM a base image of the same spec, which comes later in it.
const MONOREPO: &str = "images:
  - image: localhost:5000/mono/api
    dockerfile: api.Dockerfile
  - image: localhost:5000/mono/web
    dockerfile: web.Dockerfile
  - image: localhost:5000/mono/base
    dockerfile: base.Dockerfile
  - image: localhost:5000/mono/tool
    dockerfile: tool.Dockerfile
";

fn monorepo() -> Test {
    Test::new()
        .file("base.Dockerfile", "FROM busybox:1.36 AS base\nRUN echo base\n")
        .file(
            "api.Dockerfile",
            "ARG REG=localhost:5000\nFROM ${REG}/mono/base:latest AS final\nRUN echo api\n",
        )
        .file(
            "web.Dockerfile",
            "FROM busybox:1.36 AS assets\nRUN echo assets\nFROM localhost:5000/mono/base AS final\nCOPY --from=assets /a /a\n",
        )
        .file("tool.Dockerfile", "FROM busybox:1.36 AS final\nRUN echo tool\n")
        .spec(MONOREPO)
}

const MONO_IMAGES: [&str; 4] = [
    "localhost:5000/mono/api",
    "localhost:5000/mono/web",
    "localhost:5000/mono/base",
    "localhost:5000/mono/tool",
];

#[test]
fn an_image_built_from_another_waits_for_its_push() {
    let test = monorepo().engine("28.5.2", "containerd", "docker");
    let plan = test
        .clone()
        .args(&["plan", "--format", "json"])
        .success()
        .run()
        .json();
    let after: Vec<serde_json::Value> = plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["after"].clone())
        .collect();
    assert_eq!(
        after,
        [
            serde_json::json!([2]),
            serde_json::json!([2]),
            serde_json::json!([]),
            serde_json::json!([])
        ]
    );

    let out = test
        .clone()
        .env("FAKE_DOCKER_SLEEP", "1")
        .args(&["build", "--jobs", "4"])
        .success()
        .run();
    let record = test.path().join(".calls");
    let base = calls_with(&out, "mono/base:latest --file")[0];
    let (_, base_end) = times(&record, base);
    for image in ["mono/api", "mono/web"] {
        let call = calls_with(&out, &format!("{image}:buildcache,mode=max"))[0];
        assert!(
            times(&record, call).0 >= base_end,
            "{image}\n{}",
            out.dump()
        );
    }
    // The tool image needs nothing: it builds beside the base.
    let tool = calls_with(&out, "mono/tool:buildcache,mode=max")[0];
    assert!(overlap(&record, base, tool), "{}", out.dump());

    // `--jobs 1`: the spec's order, each image after its base.
    let out = test.args(&["build", "--jobs", "1"]).success().run();
    let order: Vec<String> = out
        .lines()
        .iter()
        .map(|l| {
            MONO_IMAGES
                .iter()
                .find(|i| l.contains(&format!("{i}:")))
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        order,
        [
            MONO_IMAGES[2],
            MONO_IMAGES[0],
            MONO_IMAGES[1],
            MONO_IMAGES[3]
        ]
    );
}

#[test]
fn images_that_build_on_each_other_in_a_circle_are_refused() {
    Test::new()
        .file("a.Dockerfile", "FROM localhost:5000/b\n")
        .file("b.Dockerfile", "FROM localhost:5000/a:v1\n")
        .spec("images:\n  - image: localhost:5000/a\n    dockerfile: a.Dockerfile\n  - image: localhost:5000/b\n    dockerfile: b.Dockerfile\n")
        .args(&["build"])
        .status(2)
        .no_docker()
        .stderr_has("in a circle: localhost:5000/a -> localhost:5000/b -> localhost:5000/a")
        .run();
}

#[test]
fn with_the_reexport_the_branches_of_a_diamond_build_at_once_and_the_pushes_wait_for_all_builds() {
    let test = Test::new()
        .dockerfile(DIAMOND)
        .spec("image: localhost:5000/app\n")
        .buildkit_client()
        .env("FAKE_DOCKER_SLEEP", "1");
    let out = test
        .clone()
        .args(&["build", "--jobs", "4"])
        .success()
        .stderr_has("app/left | #6 DONE 0.1s")
        .run();
    let record = test.path().join(".calls");
    let work = |target: &str| calls_with(&out, &format!("--progress=plain --target {target} "))[0];
    let (left, right) = (work("left"), work("right"));
    assert!(overlap(&record, left, right), "{}", out.dump());
    let (_, base_end) = times(&record, work("base"));
    assert!(times(&record, left).0 >= base_end && times(&record, right).0 >= base_end);
    // Every push comes after every build and re-export.
    let lines = out.lines();
    let first_push = lines.iter().position(|l| l.starts_with("push")).unwrap();
    assert!(
        lines[first_push..].iter().all(|l| l.starts_with("push")),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 4 * 2 + 5, "{lines:?}");

    // The same calls as one job at a time, in another order.
    let sequential = test.clone().args(&["build", "--jobs", "1"]).success().run();
    let mut a = out.lines();
    let mut b = sequential.lines();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // The sh script runs a diamond's stages one after another: the sequential order.
    let script = test
        .clone()
        .args(&["plan", "--format", "sh"])
        .success()
        .run();
    let by_sh = test.success().run_sh(&script.stdout);
    assert_eq!(by_sh.lines(), sequential.lines());
}

#[test]
fn a_failed_image_stops_the_running_ones_and_nothing_more_is_pushed() {
    // Per-stage builds: the failing image fails at once, the others are in their first build.
    let test = Test::new()
        .dockerfile(TWO_STAGES)
        .spec(THREE)
        .buildkit_client()
        .env("FAKE_DOCKER_SLEEP", "20")
        .env("FAKE_DOCKER_FAIL_DELAY", "1")
        .fail_on("build *localhost:5000/two:cache-builder*");
    let started = Instant::now();
    let out = test
        .clone()
        .args(&["build", "--jobs", "3"])
        .status(1)
        .stderr_has("error: step ")
        .stderr_has("build builder (image localhost:5000/two)")
        .stderr_has("stopped before they were complete, nothing more pushed: localhost:5000/one, localhost:5000/three")
        .run();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the others were not stopped\n{}",
        out.dump()
    );
    assert!(out.steps_starting_with("push").is_empty(), "{}", out.dump());
    // The running builds got the stop (SIGINT), as Ctrl-C would send it.
    let record = test.path().join(".calls");
    for image in ["one", "three"] {
        let call = calls_with(&out, &format!("localhost:5000/{image}:cache-builder"))[0];
        let signal =
            std::fs::read_to_string(record.join(format!("call-{call}.signal"))).unwrap_or_default();
        assert_eq!(signal.trim(), "INT", "{image}\n{}", out.dump());
    }
    // One build per image started; none after the failure.
    assert_eq!(out.steps_starting_with("build").len(), 3, "{}", out.dump());
}

#[test]
fn keep_going_finishes_the_others_and_skips_the_images_built_on_a_failed_one() {
    let test = monorepo()
        .buildkit_client()
        .fail_on("build *localhost:5000/mono/tool:cache-final*")
        .fail_on("build *localhost:5000/mono/base:cache-base*");
    let out = test
        .clone()
        .args(&["build", "--keep-going", "--jobs", "3"])
        .status(1)
        .stderr_has("2 of 4 images failed, 2 not built:")
        .stderr_has("(image localhost:5000/mono/base)")
        .stderr_has("(image localhost:5000/mono/tool)")
        .stderr_has("localhost:5000/mono/api is not built: it builds on localhost:5000/mono/base, which failed")
        .run();
    let lines = out.lines();
    assert!(!lines.iter().any(|l| l.starts_with("push")), "{lines:?}");
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("mono/api") || l.contains("mono/web")),
        "{lines:?}"
    );

    // Nothing failed but the base: the tool image finishes and is pushed.
    let test = monorepo()
        .buildkit_client()
        .fail_on("build *localhost:5000/mono/base:cache-base*");
    let out = test
        .clone()
        .args(&["build", "--keep-going", "--jobs", "3"])
        .status(1)
        .run();
    assert!(out
        .lines()
        .contains(&"push localhost:5000/mono/tool:latest".to_string()));
    let script = test
        .clone()
        .args(&["plan", "--format", "sh", "--keep-going", "--jobs", "3"])
        .success()
        .stdout_has(") &\n")
        .stdout_has("wait \"$lc_pid_")
        .run();
    let by_sh = test
        .status(1)
        .stderr_has("localhost:5000/mono/api is not built")
        .stderr_has("failed: localhost:5000/mono/base")
        .run_sh(&script.stdout);
    assert_eq!(
        per_image(&by_sh.calls(), &MONO_IMAGES),
        per_image(&out.calls(), &MONO_IMAGES)
    );
}

#[test]
fn plan_sh_makes_the_same_calls_per_image_with_images_at_once() {
    for engine in [
        ("20.10.24", "classic", "docker"),
        ("28.5.2", "containerd", "docker"),
    ] {
        let test = monorepo().engine(engine.0, engine.1, engine.2).env(
            "FAKE_DOCKER_VERSION",
            if engine.0 == "20.10.24" {
                "20.10.24"
            } else {
                "28.2.2"
            },
        );
        let built = test.clone().args(&["build", "--jobs", "4"]).success().run();
        let script = test
            .clone()
            .args(&["plan", "--format", "sh", "--jobs", "4"])
            .success()
            .stdout_has("# Up to 4 images at once (--jobs)")
            .stdout_has("# Built after localhost:5000/mono/base.\n")
            .run();
        let by_sh = test.success().run_sh(&script.stdout);
        assert_eq!(
            per_image(&by_sh.calls(), &MONO_IMAGES),
            per_image(&built.calls(), &MONO_IMAGES),
            "{engine:?}"
        );
        // The base is built and pushed before the images on it start, in the script too.
        let lines = by_sh.lines();
        let last_base = lines
            .iter()
            .rposition(|l| l.contains("mono/base:"))
            .unwrap();
        let first_api = lines.iter().position(|l| l.contains("mono/api:")).unwrap();
        assert!(last_base < first_api, "{lines:?}");
    }
}

#[test]
fn a_failure_in_the_script_stops_it_after_the_images_running_with_it() {
    let test = Test::new()
        .dockerfile(TWO_STAGES)
        .spec(THREE)
        .buildkit_client()
        .fail_on("build *localhost:5000/two:cache-builder*");
    let script = test
        .clone()
        .args(&["plan", "--format", "sh", "--jobs", "2"])
        .success()
        .run();
    let by_sh = test
        .status(1)
        .stderr_has("layercache: failed: localhost:5000/two")
        .run_sh(&script.stdout);
    let images = per_image(
        &by_sh.calls(),
        &[
            "localhost:5000/one",
            "localhost:5000/two",
            "localhost:5000/three",
        ],
    );
    // The failed image stopped at its failure; the third never started.
    assert_eq!(images["localhost:5000/two"].len(), 1);
    assert!(!images.contains_key("localhost:5000/three"));
}

fn wait_for_files(record: &Path, suffix: &str, count: usize) -> Vec<usize> {
    let start = Instant::now();
    loop {
        let found: Vec<usize> = (1..40)
            .filter(|n| record.join(format!("call-{n}.{suffix}")).exists())
            .collect();
        if found.len() >= count {
            return found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "only {found:?} {suffix}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_reaches_every_running_build() {
    let test = Test::new()
        .dockerfile(TWO_STAGES)
        .spec(THREE)
        .buildkit_client()
        .env("FAKE_DOCKER_SLEEP", "30")
        .args(&["build", "--jobs", "3"]);
    let (mut child, record) = test.spawn();
    let started = wait_for_files(&record, "started", 3);
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let code = child.wait().unwrap().code();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(code, Some(143), "{stderr}");
    for n in &started {
        let got =
            std::fs::read_to_string(record.join(format!("call-{n}.signal"))).unwrap_or_default();
        assert_eq!(got.trim(), "TERM", "call {n}: {stderr}");
    }
    let calls: Vec<Call> = read_calls(&record)
        .into_iter()
        .filter(|c| !c.is_probe())
        .collect();
    assert_eq!(calls.len(), 3, "no step after the interrupt: {calls:?}");
    assert!(stderr.contains("interrupted"), "{stderr}");
}

#[test]
fn ci_logs_get_one_section_per_step_in_one_block() {
    let out = Test::new()
        .dockerfile(TWO_STAGES)
        .spec(THREE)
        .buildkit_client()
        .env("GITLAB_CI", "true")
        .env("CI_COMMIT_SHA", "0123456789abcdef")
        .env("CI_COMMIT_REF_SLUG", "main")
        .env("FAKE_DOCKER_SLEEP", "0.5")
        .args(&["build", "--jobs", "3"])
        .success()
        .run();
    // Sections never interleave: each start is followed by its own end.
    let mut open: Option<String> = None;
    for line in out.stderr.lines() {
        if let Some(i) = line.find("section_start:") {
            assert!(open.is_none(), "nested section at {line:?}\n{}", out.stderr);
            let name = line[i..]
                .split(':')
                .nth(2)
                .unwrap()
                .split('[')
                .next()
                .unwrap();
            open = Some(name.to_string());
        }
        if let Some(i) = line.find("section_end:") {
            let name = line[i..]
                .split(':')
                .nth(2)
                .unwrap()
                .split('\r')
                .next()
                .unwrap();
            assert_eq!(open.take().as_deref(), Some(name), "{}", out.stderr);
        }
    }
    assert!(
        out.stderr.contains("one: build builder: ok in"),
        "{}",
        out.stderr
    );
}

#[test]
fn plain_progress_and_one_job_keep_the_sequential_log() {
    Test::new()
        .dockerfile(TWO_STAGES)
        .spec(THREE)
        .buildkit_client()
        .args(&["build", "--jobs", "1"])
        .success()
        .stderr_has("[1/21] build builder\n#1 [internal]")
        .stderr_lacks(" | ")
        .run();
}

#[test]
fn several_platforms_are_one_buildx_build_where_the_engine_can() {
    let spec = "image: localhost:5000/app\nplatforms: [linux/amd64, linux/arm64]\n";
    Test::new()
        .dockerfile(TWO_STAGES)
        .spec(spec)
        .engine("28.5.2", "containerd", "docker")
        .args(&["build"])
        .success()
        .steps(&[
            "buildx build --progress=plain --platform linux/amd64,linux/arm64 \
                  --cache-from type=registry,ref=localhost:5000/app:buildcache \
                  --cache-to type=registry,ref=localhost:5000/app:buildcache,mode=max \
                  --tag localhost:5000/app:latest --file Dockerfile --push .",
        ])
        .run();
    // The flag, as docker spells it, replaces the spec's list.
    let plan = Test::new()
        .dockerfile(TWO_STAGES)
        .spec(spec)
        .engine("28.5.2", "classic", "docker-container")
        .args(&[
            "plan",
            "--format",
            "json",
            "--platform",
            "linux/arm64,linux/arm/v7",
        ])
        .success()
        .run()
        .json();
    assert_eq!(
        plan["images"][0]["platforms"],
        serde_json::json!(["linux/arm64", "linux/arm/v7"])
    );
    assert_eq!(plan["images"][0]["strategy"], "registry");
    // Docker not probed: planned as the exported cache it needs.
    Test::new()
        .dockerfile(TWO_STAGES)
        .spec(spec)
        .env("PATH", "/nonexistent")
        .args(&["build", "--dry-run"])
        .success()
        .stdout_has("docker buildx build --progress=plain --platform linux/amd64,linux/arm64")
        .run();
}

#[test]
fn several_platforms_are_refused_where_the_engine_cannot() {
    let spec = "image: localhost:5000/app\nplatforms: linux/amd64,linux/arm64\n";
    let test = Test::new().dockerfile(TWO_STAGES).spec(spec);
    test.clone()
        .engine("28.5.2", "classic", "docker")
        .args(&["build"])
        .status(2)
        .no_steps()
        .stderr_has(
            "a multi-platform image (2 platforms) needs one buildx build with an exported cache",
        )
        .stderr_has("refuses cache export")
        .stderr_has("hint: use the containerd image store")
        .run();
    test.clone()
        .engine("28.5.2", "containerd", "docker")
        .args(&["build", "--strategy", "inline"])
        .status(2)
        .no_steps()
        .stderr_has("--strategy inline builds each stage on its own")
        .run();
    test.clone()
        .buildkit_client()
        .args(&["build"])
        .status(2)
        .no_steps()
        .run();
    // One platform builds anywhere, per stage too.
    test.clone()
        .engine("28.5.2", "classic", "docker")
        .args(&["build", "--platform", "linux/amd64", "--no-push"])
        .success()
        .stderr_has("[1/2] build builder")
        .run();
    let out = test
        .clone()
        .engine("28.5.2", "classic", "docker")
        .args(&["build", "--platform", "linux/amd64", "--no-push"])
        .run();
    assert!(
        out.lines()
            .iter()
            .all(|l| l.contains("--platform linux/amd64 ")),
        "{:?}",
        out.lines()
    );
    test.clone()
        .args(&["plan", "--platform", "amd64"])
        .status(2)
        .stderr_has("--platform: `amd64` is not a platform")
        .run();
    Test::new()
        .dockerfile(TWO_STAGES)
        .spec("image: app\nplatforms: [linux/amd64, Linux/ARM64]\n")
        .args(&["plan"])
        .status(2)
        .stderr_has("layercache.yml:2:")
        .stderr_has("`Linux/ARM64` is not a platform")
        .run();
}

#[test]
fn doctor_says_whether_several_platforms_can_be_built() {
    Test::new()
        .engine("28.5.2", "containerd", "docker")
        .args(&["doctor"])
        .success()
        .stdout_has("multi-platform")
        .stdout_has("can build a multi-platform image in one build")
        .run();
    Test::new()
        .engine("28.5.2", "classic", "docker")
        .args(&["doctor"])
        .success()
        .stdout_has("not here: builder `default` uses the docker driver on the classic image store")
        .run();
}

/// Without the re-export (Docker 27+ on the classic store), the stages of one image build one
/// after another whatever --jobs says: concurrent builds importing the same inline caches skip
/// some of them (moby/buildkit#4674), and nothing rebuilds the cache images afterwards
/// (src/plan/per_stage.rs has the measurement).
#[test]
fn without_the_reexport_the_branches_of_a_diamond_build_one_after_another() {
    let test = Test::new()
        .dockerfile(DIAMOND)
        .spec("image: localhost:5000/app\n")
        .engine("28.5.2", "classic", "docker")
        .env("FAKE_DOCKER_SLEEP", "1");
    let out = test.clone().args(&["build", "--jobs", "4"]).success().run();
    let record = test.path().join(".calls");
    let work = |target: &str| calls_with(&out, &format!("--progress=plain --target {target} "))[0];
    let (left, right) = (work("left"), work("right"));
    assert!(!overlap(&record, left, right), "{}", out.dump());
    let sequential = test.args(&["build", "--jobs", "1"]).success().run();
    assert_eq!(out.lines(), sequential.lines());
}

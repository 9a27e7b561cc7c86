//! Under faults, with the fake docker (issue 16): nobody else writes this branch's cache (a
//! branch named like the default branch, a fork's pipeline, a tag pipeline), the publish order
//! (caches and immutable tags before moving tags), and logging out after the run.

use crate::support::Test;

const MULTI: &str = "FROM busybox:1.36 AS builder\nRUN echo deps\nCOPY . /src\nFROM busybox:1.36 AS final\nCOPY --from=builder /src /app\n";
const R: &str = "registry.gitlab.com/team/app";
const SHA: &str = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c";

/// A GitLab branch pipeline of `branch` (no login: the CI's password is left out).
fn gitlab(branch: &str) -> Test {
    Test::new()
        .dockerfile(MULTI)
        .buildkit_client()
        .env("GITLAB_CI", "true")
        .env("CI_COMMIT_SHA", SHA)
        .env("CI_COMMIT_REF_NAME", branch)
        .env(
            "CI_COMMIT_REF_SLUG",
            &branch.to_lowercase().replace(['/', '.'], "-"),
        )
        .env("CI_DEFAULT_BRANCH", "main")
        .env("CI_REGISTRY_IMAGE", R)
}

/// Every ref the run pushed or built with `--tag`.
fn written(out: &crate::support::Output) -> Vec<String> {
    let mut refs = Vec::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        if words[0] == "push" {
            refs.push(words[1].to_string());
        }
        for pair in words.windows(2) {
            if pair[0] == "--tag" {
                refs.push(pair[1].to_string());
            }
        }
    }
    refs
}

#[test]
fn branches_named_like_the_default_branch_never_write_its_refs() {
    for (branch, slug) in [
        ("Main", "main-69eefa67"),
        ("main.", "main-a4ff181a"),
        ("MAIN/", "main-cc3d87a1"),
    ] {
        let out = gitlab(branch).args(&["build"]).success().run();
        let written = written(&out);
        assert!(
            written
                .iter()
                .all(|r| !r.ends_with(":main") && !r.ends_with("-main")),
            "{branch}: {written:?}"
        );
        assert_eq!(
            out.steps_starting_with("push"),
            [
                format!("push {R}:cache-builder-{slug}"),
                format!("push {R}:cache-final-{slug}"),
                format!("push {R}:{SHA}"),
                format!("push {R}:{slug}"),
            ],
            "{branch}"
        );
        // It still reads the default branch's cache, after its own.
        let build = &out.lines()[0];
        assert!(
            build.contains(&format!(
                "--cache-from {R}:cache-builder-{slug} --cache-from {R}:cache-builder-main "
            )),
            "{build}"
        );
    }
    // The default branch itself keeps its plain name.
    let out = gitlab("main").args(&["build"]).success().run();
    assert!(out
        .steps_starting_with("push")
        .contains(&format!("push {R}:cache-builder-main")));
}

#[test]
fn a_tag_pipeline_writes_no_branch_cache() {
    let out = gitlab("v1.2.0")
        .env("CI_COMMIT_TAG", "v1.2.0")
        .args(&["build"])
        .success()
        .run();
    // The plain caches (read last by every branch), the commit and the version; no branch's.
    assert_eq!(
        out.steps_starting_with("push"),
        [
            format!("push {R}:cache-builder"),
            format!("push {R}:cache-final"),
            format!("push {R}:{SHA}"),
            format!("push {R}:v1.2.0"),
        ]
    );
    let build = &out.lines()[0];
    assert!(
        build.contains(&format!(
            "--cache-from {R}:cache-builder-main --cache-from {R}:cache-builder "
        )),
        "{build}"
    );
}

/// A GitHub pull request from `head` to octo/app.
fn github_pull_request(head: &str) -> Test {
    let t = Test::new().dockerfile(MULTI).buildkit_client();
    let event = t.path().join("event.json");
    std::fs::write(
        &event,
        format!(
            r#"{{"pull_request": {{"head": {{"repo": {{"full_name": "{head}"}}}},
                "base": {{"repo": {{"full_name": "octo/app"}}}}}},
                "repository": {{"default_branch": "main"}}}}"#
        ),
    )
    .unwrap();
    t.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event.to_str().unwrap())
        .env("GITHUB_SHA", "abc123")
        .env("GITHUB_REF_NAME", "7/merge")
        .env("GITHUB_REF_TYPE", "branch")
        .env("GITHUB_HEAD_REF", "fix")
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_REPOSITORY", "octo/app")
}

#[test]
fn a_pull_request_from_a_fork_reads_caches_and_pushes_nothing() {
    let out = github_pull_request("mallory/app")
        .args(&["build"])
        .success()
        .stderr_has("builds a change from a fork: caches are read, nothing is pushed")
        .run();
    assert_eq!(out.steps_starting_with("push"), Vec::<String>::new());
    assert!(
        out.lines()[0].contains("--cache-from ghcr.io/octo/app:cache-builder-main"),
        "{}",
        out.lines()[0]
    );
    // Not even with --push, the spec's default; only --allow-fork-push says otherwise.
    let out = github_pull_request("mallory/app")
        .args(&["build", "--push"])
        .success()
        .run();
    assert!(out.steps_starting_with("push").is_empty());
    let out = github_pull_request("mallory/app")
        .args(&["build", "--allow-fork-push"])
        .success()
        .stderr_lacks("from a fork")
        .run();
    assert_eq!(out.steps_starting_with("push").len(), 4);
    // A pull request from a branch of the same repository pushes as a branch does.
    let out = github_pull_request("octo/app")
        .args(&["build"])
        .success()
        .stderr_lacks("from a fork")
        .run();
    assert!(out
        .steps_starting_with("push")
        .contains(&"push ghcr.io/octo/app:cache-final-fix".to_string()));
}

#[test]
fn a_merge_request_from_a_fork_exports_no_cache_either() {
    let fork = |t: Test| {
        t.env("CI_PROJECT_ID", "100")
            .env("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "200")
    };
    let out = fork(gitlab("feature"))
        .args(&["build"])
        .success()
        .stderr_has("from a fork")
        .run();
    assert!(out.steps_starting_with("push").is_empty());
    // The exported-cache strategy: no --cache-to, --load instead of --push.
    let out = fork(gitlab("feature"))
        .engine("28.5.2", "containerd", "docker")
        .args(&["build"])
        .success()
        .run();
    let build = &out.lines()[0];
    assert!(build.starts_with("buildx build"), "{build}");
    assert!(
        build.contains("--cache-from type=registry") && !build.contains("--cache-to"),
        "{build}"
    );
    assert!(
        build.contains("--load") && !build.contains("--push"),
        "{build}"
    );
    // The same project's merge request pushes.
    let out = gitlab("feature")
        .env("CI_PROJECT_ID", "100")
        .env("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "100")
        .args(&["build"])
        .success()
        .run();
    assert_eq!(out.steps_starting_with("push").len(), 4);
}

/// Tags in an order that puts moving ones first: the plan must not.
const TAGGED: &str =
    "image: registry.gitlab.com/team/app\ntags: [latest, feature, v1.2.0, abc123]\n";

#[test]
fn caches_and_immutable_tags_are_pushed_before_moving_tags() {
    let out = gitlab("feature")
        .spec(TAGGED)
        .args(&["build"])
        .success()
        .run();
    assert_eq!(
        out.steps_starting_with("push"),
        [
            format!("push {R}:cache-builder-feature"),
            format!("push {R}:cache-final-feature"),
            format!("push {R}:v1.2.0"),
            format!("push {R}:abc123"),
            format!("push {R}:latest"),
            format!("push {R}:feature"),
        ]
    );
}

#[test]
fn a_push_failing_part_way_never_moves_latest() {
    // The Nth push fails (N = 1..6): latest and the branch tag are pushed only when every
    // cache ref and immutable tag was.
    for n in 0..6 {
        let out = gitlab("feature")
            .spec(TAGGED)
            .env("FAKE_DOCKER_FAIL", "push *")
            .env("FAKE_DOCKER_FAIL_AFTER", &n.to_string())
            .args(&["build", "--retries", "1"])
            .status(1)
            .stderr_has(&format!("failed: push {R}:"))
            .run();
        let pushes = out.steps_starting_with("push");
        assert_eq!(pushes.len(), n + 1, "{pushes:?}");
        let moved = pushes[..n]
            .iter()
            .any(|p| p.ends_with(":latest") || p.ends_with(":feature"));
        assert_eq!(moved, n >= 5, "after {n} pushes: {pushes:?}");
    }
}

#[test]
fn the_exported_cache_build_pushes_immutable_tags_and_moving_tags_follow() {
    let t = gitlab("feature")
        .spec(TAGGED)
        .engine("28.5.2", "containerd", "docker");
    let out = t.clone().args(&["build"]).success().run();
    let lines = out.lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].contains(&format!("--tag {R}:v1.2.0 --tag {R}:abc123 --file")),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("--push") && !lines[0].contains(":latest"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1..],
        [
            format!("buildx imagetools create --tag {R}:latest {R}:v1.2.0"),
            format!("buildx imagetools create --tag {R}:feature {R}:v1.2.0"),
        ]
    );
    // A failed build (the cache export or the push in it) moves nothing.
    t.clone()
        .env("FAKE_DOCKER_FAIL", "buildx build *")
        .args(&["build"])
        .status(1)
        .step_count(1)
        .run();
    // Adding a moving tag is registry traffic: retried.
    t.clone()
        .env("FAKE_DOCKER_FAIL", "buildx imagetools *")
        .env("FAKE_DOCKER_FAIL_TIMES", "1")
        .args(&["build", "--retry-delay", "0"])
        .success()
        .step_count(4)
        .run();
    // The sh script has the same steps.
    let script = t.clone().args(&["plan", "--format", "sh"]).success().run();
    assert!(
        script.stdout.contains(&format!(
            "docker buildx imagetools create --tag {R}:latest {R}:v1.2.0"
        )),
        "{}",
        script.stdout
    );
    // Only moving tags, or no push: nothing to order, all tags in the build.
    let out = gitlab("feature")
        .spec("image: registry.gitlab.com/team/app\ntags: [latest]\n")
        .engine("28.5.2", "containerd", "docker")
        .args(&["build"])
        .success()
        .step_count(1)
        .run();
    assert!(out.lines()[0].contains(&format!("--tag {R}:latest")));
}

/// GitLab's login variables on top of `gitlab(branch)`.
fn gitlab_with_login(branch: &str) -> Test {
    gitlab(branch)
        .env("CI_REGISTRY", "registry.gitlab.com")
        .env("CI_REGISTRY_USER", "gitlab-ci-token")
        .env("CI_REGISTRY_PASSWORD", "glcbt-secret")
        .spec("image: registry.gitlab.com/team/app\n")
}

const LOGIN: &str = "login --username gitlab-ci-token --password-stdin registry.gitlab.com";
const LOGOUT: &str = "logout registry.gitlab.com";

#[test]
fn the_run_logs_out_of_the_registry_it_logged_in_to() {
    let out = gitlab_with_login("feature")
        .args(&["build"])
        .success()
        .run();
    let lines = out.lines();
    assert_eq!(lines.first().map(String::as_str), Some(LOGIN));
    assert_eq!(lines.last().map(String::as_str), Some(LOGOUT));
    assert_eq!(lines.iter().filter(|l| l.starts_with("logout")).count(), 1);
    // --keep-login keeps it.
    let out = gitlab_with_login("feature")
        .args(&["build", "--keep-login"])
        .success()
        .run();
    assert!(out.steps_starting_with("logout").is_empty());
}

#[test]
fn the_logout_runs_after_a_failure_and_its_own_failure_is_only_a_warning() {
    // A push fails: the run stops, and still logs out.
    let out = gitlab_with_login("feature")
        .env("FAKE_DOCKER_FAIL", "push *")
        .args(&["build", "--retries", "1"])
        .status(1)
        .run();
    let lines = out.lines();
    assert_eq!(lines.last().map(String::as_str), Some(LOGOUT), "{lines:?}");
    assert_eq!(out.steps_starting_with("push").len(), 1);
    // A failed login: nothing built, the logout still runs (harmless when not logged in).
    gitlab_with_login("feature")
        .env("FAKE_DOCKER_FAIL", "login *")
        .args(&["build"])
        .status(1)
        .steps(&[LOGIN, LOGOUT])
        .run();
    // A failed logout does not fail a good run.
    gitlab_with_login("feature")
        .env("FAKE_DOCKER_FAIL", "logout *")
        .args(&["build"])
        .success()
        .stderr_has("warning: logout registry.gitlab.com failed")
        .run();
}

#[test]
fn a_registry_the_user_was_logged_in_to_is_left_logged_in() {
    let t = gitlab_with_login("feature");
    std::fs::create_dir_all(t.path().join(".docker")).unwrap();
    std::fs::write(
        t.path().join(".docker/config.json"),
        r#"{"auths": {"registry.gitlab.com": {"auth": "dXNlcjpwYXNz"}}}"#,
    )
    .unwrap();
    let out = t.clone().args(&["build"]).success().run();
    assert_eq!(out.lines()[0], LOGIN);
    assert!(out.steps_starting_with("logout").is_empty());
    // Another registry in the config changes nothing.
    std::fs::write(
        t.path().join(".docker/config.json"),
        r#"{"auths": {"https://index.docker.io/v1/": {}}}"#,
    )
    .unwrap();
    let out = t.args(&["build"]).success().run();
    assert_eq!(out.steps_starting_with("logout"), [LOGOUT]);
}

#[test]
fn an_interrupted_run_logs_out_before_it_exits() {
    use std::time::{Duration, Instant};
    // Bound: the folder lives as long as the test.
    let test = gitlab_with_login("feature")
        .env("FAKE_DOCKER_SLEEP", "30")
        .args(&["build"]);
    let (mut child, record) = test.spawn();
    // Wait for the build to start (the fake docker marks it), then SIGTERM layercache.
    let until = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_dir(&record)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".started"))
        })
        .unwrap_or(false)
    {
        assert!(Instant::now() < until, "the build never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    let calls: Vec<String> = crate::support::read_calls(&record)
        .into_iter()
        .filter(|c| !c.is_probe())
        .map(|c| c.line())
        .collect();
    assert_eq!(calls.first().map(String::as_str), Some(LOGIN));
    assert_eq!(calls.last().map(String::as_str), Some(LOGOUT), "{calls:?}");
    assert!(calls.iter().all(|c| !c.starts_with("push")), "{calls:?}");
}

#[test]
fn the_sh_script_logs_out_on_exit_also_after_a_failure() {
    let t = gitlab_with_login("feature");
    let script = t
        .clone()
        .args(&["plan", "--format", "sh"])
        .success()
        .stdout_has("trap lc_logout EXIT")
        .stdout_has("docker logout registry.gitlab.com || true")
        .run()
        .stdout;
    let built = t.clone().args(&["build"]).success().run();
    let by_sh = t.clone().success().run_sh(&script);
    assert_eq!(by_sh.lines(), built.lines());
    let failed = t
        .env("FAKE_DOCKER_FAIL", "push *")
        .status(1)
        .run_sh(&script);
    assert_eq!(failed.lines().last().map(String::as_str), Some(LOGOUT));
}

#[test]
fn a_run_stopped_part_way_lists_what_it_pushed_and_what_not() {
    gitlab("feature")
        .spec(TAGGED)
        .env("FAKE_DOCKER_FAIL", "push *")
        .env("FAKE_DOCKER_FAIL_AFTER", "2")
        .args(&["build", "--retries", "1"])
        .status(1)
        .stderr_has(&format!(
            "pushed: {R}:cache-builder-feature, {R}:cache-final-feature\n\
             not pushed: {R}:v1.2.0, {R}:abc123, {R}:latest, {R}:feature\n"
        ))
        .stderr_has("hint: check that the registry registry.gitlab.com is reachable")
        .run();
    // The exported-cache build failing: nothing, its cache included.
    gitlab("feature")
        .spec(TAGGED)
        .engine("28.5.2", "containerd", "docker")
        .env("FAKE_DOCKER_FAIL", "buildx build *")
        .args(&["build"])
        .status(1)
        .stderr_has(&format!(
            "pushed: nothing\nnot pushed: {R}:buildcache-feature, {R}:v1.2.0, {R}:abc123, \
             {R}:latest, {R}:feature\n"
        ))
        .run();
    // A run that pushed everything says nothing of the kind.
    gitlab("feature")
        .spec(TAGGED)
        .args(&["build"])
        .success()
        .stderr_lacks("not pushed:")
        .run();
}

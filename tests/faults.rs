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

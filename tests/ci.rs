//! Under GitLab CI, GitHub Actions and CircleCI (their variables recorded here): branch-aware
//! caches, the registry login through stdin, and no secret in any argv or output.

use crate::support::{Output, Test};

const MULTI: &str = "FROM busybox:1.36 AS builder\nRUN echo deps\nCOPY . /src\nFROM busybox:1.36 AS final\nCOPY --from=builder /src /app\n";
const PASSWORD: &str = "glcbt-Pa55word-xyz";

fn gitlab(test: Test) -> Test {
    test.env("GITLAB_CI", "true")
        .env("CI_COMMIT_SHA", "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c")
        .env("CI_COMMIT_REF_NAME", "feature/Login-Page")
        .env("CI_COMMIT_REF_SLUG", "feature-login-page")
        .env("CI_DEFAULT_BRANCH", "main")
        .env("CI_REGISTRY", "registry.gitlab.com")
        .env("CI_REGISTRY_IMAGE", "registry.gitlab.com/team/app")
        .env("CI_REGISTRY_USER", "gitlab-ci-token")
        .env("CI_REGISTRY_PASSWORD", PASSWORD)
}

fn multi() -> Test {
    Test::new()
        .dockerfile(MULTI)
        .spec("image: registry.gitlab.com/team/app\ntags: [v1]\n")
        .buildkit_client()
}

/// Everything but the login's stdin, where the password belongs, and GitHub's `::add-mask::`
/// lines, the runner's command to hide the value (the runner does not print them).
fn all_but_stdin(out: &Output) -> String {
    let argv: Vec<String> = out.all_calls.iter().map(|c| c.argv.join(" ")).collect();
    let stdout: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    format!("{}\n{}\n{}", stdout.join("\n"), out.stderr, argv.join("\n"))
}

/// Asserts that the first step is the login `login`, given `secret` on its stdin and nowhere else.
#[track_caller]
fn assert_logs_in_first(out: &Output, login: &str, secret: &str) {
    let first = &out.calls()[0];
    assert_eq!(first.line(), login);
    assert_eq!(first.stdin.as_deref(), Some(secret));
    let shown = all_but_stdin(out);
    assert!(!shown.contains(secret), "{shown}");
}

#[test]
fn gitlab_logs_in_through_stdin_first() {
    let out = gitlab(multi()).args(&["build"]).success().run();
    assert_logs_in_first(
        &out,
        "login --username gitlab-ci-token --password-stdin registry.gitlab.com",
        PASSWORD,
    );
}

#[test]
fn branch_caches_are_read_in_order_and_only_the_branch_is_written() {
    let out = gitlab(multi()).args(&["build"]).success().run();
    let build = &out.lines()[1];
    let r = "registry.gitlab.com/team/app";
    assert!(
        build.contains(&format!(
            "--cache-from {r}:cache-builder-feature-login-page-1ab88ae7 --cache-from {r}:cache-builder-main \
             --cache-from {r}:cache-builder "
        )),
        "{build}"
    );
    let pushes = out.steps_starting_with("push");
    assert_eq!(
        pushes,
        [
            format!("push {r}:cache-builder-feature-login-page-1ab88ae7"),
            format!("push {r}:cache-final-feature-login-page-1ab88ae7"),
            format!("push {r}:v1"),
        ]
    );
}

#[test]
fn the_default_branch_reads_its_own_cache_once() {
    let out = gitlab(multi())
        .env("CI_COMMIT_REF_NAME", "main")
        .env("CI_COMMIT_REF_SLUG", "main")
        .args(&["build"])
        .run();
    let build = &out.lines()[1];
    assert_eq!(
        build.matches("cache-builder-main").count(),
        2,
        "read and tagged once each: {build}"
    );
}

#[test]
fn the_sh_script_reads_the_password_from_its_variable() {
    let test = gitlab(multi());
    let script = test
        .clone()
        .args(&["plan", "--format", "sh"])
        .success()
        .stdout_has(
            "printf '%s' \"$CI_REGISTRY_PASSWORD\" | docker login --username gitlab-ci-token --password-stdin registry.gitlab.com",
        )
        .stdout_lacks(PASSWORD)
        .run();
    test.clone()
        .args(&["plan", "--format", "json"])
        .stdout_has("\"env\": \"CI_REGISTRY_PASSWORD\"")
        .stdout_lacks(PASSWORD)
        .run();
    let built = test.clone().args(&["build"]).run();
    let by_sh = test.success().run_sh(&script.stdout);
    assert_eq!(by_sh.calls(), built.calls());
}

#[test]
fn a_failed_login_stops_everything() {
    let out = gitlab(multi())
        .fail_on("login *")
        .args(&["build"])
        .status(1)
        .steps(&[
            "login --username gitlab-ci-token --password-stdin registry.gitlab.com",
            "logout registry.gitlab.com",
        ])
        .stderr_has("step 1/9 failed: login registry.gitlab.com")
        .run();
    assert!(!all_but_stdin(&out).contains(PASSWORD));
}

#[test]
fn github_logs_in_to_ghcr_with_the_token() {
    let out = multi()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SHA", "abc123")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_REF_TYPE", "branch")
        .env("GITHUB_REPOSITORY", "Octo/App")
        .env("GITHUB_ACTOR", "octocat")
        .env("GITHUB_TOKEN", "ghs_T0kenValue")
        .args(&["build"])
        .success()
        .run();
    assert_logs_in_first(
        &out,
        "login --username octocat --password-stdin ghcr.io",
        "ghs_T0kenValue",
    );
}

#[test]
fn explicit_registry_credentials_need_both_flags() {
    let out = multi()
        .env("MY_PW", "my-registry-pw")
        .args(&[
            "build",
            "--registry-user",
            "bot",
            "--registry-password-var",
            "MY_PW",
        ])
        .success()
        .run();
    assert_logs_in_first(
        &out,
        "login --username bot --password-stdin registry.gitlab.com",
        "my-registry-pw",
    );
    multi()
        .args(&["build", "--registry-user", "bot"])
        .status(2)
        .run();
    multi()
        .args(&[
            "build",
            "--registry-user",
            "bot",
            "--registry-password-var",
            "NOPE_UNSET",
        ])
        .status(2)
        .stderr_has("NOPE_UNSET")
        .no_steps()
        .run();
}

#[test]
fn gitlab_steps_are_collapsible_sections() {
    let out = gitlab(multi())
        .args(&["build"])
        .success()
        .stderr_has(":layercache_step_2[collapsed=true]\r\x1b[0K[2/9] build builder")
        .run();
    let starts = out.stderr.matches("section_start:").count();
    let ends = out.stderr.matches("section_end:").count();
    assert_eq!((starts, ends), (9, 9), "{}", out.stderr);
}

#[test]
fn github_steps_are_groups_and_secrets_are_masked_by_the_runner_too() {
    let test = multi()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_REF_TYPE", "branch")
        .env("GITHUB_ACTOR", "octocat")
        .env("GITHUB_TOKEN", "ghs_T0kenValue");
    let summary = test.path().join("summary.md");
    let out = test
        .clone()
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .args(&["build"])
        .success()
        .stderr_has("::group::[1/9] login ghcr.io")
        // The one place the value may appear: the runner's command to mask it, which it does
        // not print.
        .stdout_has("::add-mask::ghs_T0kenValue")
        .run();
    assert_eq!(
        out.stderr.matches("::group::").count(),
        out.stderr.matches("::endgroup::").count()
    );
    assert!(!all_but_stdin(&out).contains("ghs_T0kenValue"));
    let md = std::fs::read_to_string(summary).unwrap();
    assert!(md.contains("| step | result | seconds |"), "{md}");
    assert!(md.contains("| build builder | ok |"), "{md}");
    assert!(md.contains("### layercache cache report"), "{md}");
}

#[test]
fn a_local_run_has_plain_headers() {
    let out = multi()
        .args(&["build"])
        .stderr_lacks("::group::")
        .stderr_lacks("section_start")
        .run();
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("[1/7] build builder")),
        "{}",
        out.stderr
    );
}

#[test]
fn under_ci_the_image_and_tags_default_to_the_cis() {
    let r = "registry.gitlab.com/team/app";
    let out = gitlab(
        Test::new()
            .dockerfile(MULTI)
            .spec("dockerfile: Dockerfile\n")
            .buildkit_client(),
    )
    .args(&["build"])
    .success()
    .run();
    let pushes = out.steps_starting_with("push");
    assert!(
        pushes.contains(&format!(
            "push {r}:1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c"
        )),
        "{pushes:?}"
    );
    assert!(
        pushes.contains(&format!("push {r}:feature-login-page-1ab88ae7")),
        "{pushes:?}"
    );
    // And without any spec at all, in a folder with a Dockerfile.
    gitlab(Test::new().dockerfile(MULTI).buildkit_client())
        .args(&["plan"])
        .success()
        .stdout_has(&format!("--tag {r}:feature-login-page-1ab88ae7"))
        .run();
    // A local run without an image says what to do.
    Test::new()
        .dockerfile(MULTI)
        .spec("dockerfile: Dockerfile\n")
        .args(&["plan"])
        .status(2)
        .stderr_has("no `image:`")
        .run();
}

#[test]
fn the_spec_can_name_the_registry_user_and_password_variable() {
    let spec = "image: registry.example.com/team/app\nregistry_user: deployer\nregistry_password_var: DEPLOY_PW\n";
    let out = Test::new()
        .dockerfile(MULTI)
        .spec(spec)
        .buildkit_client()
        .env("DEPLOY_PW", "dep-l0y-secret")
        .args(&["build"])
        .success()
        .run();
    assert_logs_in_first(
        &out,
        "login --username deployer --password-stdin registry.example.com",
        "dep-l0y-secret",
    );
    Test::new()
        .dockerfile(MULTI)
        .spec(spec)
        .args(&["build"])
        .status(2)
        .stderr_has("DEPLOY_PW")
        .run();
    Test::new()
        .dockerfile(MULTI)
        .spec("image: a/b\nregistry_user: x\n")
        .args(&["plan"])
        .status(2)
        .stderr_has("layercache.yml:2:1")
        .run();
}

#[test]
fn github_and_circleci_defaults_give_tags_and_the_cache_chain() {
    let r = "ghcr.io/octo/app";
    Test::new()
        .dockerfile(MULTI)
        .buildkit_client()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SHA", "abc123")
        .env("GITHUB_REF_NAME", "7/merge")
        .env("GITHUB_REF_TYPE", "branch")
        .env("GITHUB_HEAD_REF", "fix/Thing")
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_REPOSITORY", "Octo/App")
        .args(&["plan"])
        .success()
        .stdout_has(&format!("--tag {r}:abc123 --tag {r}:fix-thing-96254658"))
        .stdout_has(&format!("--cache-from {r}:cache-builder-fix-thing-96254658 --cache-from {r}:cache-builder-main --cache-from {r}:cache-builder "))
        .run();
    Test::new()
        .dockerfile(MULTI)
        .buildkit_client()
        .env("CIRCLECI", "true")
        .env("CIRCLE_SHA1", "def456")
        .env("CIRCLE_TAG", "v2.0.1")
        .env("CIRCLE_PROJECT_USERNAME", "Acme")
        .env("CIRCLE_PROJECT_REPONAME", "Web")
        .args(&["plan"])
        .success()
        .stdout_has("--tag acme/web:def456 --tag acme/web:v2.0.1")
        // A tag build has no branch: the plain cache is read and written.
        .stdout_has("docker push acme/web:cache-builder\n")
        .run();
}

//! Secrets never reach argv, logs, errors or plans: a full run against a fake docker that
//! echoes its argv and the secret variables it can see, with every byte of output scanned.

use crate::support::Test;

const NPM: &str = "npm_S3cr3tValue";
const REGISTRY: &str = "registry-pa55word";

fn test() -> Test {
    Test::new()
        .dockerfile("FROM busybox:1.36 AS deps\nARG NPM_TOKEN\nRUN true\nFROM busybox:1.36\nCOPY --from=deps /x /x\n")
        .spec("image: localhost:5000/app\nsecrets: [NPM_TOKEN]\nbuild_args:\n  NPM_TOKEN: ${NPM_TOKEN}\n  PLAIN: visible\n")
        .buildkit_client()
        .env("NPM_TOKEN", NPM)
        .env("CI_REGISTRY_PASSWORD", REGISTRY)
        .env("FAKE_DOCKER_ECHO", "1")
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(NPM), "{what} leaks NPM_TOKEN:\n{text}");
    assert!(
        !text.contains(REGISTRY),
        "{what} leaks CI_REGISTRY_PASSWORD:\n{text}"
    );
}

#[test]
fn a_full_run_shows_no_secret_anywhere() {
    let out = test()
        .args(&["build", "-v"])
        .success()
        // docker's own output is masked.
        .stderr_has("docker saw NPM_TOKEN=***")
        .stderr_has("docker saw CI_REGISTRY_PASSWORD=***")
        .run();
    assert_clean("build", &out.everything());
    // The build arg travels by name; docker itself still gets the value from the environment.
    assert!(
        out.lines()[0].contains("--build-arg NPM_TOKEN --build-arg PLAIN=visible"),
        "{}",
        out.lines()[0]
    );
}

#[test]
fn plans_and_dry_runs_show_no_secret() {
    for args in [
        &["plan", "--format", "sh"][..],
        &["plan", "--format", "json"],
        &["build", "--dry-run"],
    ] {
        let out = test().args(args).success().stdout_has("NPM_TOKEN").run();
        assert_clean(&format!("{args:?}"), &out.everything());
    }
}

#[test]
fn errors_show_no_secret() {
    let out = test()
        .fail_on("build *")
        .env(
            "FAKE_DOCKER_FAIL_MESSAGE",
            &format!("ERROR: failed to authenticate with {REGISTRY} and {NPM}"),
        )
        .args(&["build"])
        .status(1)
        .stderr_has("error: step 1/")
        .stderr_has("failed to authenticate with *** and ***")
        .run();
    assert_clean("failed build", &out.everything());
}

#[test]
fn a_secret_in_the_wrong_place_is_refused_without_showing_it() {
    let out = Test::new()
        .dockerfile("FROM busybox:1.36\n")
        .spec("image: localhost:5000/app\ntags: ['${CI_REGISTRY_PASSWORD}']\n")
        .env("CI_REGISTRY_PASSWORD", REGISTRY)
        .args(&["build"])
        .status(2)
        .stderr_has("`CI_REGISTRY_PASSWORD` is a secret")
        .no_steps()
        .run();
    assert_clean("refusal", &out.everything());
}

#[test]
fn a_build_arg_flag_without_value_passes_by_name() {
    let out = test()
        .args(&["build", "--build-arg", "CI_JOB_TOKEN"])
        .env("CI_JOB_TOKEN", "job-t0ken-value")
        .success()
        .run();
    assert!(
        out.lines()[0].contains("--build-arg CI_JOB_TOKEN"),
        "{}",
        out.lines()[0]
    );
    assert!(!out.everything().contains("job-t0ken-value"));
}

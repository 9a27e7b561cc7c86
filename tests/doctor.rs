//! `layercache doctor` against a fake docker: each situation gives the checks and exit status
//! a user needs.

use crate::support::Test;

#[test]
fn a_client_without_buildx_warns_with_the_fix() {
    let out = Test::new().args(&["doctor"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("ok    docker daemon"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("server 20.10.24, storage driver overlay2"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("warn  builder"), "{}", out.stdout);
    assert!(
        out.stdout.contains("fix: install the docker-buildx plugin"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_buildkit_client_passes_and_mentions_the_reexport() {
    let out = Test::new()
        .buildkit_client()
        .args(&["doctor", "--format", "json"])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let checks: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let builder = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "builder")
        .unwrap();
    assert_eq!(builder["level"], "ok");
    assert!(builder["message"]
        .as_str()
        .unwrap()
        .contains("re-exports each stage"));
    assert!(
        checks
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["level"] == "ok"),
        "{checks:#}"
    );
}

#[test]
fn no_daemon_or_no_docker_fails_with_exit_3() {
    let down = Test::new()
        .env("FAKE_DOCKER_DAEMON_DOWN", "1")
        .args(&["doctor"])
        .run();
    assert_eq!(down.code, 3, "{}", down.stdout);
    assert!(
        down.stdout.contains("FAIL  docker daemon"),
        "{}",
        down.stdout
    );
    assert!(
        down.stdout.contains("Cannot connect to the Docker daemon"),
        "{}",
        down.stdout
    );
    let missing = Test::new()
        .env("LAYERCACHE_DOCKER", "/nonexistent/docker")
        .args(&["doctor"])
        .run();
    assert_eq!(missing.code, 3);
    assert!(
        missing.stdout.contains("FAIL  docker client"),
        "{}",
        missing.stdout
    );
}

#[test]
fn the_specs_registries_are_checked() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap().port();
    drop(listener);
    let out = Test::new()
        .dockerfile("FROM busybox:1.36\n")
        .spec(&format!("image: 127.0.0.1:{closed}/app\n"))
        .args(&["doctor"])
        .run();
    assert_eq!(
        out.code, 0,
        "an unreachable registry is a warning: {}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("warn  registry 127.0.0.1:{closed}")),
        "{}",
        out.stdout
    );
    let bad = Test::new()
        .dockerfile("FROM busybox:1.36\n")
        .spec("image: app\ntgas: [x]\n")
        .args(&["doctor"])
        .run();
    assert_eq!(bad.code, 3);
    assert!(bad.stdout.contains("FAIL  spec"), "{}", bad.stdout);
}

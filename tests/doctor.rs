//! `layercache doctor` against a fake docker: each situation gives the checks and exit status
//! a user needs.

use crate::support::Test;

#[test]
fn a_client_without_buildx_warns_with_the_fix() {
    Test::new()
        .args(&["doctor"])
        .success()
        .stdout_has("ok    docker daemon")
        .stdout_has("server 20.10.24, storage driver overlay2")
        .stdout_has("warn  builder")
        .stdout_has("fix: install the docker-buildx plugin")
        .run();
}

#[test]
fn a_buildkit_client_passes_and_mentions_the_reexport() {
    let out = Test::new()
        .buildkit_client()
        .args(&["doctor", "--format", "json"])
        .success()
        .run();
    let checks = out.json();
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
    Test::new()
        .env("FAKE_DOCKER_DAEMON_DOWN", "1")
        .args(&["doctor"])
        .status(3)
        .stdout_has("FAIL  docker daemon")
        .stdout_has("Cannot connect to the Docker daemon")
        .run();
    Test::new()
        .env("LAYERCACHE_DOCKER", "/nonexistent/docker")
        .args(&["doctor"])
        .status(3)
        .stdout_has("FAIL  docker client")
        .run();
}

#[test]
fn the_specs_registries_are_checked() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap().port();
    drop(listener);
    // An unreachable registry is a warning.
    Test::new()
        .dockerfile("FROM busybox:1.36\n")
        .spec(&format!("image: 127.0.0.1:{closed}/app\n"))
        .args(&["doctor"])
        .success()
        .stdout_has(&format!("warn  registry 127.0.0.1:{closed}"))
        .run();
    Test::new()
        .dockerfile("FROM busybox:1.36\n")
        .spec("image: app\ntgas: [x]\n")
        .args(&["doctor"])
        .status(3)
        .stdout_has("FAIL  spec")
        .run();
}

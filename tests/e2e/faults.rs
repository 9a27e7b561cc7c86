//! Under faults, on the real engine (issue 16): credentials do not outlive the run. Read from
//! the docker client's own config file before and after, as a shared runner's next job would
//! find it. Kept to one small single-stage build per case.

use super::SINGLE_STAGE;
use crate::support::engine::{start, Run};
use std::path::PathBuf;

/// The docker config file the client uses in this environment.
fn config_file() -> PathBuf {
    std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".docker"))
        .join("config.json")
}

/// The registries the docker config holds a login for, sorted.
fn auths() -> Vec<String> {
    let text = std::fs::read_to_string(config_file()).unwrap_or_default();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut keys: Vec<String> = config["auths"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[test]
fn the_login_layercache_made_is_gone_after_the_run_and_a_users_own_stays() {
    let Some(s) = start("logout") else { return };
    let bk = s.engine.buildkit_docker.clone();
    let registry = s.engine.registry.clone();
    let repo = s.repo("app");
    let p = s.project(SINGLE_STAGE);
    p.file("app.sh", "echo hello\n")
        .file("layercache.yml", &format!("image: {repo}\ntags: [v1]\n"));
    let build = |extra: &str| -> Run {
        p.sh(
            "layercache build with a login",
            &format!(
                "E2E_REGISTRY_PASSWORD=e2e-secret {} build --docker {bk} --registry-user e2e \
                 --registry-password-var E2E_REGISTRY_PASSWORD {extra}",
                env!("CARGO_BIN_EXE_layercache")
            ),
        )
    };
    let before = auths();
    assert!(!before.contains(&registry), "{before:?}");

    let run = build("").ok();
    run.says(&format!("logout {registry}"));
    assert_eq!(
        auths(),
        before,
        "layercache's login is gone\n{}",
        run.dump()
    );

    // --keep-login keeps it.
    build("--keep-login").ok();
    assert!(auths().contains(&registry), "{:?}", auths());
    p.sh("logout", &format!("{bk} logout {registry}")).ok();
    assert_eq!(auths(), before);

    // A login the user made before the run is theirs: left as it was.
    p.sh(
        "the user's login",
        &format!("echo user-secret | {bk} login --username user --password-stdin {registry}"),
    )
    .ok();
    let mine = auths();
    assert!(mine.contains(&registry), "{mine:?}");
    let run = build("").ok();
    assert!(
        !run.output().contains(&format!("logout {registry}")),
        "{}",
        run.dump()
    );
    assert_eq!(auths(), mine);
    p.sh("logout", &format!("{bk} logout {registry}")).ok();
}

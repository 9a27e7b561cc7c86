//! The cache strategy each engine gets (issue 11), against a fake docker that answers the probe
//! as each engine kind does: the steps of each strategy, `plan --format sh` making the same calls
//! as `build`, and the refusals. The same table runs for real in e2e.rs on every engine set-up.

use crate::support::Test;

const MULTI: &str = "FROM busybox:1.36 AS deps\nRUN echo deps\nFROM deps AS builder\nCOPY . /src\n\
                     FROM busybox:1.36 AS final\nCOPY --from=builder /src /app\n";
const SPEC: &str = "image: localhost:5000/team/app\ntags: [v1]\n";

fn multi() -> Test {
    Test::new().dockerfile(MULTI).spec(SPEC)
}

/// The strategy (and re-export) `plan` picks for the first image.
fn planned(test: Test) -> (String, bool) {
    planned_with(test, &[])
}

fn planned_with(test: Test, flags: &[&str]) -> (String, bool) {
    let mut args = vec!["plan", "--format", "json"];
    args.extend(flags);
    let plan = test.args(&args).success().run().json();
    let image = &plan["images"][0];
    (
        image["strategy"].as_str().unwrap().to_string(),
        image["reexport"].as_bool().unwrap(),
    )
}

#[test]
fn each_engine_kind_gets_the_strategy_of_the_table() {
    let cases = [
        // (server, store, driver, strategy, re-export)
        ("20.10.24", "classic", "docker", "inline", true),
        ("26.1.5", "classic", "docker", "inline", true),
        ("26.1.5", "containerd", "docker", "registry", false),
        ("27.5.1", "classic", "docker", "inline", false),
        ("28.5.2", "classic", "docker", "inline", false),
        ("28.5.2", "containerd", "docker", "registry", false),
        ("29.1.0", "containerd", "docker", "registry", false),
        ("26.1.5", "classic", "docker-container", "registry", false),
        ("28.5.2", "classic", "kubernetes", "registry", false),
        ("28.5.2", "classic", "remote", "registry", false),
    ];
    for (server, store, driver, strategy, reexport) in cases {
        assert_eq!(
            planned(multi().engine(server, store, driver)),
            (strategy.to_string(), reexport),
            "{server} {store} {driver}"
        );
    }
    // Clients without buildx: 20.10 builds with the daemon's BuildKit, 28.2 only legacy.
    assert_eq!(
        planned(multi().buildkit_client()),
        ("inline".to_string(), true)
    );
    assert_eq!(planned(multi()), ("legacy".to_string(), false));
}

#[test]
fn the_registry_strategy_is_one_buildx_build_that_pushes() {
    let test = multi().engine("28.5.2", "containerd", "docker");
    let built = test
        .clone()
        .args(&["build"])
        .success()
        .steps(&[
            "buildx build --progress=plain --cache-from type=registry,ref=localhost:5000/team/app:buildcache \
             --cache-to type=registry,ref=localhost:5000/team/app:buildcache,mode=max \
             --tag localhost:5000/team/app:v1 --file Dockerfile --push .",
        ])
        .stderr_has("[1/1] build and push final")
        .run();
    let script = test
        .clone()
        .args(&["plan", "--format", "sh"])
        .success()
        .stdout_has("# Strategy registry: registry cache, mode=max")
        .run();
    let by_sh = test.success().run_sh(&script.stdout);
    assert_eq!(by_sh.calls(), built.calls());
}

#[test]
fn registry_refs_follow_the_branch_chain_in_ci() {
    multi()
        .engine("28.5.2", "containerd", "docker")
        .env("GITLAB_CI", "true")
        .env("CI_COMMIT_SHA", "0123456789abcdef")
        .env("CI_COMMIT_REF_SLUG", "feature-x")
        .env("CI_DEFAULT_BRANCH", "main")
        .args(&["build", "--target", "builder"])
        .success()
        .steps(&["buildx build --progress=plain --target builder \
             --cache-from type=registry,ref=localhost:5000/team/app:buildcache-feature-x \
             --cache-from type=registry,ref=localhost:5000/team/app:buildcache-main \
             --cache-from type=registry,ref=localhost:5000/team/app:buildcache \
             --cache-to type=registry,ref=localhost:5000/team/app:buildcache-feature-x,mode=max \
             --tag localhost:5000/team/app:v1 --file Dockerfile --push ."])
        .run();
}

#[test]
fn without_push_the_image_is_loaded_and_no_cache_is_written() {
    multi()
        .engine("28.5.2", "containerd", "docker-container")
        .args(&["build", "--no-push"])
        .success()
        .steps(&[
            "buildx build --progress=plain --cache-from type=registry,ref=localhost:5000/team/app:buildcache \
             --tag localhost:5000/team/app:v1 --file Dockerfile --load .",
        ])
        .run();
}

#[test]
fn a_failed_registry_build_publishes_nothing_and_the_script_stops_too() {
    let test = multi()
        .engine("28.5.2", "containerd", "docker")
        .file(
            "two.yml",
            "images:\n  - image: localhost:5000/a\n  - image: localhost:5000/b\n",
        )
        .fail_on("buildx build*localhost:5000/a:*");
    let built = test
        .clone()
        .args(&["build", "-f", "two.yml", "--jobs", "1"])
        .status(1)
        .step_count(1)
        .run();
    let script = test
        .clone()
        .args(&["plan", "-f", "two.yml", "--format", "sh", "--jobs", "1"])
        .run();
    let by_sh = test.run_sh(&script.stdout);
    assert_ne!(by_sh.code, 0);
    assert_eq!(by_sh.calls(), built.calls());
}

#[test]
fn cache_export_options_from_the_spec_reach_cache_to() {
    multi()
        .engine("28.5.2", "containerd", "docker")
        .spec(
            "image: localhost:5000/team/app\ntags: [v1]\n\
             cache_export: [image-manifest=true, oci-mediatypes=true, compression=zstd, ignore-error=true]\n",
        )
        .args(&["plan", "--format", "sh"])
        .success()
        .stdout_has(
            "--cache-to type=registry,ref=localhost:5000/team/app:buildcache,mode=max,\
             image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=true ",
        )
        .run();
    multi()
        .spec("image: app\ncache_export: [compresion=zstd]\n")
        .args(&["plan"])
        .status(2)
        .no_docker()
        .stderr_has("layercache.yml:2:16: `compresion` is not a cache export option")
        .stderr_has("did you mean `compression`?")
        .run();
    multi()
        .spec("image: app\ncache_export: [compression=brotli]\n")
        .args(&["plan"])
        .status(2)
        .stderr_has("use gzip, zstd, estargz, uncompressed")
        .run();
}

#[test]
fn the_local_strategy_writes_beside_the_folder_and_moves_it_over() {
    let test = multi().engine("28.5.2", "containerd", "docker");
    let built = test
        .clone()
        .args(&["build", "--strategy", "local", "--cache-dir", "ci-cache"])
        .success()
        .steps(&[
            "buildx build --progress=plain --cache-from type=local,src=ci-cache \
             --cache-to type=local,dest=ci-cache.new,mode=max \
             --tag localhost:5000/team/app:v1 --file Dockerfile --push .",
        ])
        .stderr_has("save cache ci-cache")
        .run();
    assert!(test.path().join("ci-cache/index.json").is_file());
    assert!(!test.path().join("ci-cache.new").exists());
    let script = test
        .clone()
        .args(&[
            "plan",
            "--strategy",
            "local",
            "--cache-dir",
            "ci-cache",
            "--format",
            "sh",
        ])
        .success()
        .run();
    std::fs::remove_dir_all(test.path().join("ci-cache")).unwrap();
    let by_sh = test.clone().success().run_sh(&script.stdout);
    assert_eq!(by_sh.calls(), built.calls());
    assert!(test.path().join("ci-cache/index.json").is_file());
}

#[test]
fn the_gha_strategy_is_planned_with_scopes() {
    multi()
        .engine("28.5.2", "containerd", "docker")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REF_NAME", "main")
        .args(&["plan", "--strategy", "gha", "--format", "sh"])
        .success()
        .stdout_has(
            "--cache-from type=gha,scope=localhost:5000/team/app:buildcache-main \
             --cache-from type=gha,scope=localhost:5000/team/app:buildcache \
             --cache-to type=gha,scope=localhost:5000/team/app:buildcache-main,mode=max",
        )
        .run();
}

#[test]
fn a_strategy_the_engine_cannot_run_is_refused_before_any_build() {
    multi()
        .engine("28.5.2", "classic", "docker")
        .args(&["build", "--strategy", "registry"])
        .status(2)
        .no_steps()
        .stderr_has("refuses cache export")
        .stderr_has("hint: use the containerd image store")
        .run();
    // Inline builds with `docker build`, which BUILDX_BUILDER sends to a builder whose images
    // never reach the daemon: refused rather than a push that fails.
    multi()
        .engine("28.5.2", "classic", "docker-container")
        .env("BUILDX_BUILDER", "ci")
        .args(&["build", "--strategy", "inline"])
        .status(2)
        .no_steps()
        .stderr_has("BUILDX_BUILDER")
        .run();
    multi()
        .args(&["build", "--strategy", "registry"])
        .status(2)
        .no_steps()
        .stderr_has("needs BuildKit")
        .run();
}

#[test]
fn the_strategy_can_be_named_in_the_spec_and_the_flag_wins() {
    let test = multi()
        .engine("28.5.2", "containerd", "docker")
        .spec("image: localhost:5000/team/app\nstrategy: inline\n");
    assert_eq!(planned(test.clone()), ("inline".to_string(), false));
    assert_eq!(
        planned_with(test.clone(), &["--strategy", "registry"]),
        ("registry".to_string(), false)
    );
    Test::new()
        .dockerfile(MULTI)
        .spec("image: app\nstrategy: fastest\n")
        .args(&["plan"])
        .status(2)
        .no_docker()
        .stderr_has("layercache.yml:2:11: `fastest` is not a cache strategy")
        .run();
}

#[test]
fn doctor_names_the_engine_and_its_strategy() {
    multi()
        .engine("28.5.2", "containerd", "docker")
        .args(&["doctor"])
        .success()
        .stdout_has("containerd image store")
        .stdout_has("builder `default`, driver docker")
        .stdout_has("strategy registry")
        .run();
    multi()
        .engine("26.1.5", "classic", "docker")
        .args(&["doctor"])
        .success()
        .stdout_has("strategy inline")
        .stdout_has("re-exports each stage")
        .run();
}

/// The probes a run made, as `docker ARGS` lines.
fn probes(test: Test) -> Vec<String> {
    let out = test.args(&["plan", "--format", "json"]).success().run();
    out.all_calls
        .iter()
        .filter(|c| c.is_probe())
        .map(|c| c.line())
        .collect()
}

/// A daemon on a unix socket in `dir` that answers one `GET /info` as a 28.5 engine with the
/// containerd store would, and reports whether it was asked.
fn fake_daemon(dir: &std::path::Path) -> (String, std::thread::JoinHandle<bool>) {
    use std::io::{Read, Write};
    let socket = dir.join("daemon.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let served = std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return false;
        };
        let mut request = [0u8; 512];
        let n = conn.read(&mut request).unwrap_or(0);
        let body = r#"{"ServerVersion":"28.5.2","DriverStatus":[["driver-type","io.containerd.snapshotter.v1"]]}"#;
        let _ = write!(conn, "HTTP/1.0 200 OK\r\n\r\n{body}");
        String::from_utf8_lossy(&request[..n]).starts_with("GET /info ")
    });
    (format!("unix://{}", socket.display()), served)
}

/// Issue 11: the probe answers from the client's files and the daemon's socket, and starts
/// docker only for what they leave open (each docker process cost 20-410 ms on the engines).
#[test]
fn the_probe_starts_docker_only_for_what_files_and_socket_leave_open() {
    // buildx found in the config's cli-plugins, its builder in buildx's files, the daemon on
    // its socket: no docker process at all, and the socket's answer decides the strategy.
    let test =
        Test::new()
            .dockerfile(MULTI)
            .spec(SPEC)
            .engine("20.10.24", "classic", "docker-container");
    let (host, served) = fake_daemon(test.path());
    let test = test.env("DOCKER_HOST", &host);
    assert_eq!(probes(test), Vec::<String>::new());
    assert!(served.join().unwrap(), "the daemon was not asked GET /info");
    let test = Test::new()
        .dockerfile(MULTI)
        .spec(SPEC)
        .engine("20.10.24", "classic", "docker");
    let (host, served) = fake_daemon(test.path());
    assert_eq!(
        planned(test.env("DOCKER_HOST", &host)).0,
        "registry",
        "the socket said containerd"
    );
    assert!(served.join().unwrap());
    // No daemon socket (these tests' default): `docker info` answers.
    assert_eq!(
        probes(multi().engine("28.5.2", "containerd", "docker")),
        ["info --format {{.ServerVersion}}|{{json .DriverStatus}}"]
    );
    // Another docker context: only docker knows its endpoint, so buildx and the daemon are
    // asked through it.
    let ctx = probes(
        multi()
            .engine("28.5.2", "containerd", "docker")
            .env("DOCKER_HOST", "")
            .env("DOCKER_CONTEXT", "remote"),
    );
    assert!(ctx.iter().any(|p| p == "buildx inspect"), "{ctx:?}");
    assert!(ctx.iter().any(|p| p.starts_with("info ")), "{ctx:?}");
    // No buildx plugin: the client's version decides the builder, so it is asked.
    let old = probes(multi().buildkit_client());
    assert!(old.iter().any(|p| p == "--version"), "{old:?}");
    assert!(!old.iter().any(|p| p.starts_with("buildx")), "{old:?}");
}

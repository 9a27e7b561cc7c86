//! Under faults, on the real engine (issue 16). Credentials do not outlive the run: read from
//! the docker client's own config file before and after, as a shared runner's next job would
//! find it. A misbehaving registry: `support::fault_proxy` between docker and the registry
//! (`127.0.0.1:<proxy port>/...`, a plain-HTTP registry to every engine), answering errors,
//! failing cache reads, failing the Nth tag written, or going down at push time; what the
//! registry holds afterwards is read from the registry itself, past the proxy. Kept to one small
//! single-stage build per case.

use super::{planned_tags, SINGLE_STAGE};
use crate::support::engine::{registry_tags, start, work_steps, Project, Run, Session};
use crate::support::fault_proxy::{Fault, FaultProxy, Methods, Requests};
use std::collections::BTreeSet;
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

/// A proxy in front of the engine's registry, a fresh repository behind it, and a project that
/// pushes `v1` and `latest` (and its cache refs) there.
fn proxied(s: &Session, what: &str, fault: Fault) -> (FaultProxy, String, Project) {
    let proxy = FaultProxy::start(&s.engine.registry, fault);
    let repo = s.repo_on(&proxy.registry(), what);
    let p = s.project(SINGLE_STAGE);
    p.file("app.sh", "echo hello\n").file(
        "layercache.yml",
        &format!("image: {repo}\ntags: [v1, latest]\n"),
    );
    (proxy, repo, p)
}

/// The repository's tags as the registry itself holds them (past the proxy).
fn held(s: &Session, repo: &str) -> Vec<String> {
    let (_, path) = repo.split_once('/').expect("a registry host");
    registry_tags(&format!("{}/{path}", s.engine.registry))
}

/// The tags of the refs on the report's `pushed: ...` and `not pushed: ...` lines; `None` when
/// the report has no such lines (everything planned was pushed).
fn push_report(run: &Run) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
    let line = |prefix: &str| {
        run.stderr
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|refs| {
                refs.split(", ")
                    .filter(|r| *r != "nothing")
                    .map(|r| r.rsplit_once(':').map_or(r, |(_, tag)| tag).to_string())
                    .collect::<BTreeSet<String>>()
            })
    };
    Some((line("pushed: ")?, line("not pushed: ")?))
}

/// `layercache build` with the engine's BuildKit client.
fn build(s: &Session, p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["build", "--docker", s.engine.buildkit_docker.as_str()];
    args.extend(extra);
    p.layercache(&args)
}

/// The planned tags, with at least one cache ref besides `v1` and `latest`.
fn expected_tags(s: &Session, p: &Project) -> Vec<String> {
    let expected = planned_tags(p, &["--docker", &s.engine.buildkit_docker]);
    assert!(
        expected.len() > 2
            && expected.contains(&"v1".into())
            && expected.contains(&"latest".into()),
        "{expected:?}"
    );
    expected
}

/// Asserts every RUN/COPY step ran (`cold`) or came from the cache.
fn assert_steps(run: &Run, cold: bool) {
    let steps = work_steps(&run.output());
    assert!(
        !steps.is_empty() && steps.iter().all(|s| s.cached != cold),
        "expected every step {}: {steps:#?}\n{}",
        if cold { "to run" } else { "cached" },
        run.dump()
    );
}

/// Scenario 1. A registry that answers 503, then 429, to the first writes of a push: retried
/// (by docker or BuildKit themselves, or by layercache's `--retries`), and the run succeeds with
/// every planned ref in the registry. Then 429 to the first 6 manifests written, more than
/// docker (none for a manifest) or containerd (5 for one request) try again by themselves:
/// layercache tries the push, or the `buildx build --push` whose push failed, again, and the run
/// succeeds with a cache the next wiped runner hits.
#[test]
fn transient_registry_errors_on_push_are_retried_and_the_run_succeeds() {
    let Some(s) = start("transient") else { return };
    for (status, first) in [(503, 2), (429, 2)] {
        let (proxy, repo, p) = proxied(
            &s,
            &format!("e{status}"),
            Fault::FailWrites { status, first },
        );
        let expected = expected_tags(&s, &p);
        let run = build(&s, &p, &[]).ok();
        assert_eq!(
            proxy.faulted(),
            first,
            "the proxy answered {status} {first} times\n{}",
            run.dump()
        );
        assert_eq!(held(&s, &repo), expected, "{}", run.dump());
        let retried = run.stderr.contains("trying again");
        eprintln!("e2e[transient]: {status} to {first} writes: layercache tried again: {retried}");
    }

    let first = 6;
    let (proxy, repo, p) = proxied(
        &s,
        "manifests",
        Fault::FailFirst {
            status: 429,
            on: Requests {
                methods: Methods::Put,
                path: "/manifests/",
            },
            first,
        },
    );
    let expected = expected_tags(&s, &p);
    let run = build(&s, &p, &["--retries", "8", "--retry-delay", "0.1"]).ok();
    assert_eq!(proxy.faulted(), first, "{}", run.dump());
    run.says("failed (try 1 of 8); trying again in 0.1s");
    assert_eq!(held(&s, &repo), expected, "{}", run.dump());
    let tries = run.stderr.matches("trying again").count();
    eprintln!("e2e[transient]: 429 to {first} manifests: layercache tried again {tries} times");
    // The cache pushed through the errors is whole: a wiped runner hits it.
    proxy.set(Fault::None);
    s.wipe(&repo);
    assert_steps(&build(&s, &p, &[]).ok(), false);
}

/// Scenario 2. The registry goes down at push time (the first tag is written, then every
/// connection is closed): exit 1, a message naming the registry, the report lists exactly the
/// refs the registry holds as pushed and the others as not pushed, and `latest` is not moved.
#[test]
fn a_registry_down_at_push_time_fails_naming_it_and_lists_what_was_pushed() {
    let Some(s) = start("registry-down-at-push") else {
        return;
    };
    let (proxy, repo, p) = proxied(&s, "app", Fault::None);
    let expected = expected_tags(&s, &p);
    proxy.set(Fault::DownFrom {
        on: Requests {
            methods: Methods::Put,
            path: "/manifests/",
        },
        nth: 2,
    });
    let run = build(&s, &p, &[]).code(1);
    assert!(proxy.faulted() > 0, "the proxy went down\n{}", run.dump());
    let host = proxy.registry();
    assert!(
        run.stderr
            .lines()
            .any(|l| !l.starts_with('#') && l.contains("hint") && l.contains(&host)),
        "layercache's message names the registry {host}\n{}",
        run.dump()
    );
    let held = held(&s, &repo);
    assert!(!held.contains(&"latest".into()), "latest moved: {held:?}");
    let (pushed, not_pushed) =
        push_report(&run).unwrap_or_else(|| panic!("no push report\n{}", run.dump()));
    assert_eq!(
        pushed,
        held.iter().cloned().collect(),
        "the report's `pushed:` is what the registry holds\n{}",
        run.dump()
    );
    let rest: BTreeSet<String> = expected.into_iter().filter(|t| !held.contains(t)).collect();
    assert_eq!(not_pushed, rest, "{}", run.dump());
    eprintln!("e2e[registry-down-at-push]: pushed {pushed:?}, not pushed {not_pushed:?}");
    let own: Vec<&str> = run.stderr.lines().filter(|l| !l.starts_with('#')).collect();
    eprintln!(
        "e2e[registry-down-at-push]: layercache's last lines:\n{}",
        own[own.len().saturating_sub(12)..].join("\n")
    );
}

/// Scenario 3. The cache ref cannot be read (the registry answers 503 to every read of its
/// manifest until the push begins: its first request for a blob): the build runs cold, says the
/// cache could not be read, pushes everything, and the next wiped runner hits the cache it
/// wrote. (Failing those reads for good also fails the cache export on the containerd store:
/// BuildKit's push reads the tag's manifest first.)
#[test]
fn an_unreadable_cache_makes_a_cold_build_that_says_so_and_succeeds() {
    let Some(s) = start("unreadable-cache") else {
        return;
    };
    let (proxy, repo, p) = proxied(&s, "app", Fault::None);
    let expected = expected_tags(&s, &p);
    let caches: Vec<&String> = expected
        .iter()
        .filter(|t| *t != "v1" && *t != "latest")
        .collect();
    let [cache] = caches[..] else {
        panic!("one stage, one cache ref: {expected:?}")
    };
    // The fault's path lives as long as the test binary.
    let cache_manifest: &'static str = Box::leak(format!("/manifests/{cache}").into_boxed_str());
    build(&s, &p, &[]).ok();
    assert_eq!(held(&s, &repo), expected);

    s.wipe(&repo);
    proxy.set(Fault::FailUntil {
        status: 503,
        on: Requests {
            methods: Methods::Reads,
            path: cache_manifest,
        },
        // The push's first request: a blob's existence check (a rebuild whose layers the
        // registry has may write nothing before the cache export reads its tag).
        until: Requests {
            methods: Methods::Any,
            path: "/blobs/",
        },
    });
    let cold = build(&s, &p, &[]).ok();
    assert!(
        proxy.faulted() > 0,
        "no cache read was failed\n{}",
        cold.dump()
    );
    eprintln!(
        "e2e[unreadable-cache]: {} reads of {cache} failed",
        proxy.faulted()
    );
    cold.says(&format!("warning: the cache {repo}:"));
    cold.says("could not be read, so its stage was built without it");
    assert_steps(&cold, true);
    assert_eq!(held(&s, &repo), expected);

    proxy.set(Fault::None);
    s.wipe(&repo);
    assert_steps(&build(&s, &p, &[]).ok(), false);
}

/// Scenario 4. The Nth manifest written fails (500, for every N up to the number a clean run
/// writes; no layercache retries): whatever N, `latest` is never in the registry while a cache
/// ref or the immutable tag is missing, the run exits 1, and the report's `pushed:` is exactly
/// what the registry holds. The clean run itself writes `latest` last.
#[test]
fn a_push_failing_part_way_never_moves_latest() {
    let Some(s) = start("nth-push") else { return };
    let (proxy, repo, p) = proxied(&s, "clean", Fault::None);
    let expected = expected_tags(&s, &p);
    build(&s, &p, &["--retries", "1"]).ok();
    assert_eq!(held(&s, &repo), expected);
    let manifests = proxy
        .log()
        .iter()
        .filter(|l| l.method == "PUT" && l.path.contains("/manifests/"))
        .count();
    let order: Vec<String> = proxy.tags_written().into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        order.last().map(String::as_str),
        Some("latest"),
        "the moving tag is written last: {order:?}"
    );
    eprintln!("e2e[nth-push]: a clean run writes {manifests} manifests, tags in order {order:?}");
    drop(proxy);

    for nth in 1..=manifests {
        let (proxy, repo, p) = proxied(
            &s,
            &format!("n{nth}"),
            Fault::FailFrom {
                status: 500,
                on: Requests {
                    methods: Methods::Put,
                    path: "/manifests/",
                },
                nth,
            },
        );
        let run = build(&s, &p, &["--retries", "1"]).code(1);
        let held = held(&s, &repo);
        assert!(
            !held.contains(&"latest".into()),
            "manifest {nth} failed, yet latest moved: {held:?}\n{}",
            run.dump()
        );
        let (pushed, _) =
            push_report(&run).unwrap_or_else(|| panic!("no push report\n{}", run.dump()));
        assert_eq!(
            pushed,
            held.iter().cloned().collect(),
            "manifest {nth} failed: the report's `pushed:` is what the registry holds\n{}",
            run.dump()
        );
        eprintln!(
            "e2e[nth-push]: manifest {nth} failed: registry holds {held:?}, tags tried {:?}",
            proxy.tags_written()
        );
    }
}

/// Whether the registry serves the manifest `repo:tag` names (HTTP 200 to a GET asking for any
/// image manifest or index type): a tag listed but pointing at a missing manifest fails.
fn manifest_served(s: &Session, repo: &str, tag: &str) -> bool {
    use std::io::{Read, Write};
    let (_, path) = repo.split_once('/').expect("a registry host");
    let host = &s.engine.registry;
    let mut stream = std::net::TcpStream::connect(host).expect("the registry");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET /v2/{path}/manifests/{tag} HTTP/1.0\r\nHost: {host}\r\nAccept: \
         application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
         application/vnd.docker.distribution.manifest.list.v2+json, \
         application/vnd.docker.distribution.manifest.v2+json\r\n\r\n"
    )
    .expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let status = String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .map(String::from);
    status.as_deref() == Some("200")
}

/// Scenario 5. Racing pipelines: two `layercache build` runs of the same project (same tags,
/// same cache refs) at once against one registry on one engine: both succeed, every planned tag
/// is in the registry and serves its manifest, and the next wiped runner hits the cache.
#[test]
fn two_pipelines_racing_on_one_branch_both_succeed_and_leave_a_whole_cache() {
    let Some(s) = start("race") else { return };
    let repo = s.repo("app");
    let p = s.project(SINGLE_STAGE);
    p.file("app.sh", "echo hello\n").file(
        "layercache.yml",
        &format!("image: {repo}\ntags: [v1, latest]\n"),
    );
    let expected = expected_tags(&s, &p);
    let bk = s.engine.buildkit_docker.as_str();
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| p.layercache(&["build", "--docker", bk]));
        let b = scope.spawn(|| p.layercache(&["build", "--docker", bk]));
        (a.join().expect("run a"), b.join().expect("run b"))
    });
    let (a, b) = (a.ok(), b.ok());
    assert_eq!(registry_tags(&repo), expected, "{}\n{}", a.dump(), b.dump());
    for tag in &expected {
        assert!(
            manifest_served(&s, &repo, tag),
            "{repo}:{tag} is listed but its manifest is not served"
        );
    }
    s.wipe(&repo);
    assert_steps(&build(&s, &p, &[]).ok(), false);
}

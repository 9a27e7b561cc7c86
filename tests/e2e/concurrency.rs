//! End-to-end for issue 14, on the engine `scripts/engine-up.sh` started (off unless
//! `LAYERCACHE_E2E=1`, as tests/e2e.rs): a monorepo whose images build at once, one of them
//! FROM another, warm again on a wiped runner; and one multi-platform image on the containerd
//! image store, without an emulator: the RUN steps are in a `FROM --platform=$BUILDPLATFORM`
//! stage and the final stage only copies, onto a base made multi-platform with `docker import
//! --platform` and `docker buildx imagetools create` (ENGINE.md). Never registers binfmt
//! handlers.

use crate::support::engine::{start, Run, Session};
use std::collections::BTreeMap;

/// The slow step of each image; `{WHO}` tells the images apart. The builder stage starts from
/// the engine's base: an image built on the spec's base image differs from run to run (its
/// final stage copies the changed source), so only the final stage is built on it.
const SERVICE: &str = "\
FROM {BASE} AS builder
ENV E2E_RUN={RUN}-{WHO}
WORKDIR /build
RUN sleep 2 && echo deps-{WHO} > /build/deps
COPY src/ src/
RUN cat src/*.sh > /build/app.sh

FROM {FROM} AS final
COPY --from=builder /build/app.sh /app.sh
";

/// Whether every occurrence of the step whose instruction starts with `prefix` came from the
/// cache, and how often it showed (per platform, per image built).
fn hits(run: &Run, prefix: &str) -> (usize, bool) {
    let output = run.output();
    // `#8 [linux/arm64 builder 3/5] RUN sleep 2 ...`: the step's id, then `#8 CACHED`.
    let mut ids: BTreeMap<String, bool> = BTreeMap::new();
    for line in output.lines() {
        // With `--progress prefix`, after `image/stage | `.
        let line = line.split_once(" | ").map_or(line, |(_, l)| l);
        let Some((id, rest)) = line.split_once(' ') else {
            continue;
        };
        if !id.starts_with('#') {
            continue;
        }
        if let Some(i) = rest.find("] ") {
            if rest.starts_with('[') && rest[i + 2..].starts_with(prefix) {
                ids.entry(id.to_string()).or_insert(false);
            }
        }
        // On the containerd store a registry hit shows as the layer unpacked, not as CACHED
        // (the step did not run: `#13 extracting sha256:...`, then `#13 DONE 0.2s`).
        if rest.trim() == "CACHED" || rest.starts_with("extracting sha256:") {
            if let Some(cached) = ids.get_mut(id) {
                *cached = true;
            }
        }
    }
    (ids.len(), !ids.is_empty() && ids.values().all(|c| *c))
}

fn monorepo(s: &Session, repo: &str) -> crate::support::engine::Project {
    let base = s.engine.base_image.clone();
    let p = s.project(&SERVICE.replace("{FROM}", &base).replace("{WHO}", "base"));
    let service = SERVICE.replace("{BASE}", &base);
    for who in ["api", "web"] {
        let from = if who == "api" {
            format!("{repo}/base:latest")
        } else {
            base.clone()
        };
        let text = service.replace("{FROM}", &from).replace("{WHO}", who);
        // The token of `project` keeps the first build cold.
        let token = format!("{}-{who}", repo.rsplit('-').next().unwrap_or(""));
        p.file(&format!("{who}.Dockerfile"), &text.replace("{RUN}", &token));
    }
    p.file("src/main.sh", "echo v1\n");
    p.file(
        "layercache.yml",
        &format!(
            "images:\n  - image: {repo}/api\n    dockerfile: api.Dockerfile\n    tags: [latest]\n\
             \x20 - image: {repo}/web\n    dockerfile: web.Dockerfile\n    tags: [latest]\n\
             \x20 - image: {repo}/base\n    tags: [latest]\n"
        ),
    );
    p
}

/// Three images, one FROM another of the spec (listed first, so the order comes from the
/// Dockerfile, not the file): with `--jobs 3` the base and web build at once, the api after the
/// base's push; on a wiped runner all three slow steps come from the registry.
#[test]
fn a_monorepo_builds_at_once_and_stays_warm() {
    let Some(s) = start("monorepo") else { return };
    let bk = s.engine.buildkit_docker.clone();
    let repo = s.repo("mono");
    let p = monorepo(&s, &repo);
    let build = |jobs: &str| {
        let started = std::time::Instant::now();
        let run = p
            .layercache(&[
                "build",
                "--docker",
                bk.as_str(),
                "--jobs",
                jobs,
                "--progress",
                "prefix",
            ])
            .ok();
        (run, started.elapsed().as_secs_f64())
    };
    let wipe = |version: &str| {
        for who in ["base", "api", "web"] {
            s.wipe(&format!("{repo}/{who}"));
        }
        p.file("src/main.sh", &format!("echo {version}\n"));
    };
    let (cold, _) = build("3");
    // The exported-cache build names the image's target stage; the per-stage builds each stage.
    cold.says("api/final | ");
    wipe("v2");
    let (warm, parallel) = build("3");
    for who in ["base", "api", "web"] {
        let (seen, cached) = hits(&warm, &format!("RUN sleep 2 && echo deps-{who}"));
        assert!(
            seen >= 1 && cached,
            "{who}: the slow step re-ran\n{}",
            warm.dump()
        );
    }
    wipe("v3");
    let (_, sequential) = build("1");
    eprintln!(
        "e2e[monorepo]: {}: wiped-runner rebuild of 3 images: {parallel:.1}s with --jobs 3, \
         {sequential:.1}s with --jobs 1",
        s.engine.kind
    );
}

const MULTI_PLATFORM: &str = "\
FROM --platform=$BUILDPLATFORM {BASE} AS builder
ENV E2E_RUN={RUN}
ARG TARGETPLATFORM
WORKDIR /build
RUN sleep 2 && echo \"deps for $TARGETPLATFORM\" > /build/deps
COPY src/ src/
RUN cat /build/deps src/*.sh > /build/app.sh

FROM {MULTIBASE} AS final
COPY --from=builder /build/app.sh /app.sh
";
const PLATFORMS: &str = "linux/amd64,linux/arm64";

/// One image for two platforms in one build, with one cache: both platforms pushed, and on a
/// wiped runner the slow step hits for both (docker/buildx#1044 is a multi-node problem; the
/// docker driver is one node). Where the engine cannot (the classic store), refused with exit 2.
#[test]
fn a_multi_platform_image_is_pushed_and_stays_warm_for_each_platform() {
    let Some(s) = start("platforms") else { return };
    let bk = s.engine.buildkit_docker.clone();
    let repo = s.repo("multi");
    let base_repo = s.repo("base");
    if !s.engine.containerd_store() {
        let p = s.project(&MULTI_PLATFORM.replace("{MULTIBASE}", &s.engine.base_image));
        p.file("src/main.sh", "echo v1\n");
        p.layercache(&[
            "build",
            "--docker",
            &bk,
            "--image",
            &repo,
            "--platform",
            PLATFORMS,
        ])
        .code(2)
        .says("a multi-platform image (2 platforms) needs one buildx build with an exported cache");
        eprintln!(
            "e2e[platforms]: {}: refused as expected (classic store)",
            s.engine.kind
        );
        return;
    }
    // The base, made multi-platform without an emulator: the amd64 busybox as it is, and its
    // files imported again under linux/arm64 (only copied onto, never run).
    let b = &s.engine.base_image;
    let setup = format!(
        "set -e\n\
         {bk} pull {b} >/dev/null\n\
         {bk} tag {b} {base_repo}:amd64\n\
         {bk} push {base_repo}:amd64 >/dev/null\n\
         c=$({bk} create {b} sh)\n\
         {bk} export \"$c\" | {bk} import --platform linux/arm64 - {base_repo}:arm64 >/dev/null\n\
         {bk} rm \"$c\" >/dev/null\n\
         {bk} push {base_repo}:arm64 >/dev/null\n\
         {bk} buildx imagetools create -t {base_repo}:multi {base_repo}:amd64 {base_repo}:arm64\n"
    );
    let p = s.project(&MULTI_PLATFORM.replace("{MULTIBASE}", &format!("{base_repo}:multi")));
    p.sh("a multi-platform base", &setup).ok();
    p.file("src/main.sh", "echo v1\n");
    p.file(
        "layercache.yml",
        &format!("image: {repo}\ntags: [latest]\nplatforms: [linux/amd64, linux/arm64]\n"),
    );
    let build = ["build", "--docker", bk.as_str()];
    let plan = p
        .layercache(&["plan", "--format", "json", "--docker", &bk])
        .ok();
    assert!(
        plan.stdout.contains("\"strategy\": \"registry\""),
        "{}",
        plan.dump()
    );
    let cold = p.layercache(&build).ok();
    let (seen, _) = hits(&cold, "RUN sleep 2 && echo");
    assert_eq!(seen, 2, "the slow step once per platform\n{}", cold.dump());
    let inspect = p
        .sh(
            "imagetools inspect",
            &format!("{bk} buildx imagetools inspect {repo}:latest"),
        )
        .ok();
    for platform in ["linux/amd64", "linux/arm64"] {
        inspect.says(platform);
    }
    // A wiped runner, a source change: the slow step hits for both platforms.
    s.wipe(&repo);
    p.file("src/main.sh", "echo v2\n");
    let warm = p.layercache(&build).ok();
    let (seen, cached) = hits(&warm, "RUN sleep 2 && echo");
    assert!(
        seen == 2 && cached,
        "a platform missed its cache\n{}",
        warm.dump()
    );
    let (_, compiled) = hits(&warm, "RUN cat /build/deps");
    assert!(
        !compiled,
        "the source change did not reach the build\n{}",
        warm.dump()
    );
}

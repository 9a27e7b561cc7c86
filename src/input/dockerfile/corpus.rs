//! The corpus test: real-world Dockerfiles (tests/fixtures/dockerfiles, sources in INDEX.md),
//! each with the stages its default target needs, checked by hand against BuildKit's rules.

use super::*;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerfiles")
}

fn read(file: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A stage as the expectations name it: its name, or `stage-N`.
fn label(df: &Dockerfile, i: usize) -> String {
    df.stages[i].progress_name()
}

#[test]
#[ignore = "prints the graphs, for checking by hand"]
fn dump() {
    let mut files: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".md"))
        .collect();
    files.sort();
    for file in files {
        match parse_bytes(&read(&file)) {
            Err(e) => println!("{file}: ERROR {e}"),
            Ok(df) => {
                let target = df.stages.len() - 1;
                let needed: Vec<String> = df
                    .stages_for_target(target)
                    .into_iter()
                    .map(|i| label(&df, i))
                    .collect();
                let named = df
                    .stages_for_target(target)
                    .into_iter()
                    .filter(|&i| i == target || df.stages[i].name.is_some())
                    .count();
                println!(
                    "{file}: {} stages, {} needed, {named} built: {}",
                    df.stages.len(),
                    needed.len(),
                    needed.join(" ")
                );
                for w in &df.warnings {
                    println!("  warning {}:{} {}", w.line, w.column, w.message);
                }
            }
        }
    }
}

fn inputs(platform: &str, args: &[(&str, &str)]) -> GraphInputs {
    GraphInputs {
        build_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        platforms: Platform::parse(platform).into_iter().collect(),
        ..GraphInputs::default()
    }
}

/// Each corpus file with the stages (name, or `stage-N`) its last stage needs on a plain
/// `docker build` (linux/amd64, no build args), in build order. Checked by hand against BuildKit's
/// rules (see the module doc of `input::dockerfile`); for the five flagship files the counts also
/// equal what BuildKit's dispatcher was measured to build (issue 12's table).
const EXPECTED: &[(&str, &[&str])] = &[
    ("astral-sh__uv__Dockerfile", &["build", "stage-1"]),
    (
        "astral-sh__uv__crates__uv-dev__builder.dockerfile",
        &["stage-0"],
    ),
    (
        "docker-library__python__3.11__alpine3.23__Dockerfile",
        &["stage-0"],
    ),
    (
        "docker-library__python__3.11__slim-bookworm__Dockerfile",
        &["stage-0"],
    ),
    (
        "docker__awesome-compose__angular__angular__Dockerfile",
        &["builder", "dev-envs"],
    ),
    (
        "docker__awesome-compose__apache-php__app__Dockerfile",
        &["builder", "dev-envs"],
    ),
    (
        "docker__awesome-compose__aspnet-mssql__app__aspnetapp__Dockerfile",
        &["base", "build", "publish", "final"],
    ),
    (
        "docker__awesome-compose__django__app__Dockerfile",
        &["builder", "dev-envs"],
    ),
    (
        "docker__awesome-compose__flask__app__Dockerfile",
        &["builder", "dev-envs"],
    ),
    (
        "docker__awesome-compose__nginx-golang-mysql__backend__Dockerfile",
        &["builder", "stage-2"],
    ),
    (
        "docker__awesome-compose__nginx-nodejs-redis__web__Dockerfile",
        &["stage-0"],
    ),
    (
        "docker__awesome-compose__react-express-mongodb__frontend__Dockerfile",
        &["development", "dev-envs"],
    ),
    (
        "docker__awesome-compose__react-java-mysql__backend__Dockerfile",
        &["builder", "prepare-production", "stage-3"],
    ),
    (
        "docker__awesome-compose__react-rust-postgres__backend__Dockerfile",
        &["base", "builder", "stage-4"],
    ),
    (
        "docker__awesome-compose__spring-postgres__backend__Dockerfile",
        &["builder", "prepare-production", "stage-3"],
    ),
    (
        "docker__awesome-compose__vuejs__vuejs__Dockerfile",
        &["development", "dev-envs"],
    ),
    (
        "docker__buildx__Dockerfile",
        &[
            "xx",
            "golatest",
            "gobase",
            "buildx-version",
            "buildx-build",
            "binaries-unix",
            "binaries-linux",
            "binaries",
            "stage-32",
        ],
    ),
    (
        "docker__buildx__hack__demo-env__examples__compose__Dockerfile.webapp",
        &["stage-0"],
    ),
    (
        "docker__buildx__hack__dockerfiles__authors.Dockerfile",
        &["gen", "validate"],
    ),
    (
        "docker__buildx__hack__dockerfiles__docs.Dockerfile",
        &["docsgen", "gen", "validate"],
    ),
    (
        "docker__buildx__hack__dockerfiles__govulncheck.Dockerfile",
        &["base", "run", "output"],
    ),
    (
        "docker__buildx__hack__dockerfiles__lint.Dockerfile",
        &[
            "xx",
            "base",
            "golangci-build",
            "golangci-binary-true",
            "golangci-binary",
            "lint-base",
            "lint",
            "stage-13",
        ],
    ),
    (
        "docker__buildx__hack__dockerfiles__vendor.Dockerfile",
        &["base", "go-mod-outdated", "outdated"],
    ),
    (
        "docker__cli__Dockerfile",
        &[
            "xx",
            "build-base-alpine",
            "build-alpine",
            "goversioninfo",
            "build",
            "binary",
        ],
    ),
    (
        "docker__cli__dockerfiles__Dockerfile.dev",
        &[
            "buildx",
            "golang",
            "gofumpt",
            "gotestsum",
            "goversioninfo",
            "dev",
        ],
    ),
    (
        "docker__cli__dockerfiles__Dockerfile.lint",
        &["golangci-lint", "lint"],
    ),
    (
        "docker__cli__dockerfiles__Dockerfile.vendor",
        &["base", "go-mod-outdated", "outdated"],
    ),
    (
        "docker__compose__Dockerfile",
        &[
            "xx",
            "osxcross",
            "base",
            "build-base",
            "build",
            "binary-unix",
            "binary-linux",
            "binary",
            "module-releaser",
            "module",
        ],
    ),
    (
        "docker__compose__pkg__e2e__fixtures__build-dependencies__base.dockerfile",
        &["stage-0"],
    ),
    (
        "docker__compose__pkg__e2e__fixtures__build-dependencies__service.dockerfile",
        &["stage-0"],
    ),
    (
        "docker__compose__pkg__e2e__fixtures__build-test__multi-args__Dockerfile",
        &["stage-0"],
    ),
    (
        "docker__compose__pkg__e2e__fixtures__build-test__platforms__Dockerfile",
        &["build", "stage-1"],
    ),
    (
        "docker__compose__pkg__e2e__fixtures__build-test__ssh__Dockerfile",
        &["stage-0"],
    ),
    (
        "dockersamples__example-voting-app__result__Dockerfile",
        &["stage-0"],
    ),
    (
        "dockersamples__example-voting-app__seed-data__Dockerfile",
        &["stage-0"],
    ),
    (
        "dockersamples__example-voting-app__vote__Dockerfile",
        &["base", "final"],
    ),
    (
        "dockersamples__example-voting-app__worker__Dockerfile",
        &["build", "stage-1"],
    ),
    (
        "fastapi__full-stack-fastapi-template__backend__Dockerfile",
        &["frontend-build", "stage-1"],
    ),
    (
        "moby__buildkit__Dockerfile",
        &[
            "xx",
            "golatest",
            "gobuild-base",
            "runc",
            "buildkit-base",
            "buildkit-version",
            "buildctl",
            "buildkitd",
            "dnsname",
            "cni-plugins",
            "cni-plugins-export",
            "cni-plugins-export-squashed",
            "binfmt-filter",
            "binaries-linux",
            "binaries",
            "buildkit-export-alpine",
            "buildkit-export",
            "buildkit-linux",
            "buildkit",
        ],
    ),
    (
        "moby__buildkit__examples__create-certs__Dockerfile",
        &["gen", "stage-1"],
    ),
    (
        "moby__buildkit__frontend__dockerfile__cmd__dockerfile-frontend__Dockerfile",
        &["xx", "base", "version", "build", "release", "stage-5"],
    ),
    (
        "moby__buildkit__frontend__dockerfile__parser__testfiles__cpuguy83-nagios__Dockerfile",
        &["stage-0"],
    ),
    (
        "moby__buildkit__frontend__dockerfile__parser__testfiles__docker__Dockerfile",
        &["stage-0"],
    ),
    (
        "moby__buildkit__frontend__dockerfile__parser__testfiles__influxdb__Dockerfile",
        &["stage-0"],
    ),
    (
        "moby__buildkit__frontend__dockerfile__parser__testfiles__mumble__Dockerfile",
        &["stage-0"],
    ),
    (
        "moby__buildkit__frontend__dockerfile__parser__testfiles__nginx__Dockerfile",
        &["stage-0"],
    ),
    (
        "moby__buildkit__hack__dockerfiles__archutil.Dockerfile",
        &[
            "base",
            "exit-amd64",
            "exit-386",
            "exit-arm64",
            "exit-arm",
            "exit-riscv64",
            "exit-s390x",
            "exit-ppc64",
            "exit-ppc64le",
            "exit-mips64le",
            "exit-mips64",
            "exit-loong64-base",
            "exit-loong64-supported",
            "exit-loong64",
            "exits",
            "generate",
            "validate",
        ],
    ),
    (
        "moby__buildkit__hack__dockerfiles__docs.Dockerfile",
        &["golatest", "buildctl", "docsgen", "gen", "validate"],
    ),
    (
        "moby__buildkit__hack__dockerfiles__generated-files.Dockerfile",
        &[
            "base",
            "protoc",
            "googleapis",
            "gobuild-base",
            "vtprotobuf",
            "vendored",
            "protobuf",
            "tools",
            "generated",
            "update",
            "validate",
        ],
    ),
    (
        "moby__buildkit__hack__dockerfiles__govulncheck.Dockerfile",
        &["base", "run", "output"],
    ),
    (
        "moby__buildkit__hack__dockerfiles__lint.Dockerfile",
        &[
            "golang-base",
            "protolint-base",
            "xx",
            "golangci-binary-false",
            "golangci-binary",
            "base",
            "golangci-lint",
            "golangci-verify-false",
            "golangci-verify",
            "yamllint",
            "protolint",
            "stage-18",
        ],
    ),
    (
        "moby__buildkit__hack__dockerfiles__vendor.Dockerfile",
        &["base", "gomod-updates"],
    ),
    (
        "moby__moby__Dockerfile",
        &[
            "xx",
            "build-dummy",
            "binary-dummy",
            "base",
            "registry",
            "frozen-images",
            "delve-src",
            "delve-supported",
            "delve",
            "gowinres",
            "containerd-src",
            "containerd-build",
            "containerd-linux",
            "containerd",
            "golangci_lint",
            "gotestsum",
            "shfmt",
            "dockercli",
            "dockercli-integration",
            "runc-src",
            "runc-build",
            "runc-linux",
            "runc",
            "tini-src",
            "tini-build",
            "tini-linux",
            "tini",
            "rootlesskit-src",
            "rootlesskit-build",
            "rootlesskit-linux",
            "rootlesskit",
            "crun",
            "containerutil-linux",
            "containerutil",
            "buildx",
            "compose",
            "dev-systemd-false",
            "dev-firewalld-false",
            "dev-base",
            "dev",
        ],
    ),
    ("moby__moby__Dockerfile.simple", &["stage-0"]),
    ("moby__moby__Dockerfile.windows", &["stage-0"]),
    ("moby__moby__api__Dockerfile", &["base", "swagger", "dev"]),
    ("moby__moby__contrib__busybox__Dockerfile", &["stage-0"]),
    (
        "moby__moby__daemon__libnetwork__cmd__diagnostic__Dockerfile.dind",
        &["stage-0"],
    ),
    (
        "moby__moby__hack__dockerfiles__generate-files.Dockerfile",
        &["base", "src", "tools", "generated", "validate"],
    ),
    (
        "moby__moby__hack__dockerfiles__govulncheck.Dockerfile",
        &["base", "run", "output"],
    ),
    (
        "nodejs__docker-node__22__alpine3.23__Dockerfile",
        &["stage-0"],
    ),
    (
        "nodejs__docker-node__22__bookworm-slim__Dockerfile",
        &["stage-0"],
    ),
    (
        "ollama__ollama__Dockerfile",
        &[
            "local-mlx",
            "local-mlx-c",
            "base-amd64",
            "base",
            "cpu-deps",
            "cuda-12-deps",
            "cuda-13-deps",
            "vulkan-deps",
            "llama-server-cpu",
            "llama-server-cuda_v12",
            "llama-server-cuda_v13",
            "llama-server-vulkan",
            "mlx",
            "build",
            "amd64",
            "image-archive",
            "stage-35",
        ],
    ),
    ("prometheus__prometheus__Dockerfile", &["stage-0"]),
    ("traefik__traefik__Dockerfile", &["stage-0"]),
    ("traefik__traefik__docs__docs.Dockerfile", &["stage-0"]),
    ("traefik__traefik__webui__buildx.Dockerfile", &["stage-0"]),
    (
        "umami-software__umami__Dockerfile",
        &["deps", "builder", "runner"],
    ),
];

/// Other platforms and build args on the flagship files, checked by hand the same way.
/// File, platform, build args, expected stages.
type Variant = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

const VARIANTS: &[Variant] = &[
    (
        "docker__buildx__Dockerfile",
        "darwin/arm64",
        &[],
        &[
            "xx",
            "golatest",
            "gobase",
            "buildx-version",
            "buildx-build",
            "binaries-unix",
            "binaries-darwin",
            "binaries",
            "stage-32",
        ],
    ),
    (
        "moby__buildkit__Dockerfile",
        "windows/amd64",
        &[],
        &[
            "xx",
            "golatest",
            "gobuild-base",
            "buildkit-base",
            "buildkit-version",
            "buildctl",
            "buildkitd",
            "binaries-windows",
            "binaries",
            "buildkit-windows",
            "buildkit",
        ],
    ),
    (
        "moby__buildkit__hack__dockerfiles__lint.Dockerfile",
        "linux/amd64",
        &[("GOLANGCI_FROM_SOURCE", "true")],
        &[
            "golang-base",
            "protolint-base",
            "xx",
            "golangci-build",
            "golangci-binary-true",
            "golangci-binary",
            "base",
            "golangci-lint",
            "golangci-verify-true",
            "golangci-verify",
            "yamllint",
            "protolint",
            "stage-18",
        ],
    ),
    (
        "ollama__ollama__Dockerfile",
        "linux/arm64",
        &[],
        &[
            "base-arm64",
            "base",
            "cpu-deps",
            "cuda-12-deps",
            "cuda-13-deps",
            "llama-server-cpu",
            "llama-server-cuda_v12",
            "llama-server-cuda_v13",
            "jetpack-5",
            "jetpack-6",
            "build",
            "arm64",
            "image-archive",
            "stage-35",
        ],
    ),
    (
        "ollama__ollama__Dockerfile",
        "linux/amd64",
        &[("FLAVOR", "rocm")],
        &[
            "base-amd64",
            "base",
            "cpu-deps",
            "rocm-7-deps",
            "llama-server-cpu",
            "llama-server-rocm_v7_2",
            "build",
            "rocm",
            "image-archive",
            "stage-35",
        ],
    ),
    (
        "docker__compose__Dockerfile",
        "darwin/arm64",
        &[],
        &[
            "xx",
            "osxcross",
            "base",
            "build-base",
            "build",
            "binary-unix",
            "binary-darwin",
            "binary",
            "module-releaser",
            "module",
        ],
    ),
];

/// Flagship files: stages the planner builds (named stages the target needs, plus the target)
/// before issue 12 (its table) and now.
const FLAGSHIPS: [(&str, usize, usize); 5] = [
    ("moby__buildkit__Dockerfile", 1, 19),
    ("docker__buildx__Dockerfile", 2, 9),
    ("docker__compose__Dockerfile", 3, 10),
    ("ollama__ollama__Dockerfile", 4, 17),
    ("moby__moby__Dockerfile", 25, 40),
];

fn needed(df: &Dockerfile) -> Vec<String> {
    df.stages_for_target(df.stages.len() - 1)
        .into_iter()
        .map(|i| label(df, i))
        .collect()
}

#[test]
fn corpus_graphs_are_buildkits() {
    let mut files: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".md"))
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|(f, _)| *f).collect();
    assert_eq!(files, listed, "every corpus file has its expectation");
    for (file, expected) in EXPECTED {
        let df = parse_bytes(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(needed(&df), *expected, "{file}");
    }
    for (file, platform, args, expected) in VARIANTS {
        let df = parse_bytes_with(&read(file), &inputs(platform, args))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(needed(&df), *expected, "{file} on {platform} with {args:?}");
    }
}

#[test]
fn flagships_build_every_named_stage_docker_needs() {
    for (file, _before, after) in FLAGSHIPS {
        let df = parse_bytes(&read(file)).unwrap();
        let target = df.stages.len() - 1;
        let built = df
            .stages_for_target(target)
            .into_iter()
            .filter(|&i| i == target || df.stages[i].name.is_some())
            .count();
        assert_eq!(built, after, "{file}");
    }
}

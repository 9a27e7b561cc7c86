use super::output::fnv1a64;
use super::*;
use crate::input::dockerfile;

fn check(text: &str) -> Vec<Finding> {
    check_with(text, &Inputs::default())
}

fn check_with(text: &str, inputs: &Inputs) -> Vec<Finding> {
    // As `layercache lint` reads a file alone: a base from a build arg it was not given is kept.
    let lenient = dockerfile::GraphInputs {
        allow_blank_base: true,
        ..dockerfile::GraphInputs::default()
    };
    let df = dockerfile::parse_with(text, &lenient).expect("test Dockerfile parses");
    lint(&df, inputs)
}

/// The (rule id, line) of each finding.
fn hits(findings: &[Finding]) -> Vec<(&'static str, usize)> {
    findings.iter().map(|f| (f.rule.id(), f.line)).collect()
}

fn entries(names: &[&str]) -> Inputs {
    Inputs {
        context_entries: Some(names.iter().map(|s| s.to_string()).collect()),
        ..Inputs::default()
    }
}

/// Cache-friendly: manifests first, then install, then sources; named stages; pinned bases;
/// one RUN for apt; the per-build ARG after the installs; a .dockerignore.
const CLEAN: &str = r#"# syntax=docker/dockerfile:1
ARG NODE_IMAGE=node:20.11-bookworm
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends git \
&& rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .
RUN npm run build

FROM deps AS test
RUN npm test

FROM python:3.12-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS tools
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM gcr.io/distroless/nodejs20-debian12:nonroot AS final
COPY --from=deps /app/dist /app
ARG GIT_SHA
LABEL org.opencontainers.image.revision=$GIT_SHA
ENV NODE_ENV=production GPG_KEY=ABCDEF TOKENIZERS_PARALLELISM=false
CMD ["/app/server.js"]
"#;

#[test]
fn a_cache_friendly_dockerfile_has_no_finding() {
    let inputs = entries(&[
        ".dockerignore",
        ".git",
        "node_modules",
        "src",
        "package.json",
    ]);
    let findings = check_with(CLEAN, &inputs);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn broad_copy_before_install() {
    let f = check("FROM node:20 AS app\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\n");
    assert_eq!(hits(&f), [("LC001", 4)]);
    assert_eq!(f[0].severity(), Severity::Warning);
    assert!(f[0].message.contains("`npm ci`"), "{}", f[0].message);
    assert!(
        f[0].message.contains("`COPY . .` (line 3)"),
        "{}",
        f[0].message
    );
    assert!(f[0].fix.contains("package.json"), "{}", f[0].fix);
}

#[test]
fn broad_copy_forms_and_installers() {
    for (copy, run) in [
        ("COPY ./ /app", "pip install -r requirements.txt"),
        ("ADD . /src", "python3 -m pip install ."),
        (
            "COPY --chown=app . .",
            "DEBIAN_FRONTEND=noninteractive apt-get install -y curl",
        ),
        ("COPY [\".\", \"/app\"]", "yarn --frozen-lockfile"),
        ("COPY . .", "cargo build --release"),
        ("COPY . .", "go mod download"),
        ("COPY . .", "bundle install"),
        ("COPY . .", "composer install --no-dev"),
        ("COPY . .", "apk add --no-cache git"),
        ("COPY . .", "poetry install --no-root"),
        ("COPY . .", "mvn -B dependency:go-offline"),
        ("COPY . .", "pnpm install --frozen-lockfile"),
        ("COPY . .", "cd /app && sudo npm install"),
    ] {
        let text = format!("FROM a:1 AS x\n{copy}\nRUN {run}\n");
        assert_eq!(hits(&check(&text)), [("LC001", 3)], "{copy} / {run}");
    }
}

#[test]
fn narrow_copies_and_copies_from_stages_are_fine() {
    for copy in [
        "COPY src/ src/",
        "COPY --from=build . /app",
        "COPY requirements.txt .",
    ] {
        let text = format!("FROM a:1 AS build\nFROM a:1 AS x\n{copy}\nRUN pip install x\n");
        assert!(check(&text).is_empty(), "{copy}");
    }
}

#[test]
fn broad_copy_in_a_base_stage_counts_for_its_children() {
    let f = check("FROM a:1 AS src\nCOPY . /app\nFROM src AS deps\nRUN npm ci\n");
    assert_eq!(hits(&f), [("LC001", 4)]);
    assert!(f[0].message.contains("in stage `src`"), "{}", f[0].message);
}

#[test]
fn one_finding_per_install_and_line() {
    let f = check("FROM a:1 AS x\nCOPY . .\nRUN npm ci && pip install x && npm ci\n");
    assert_eq!(hits(&f), [("LC001", 3), ("LC001", 3)]);
}

#[test]
fn heredoc_and_exec_form_runs_are_read() {
    let f = check("FROM a:1 AS x\nCOPY . .\nRUN <<EOF\nset -e\nnpm ci\nEOF\n");
    assert_eq!(hits(&f), [("LC001", 3)]);
    let f = check("FROM a:1 AS x\nCOPY . .\nRUN [\"sh\", \"-c\", \"npm ci\"]\n");
    assert_eq!(hits(&f), [("LC001", 3)]);
}

#[test]
fn no_dockerignore_with_bulky_context() {
    let f = check_with(
        "FROM a:1\nCOPY . .\n",
        &entries(&[".git", "src", "node_modules"]),
    );
    assert_eq!(hits(&f), [("LC002", 2)]);
    assert!(
        f[0].message.contains(".git, node_modules"),
        "{}",
        f[0].message
    );
    assert!(f[0].fix.contains(".dockerignore"));
    // Without a broad copy, the finding points at the first FROM.
    let f = check_with("# hi\nFROM a:1\nCOPY x .\n", &entries(&["target"]));
    assert_eq!(hits(&f), [("LC002", 2)]);
}

#[test]
fn a_dockerignore_or_a_lean_context_is_fine() {
    assert!(check_with("FROM a:1\nCOPY . .\n", &entries(&[".git", ".dockerignore"])).is_empty());
    assert!(check_with("FROM a:1\nCOPY . .\n", &entries(&["src", "README.md"])).is_empty());
    let specific = Inputs {
        dockerfile_ignore: true,
        ..entries(&[".git"])
    };
    assert!(check_with("FROM a:1\nCOPY . .\n", &specific).is_empty());
    // Unknown context: no opinion.
    assert!(check("FROM a:1\nCOPY . .\n").is_empty());
}

#[test]
fn apt_update_in_its_own_run() {
    let f = check("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n");
    assert_eq!(hits(&f), [("LC003", 2)]);
    assert!(f[0].message.contains("line 3"), "{}", f[0].message);
    assert!(
        check("FROM debian:12\nRUN apt-get update && \\\n  apt-get install -y curl\n").is_empty()
    );
    assert!(check("FROM debian:12\nRUN apt update; apt install -y curl\n").is_empty());
}

#[test]
fn add_of_a_url() {
    let f = check("FROM a:1\nWORKDIR /x\nADD https://example.com/tool.tgz /tmp/\n");
    assert_eq!(hits(&f), [("LC004", 3)]);
    assert!(f[0].fix.contains("--checksum"));
    assert!(
        check("FROM a:1\nADD --checksum=sha256:abc https://example.com/t.tgz /tmp/\n").is_empty()
    );
    assert!(check("FROM a:1\nADD vendor.tgz /tmp/\n").is_empty());
}

#[test]
fn volatile_arg_before_expensive_steps() {
    let f = check("FROM a:1\nARG GIT_COMMIT\nRUN make deps\nRUN echo $GIT_COMMIT\n");
    assert_eq!(hits(&f), [("LC005", 2)]);
    assert!(f[0].message.contains("line 3"), "{}", f[0].message);
    for name in [
        "BUILD_DATE",
        "CI_COMMIT_SHA",
        "APP_VERSION",
        "BUILD_ID",
        "build_timestamp",
    ] {
        let text = format!("FROM a:1\nARG {name}\nRUN make\n");
        assert_eq!(hits(&check(&text)), [("LC005", 2)], "{name}");
    }
}

#[test]
fn volatile_arg_where_it_belongs_is_fine() {
    // Right before the RUN that needs it.
    assert!(check("FROM a:1\nRUN make deps\nARG GIT_SHA\nRUN echo ${GIT_SHA} > /v\n").is_empty());
    // No RUN after it.
    assert!(check("FROM a:1\nRUN make\nARG GIT_SHA\nLABEL rev=$GIT_SHA\n").is_empty());
    // A pinned toolchain version, and look-alike names.
    assert!(check("FROM a:1\nARG NODE_VERSION=20\nRUN make\n").is_empty());
    assert!(check("ARG NODE_VERSION=20\nFROM a:1\nARG NODE_VERSION\nRUN make\n").is_empty());
    assert!(check("FROM a:1\nARG SHARED_LIBS\nARG APT_UPDATE\nRUN make\n").is_empty());
}

#[test]
fn unnamed_intermediate_stage() {
    let f =
        check("FROM golang:1.22\nRUN go build\nFROM alpine:3.19 AS final\nCOPY --from=0 /x /x\n");
    assert_eq!(hits(&f), [("LC006", 1)]);
    assert!(
        f[0].fix.contains("FROM golang:1.22 AS <name>"),
        "{}",
        f[0].fix
    );
    // The last stage needs no name.
    assert!(check("FROM a:1 AS b\nFROM a:1\n").is_empty());
}

#[test]
fn unpinned_base_images() {
    assert_eq!(hits(&check("FROM ubuntu\n")), [("LC007", 1)]);
    assert_eq!(hits(&check("FROM node:latest AS app\n")), [("LC007", 1)]);
    assert_eq!(
        hits(&check("FROM ghcr.io/org/img AS app\n")),
        [("LC007", 1)]
    );
    let f = check("ARG BASE=python\nFROM ${BASE} AS app\n");
    assert_eq!(hits(&f), [("LC007", 2)]);
    assert!(
        f[0].message.contains("`${BASE}` (= `python`)"),
        "{}",
        f[0].message
    );
    assert!(f[0].fix.contains("FROM python:<version>"), "{}", f[0].fix);
}

#[test]
fn pinned_scratch_stage_and_unknown_bases_are_fine() {
    for text in [
        "FROM ubuntu:24.04\n",
        "FROM ubuntu@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
        "FROM scratch\n",
        "FROM localhost:5000/app:1 AS a\nFROM a\n",
        "ARG BASE\nFROM $BASE\n",
        "ARG BASE=a:1\nFROM ${BASE}\n",
        "ARG BASE=b\nFROM a:1 AS b\nFROM ${BASE}\n",
    ] {
        assert!(check(text).is_empty(), "{text}");
    }
    // Build args win over the ARG default.
    let inputs = Inputs {
        build_args: BTreeMap::from([
            ("BASE".to_string(), Some("alpine".to_string())),
            ("FROM_ENV".to_string(), None),
        ]),
        ..Inputs::default()
    };
    assert_eq!(
        hits(&check_with("ARG BASE=a:1\nFROM ${BASE}\n", &inputs)),
        [("LC007", 2)]
    );
    // A value docker takes from the environment is unknown here: no opinion.
    assert!(check_with("ARG FROM_ENV=ubuntu\nFROM ${FROM_ENV}\n", &inputs).is_empty());
}

#[test]
fn secrets_in_arg_and_env() {
    let f = check(
        "FROM a:1\nARG NPM_TOKEN\nENV DB_PASSWORD=x OTHER=y\nENV AWS_SECRET_ACCESS_KEY abc\nARG API_KEY=1\n",
    );
    assert_eq!(
        hits(&f),
        [("LC008", 2), ("LC008", 3), ("LC008", 4), ("LC008", 5)]
    );
    assert!(f.iter().all(|f| f.severity() == Severity::Error));
    assert!(
        f[0].fix.contains("--mount=type=secret,id=npm_token"),
        "{}",
        f[0].fix
    );
    assert!(check("FROM a:1\nENV GPG_KEY=abc KEYBOARD=us TOKENIZERS_PARALLELISM=1\n").is_empty());
}

#[test]
fn shell_splitting() {
    assert_eq!(
        simple_commands("a 'b c' && d \"e\\\"f\"; g | h # x && y\ni"),
        vec![
            vec!["a".to_string(), "b c".to_string()],
            vec!["d".to_string(), "e\"f".to_string()],
            vec!["g".to_string()],
            vec!["h".to_string()],
            vec!["i".to_string()],
        ]
    );
}

#[test]
fn outputs() {
    let reports = vec![Report {
        file: "Dockerfile".into(),
        findings: check("FROM ubuntu\n"),
    }];
    let text = human(&reports);
    assert!(
        text.starts_with("Dockerfile:1 warning LC007 base image `ubuntu` has no tag"),
        "{text}"
    );
    assert!(text.contains("\n  fix: pin a version"), "{text}");

    let list = json(&reports);
    let keys: Vec<&String> = list[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["file", "fix", "line", "message", "rule", "severity"]);
    assert_eq!(list[0]["severity"], "warning");

    let gl = gitlab(&reports);
    assert_eq!(gl[0]["check_name"], "LC007");
    assert_eq!(gl[0]["severity"], "major");
    assert_eq!(gl[0]["location"]["path"], "Dockerfile");
    assert_eq!(gl[0]["location"]["lines"]["begin"], 1);
    assert_eq!(gl, gitlab(&reports), "fingerprints are stable");
}

#[test]
fn fnv1a_matches_the_reference_values() {
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn the_readme_documents_every_rule() {
    let readme = include_str!("../../README.md");
    for rule in Rule::ALL {
        let row = format!("| {} | {} |", rule.id(), rule.severity());
        assert!(
            readme.contains(&row),
            "README lacks the row for {}",
            rule.id()
        );
    }
}

/// Prints every finding on the corpus (tests/fixtures/dockerfiles), for judging by hand
/// (LINT-PRECISION.md).
#[test]
#[ignore = "prints the corpus findings"]
fn corpus_findings() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerfiles");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".md"))
        .collect();
    files.sort();
    let lenient = dockerfile::GraphInputs {
        allow_blank_base: true,
        ..dockerfile::GraphInputs::default()
    };
    for file in files {
        let bytes = std::fs::read(dir.join(&file)).unwrap();
        let df = dockerfile::parse_bytes_with(&bytes, &lenient).unwrap();
        for f in lint(&df, &Inputs::default()) {
            println!("{file}:{} {} {}", f.line, f.rule.id(), f.message);
        }
    }
}

// ----- issue 12: corrections and new findings, each with the false positive gone and the true
// positive kept

#[test]
fn add_of_a_git_source_is_not_a_download() {
    for text in [
        "FROM a:1\nADD https://github.com/opencontainers/runc.git#v1.2.0 /src\n",
        "FROM a:1\nADD https://github.com/moby/moby.git?ref=v27.0.0&keep-git-dir=1 /src\n",
        "FROM a:1\nADD git@github.com:moby/moby.git /src\n",
    ] {
        assert!(check(text).is_empty(), "{text}");
    }
    assert_eq!(
        hits(&check(
            "FROM a:1\nADD https://github.com/x/y/releases/download/v1/y.tgz /tmp/\n"
        )),
        [("LC004", 2)]
    );
    // Checked by the next RUN: pinned.
    assert!(check(
        "FROM a:1\nADD https://x.org/y.tgz /tmp/y.tgz\nRUN echo \"$Y_SHA256  /tmp/y.tgz\" | sha256sum -c -\n"
    )
    .is_empty());
}

#[test]
fn volatile_arg_read_by_a_build_script_or_an_env_is_fine() {
    // A script of the build context reads VERSION from its environment (docker/cli, moby).
    assert!(check("FROM a:1\nARG VERSION\nRUN TARGET=/out ./scripts/build/binary\n").is_empty());
    assert!(check("FROM a:1\nARG GIT_COMMIT\nRUN bash hack/make.sh binary\n").is_empty());
    // Passed on through an ENV on purpose.
    assert!(check("FROM a:1\nARG COMMIT_SHA\nENV COMMIT_SHA=${COMMIT_SHA}\nRUN make\n").is_empty());
    // A SHA or commit with a real default is pinned.
    assert!(check("FROM a:1\nARG ALPINE_SHA=5c2dd0a4d8f3\nRUN make\n").is_empty());
    // Still reported: a placeholder default, and a RUN that is not a script.
    assert_eq!(
        hits(&check("FROM a:1\nARG GIT_COMMIT=unknown\nRUN make\n")),
        [("LC005", 2)]
    );
    assert_eq!(
        hits(&check(
            "FROM a:1\nARG VERSION\nRUN go build -o /out ./cmd\n"
        )),
        [("LC005", 2)]
    );
}

#[test]
fn volatile_arg_used_by_the_first_run_only() {
    let f = check(
        "FROM debian:12\nARG BUILD_DATE\nRUN echo $BUILD_DATE > /built\nRUN apt-get update && apt-get install -y curl\n",
    );
    assert_eq!(hits(&f), [("LC005", 2)]);
    assert!(f[0].message.contains("line 4"), "{}", f[0].message);
    assert!(
        f[0].fix.contains("put the RUNs that use it last"),
        "{}",
        f[0].fix
    );
    // Every RUN after it uses it: fine.
    assert!(check(
        "FROM a:1\nARG BUILD_DATE\nRUN echo $BUILD_DATE > /a\nRUN echo ${BUILD_DATE} > /b\n"
    )
    .is_empty());
}

#[test]
fn secret_paths_are_not_secrets_and_pass_is() {
    assert!(check(
        "FROM a:1\nENV POSTGRES_PASSWORD_FILE=/run/secrets/db SSL_KEY_PATH=/k API_TOKEN_DIR=/t\n"
    )
    .is_empty());
    assert_eq!(
        hits(&check(
            "FROM a:1\nARG DB_PASS\nENV FTP_PASSWD=x\nARG SSH_PASSPHRASE\n"
        )),
        [("LC008", 2), ("LC008", 3), ("LC008", 4)]
    );
}

#[test]
fn unpinned_images_in_copy_from_and_mounts() {
    let f = check(
        "FROM a:1 AS build\nFROM b:1\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /uv\nCOPY --from=nginx /etc/nginx /etc/nginx\nRUN --mount=from=busybox,target=/bb true\n",
    );
    assert_eq!(hits(&f), [("LC007", 3), ("LC007", 4), ("LC007", 5)]);
    assert!(
        f[0].message.contains("image in `COPY --from`"),
        "{}",
        f[0].message
    );
    assert!(
        f[1].fix.contains("COPY --from=nginx:<version>"),
        "{}",
        f[1].fix
    );
    assert!(check(
        "FROM a:1 AS build\nFROM b:1\nCOPY --from=build / /\nCOPY --from=0 / /\nCOPY --from=BUILD / /\nCOPY --from=nginx:1.25 / /\nRUN --mount=from=build,target=/b true\n"
    )
    .is_empty());
}

#[test]
fn moving_tags() {
    for (text, line) in [
        ("FROM node:lts-alpine\n", 1),
        ("FROM python:slim AS app\n", 1),
        ("FROM alpine:edge\n", 1),
        ("FROM b:1\nCOPY --from=docker:stable / /\n", 2),
    ] {
        assert_eq!(hits(&check(text)), [("LC010", line)], "{text}");
    }
    for text in [
        "FROM node:22-alpine\n",
        "FROM debian:bookworm-slim\n",
        "FROM python:3.12-slim\n",
        "FROM golang:1.22-alpine3.19\n",
    ] {
        assert!(check(text).is_empty(), "{text}");
    }
}

#[test]
fn piped_install_script() {
    let f = check("FROM rust:1.80\nRUN curl -fsSL https://sh.rustup.rs | sh -s -- -y\n");
    assert_eq!(hits(&f), [("LC009", 2)]);
    assert!(f[0].fix.contains("--checksum"), "{}", f[0].fix);
    assert!(check(
        "FROM a:1\nRUN curl -fsSL https://raw.githubusercontent.com/nvm-sh/nvm/v0.39.7/install.sh | bash\n"
    )
    .is_empty());
}

// ----- SARIF (issue 15): the structure here; tests/lint.rs runs Microsoft's validator on it

fn sarif_of(file: &str, text: &str, cwd: &str) -> Value {
    let reports = vec![Report {
        file: file.into(),
        findings: check(text),
    }];
    let sources = BTreeMap::from([(file.to_string(), text.to_string())]);
    sarif(&reports, std::path::Path::new(cwd), &sources)
}

#[test]
fn sarif_describes_every_rule_with_its_default_level() {
    let log = sarif(&[], std::path::Path::new("/repo"), &BTreeMap::new());
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "layercache");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["informationUri"], INFORMATION_URI);
    assert!(
        INFORMATION_URI.starts_with("https://github.com/"),
        "{INFORMATION_URI}"
    );
    // No finding is still a run: it closes the alerts an earlier upload opened.
    assert_eq!(runs[0]["results"], json!([]));

    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    assert_eq!(ids, expected);
    let mut names = HashSet::new();
    for (rule, entry) in Rule::ALL.iter().zip(rules) {
        let name = entry["name"].as_str().unwrap();
        assert!(names.insert(name), "{name} twice");
        // SARIF viewers expect one Pascal-case word.
        assert!(
            name.starts_with(|c: char| c.is_ascii_uppercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "{name}"
        );
        for text in [
            &entry["shortDescription"]["text"],
            &entry["fullDescription"]["text"],
            &entry["help"]["text"],
        ] {
            let text = text.as_str().unwrap();
            assert!(
                text.len() > 20 && text.ends_with('.'),
                "{}: {text:?}",
                rule.id()
            );
        }
        assert_ne!(entry["shortDescription"], entry["fullDescription"]);
        assert!(entry["help"]["markdown"]
            .as_str()
            .unwrap()
            .starts_with(entry["help"]["text"].as_str().unwrap()));
        assert_eq!(entry["helpUri"], format!("{INFORMATION_URI}#lint-rules"));
        let level = match rule.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        assert_eq!(
            entry["defaultConfiguration"]["level"],
            level,
            "{}",
            rule.id()
        );
    }
    assert_eq!(rules[7]["id"], "LC008");
    assert_eq!(rules[7]["defaultConfiguration"]["level"], "error");
    assert_eq!(rules[7]["properties"]["tags"][0], "security");
}

#[test]
fn sarif_results_point_at_the_rule_the_file_the_line_and_the_instruction() {
    let text = "FROM node:20.11 AS app\n  COPY . .\nRUN npm ci\nENV NPM_TOKEN=abc\n";
    let log = sarif_of("Dockerfile", text, "/repo");
    let run = &log["runs"][0];
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        "file:///repo/"
    );
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let results = run["results"].as_array().unwrap();
    let findings = check(text);
    assert_eq!(results.len(), findings.len());
    assert_eq!(findings.len(), 2, "{findings:?}");
    for (result, finding) in results.iter().zip(&findings) {
        assert_eq!(result["ruleId"], finding.rule.id());
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][index]["id"],
            finding.rule.id()
        );
        let message = result["message"]["text"].as_str().unwrap();
        assert!(message.starts_with(&finding.message), "{message}");
        assert!(
            message.contains(&format!("Fix: {}", finding.fix)),
            "{message}"
        );
        assert!(message.ends_with('.'), "{message}");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "Dockerfile");
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(location["region"]["startLine"], finding.line);
    }
    // `npm ci` after the broad copy: the RUN's line, the whole instruction.
    assert_eq!(results[0]["ruleId"], "LC001");
    assert_eq!(results[0]["level"], "warning");
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        *region,
        json!({"startLine": 3, "startColumn": 1, "endColumn": 11, "snippet": {"text": "RUN npm ci"}})
    );
    assert_eq!(results[1]["ruleId"], "LC008");
    assert_eq!(results[1]["level"], "error");

    // An indented instruction starts where its keyword does.
    let log = sarif_of("Dockerfile", "FROM a:1\n  ENV API_TOKEN=x  \r\n", "/repo");
    let region = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"], 3);
    assert_eq!(region["endColumn"], 18);
    assert_eq!(region["snippet"]["text"], "  ENV API_TOKEN=x  ");

    // Columns count characters, not bytes.
    let log = sarif_of(
        "Dockerfile",
        "FROM a:1\nENV PASSWORD=\"pässwörd\"\n",
        "/repo",
    );
    let region = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["endColumn"], 24);

    // Without the text, the line alone.
    let reports = vec![Report {
        file: "Dockerfile".into(),
        findings: check(text),
    }];
    let log = sarif(&reports, std::path::Path::new("/repo"), &BTreeMap::new());
    let region = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(*region, json!({"startLine": 3}));
}

#[test]
fn sarif_names_files_relative_to_the_working_directory() {
    let uri = |file: &str, cwd: &str| {
        let log = sarif_of(file, "FROM ubuntu\n", cwd);
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"].clone()
    };
    let relative = |path: &str| json!({"uri": path, "uriBaseId": "%SRCROOT%"});
    assert_eq!(uri("Dockerfile", "/repo"), relative("Dockerfile"));
    assert_eq!(
        uri("./svc/./Dockerfile", "/repo"),
        relative("svc/Dockerfile")
    );
    assert_eq!(uri("svc/../Dockerfile", "/repo"), relative("Dockerfile"));
    assert_eq!(
        uri("/repo/svc/Dockerfile", "/repo"),
        relative("svc/Dockerfile")
    );
    assert_eq!(
        uri("/repo/svc/Dockerfile", "/repo/"),
        relative("svc/Dockerfile")
    );
    assert_eq!(uri("../repo/Dockerfile", "/repo"), relative("Dockerfile"));
    // URI references, not paths: spaces, `%`, `#`, `?`, `:` and non-ASCII are escaped.
    assert_eq!(
        uri("my app/Dockerfile#1?x", "/repo"),
        relative("my%20app/Dockerfile%231%3Fx")
    );
    assert_eq!(uri("c:d/Dockerfile", "/repo"), relative("c%3Ad/Dockerfile"));
    assert_eq!(
        uri("dé/100%/Dockerfile", "/repo"),
        relative("d%C3%A9/100%25/Dockerfile")
    );
    // Outside the working directory: an absolute file URI, with no base.
    assert_eq!(
        uri("/elsewhere/Dockerfile", "/repo"),
        json!({"uri": "file:///elsewhere/Dockerfile"})
    );
    assert_eq!(
        uri("../other/Dockerfile", "/work/repo"),
        json!({"uri": "file:///work/other/Dockerfile"})
    );
    assert_eq!(
        uri("../repo2/Dockerfile", "/work/repo"),
        json!({"uri": "file:///work/repo2/Dockerfile"})
    );
    let log = sarif_of("Dockerfile", "FROM ubuntu\n", "/my repo/x");
    assert_eq!(
        log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        "file:///my%20repo/x/"
    );
}

//! `layercache lint` as a user runs it: which Dockerfile it reads, its formats, its exit codes,
//! and the `lint:` lines `build` prints first.

use crate::support::{Output, Test};
use serde_json::Value;

/// Manifests first, install, then the sources; named stages; pinned bases.
const CLEAN: &str =
    "FROM node:20.11 AS deps\nWORKDIR /app\nCOPY package.json package-lock.json ./\n\
                     RUN npm ci\nCOPY . .\nRUN npm run build\n\
                     FROM node:20.11-slim AS final\nCOPY --from=deps /app/dist /app\n";

/// One warning: `npm ci` (line 4) after `COPY . .` (line 3).
const BROAD_COPY: &str = "FROM node:20.11 AS app\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";

/// One error: a token in an ENV (line 2).
const SECRET: &str = "FROM alpine:3.19\nENV NPM_TOKEN=abc\n";

const SPEC: &str = "image: localhost:5000/team/app\ntags: [v1]\n";

fn json(out: &Output) -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(&out.stdout)
        .unwrap_or_else(|e| panic!("not a JSON list ({e}):\n{}", out.stdout))
}

#[test]
fn a_clean_dockerfile_exits_0_and_prints_nothing() {
    Test::new()
        .dockerfile(CLEAN)
        .args(&["lint"])
        .success()
        .stdout_is("")
        .run();
}

#[test]
fn a_warning_exits_1_with_the_finding_and_its_fix() {
    Test::new()
        .dockerfile(BROAD_COPY)
        .args(&["lint"])
        .status(1)
        .stdout_starts_with("Dockerfile:4 warning LC001 `npm ci` runs after `COPY . .` (line 3)")
        .stdout_has("\n  fix: copy only package.json")
        .stderr_has("1 finding at or above --fail-level warning")
        .run();
}

#[test]
fn fail_level_decides_what_fails() {
    let warning = Test::new().dockerfile(BROAD_COPY);
    warning
        .clone()
        .args(&["lint", "--fail-level", "error"])
        .success()
        // Still reported.
        .stdout_has("LC001")
        .run();

    let error = Test::new().dockerfile(SECRET);
    error
        .clone()
        .args(&["lint", "--fail-level", "error"])
        .status(1)
        .stdout_starts_with("Dockerfile:2 error LC008")
        .run();
    error
        .args(&["lint", "--fail-level", "none"])
        .success()
        .run();
    warning
        .args(&["lint", "--fail-level", "bogus"])
        .status(2)
        .run();
}

#[test]
fn bad_input_exits_2() {
    Test::new()
        .args(&["lint"])
        .status(2)
        .stderr_has("Dockerfile: cannot read the Dockerfile")
        .stderr_has("layercache lint path/to/Dockerfile")
        .run();
    Test::new()
        .args(&["lint", "nowhere/Dockerfile"])
        .status(2)
        .run();
    Test::new()
        .dockerfile("RUN echo before any FROM\n")
        .args(&["lint"])
        .status(2)
        .stderr_has("Dockerfile:1")
        .run();
}

#[test]
fn json_lists_findings_with_exactly_the_documented_fields() {
    let out = Test::new()
        .dockerfile(BROAD_COPY)
        .args(&["lint", "--format", "json"])
        .status(1)
        .run();
    let list = json(&out);
    assert_eq!(list.len(), 1, "{}", out.stdout);
    let finding = list[0].as_object().unwrap();
    let mut keys: Vec<&str> = finding.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["file", "fix", "line", "message", "rule", "severity"]);
    assert_eq!(finding["file"], "Dockerfile");
    assert_eq!(finding["rule"], "LC001");
    assert_eq!(finding["severity"], "warning");
    assert_eq!(finding["line"], 4);

    let clean = Test::new()
        .dockerfile(CLEAN)
        .args(&["lint", "--format", "json"])
        .success()
        .run();
    assert!(json(&clean).is_empty());
}

#[test]
fn gitlab_report_has_the_required_fields() {
    let t = Test::new()
        .dockerfile(&format!("{BROAD_COPY}ENV API_KEY=x\n"))
        .args(&["lint", "--format", "gitlab"]);
    let out = t.clone().status(1).run();
    let list = json(&out);
    assert_eq!(list.len(), 2, "{}", out.stdout);
    for issue in &list {
        for field in ["description", "check_name", "fingerprint", "severity"] {
            assert!(issue[field].is_string(), "{field} in {issue}");
        }
        assert_eq!(issue["location"]["path"], "Dockerfile");
        assert!(issue["location"]["lines"]["begin"].is_u64(), "{issue}");
    }
    assert_eq!(list[0]["check_name"], "LC001");
    assert_eq!(list[0]["severity"], "major");
    assert_eq!(list[1]["check_name"], "LC008");
    assert_eq!(list[1]["severity"], "blocker");
    assert_ne!(list[0]["fingerprint"], list[1]["fingerprint"]);
    // Stable across runs, so GitLab can match findings between pipelines.
    assert_eq!(json(&t.run()), list);
}

#[test]
fn with_a_spec_lint_reads_its_dockerfile_and_context() {
    let out = Test::new()
        .file("app/Dockerfile.app", CLEAN)
        .file("app/.git/HEAD", "ref: refs/heads/main\n")
        .spec("image: localhost:5000/team/app\ndockerfile: app/Dockerfile.app\ncontext: app\n")
        .args(&["lint", "--format", "json"])
        .status(1)
        .run();
    let list = json(&out);
    assert_eq!(list.len(), 1, "{}", out.stdout);
    assert_eq!(list[0]["rule"], "LC002");
    assert_eq!(list[0]["file"], "app/Dockerfile.app");
    assert_eq!(list[0]["line"], 5, "points at the COPY . .");

    // A .dockerignore in the context settles it.
    Test::new()
        .file("app/Dockerfile.app", CLEAN)
        .file("app/.git/HEAD", "ref: refs/heads/main\n")
        .file("app/.dockerignore", ".git\n")
        .spec("image: localhost:5000/team/app\ndockerfile: app/Dockerfile.app\ncontext: app\n")
        .args(&["lint"])
        .success()
        .run();
}

#[test]
fn a_dockerfile_given_on_the_command_line_has_its_folder_as_context() {
    let t = Test::new()
        .dockerfile(BROAD_COPY)
        .file("svc/Dockerfile", CLEAN)
        .file("svc/node_modules/x/index.js", "")
        .spec(SPEC);
    t.clone()
        .args(&["lint", "svc/Dockerfile"])
        .status(1)
        .stdout_starts_with("svc/Dockerfile:5 warning LC002")
        .stdout_has("node_modules")
        // The spec's Dockerfile is not read.
        .stdout_lacks("LC001")
        .run();

    // BuildKit's Dockerfile-specific ignore file counts as a .dockerignore.
    t.file("svc/Dockerfile.dockerignore", "node_modules\n")
        .args(&["lint", "svc/Dockerfile"])
        .success()
        .run();
}

#[test]
fn build_prints_lint_warnings_first_and_never_fails_on_them() {
    let t = Test::new()
        .dockerfile(&format!("{BROAD_COPY}ENV NPM_TOKEN=x\n"))
        .spec(SPEC);
    let out = t
        .clone()
        .args(&["build"])
        .success()
        .stderr_has("lint: Dockerfile:4 warning LC001 `npm ci` runs after `COPY . .`")
        .stderr_has("lint: Dockerfile:5 error LC008")
        .stderr_has("lint:   fix: ")
        .run();
    let lint_at = out.stderr.find("lint: ").unwrap();
    let build_at = out.stderr.find("[1/").expect("a step header");
    assert!(lint_at < build_at, "lint comes first:\n{}", out.stderr);
    assert!(
        out.lines().iter().any(|l| l.starts_with("build ")),
        "the build ran"
    );

    t.clone()
        .args(&["build", "--no-lint"])
        .success()
        .stderr_lacks("lint:")
        .run();
    // plan does not lint.
    t.args(&["plan"]).success().stderr_lacks("lint:").run();
}

#[test]
fn build_leaves_unnamed_stages_to_the_planner() {
    Test::new()
        .dockerfile(
            "FROM alpine:3.19\nRUN echo x\nFROM alpine:3.19 AS final\nCOPY --from=0 /x /x\n",
        )
        .spec(SPEC)
        .args(&["build", "--dry-run"])
        .success()
        .stderr_lacks("LC006")
        .stderr_has("has no name")
        .run();
}

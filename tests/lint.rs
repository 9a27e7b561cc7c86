//! `layercache lint` as a user runs it: which Dockerfile it reads, its formats, its exit codes,
//! and the `lint:` lines `build` prints first.

use crate::support::{Output, Test};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

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

// ----- SARIF (issue 15), checked by Microsoft's SARIF validator

/// The SARIF log on stdout.
fn sarif(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout))
}

/// Microsoft's SARIF validator: the program in npm's @microsoft/sarif-multitool (scripts/test.sh
/// installs it), found beside its `sarif-multitool` command. That command is a node wrapper
/// that runs the program through a shell, which would split the `;` lists `validate` takes, so
/// the program is run directly. Missing: under CI a failure, elsewhere a printed skip.
fn sarif_validator() -> Option<PathBuf> {
    let platform = if cfg!(target_os = "macos") {
        "darwin"
    } else {
        "linux"
    };
    let found = which::which("sarif-multitool")
        .ok()
        .and_then(|wrapper| std::fs::canonicalize(wrapper).ok())
        .and_then(|wrapper| {
            let package = wrapper.parent()?.to_path_buf();
            let native = format!("sarif-multitool-{platform}/Sarif.Multitool");
            // Nested under the wrapper's package, or beside it when npm hoisted it.
            [
                package.join("node_modules/@microsoft").join(&native),
                package.parent()?.join(&native),
            ]
            .into_iter()
            .find(|p| p.is_file())
        });
    if found.is_none() {
        let hint = "scripts/test.sh installs it: npm install -g @microsoft/sarif-multitool";
        if std::env::var_os("CI").is_some() {
            panic!(
                "Microsoft's SARIF validator is missing, and under CI it must run\n  hint: {hint}"
            );
        }
        eprintln!("skipped: the SARIF validator is not installed, SARIF not validated ({hint})");
    }
    found
}

/// One thing the validator says of a file.
#[derive(Debug)]
struct Complaint {
    /// The file's URI, as the validator names it.
    file: String,
    rule: String,
    /// `error`, `warning` or `note`.
    level: String,
    /// The validator's line for it (`file(line,col): level RULE: text`).
    text: String,
}

impl Complaint {
    fn serious(&self) -> bool {
        self.level == "error" || self.level == "warning"
    }

    fn about(&self, file: &Path) -> bool {
        self.file
            .ends_with(&*file.file_name().unwrap().to_string_lossy())
    }
}

/// What the validator says of the files, in one run: every complaint of SARIF's rules and
/// GitHub's, notes included, read from its own SARIF log (its exit status is 0 whatever it
/// finds). `None` when it is missing outside CI.
fn validate_sarif(files: &[PathBuf]) -> Option<Vec<Complaint>> {
    let validator = sarif_validator()?;
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("validation.sarif");
    let out = std::process::Command::new(&validator)
        .arg("validate")
        .args(["--level", "Error;Warning;Note"])
        // SARIF's own rules and GitHub's (what code scanning requires).
        .args(["--rule-kind", "Sarif;Gh"])
        .args(["--log", "ForceOverwrite"])
        .arg("--output")
        .arg(&log)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", validator.display()));
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the validator failed:\n{console}");
    let text = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("the validator wrote no log ({e}):\n{console}"));
    let log: Value = serde_json::from_str(&text).expect("the validator's log is JSON");
    let results = log["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let complaints = results
        .iter()
        .map(|r| {
            let file = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let rule = r["ruleId"].as_str().unwrap_or_default().to_string();
            let level = r["level"].as_str().unwrap_or("warning").to_string();
            // The log has the message as an id and arguments; the console has its text.
            let name = Path::new(&file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            let text = console
                .lines()
                .find(|l| {
                    l.contains(&format!(" {level} {rule}: "))
                        && name.as_ref().is_some_and(|n| l.contains(n.as_str()))
                })
                .unwrap_or_default()
                .to_string();
            Complaint {
                file,
                rule,
                level,
                text,
            }
        })
        .collect();
    Some(complaints)
}

#[test]
fn sarif_exits_as_the_other_formats_do() {
    let out = Test::new()
        .dockerfile(BROAD_COPY)
        .args(&["lint", "--format", "sarif"])
        .status(1)
        .stderr_has("1 finding at or above --fail-level warning")
        .run();
    let log = sarif(&out);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{}", out.stdout);
    assert_eq!(results[0]["ruleId"], "LC001");
    let location = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "Dockerfile");
    assert_eq!(location["region"]["startLine"], 4);
    assert_eq!(location["region"]["snippet"]["text"], "RUN npm ci");

    Test::new()
        .dockerfile(BROAD_COPY)
        .args(&["lint", "--format", "sarif", "--fail-level", "error"])
        .success()
        .stdout_has("\"ruleId\": \"LC001\"")
        .run();

    // A clean Dockerfile: every rule described, no result.
    let clean = Test::new()
        .dockerfile(CLEAN)
        .args(&["lint", "--format", "sarif"])
        .success()
        .run();
    let log = sarif(&clean);
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[test]
fn sarif_names_the_spec_dockerfiles_from_the_working_directory() {
    let t = Test::new()
        .file("app/Dockerfile.app", SECRET)
        .spec("image: localhost:5000/team/app\ndockerfile: app/Dockerfile.app\ncontext: app\n");
    let out = t
        .clone()
        .args(&["lint", "--format", "sarif"])
        .status(1)
        .run();
    let log = sarif(&out);
    let location = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "app/Dockerfile.app");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    let root = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap()
        .to_string();
    let cwd = std::fs::canonicalize(t.path()).unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    // The same folder, however the temporary folder's path is spelled.
    assert!(
        root.trim_end_matches('/')
            .ends_with(&*cwd.file_name().unwrap().to_string_lossy()),
        "{root} is not {}",
        cwd.display()
    );

    // A Dockerfile outside the working directory: an absolute file URI.
    let outside = tempfile::tempdir().unwrap();
    let path = outside.path().join("Dockerfile");
    std::fs::write(&path, SECRET).unwrap();
    let out = t
        .args(&["lint", "--format", "sarif", path.to_str().unwrap()])
        .status(1)
        .run();
    let location = &sarif(&out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"],
        serde_json::json!({"uri": format!("file://{}", path.display())})
    );
}

/// Every Dockerfile of the corpus (tests/fixtures/dockerfiles: Docker's, official images',
/// applications'), linted as SARIF from the folder holding it, passes Microsoft's validator
/// with SARIF's and GitHub's rules: no error or warning, only notes.
#[test]
fn sarif_of_the_corpus_passes_the_sarif_validator() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerfiles");
    let mut names: Vec<String> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".md"))
        .collect();
    names.sort();
    assert!(names.len() >= 60, "{names:?}");
    let mut t = Test::new();
    for name in &names {
        t = t.file(
            &format!("corpus/{name}"),
            std::fs::read(corpus.join(name)).unwrap(),
        );
    }
    let logs = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut clean = None;
    let mut results = 0;
    let mut rules = HashSet::new();
    for name in &names {
        let file = format!("corpus/{name}");
        let out = t
            .clone()
            .args(&["lint", "--format", "sarif", "--fail-level", "none", &file])
            .success()
            .run();
        let log = sarif(&out);
        let text = std::fs::read_to_string(t.path().join(&file)).unwrap_or_default();
        for result in log["runs"][0]["results"].as_array().unwrap() {
            results += 1;
            rules.insert(result["ruleId"].as_str().unwrap().to_string());
            let location = &result["locations"][0]["physicalLocation"];
            assert_eq!(location["artifactLocation"]["uri"], file.as_str());
            let line = location["region"]["startLine"].as_u64().unwrap() as usize;
            if let Some(snippet) = location["region"]["snippet"]["text"].as_str() {
                let actual = text.split('\n').nth(line - 1).unwrap();
                assert_eq!(
                    snippet,
                    actual.trim_end_matches('\r').trim_start_matches('\u{feff}')
                );
            }
        }
        // The validator takes a quarter of a second per file: the logs with results, and
        // one without (they differ only in the file names), are validated.
        let has_results = log["runs"][0]["results"]
            .as_array()
            .is_some_and(|r| !r.is_empty());
        if has_results || clean.is_none() {
            let path = logs.path().join(format!("{name}.sarif"));
            std::fs::write(&path, &out.stdout).unwrap();
            if !has_results {
                clean = Some(path.clone());
            }
            files.push(path);
        }
    }
    // The corpus has findings of most rules (LC002 needs a context folder's contents).
    assert!(results >= 30, "{results} results");
    assert!(rules.len() >= 7, "{rules:?}");

    let Some(complaints) = validate_sarif(&files) else {
        return;
    };
    assert!(
        clean.is_some(),
        "the corpus has a Dockerfile without findings"
    );
    let serious: Vec<&Complaint> = complaints.iter().filter(|c| c.serious()).collect();
    assert!(
        serious.is_empty(),
        "the SARIF validator rejects the output:\n{serious:#?}"
    );
    let mut notes: Vec<&str> = complaints.iter().map(|c| c.rule.as_str()).collect();
    notes.sort_unstable();
    notes.dedup();
    eprintln!(
        "SARIF validator: {} files, {results} results, no error or warning; {} notes ({})",
        files.len(),
        complaints.len(),
        notes.join(", ")
    );
}

/// A change to a SARIF log that makes it invalid.
type Breakage = fn(&mut Value);

/// The validator does fail what it should: each breakage of a real log is an error.
#[test]
fn the_sarif_validator_rejects_broken_logs() {
    let out = Test::new()
        .dockerfile(&format!("{BROAD_COPY}ENV NPM_TOKEN=x\n"))
        .args(&["lint", "--format", "sarif"])
        .status(1)
        .run();
    let good = sarif(&out);
    // Each: a name, what is broken, and the validator's rule that must say so.
    let broken: [(&str, Breakage, &str); 5] = [
        (
            "line-0",
            |l| {
                l["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
                    ["startLine"] = 0.into()
            },
            "JSON1008",
        ),
        (
            "no-locations",
            |l| {
                l["runs"][0]["results"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("locations");
            },
            "GH1015",
        ),
        (
            "rule-index",
            |l| l["runs"][0]["results"][0]["ruleIndex"] = 42.into(),
            "SARIF1009",
        ),
        ("version", |l| l["version"] = "2.0.0".into(), "JSON1019"),
        (
            "absolute-with-base",
            |l| {
                l["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
                    ["uri"] = "file:///abs/Dockerfile".into()
            },
            "SARIF1004",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let good_path = dir.path().join("good.sarif");
    std::fs::write(&good_path, &out.stdout).unwrap();
    let mut files = vec![good_path.clone()];
    for (name, breakage, _) in &broken {
        let mut log = good.clone();
        breakage(&mut log);
        let path = dir.path().join(format!("{name}.sarif"));
        std::fs::write(&path, serde_json::to_string_pretty(&log).unwrap()).unwrap();
        files.push(path);
    }
    // Not JSON at all.
    let truncated = dir.path().join("truncated.sarif");
    std::fs::write(&truncated, &out.stdout[..out.stdout.len() / 2]).unwrap();
    files.push(truncated);

    let Some(complaints) = validate_sarif(&files) else {
        return;
    };
    let of =
        |file: &Path| -> Vec<&Complaint> { complaints.iter().filter(|c| c.about(file)).collect() };
    assert!(
        of(&good_path).iter().all(|c| !c.serious()),
        "{:#?}",
        of(&good_path)
    );
    let expected = broken
        .iter()
        .map(|(name, _, rule)| (format!("{name}.sarif"), *rule))
        .chain([("truncated.sarif".to_string(), "JSON0001")]);
    for (name, rule) in expected {
        let said = of(&dir.path().join(&name));
        assert!(
            said.iter().any(|c| c.rule == rule && c.level == "error"),
            "{name}: no {rule} error in {said:#?}"
        );
        eprintln!(
            "{name}: {}",
            said.iter()
                .filter(|c| c.serious())
                .map(|c| c.text.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
}

/// The README's code scanning example is a valid GitHub workflow (check-jsonschema's copy of
/// its schema) that uploads the log `lint --format sarif` writes, even when lint fails.
#[test]
fn the_readme_code_scanning_example_is_a_valid_workflow() {
    let readme = include_str!("../README.md");
    let block = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("\n```").next())
        .find(|b| b.contains("upload-sarif"))
        .expect("the README has a code scanning example");
    let workflow: serde_yaml::Value = serde_yaml::from_str(block).expect("YAML");
    let steps = workflow["jobs"]["lint"]["steps"]
        .as_sequence()
        .expect("steps");
    let lint = steps
        .iter()
        .find_map(|s| {
            s["run"]
                .as_str()
                .filter(|r| r.starts_with("layercache lint"))
        })
        .expect("a lint step");
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("an upload step");
    let file = upload["with"]["sarif_file"].as_str().unwrap();
    assert_eq!(lint, format!("layercache lint --format sarif > {file}"));
    assert_eq!(upload["if"].as_str(), Some("always()"));
    assert_eq!(
        workflow["permissions"]["security-events"].as_str(),
        Some("write")
    );
    crate::ci_config::validate(
        "github",
        &[("code-scanning".to_string(), block.to_string())],
    );
}

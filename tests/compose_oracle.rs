//! The Compose reader against the real tool: every case of `tests/fixtures/compose` is resolved
//! by `layercache::input::compose` and its build-relevant fields compared with what
//! `docker compose config --format json` printed, recorded from compose 2.40 and 2.26 by
//! `scripts/record-compose-oracle.sh`; and, when `LAYERCACHE_COMPOSE_BIN` names a compose
//! binary, with what that binary prints now (skipped with a message otherwise).
//!
//! A case's `case.yaml` (see the script) says how compose is invoked. Where the two versions
//! differ, `follows:` names the one the reader agrees with; the other is checked to differ.

use layercache::input::compose::{self, Project, Request, ServiceBuild};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const VERSIONS: [&str; 2] = ["2.40", "2.26"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose")
}

/// One corpus case: its folder and its `case.yaml`.
struct Case {
    name: String,
    dir: PathBuf,
    spec: BTreeMap<String, String>,
}

impl Case {
    fn all() -> Vec<Case> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus())
            .expect("the corpus folder")
            .map(|e| e.expect("a corpus entry").path())
            .filter(|p| p.join("case.yaml").is_file())
            .collect();
        dirs.sort();
        dirs.into_iter()
            .map(|dir| {
                let text = std::fs::read_to_string(dir.join("case.yaml")).unwrap();
                let spec: BTreeMap<String, serde_yaml::Value> = serde_yaml::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}/case.yaml: {e}", dir.display()));
                let spec = spec
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            serde_yaml::Value::String(s) => s,
                            other => serde_yaml::to_string(&other).unwrap().trim().to_string(),
                        };
                        (k, v)
                    })
                    .collect();
                Case {
                    name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                    dir,
                    spec,
                }
            })
            .collect()
    }

    /// A space-separated list of `case.yaml` (never glob-expanded).
    fn list(&self, key: &str) -> Vec<String> {
        self.spec
            .get(key)
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.spec.get(key).map(String::as_str)
    }

    fn working_dir(&self) -> PathBuf {
        match self.get("workdir") {
            Some(w) => self.dir.join(w),
            None => self.dir.clone(),
        }
    }

    fn env(&self) -> BTreeMap<String, String> {
        self.list("env")
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), String::new()),
            })
            .collect()
    }

    fn request(&self) -> Request {
        Request {
            working_dir: self.working_dir(),
            files: self.list("files").iter().map(PathBuf::from).collect(),
            profiles: self.list("profiles"),
            env: self.env(),
            project_name: self.get("project_name").map(str::to_string),
            project_dir: self.get("project_directory").map(PathBuf::from),
            env_files: self.list("env_files").iter().map(PathBuf::from).collect(),
        }
    }

    /// The error text compose must give for `version`, when it must fail.
    fn expected_error(&self, version: &str) -> Option<&str> {
        self.get(&format!("error-{version}"))
            .or_else(|| self.get("error"))
    }
}

/// What compose said: its JSON (normalised, see `normalise_strings`) or its error text.
enum Oracle {
    Json(Value),
    Error(String),
}

fn recorded(case: &Case, version: &str) -> Oracle {
    let json = case.dir.join(format!("expected-{version}.json"));
    let error = case.dir.join(format!("expected-error-{version}.txt"));
    let case_dir = case.dir.display().to_string();
    if let Ok(text) = std::fs::read_to_string(&json) {
        let mut v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", json.display()));
        normalise_strings(&mut v, &case_dir);
        Oracle::Json(v)
    } else {
        let text = std::fs::read_to_string(&error).unwrap_or_else(|_| {
            panic!(
                "{}: neither {} nor {}: run scripts/record-compose-oracle.sh {}",
                case.name,
                json.display(),
                error.display(),
                case.name
            )
        });
        Oracle::Error(text)
    }
}

/// Normalisations of compose's output, applied to every string in it:
/// - `@CASE@` is the case folder: the recording script writes it for the absolute path
///   compose prints, so recordings do not depend on the checkout's place;
/// - `$$` is `$`: compose escapes every `$` of a resolved value when it prints the model
///   (so the output can be read again), the reader returns the values themselves.
fn normalise_strings(v: &mut Value, case_dir: &str) {
    match v {
        Value::String(s) => *s = s.replace("@CASE@", case_dir).replace("$$", "$"),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| normalise_strings(i, case_dir)),
        Value::Object(m) => m.values_mut().for_each(|i| normalise_strings(i, case_dir)),
        _ => {}
    }
}

/// The build-relevant part of compose's JSON, in one shape shared with `ours`. Left out as
/// not build-relevant: networks, volumes, `command`/`entrypoint` (compose adds `null`s), every
/// runtime key, and a secret's generated `name` (`{project}_{secret}`). Defaults compose fills
/// in (`dockerfile: Dockerfile`, `context` as the project folder) the reader fills in too, so
/// they are compared, not normalised away. Keys compose leaves out when false or empty
/// (`pull`, `no_cache`, lists) are read as false or empty.
fn theirs(model: &Value) -> Value {
    let mut builds = Map::new();
    let mut images = Map::new();
    let empty = Map::new();
    for (name, service) in model["services"].as_object().unwrap_or(&empty) {
        let build = &service["build"];
        if build.is_object() {
            let list = |k: &str| build.get(k).cloned().unwrap_or_else(|| json!([]));
            let map = |k: &str| build.get(k).cloned().unwrap_or_else(|| json!({}));
            let text = |k: &str| build.get(k).cloned().unwrap_or(Value::Null);
            builds.insert(
                name.clone(),
                json!({
                    "image": service.get("image").cloned().unwrap_or(Value::Null),
                    "platform": service.get("platform").cloned().unwrap_or(Value::Null),
                    "context": text("context"),
                    "dockerfile": text("dockerfile"),
                    "dockerfile_inline": text("dockerfile_inline"),
                    "args": map("args"),
                    "target": text("target"),
                    "cache_from": list("cache_from"),
                    "cache_to": list("cache_to"),
                    "tags": list("tags"),
                    "platforms": list("platforms"),
                    "labels": map("labels"),
                    "secrets": list("secrets"),
                    "ssh": list("ssh"),
                    "network": text("network"),
                    // `host=address`, sorted by host (compose's order), addresses as given.
                    "extra_hosts": list("extra_hosts"),
                    // Bytes, printed by compose as a string.
                    "shm_size": build.get("shm_size").and_then(|s| s.as_str()).map(|s| s.parse::<u64>().unwrap()),
                    "additional_contexts": map("additional_contexts"),
                    "pull": build.get("pull").cloned().unwrap_or(json!(false)),
                    "no_cache": build.get("no_cache").cloned().unwrap_or(json!(false)),
                }),
            );
        } else if let Some(image) = service.get("image") {
            images.insert(name.clone(), image.clone());
        }
    }
    let mut secrets = Map::new();
    for (name, def) in model["secrets"].as_object().unwrap_or(&empty) {
        let source = if let Some(f) = def.get("file") {
            json!({"file": f})
        } else if let Some(e) = def.get("environment") {
            json!({"environment": e})
        } else {
            json!({})
        };
        secrets.insert(name.clone(), source);
    }
    json!({"name": model["name"], "builds": builds, "images": images, "secrets": secrets})
}

/// The reader's project in the shape of `theirs`.
fn ours(project: &Project) -> Value {
    let build = |b: &ServiceBuild| {
        let secrets: Vec<Value> = b
            .secrets
            .iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("source".into(), json!(s.source));
                for (k, v) in [
                    ("target", &s.target),
                    ("uid", &s.uid),
                    ("gid", &s.gid),
                    ("mode", &s.mode),
                ] {
                    if let Some(v) = v {
                        m.insert(k.into(), json!(v));
                    }
                }
                Value::Object(m)
            })
            .collect();
        let hosts: Vec<String> = b
            .extra_hosts
            .iter()
            .flat_map(|(h, ips)| ips.iter().map(move |ip| format!("{h}={ip}")))
            .collect();
        json!({
            "image": b.image,
            "platform": b.platform,
            "context": b.context,
            "dockerfile": b.dockerfile,
            "dockerfile_inline": b.dockerfile_inline,
            "args": b.args,
            "target": b.target,
            "cache_from": b.cache_from,
            "cache_to": b.cache_to,
            "tags": b.tags,
            "platforms": b.platforms,
            "labels": b.labels,
            "secrets": secrets,
            "ssh": b.ssh,
            "network": b.network,
            "extra_hosts": hosts,
            "shm_size": b.shm_size,
            "additional_contexts": b.additional_contexts,
            "pull": b.pull,
            "no_cache": b.no_cache,
        })
    };
    let builds: Map<String, Value> = project
        .builds
        .iter()
        .map(|b| (b.service.clone(), build(b)))
        .collect();
    let secrets: Map<String, Value> = project
        .secrets
        .iter()
        .map(|(name, source)| {
            let v = match source {
                compose::SecretSource::File(f) => json!({"file": f.display().to_string()}),
                compose::SecretSource::Environment(e) => json!({"environment": e}),
                compose::SecretSource::Other => json!({}),
            };
            (name.clone(), v)
        })
        .collect();
    json!({"name": project.name, "builds": builds, "images": project.images, "secrets": secrets})
}

/// Compares the reader's outcome with compose's for one case; the failure, if any, as text.
fn check(
    case: &Case,
    version: &str,
    oracle: &Oracle,
    result: &Result<Project, compose::ComposeError>,
) -> Option<String> {
    if let Some(follows) = case.get("follows") {
        if follows != version {
            // A known difference between the versions: the reader follows the other one.
            let other = recorded(case, follows);
            let same = match (oracle, &other) {
                (Oracle::Json(a), Oracle::Json(b)) => theirs(a) == theirs(b),
                (Oracle::Error(_), Oracle::Error(_)) => true,
                _ => false,
            };
            return same.then(|| {
                format!("{}: says it follows {follows}, but {version} no longer differs; remove `follows:`", case.name)
            });
        }
    }
    match (oracle, result) {
        (Oracle::Error(text), _) if case.get("compose_fails").is_some() => {
            let bug = case.get("compose_fails").unwrap();
            if !text.contains(bug) {
                return Some(format!(
                    "{} ({version}): compose failed otherwise than `{bug}`: {text}",
                    case.name
                ));
            }
            result.as_ref().err().map(|e| {
                format!(
                    "{} ({version}): compose's bug aside, the reader should read it: {e}",
                    case.name
                )
            })
        }
        (Oracle::Error(text), Ok(_)) => Some(format!(
            "{} ({version}): compose failed and the reader did not; compose said: {text}",
            case.name
        )),
        (Oracle::Error(text), Err(e)) => {
            let wanted = case.expected_error(version).unwrap_or("");
            let ours = e.to_string();
            (!ours.to_lowercase().contains(&wanted.to_lowercase())).then(|| {
                format!(
                    "{} ({version}): both fail, but the reader's message does not say `{wanted}`:\n  ours: {ours}\n  compose: {text}",
                    case.name
                )
            })
        }
        (Oracle::Json(_), Err(e)) => Some(format!(
            "{} ({version}): the reader failed where compose did not: {e}",
            case.name
        )),
        (Oracle::Json(model), Ok(project)) => {
            let (theirs, ours) = (theirs(model), ours(project));
            (theirs != ours).then(|| {
                format!(
                    "{} ({version}): the models differ\n  compose: {}\n  reader:  {}",
                    case.name,
                    serde_json::to_string(&theirs).unwrap(),
                    serde_json::to_string(&ours).unwrap()
                )
            })
        }
    }
}

#[test]
fn the_corpus_has_the_cases_the_issue_asks_for() {
    let cases = Case::all();
    assert!(cases.len() >= 24, "{} cases", cases.len());
    for case in &cases {
        for version in VERSIONS {
            // Panics when a recording is missing.
            let _ = recorded(case, version);
        }
    }
}

#[test]
fn the_reader_agrees_with_the_recorded_compose_2_40_and_2_26() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in Case::all() {
        let result = compose::load(&case.request());
        for version in VERSIONS {
            compared += 1;
            if let Some(f) = check(&case, version, &recorded(&case, version), &result) {
                failures.push(f);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} comparisons failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The version of a compose binary, as `2.40` (major.minor).
fn binary_version(bin: &str) -> Option<String> {
    let out = Command::new(bin)
        .arg("version")
        .arg("--short")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().trim_start_matches('v').split('.');
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

#[test]
fn the_reader_agrees_with_a_live_compose() {
    let Ok(bin) = std::env::var("LAYERCACHE_COMPOSE_BIN") else {
        eprintln!(
            "skipped: LAYERCACHE_COMPOSE_BIN is not set (e.g. \
             LAYERCACHE_COMPOSE_BIN=$(scripts/record-compose-oracle.sh print-bin 2.40))"
        );
        return;
    };
    let version = binary_version(&bin).unwrap_or_else(|| panic!("{bin} version failed"));
    let home = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let cases = Case::all();
    eprintln!(
        "comparing {} cases with compose {version} ({bin})",
        cases.len()
    );
    for case in cases {
        let mut cmd = Command::new(&bin);
        for f in case.list("files") {
            cmd.args(["-f", &f]);
        }
        for p in case.list("profiles") {
            cmd.args(["--profile", &p]);
        }
        for e in case.list("env_files") {
            cmd.args(["--env-file", &e]);
        }
        if let Some(d) = case.get("project_directory") {
            cmd.args(["--project-directory", d]);
        }
        if let Some(n) = case.get("project_name") {
            cmd.args(["-p", n]);
        }
        cmd.args(["config", "--format", "json"])
            .current_dir(case.working_dir())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home.path())
            .env("DOCKER_CONFIG", home.path().join("docker"))
            .envs(case.env());
        let out = cmd.output().unwrap_or_else(|e| panic!("{bin}: {e}"));
        let oracle = if out.status.success() {
            let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
            // Live output holds the real path already; only `$$` needs undoing.
            normalise_strings(&mut v, &case.dir.display().to_string());
            Oracle::Json(v)
        } else {
            Oracle::Error(String::from_utf8_lossy(&out.stderr).into_owned())
        };
        let result = compose::load(&case.request());
        if let Some(f) = check(&case, &version, &oracle, &result) {
            failures.push(f);
        }
    }
    assert!(
        failures.is_empty(),
        "compose {version} ({bin}):\n\n{}",
        failures.join("\n\n")
    );
}

#[test]
#[ignore = "prints the reader's messages for the failing cases, to read them"]
fn show_errors() {
    for case in Case::all() {
        match compose::load(&case.request()) {
            Err(e) => eprintln!("== {}\n{e}\n", case.name),
            Ok(p) if !p.warnings.is_empty() || !p.unsupported.is_empty() => {
                eprintln!("== {} (ok)", case.name);
                for w in &p.warnings {
                    eprintln!("warning: {w}");
                }
                for u in &p.unsupported {
                    eprintln!("unsupported: {u}");
                }
                eprintln!();
            }
            Ok(_) => {}
        }
    }
}

#[test]
fn every_corpus_file_reads_as_compose_and_no_layercache_spec_does() {
    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && path.file_name().is_some_and(|n| n != "case.yaml")
            {
                out.push(path);
            }
        }
    }
    let mut compose_files = Vec::new();
    yaml_files(&corpus(), &mut compose_files);
    assert!(compose_files.len() > 80, "{}", compose_files.len());
    for f in &compose_files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(compose::looks_like_compose(&text), "{}", f.display());
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for spec in ["single-stage/layercache.yml", "multi-stage/layercache.yml"] {
        let text = std::fs::read_to_string(examples.join(spec)).unwrap();
        assert!(!compose::looks_like_compose(&text), "{spec}");
    }
}

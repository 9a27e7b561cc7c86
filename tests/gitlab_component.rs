//! layercache's GitLab CI/CD component (templates/layercache.yml): its `spec:` header, its jobs
//! validated against GitLab's schema, and the jobs it yields with inputs substituted equal to
//! what `layercache ci gitlab` writes; and the `include:` that `layercache ci gitlab
//! --component` prints.

use crate::ci_config::validate;
use crate::support::Test;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeSet;

const TEMPLATE: &str = include_str!("../templates/layercache.yml");
const VERSION: &str = env!("CARGO_PKG_VERSION");
const INPUTS: [&str; 6] = [
    "stage",
    "spec",
    "docker_version",
    "dind_version",
    "layercache_version",
    "flags",
];

/// The header document (`spec:`) and the job document, as GitLab reads a component.
fn documents() -> (&'static str, &'static str) {
    TEMPLATE
        .split_once("\n---\n")
        .expect("a `spec:` document, `---`, then the jobs")
}

fn header_inputs() -> Mapping {
    let header: Value = serde_yaml::from_str(documents().0).expect("the header is YAML");
    header["spec"]["inputs"]
        .as_mapping()
        .expect("spec: inputs:")
        .clone()
}

/// The inputs' defaults, with `overrides` in their place.
fn inputs_with(overrides: &[(&str, &str)]) -> Vec<(String, String)> {
    header_inputs()
        .iter()
        .map(|(name, input)| {
            let name = name.as_str().unwrap().to_string();
            let value = overrides
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| input["default"].as_str().unwrap().to_string());
            (name, value)
        })
        .collect()
}

/// The job document with `$[[ inputs.NAME ]]` replaced as GitLab does: the value's text, in place.
fn substituted(inputs: &[(String, String)]) -> String {
    let mut jobs = documents().1.to_string();
    for (name, value) in inputs {
        jobs = jobs.replace(&format!("$[[ inputs.{name} ]]"), value);
    }
    assert!(!jobs.contains("$[["), "an input left: {jobs}");
    jobs
}

/// The `$[[ inputs.NAME ]]` names the jobs use.
fn used_inputs() -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut rest = documents().1;
    while let Some(at) = rest.find("$[[ inputs.") {
        rest = &rest[at + "$[[ inputs.".len()..];
        let end = rest.find(" ]]").expect("a closed interpolation");
        used.insert(rest[..end].to_string());
    }
    used
}

#[test]
fn the_header_declares_each_input_with_a_description_and_a_default() {
    let inputs = header_inputs();
    let names: Vec<&str> = inputs.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(names, INPUTS);
    for (name, input) in &inputs {
        let input = input.as_mapping().expect("an input is a mapping");
        let keys: BTreeSet<&str> = input.keys().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(keys, BTreeSet::from(["default", "description"]), "{name:?}");
        assert!(input[&Value::from("default")].is_string(), "{name:?}");
        assert!(
            input[&Value::from("description")]
                .as_str()
                .is_some_and(|d| d.len() > 20),
            "{name:?}"
        );
    }
    assert_eq!(
        inputs[&Value::from("layercache_version")]["default"].as_str(),
        Some(VERSION)
    );
    // Every input is used by the jobs, and the jobs use no other.
    assert_eq!(
        used_inputs(),
        INPUTS.iter().map(|s| s.to_string()).collect()
    );
    // GitLab's schema knows the header too (`spec:` alone in its document).
    validate(
        "gitlab",
        &[("component-header".to_string(), documents().0.to_string())],
    );
}

#[test]
fn the_jobs_are_valid_with_and_without_inputs_substituted() {
    validate(
        "gitlab",
        &[
            ("component-jobs".to_string(), documents().1.to_string()),
            (
                "component-defaults".to_string(),
                substituted(&inputs_with(&[])),
            ),
            (
                "component-inputs".to_string(),
                substituted(&inputs_with(&[
                    ("stage", "deploy"),
                    ("spec", "deploy/layercache.yml"),
                    ("docker_version", "27.3"),
                    ("dind_version", "27.3"),
                    ("flags", "--no-push --target app"),
                ])),
            ),
        ],
    );
}

/// A checkout with a spec at `deploy/` too.
fn checkout() -> Test {
    let spec = include_str!("../examples/multi-stage/layercache.yml");
    let dockerfile = include_str!("../examples/multi-stage/Dockerfile.multi");
    Test::new()
        .file(".git/HEAD", "ref: refs/heads/main\n")
        .spec(spec)
        .file("Dockerfile.multi", dockerfile)
        .file("deploy/layercache.yml", spec)
        .file("deploy/Dockerfile.multi", dockerfile)
}

/// `layercache ci gitlab ARGS` as YAML.
fn ci_gitlab(args: &[&str]) -> Value {
    let mut all = vec!["ci", "gitlab"];
    all.extend_from_slice(args);
    let out = checkout().args(&all).success().run();
    serde_yaml::from_str(&out.stdout).expect("YAML")
}

/// The component's jobs as `layercache ci gitlab` would write them: the spec it passes in
/// `LAYERCACHE_FILE` (the one variable it adds; empty means the default) becomes `-f`.
fn as_ci_writes_them(jobs: &str) -> Value {
    let mut yaml: Value = serde_yaml::from_str(jobs).expect("the jobs are YAML");
    let build = &mut yaml["build-image"];
    let file = build["variables"]
        .as_mapping_mut()
        .unwrap()
        .remove("LAYERCACHE_FILE")
        .expect("LAYERCACHE_FILE");
    let file = file.as_str().unwrap().to_string();
    if !file.is_empty() {
        let script = build["script"][0].as_str().unwrap().to_string();
        build["script"][0] = script
            .replacen("layercache ", &format!("layercache -f {file} "), 1)
            .into();
    }
    yaml
}

#[test]
fn with_its_defaults_the_component_yields_the_jobs_layercache_ci_writes() {
    assert_eq!(
        as_ci_writes_them(&substituted(&inputs_with(&[]))),
        ci_gitlab(&[])
    );
    assert_eq!(
        as_ci_writes_them(&substituted(&inputs_with(&[(
            "spec",
            "deploy/layercache.yml"
        )]))),
        ci_gitlab(&["-f", "deploy/layercache.yml"])
    );
}

#[test]
fn the_inputs_reach_the_jobs() {
    let jobs = substituted(&inputs_with(&[
        ("stage", "images"),
        ("docker_version", "27.3"),
        ("dind_version", "27.4"),
        ("layercache_version", "9.9.9"),
        ("flags", "--no-push --target app"),
    ]));
    let yaml: Value = serde_yaml::from_str(&jobs).unwrap();
    let build = &yaml["build-image"];
    assert_eq!(build["stage"].as_str(), Some("images"));
    assert_eq!(build["image"].as_str(), Some("docker:27.3"));
    assert_eq!(build["services"][0].as_str(), Some("docker:27.4-dind"));
    assert_eq!(
        build["script"][0].as_str(),
        Some("layercache build --no-push --target app")
    );
    let install = &yaml["layercache-install"];
    assert_eq!(install["cache"]["key"].as_str(), Some("layercache-9.9.9"));
    assert!(install["script"][0]
        .as_str()
        .unwrap()
        .contains("--version 9.9.9 "));
}

/// An empty `LAYERCACHE_FILE` (the component's default) is no `-f`; a set one is.
#[test]
fn layercache_file_names_the_spec_and_empty_means_the_default() {
    let t = checkout().env("LAYERCACHE_REGISTRY", "registry.example.com");
    t.clone()
        .env("LAYERCACHE_FILE", "")
        .args(&["plan"])
        .success()
        .stdout_has("from layercache.yml")
        .run();
    t.clone()
        .env("LAYERCACHE_FILE", "deploy/layercache.yml")
        .args(&["plan"])
        .success()
        .stdout_has("from deploy/layercache.yml")
        .run();
    t.env("LAYERCACHE_FILE", "nope.yml")
        .args(&["plan"])
        .status(2)
        .stderr_has("nope.yml")
        .run();
}

#[test]
fn ci_gitlab_component_prints_the_include() {
    let out = checkout()
        .args(&["ci", "gitlab", "--component"])
        .success()
        .run();
    let yaml: Value = serde_yaml::from_str(&out.stdout).unwrap();
    let include = &yaml["include"][0];
    assert_eq!(
        include["component"].as_str(),
        Some(format!("$CI_SERVER_FQDN/layercache/layercache/layercache@{VERSION}").as_str())
    );
    assert_eq!(include["inputs"]["stage"].as_str(), Some("build"));
    assert!(include["inputs"].get("spec").is_none());
    // The component's name is the template's file name, and every input it passes is declared.
    assert!(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/layercache.yml"
    ))
    .is_file());
    for name in include["inputs"].as_mapping().unwrap().keys() {
        assert!(header_inputs().contains_key(name), "{name:?}");
    }
    // The include from the project, commented for instances without the catalog.
    assert!(
        out.stdout
            .contains("#   - project: layercache/layercache\n")
            && out
                .stdout
                .contains("#     file: /templates/layercache.yml\n"),
        "{}",
        out.stdout
    );
    let project: String = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("# include:"))
        .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
        .collect();
    let with_spec = checkout()
        .args(&["ci", "gitlab", "--component", "-f", "deploy/layercache.yml"])
        .success()
        .stdout_has("      spec: deploy/layercache.yml\n")
        .run();
    validate(
        "gitlab",
        &[
            ("component-include".to_string(), out.stdout.clone()),
            ("project-include".to_string(), project),
            ("component-include-spec".to_string(), with_spec.stdout),
        ],
    );

    checkout()
        .args(&["ci", "github", "--component"])
        .status(2)
        .stderr_has("--component is for GitLab")
        .run();
    checkout()
        .args(&["ci", "gitlab", "--component", "--standalone"])
        .status(2)
        .run();
}

/// The README's includes of the component are valid for GitLab.
#[test]
fn the_readmes_includes_are_valid() {
    let includes: Vec<(String, String)> = crate::schema::readme_yaml()
        .into_iter()
        .filter(|(_, keys)| keys == &["include"])
        .enumerate()
        .map(|(i, (text, _))| (format!("readme-include-{i}"), text))
        .collect();
    assert_eq!(includes.len(), 2, "{includes:?}");
    validate("gitlab", &includes);
}

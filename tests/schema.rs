//! The JSON Schema of layercache.yml (schemas/layercache.schema.json) against the code that
//! reads the spec: the same keys as `spec::KEYS`, the README's descriptions and defaults, the
//! code's defaults and enums, the same verdict as `spec::parse` on examples of every type for
//! every key, the README's and examples/' specs valid, the bad-input catalogue's specs refused;
//! and the starter spec `layercache init` writes. Validated with check-jsonschema.

use crate::ci_config::validator;
use crate::support::Test;
use layercache::input::spec::{
    self, Overrides, PullPolicy, CACHE_EXPORT_OPTIONS, COMPOSE_FORM_KEYS, KEYS, SCHEMA_URL,
};
use layercache::plan::StrategyChoice;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schemas/layercache.schema.json"
);
const README: &str = include_str!("../README.md");

fn schema() -> Value {
    let text = std::fs::read_to_string(SCHEMA).expect("read the schema");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// The keys of one image, as the schema describes them.
fn properties() -> serde_json::Map<String, Value> {
    schema()["$defs"]["image"]["properties"]
        .as_object()
        .expect("$defs.image.properties")
        .clone()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Valid,
    /// Parsed, and refused by the schema.
    Invalid,
    /// Not YAML that check-jsonschema could load.
    Unparsable,
}

/// Each document's verdict under the schema, in one run of check-jsonschema; `None` when it is
/// not installed (outside CI).
fn schema_verdicts(docs: &[String]) -> Option<Vec<Verdict>> {
    let validator = validator("layercache.yml examples")?;
    let dir = tempfile::tempdir().expect("temp dir");
    let paths: Vec<String> = docs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.path().join(format!("case-{i}.yml"));
            std::fs::write(&path, text).expect("write");
            path.display().to_string()
        })
        .collect();
    let out = Command::new(validator[0])
        .args(&validator[1..])
        .args(["-o", "json", "--schemafile", SCHEMA])
        .args(&paths)
        .output()
        .expect("run check-jsonschema");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check-jsonschema -o json: {e}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let files = |key: &str| -> BTreeSet<String> {
        report[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["filename"].as_str().map(String::from))
            .collect()
    };
    let (invalid, unparsable) = (files("errors"), files("parse_errors"));
    Some(
        paths
            .iter()
            .map(|p| {
                if unparsable.contains(p) {
                    Verdict::Unparsable
                } else if invalid.contains(p) {
                    Verdict::Invalid
                } else {
                    Verdict::Valid
                }
            })
            .collect(),
    )
}

/// Whether the code reads the spec (either form), in a CI that supplies the image (as the schema, which cannot
/// know where it runs, makes `image` optional); `env` answers `${VAR}`s.
fn code_accepts(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    let overrides = Overrides {
        fallback_image: Some("registry.example.com/ci/app".into()),
        ..Overrides::default()
    };
    spec::parse_file_text(text, "layercache.yml", Path::new(""), env, &overrides)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn no_env(_: &str) -> Option<String> {
    None
}

// ---------------------------------------------------------------------------------------------
// The schema's contents, against the code and the README

#[test]
fn the_schema_is_a_valid_json_schema_with_this_versions_id() {
    let s = schema();
    assert_eq!(s["$id"].as_str(), Some(SCHEMA_URL));
    assert_eq!(
        s["$schema"].as_str(),
        Some("https://json-schema.org/draft/2020-12/schema")
    );
    let Some(validator) = validator("the schema itself") else {
        return;
    };
    let out = Command::new(validator[0])
        .args(&validator[1..])
        .args(["--check-metaschema", SCHEMA])
        .output()
        .expect("run check-jsonschema");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_schema_has_every_key_of_the_code_and_no_other() {
    let schema_keys: BTreeSet<String> = properties().keys().cloned().collect();
    let code_keys: BTreeSet<String> = KEYS.iter().map(|k| k.to_string()).collect();
    assert_eq!(schema_keys, code_keys);
    // An image takes no other key; the list form only `images`.
    let s = schema();
    assert_eq!(s["$defs"]["image"]["additionalProperties"], false);
    let list = &s["oneOf"][1];
    assert_eq!(list["required"], serde_json::json!(["images"]));
    assert_eq!(list["additionalProperties"], false);
}

/// The README's spec table: `| \`key\`, \`key\` | meaning | default |` -> (key, meaning, default).
fn readme_rows() -> Vec<(String, String, String)> {
    readme_key_table("## The spec: `layercache.yml`")
}

/// The first `| key | meaning | default |` table after `heading` in the README, one row per key
/// (a cell may name several: `` `a`, `b` ``).
fn readme_key_table(heading: &str) -> Vec<(String, String, String)> {
    let section = &README[README
        .find(heading)
        .unwrap_or_else(|| panic!("the README's {heading}"))..];
    let mut rows = Vec::new();
    for line in section.lines().skip_while(|l| !l.starts_with("| key |")) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells.len() != 3 || !cells[0].starts_with('`') {
            continue;
        }
        for key in cells[0].split(", ") {
            rows.push((
                key.trim_matches('`').to_string(),
                cells[1].to_string(),
                cells[2].to_string(),
            ));
        }
    }
    rows
}

#[test]
fn descriptions_are_the_readmes_meaning_and_default() {
    let rows = readme_rows();
    let documented: BTreeSet<&str> = rows.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        documented,
        KEYS.iter().copied().collect(),
        "the README's spec table documents exactly the keys"
    );
    let properties = properties();
    for (key, meaning, default) in rows {
        assert_eq!(
            properties[&key]["description"].as_str(),
            Some(format!("{meaning}. Default: {default}.").as_str()),
            "{key}"
        );
    }
}

#[test]
fn defaults_are_what_the_code_fills_in() {
    let config = spec::parse(
        "image: registry.example.com/app\n",
        "layercache.yml",
        Path::new(""),
        &no_env,
        &Overrides::default(),
    )
    .unwrap()
    .remove(0);
    let expected: Vec<(&str, Value)> = vec![
        ("dockerfile", config.dockerfile.display().to_string().into()),
        ("context", config.context.display().to_string().into()),
        ("tags", serde_json::json!(config.tags)),
        ("build_args", serde_json::json!(config.build_args)),
        ("pull", value_name(&config.pull).into()),
        ("push", config.push.into()),
        ("secrets", serde_json::json!(config.secrets)),
        ("strategy", value_name(&config.strategy).into()),
        ("cache_dir", config.cache_dir.display().to_string().into()),
        ("cache_export", serde_json::json!(config.cache_export)),
    ];
    let properties = properties();
    for (key, value) in &expected {
        assert_eq!(&properties[*key]["default"], value, "{key}");
    }
    // The others have no fixed default (the image, the last stage, every stage it needs ...):
    // their descriptions say what it is.
    let with_default: BTreeSet<&str> = properties
        .iter()
        .filter(|(_, p)| p.get("default").is_some())
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(with_default, expected.iter().map(|(k, _)| *k).collect());
}

/// The first `enum` in a property's `anyOf`.
fn enum_of(key: &str) -> Vec<String> {
    properties()[key]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|a| a["enum"].as_array())
        .unwrap_or_else(|| panic!("{key}: no enum"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The word the command line (and the spec) takes for a value.
fn value_name<T: clap::ValueEnum>(value: &T) -> String {
    value.to_possible_value().unwrap().get_name().to_string()
}

fn names<T: clap::ValueEnum>() -> Vec<String> {
    T::value_variants().iter().map(value_name).collect()
}

#[test]
fn the_enums_are_the_codes() {
    assert_eq!(enum_of("pull"), names::<PullPolicy>());
    assert_eq!(enum_of("strategy"), names::<StrategyChoice>());
    // cache_export: KEY=VALUE of CACHE_EXPORT_OPTIONS, `compression-level` a number.
    let alternatives: Vec<String> = CACHE_EXPORT_OPTIONS
        .iter()
        .map(|(key, values)| match values {
            [] => format!("{key}=[0-9]+"),
            values => format!("{key}=(?:{})", values.join("|")),
        })
        .collect();
    let pattern = format!("^(?:{})$", alternatives.join("|"));
    let items = &properties()["cache_export"]["items"]["anyOf"][0]["pattern"];
    assert_eq!(items.as_str(), Some(pattern.as_str()));
}

// ---------------------------------------------------------------------------------------------
// The same verdict as the code

/// Compares the schema's verdict with the code's on each spec, all in one validator run.
#[track_caller]
fn same_verdicts(specs: &[String], env: &dyn Fn(&str) -> Option<String>) {
    let Some(verdicts) = schema_verdicts(specs) else {
        return;
    };
    let mut disagreements = Vec::new();
    for (text, verdict) in specs.iter().zip(verdicts) {
        let code = code_accepts(text, env);
        if code.is_ok() != (verdict == Verdict::Valid) {
            disagreements.push(format!("--- {text}code: {code:?}\nschema: {verdict:?}\n"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "the schema and the code disagree on {} of {} specs:\n{}",
        disagreements.len(),
        specs.len(),
        disagreements.join("\n")
    );
}

/// YAML values of every type, each tried under every key.
const VALUES: &[&str] = &[
    "x", "app", "5", "0", "1", "-1", "true", "3.5", "''", "~", "[a]", "[5]", "[-1]", "[true]",
    "[3.5]", "[]", "['']", "[~]", "[[a]]", "{a: b}", "{a: 5}", "{a: 3.5}", "{a: ~}", "{a: [b]}",
    "{}",
];

/// Values particular to some keys, valid and not.
const SPECIFIC: &[(&str, &[&str])] = &[
    (
        "image",
        &[
            "localhost:5000/a/b",
            "registry.example.com/team/app",
            "Team/app",
            "team/App",
            "a__b/c",
            "a___b",
            "a--b",
            "a.-b",
            "'[::1]:5000/app'",
            "app:v1",
            "x/",
            "'team/a$p'",
            "team//app",
            "'${LC_SCHEMA_TEST:-registry.example.com/app}'",
        ],
    ),
    ("cache_repository", &["localhost:5000/cache", "Bad/Cache"]),
    (
        "tags",
        &[
            "[v1.0, latest]",
            "['.x']",
            "['-x']",
            "['a/b']",
            "['${LC_SCHEMA_TEST:-dev}']",
            "[yes]",
        ],
    ),
    ("pull", &["auto", "always", "never", "Always", "sometimes"]),
    (
        "push",
        &[
            "false", "'yes'", "'no'", "'on'", "'off'", "'1'", "'0'", "'maybe'", "2", "'${LC_SCHEMA_TEST:-true}'",
        ],
    ),
    (
        "strategy",
        &["auto", "registry", "inline", "legacy", "local", "gha", "Gha", "fast"],
    ),
    (
        "cache_export",
        &[
            "[compression=zstd, compression-level=3]",
            "[image-manifest=true, oci-mediatypes=false, force-compression=true, ignore-error=false]",
            "[compression=lz4]",
            "[compression-level=high]",
            "[compresion=zstd]",
            "[compression]",
        ],
    ),
    (
        "registry_password_var",
        &["REGISTRY_PASSWORD", "_X1", "1A", "A-B", "'${LC_SCHEMA_TEST:-PASS}'"],
    ),
    ("build_args", &["{PY: '3.10', N: 3, DEBUG: true}", "{A: '${LC_SCHEMA_TEST:-x}'}"]),
    ("dockerfile", &["Dockerfile.multi", "sub/Dockerfile"]),
    (
        "platforms",
        &[
            "linux/amd64",
            "'linux/amd64,linux/arm64'",
            "'linux/amd64, linux/arm/v7'",
            "[linux/amd64, linux/arm64]",
            "['linux/amd64,linux/arm64']",
            "Linux/amd64",
            "amd64",
            "'linux/amd64,'",
            "linux/arm/v7/x",
            "'${LC_SCHEMA_TEST:-linux/amd64}'",
        ],
    ),
    ("jobs", &["4", "64", "65", "'8'", "' 2 '", "'${LC_SCHEMA_TEST:-2}'", "many"]),
];

/// A spec with `key: value`, and what that key needs beside it (the other half of a login).
fn spec_with(key: &str, value: &str) -> String {
    let mut text = String::new();
    if key != "image" {
        text.push_str("image: registry.example.com/app\n");
    }
    text.push_str(&format!("{key}: {value}\n"));
    match key {
        "registry_user" => text.push_str("registry_password_var: REGISTRY_PASSWORD\n"),
        "registry_password_var" => text.push_str("registry_user: ci\n"),
        _ => {}
    }
    text
}

#[test]
fn every_key_takes_the_types_the_code_takes() {
    let mut specs = Vec::new();
    for key in KEYS {
        for value in VALUES {
            specs.push(spec_with(key, value));
        }
    }
    for (key, values) in SPECIFIC {
        for value in *values {
            specs.push(spec_with(key, value));
        }
    }
    // Tags at the length limit, and over it.
    for n in [128, 129] {
        specs.push(spec_with("tags", &format!("[{}]", "a".repeat(n))));
    }
    // The login's halves go together.
    specs.push("image: app\nregistry_user: ci\n".into());
    specs.push("image: app\nregistry_password_var: PASS\n".into());
    specs.push("image: app\nregistry_user: ~\n".into());
    specs.push("image: app\nregistry_user: ci\nregistry_password_var: ~\n".into());
    // The two forms of a spec.
    for text in [
        "{}",
        "images: [{image: a}, {image: b, tags: [v1]}]",
        "images: []",
        "images: x",
        "images: [{imag: a}]",
        "image: a\nimages: [{image: b}]",
        "images: [{image: a}]\ntags: [v1]",
        "[a, b]",
        "just text",
        "5",
    ] {
        specs.push(format!("{text}\n"));
    }
    let env = |k: &str| (k == "LC_SCHEMA_TEST_SET").then(|| "v".to_string());
    same_verdicts(&specs, &env);
}

// ---------------------------------------------------------------------------------------------
// The Compose form (`compose:`)

/// The keys of the Compose form, as the schema describes them.
fn compose_properties() -> serde_json::Map<String, Value> {
    schema()["$defs"]["compose"]["properties"]
        .as_object()
        .expect("$defs.compose.properties")
        .clone()
}

/// The README's table of the Compose form: (key, meaning, default).
fn readme_compose_rows() -> Vec<(String, String, String)> {
    readme_key_table("**The `compose:` form of layercache.yml**")
}

#[test]
fn the_compose_form_has_the_code_s_keys_as_the_readme_describes_them() {
    let properties = compose_properties();
    let schema_keys: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
    let code_keys: BTreeSet<&str> = COMPOSE_FORM_KEYS.iter().copied().collect();
    assert_eq!(schema_keys, code_keys);
    let rows = readme_compose_rows();
    let documented: BTreeSet<&str> = rows.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(documented, code_keys, "the README's Compose-form table");
    for (key, meaning, default) in &rows {
        let property = &properties[key];
        if meaning.starts_with("as in [the spec]") {
            // The same values as in an image, and the same description.
            assert_eq!(
                property,
                &serde_json::json!({ "$ref": format!("#/$defs/image/properties/{key}") }),
                "{key}"
            );
            assert!(KEYS.contains(&key.as_str()), "{key}");
        } else {
            assert_eq!(
                property["description"].as_str(),
                Some(format!("{meaning}. Default: {default}.").as_str()),
                "{key}"
            );
        }
    }
    let form = &schema()["$defs"]["compose"];
    assert_eq!(form["required"], serde_json::json!(["compose"]));
    assert_eq!(form["additionalProperties"], false);
    assert!(schema()["oneOf"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({ "$ref": "#/$defs/compose" })));
}

/// A Compose-form spec with `key: value`, and the other half of a login.
fn compose_spec_with(key: &str, value: &str) -> String {
    if key == "compose" {
        return format!("compose: {value}\n");
    }
    let mut text = format!("compose: compose.yaml\n{key}: {value}\n");
    match key {
        "registry_user" => text.push_str("registry_password_var: REGISTRY_PASSWORD\n"),
        "registry_password_var" => text.push_str("registry_user: ci\n"),
        _ => {}
    }
    text
}

#[test]
fn the_compose_form_takes_the_types_the_code_takes() {
    let mut specs = Vec::new();
    for key in COMPOSE_FORM_KEYS {
        for value in VALUES {
            specs.push(compose_spec_with(key, value));
        }
    }
    for (key, values) in SPECIFIC {
        if COMPOSE_FORM_KEYS.contains(key) {
            for value in *values {
                specs.push(compose_spec_with(key, value));
            }
        }
    }
    for value in [
        "compose.yaml",
        "[a.yml, b.yml]",
        "{files: [a.yml, b.yml], profiles: [debug], project_name: shop}",
        "{files: a.yml, profiles: debug}",
        "{files: [], profiles: []}",
        "{files: ~}",
        "{profiles: ~}",
        "{project_name: ~}",
        "{project_name: [a]}",
        "{profiles: [[a]]}",
        "{profiles: [{a: b}]}",
        "{file: a.yml}",
        "{files: ['']}",
        "[a.yml, '']",
        "[a.yml, ~]",
        "[a.yml, {b: c}]",
        "'${LC_SCHEMA_TEST:-compose.yaml}'",
        "{files: '${LC_SCHEMA_TEST:-c.yml}', project_name: '${LC_SCHEMA_TEST:-x}'}",
    ] {
        specs.push(compose_spec_with("compose", value));
    }
    // A Compose form's own `tags: []` publishes the `image:` tags alone.
    specs.push(compose_spec_with("tags", "[]"));
    // What the Compose file says, and the other forms' keys, are refused beside `compose:`.
    for key in [
        "image",
        "dockerfile",
        "context",
        "target",
        "cache_stages",
        "platforms",
    ] {
        specs.push(format!("compose: c.yml\n{key}: x\n"));
    }
    specs.push("compose: c.yml\nimages: [{image: a}]\n".into());
    specs.push("compose: c.yml\nregistry_user: ci\n".into());
    specs.push("compose: c.yml\nregistry_password_var: PASS\n".into());
    let env = |k: &str| (k == "LC_SCHEMA_TEST_SET").then(|| "v".to_string());
    same_verdicts(&specs, &env);
}

// ---------------------------------------------------------------------------------------------
// The specs people copy: the README's and examples/

/// The README's ```yaml blocks, with their top-level keys (none when a block is no mapping).
pub(crate) fn readme_yaml() -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut rest = README;
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + "```yaml\n".len()..];
        let end = body.find("```").expect("a closed block");
        let text = &body[..end];
        rest = &body[end + 3..];
        let keys = match serde_yaml::from_str(text) {
            Ok(serde_yaml::Value::Mapping(map)) => map
                .keys()
                .filter_map(|k| k.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        blocks.push((text.to_string(), keys));
    }
    blocks
}

/// The README's YAML blocks that are specs: mappings whose keys are all spec keys.
fn readme_specs() -> Vec<String> {
    readme_yaml()
        .into_iter()
        .filter(|(_, keys)| {
            !keys.is_empty()
                && keys
                    .iter()
                    .all(|k| k == "images" || KEYS.contains(&k.as_str()))
        })
        .map(|(text, _)| text)
        .collect()
}

#[test]
fn the_readmes_and_examples_specs_are_valid() {
    let mut specs = readme_specs();
    assert!(specs.len() >= 3, "the README's specs: {specs:?}");
    // The Compose form's, in the README and examples/.
    let compose_form: Vec<String> = readme_yaml()
        .into_iter()
        .filter(|(_, keys)| keys.iter().any(|k| k == "compose"))
        .map(|(text, _)| text)
        .collect();
    assert!(!compose_form.is_empty(), "the README's Compose form");
    specs.extend(compose_form);
    for example in ["single-stage", "multi-stage", "compose-multi"] {
        let path = format!(
            "{}/examples/{example}/layercache.yml",
            env!("CARGO_MANIFEST_DIR")
        );
        specs.push(std::fs::read_to_string(path).expect("read the example"));
    }
    // Their variables set (the README's `${CI_COMMIT_SHA}` has no default), as in CI.
    let env = |_: &str| Some("v1".to_string());
    for text in &specs {
        code_accepts(text, &env).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
    let Some(verdicts) = schema_verdicts(&specs) else {
        return;
    };
    for (text, verdict) in specs.iter().zip(verdicts) {
        assert_eq!(verdict, Verdict::Valid, "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// The bad-input catalogue

/// The catalogue's specs: every string literal of tests/bad_input.rs's spec section that ends
/// with a line break (its places and needles do not), unescaped; those built with `format!`
/// are left out (their braces are format syntax) and added by the test itself.
fn catalogue_specs() -> Vec<String> {
    let source = include_str!("bad_input.rs");
    let start = source.find("// The spec\n").expect("the spec section");
    let end = source
        .find("// The Dockerfile\n")
        .expect("the Dockerfile section");
    let mut specs = Vec::new();
    for line in source[start..end].lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find('"') {
            let in_format = rest[..at].ends_with("format!(");
            let (text, after) = string_literal(&rest[at + 1..]);
            rest = after;
            if !in_format && text.ends_with('\n') {
                specs.push(text);
            }
        }
    }
    specs
}

/// The text of the string literal that `rest` starts inside of (after its opening quote), and
/// the source after its closing quote. The catalogue writes each literal on one line.
fn string_literal(rest: &str) -> (String, &str) {
    let mut text = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (text, &rest[i + 1..]),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => text.push('\n'),
                Some('t') => text.push('\t'),
                Some('"') => text.push('"'),
                Some('\\') => text.push('\\'),
                other => panic!("an escape this reader does not know: \\{other:?}"),
            },
            c => text.push(c),
        }
    }
    panic!("a string literal that does not end on its line: {rest}")
}

/// The catalogue's specs that the code refuses for reasons a JSON Schema cannot see. (A schema
/// sees the document after loading, and YAML loaders differ on repeated keys: check-jsonschema's
/// refuses them too, today.)
const NOT_A_SCHEMA_MATTER: &[(&str, &str)] = &[
    ("image: a\nimage: b\n", "a repeated key"),
    (
        "image: app\nbuild_args:\n  A: 1\n  A: 2\n",
        "a repeated key",
    ),
];

#[test]
fn the_bad_input_catalogues_specs_fail_the_schema_too() {
    let mut specs = catalogue_specs();
    assert!(specs.len() >= 30, "found {} specs: {specs:?}", specs.len());
    // The cases the catalogue builds with format!, and the empty spec.
    specs.push(String::new());
    specs.push(format!("image: app\ntags: [{}]\n", "a".repeat(129)));
    specs.push(format!("image: app\ntags: ['sha256:{}']\n", "a".repeat(64)));
    specs.push(format!("image: app\ntags: [{}]\n", "a".repeat(128)));
    let Some(verdicts) = schema_verdicts(&specs) else {
        return;
    };
    let mut wrong = Vec::new();
    let mut refused = 0;
    for (text, verdict) in specs.iter().zip(verdicts) {
        let code = code_accepts(text, &no_env);
        let exempt = NOT_A_SCHEMA_MATTER.iter().any(|(t, _)| t == text);
        match (&code, verdict) {
            (Err(_), Verdict::Invalid | Verdict::Unparsable) => refused += 1,
            (Err(e), Verdict::Valid) if exempt => eprintln!("not a schema matter: {e}"),
            (Ok(()), Verdict::Valid) => {}
            _ => wrong.push(format!("--- {text}code: {code:?}\nschema: {verdict:?}\n")),
        }
    }
    assert!(
        wrong.is_empty(),
        "the schema and the code disagree:\n{}",
        wrong.join("\n")
    );
    eprintln!(
        "the bad-input catalogue: {} specs, {refused} refused by both the code and the schema",
        specs.len()
    );
    assert!(refused >= 25, "only {refused} refused");
}

// ---------------------------------------------------------------------------------------------
// `layercache init`

const MULTI_STAGE: &str = include_str!("../examples/multi-stage/Dockerfile.multi");

#[test]
fn init_writes_a_starter_spec_that_names_the_schema_and_the_stages() {
    let t = Test::new().dockerfile(MULTI_STAGE);
    t.clone()
        .args(&["init"])
        .success()
        .stderr_has("wrote layercache.yml")
        .run();
    let text = std::fs::read_to_string(t.path().join("layercache.yml")).unwrap();
    assert_eq!(
        text.lines().next(),
        Some(format!("# yaml-language-server: $schema={SCHEMA_URL}").as_str())
    );
    assert!(text.contains("target: final\n"), "{text}");
    assert!(text.contains("cache_stages:\n  - builder\n"), "{text}");
    assert!(
        text.contains("# image: "),
        "the CI's image is the default:\n{text}"
    );
    if let Some(verdicts) = schema_verdicts(std::slice::from_ref(&text)) {
        assert_eq!(verdicts, [Verdict::Valid], "{text}");
    }
    // In CI it builds as written: the CI's image and tags, the builder cached on its own.
    let plan = t
        .clone()
        .env("GITLAB_CI", "true")
        .env("CI_REGISTRY_IMAGE", "registry.example.com/team/app")
        .env("CI_COMMIT_SHA", "abc123")
        .env("CI_COMMIT_REF_SLUG", "main")
        .args(&["plan", "--builder", "buildkit"])
        .success()
        .stdout_has("--target builder")
        .stdout_has("registry.example.com/team/app:cache-builder")
        .stdout_has("--tag registry.example.com/team/app:abc123")
        .run();
    assert!(plan.stdout.contains("--file Dockerfile"), "{}", plan.stdout);
}

#[test]
fn init_never_writes_over_a_spec() {
    let t = Test::new().dockerfile(MULTI_STAGE).spec("image: mine\n");
    t.clone()
        .args(&["init"])
        .status(2)
        .stderr_has("layercache.yml: the file exists already")
        .stderr_has("hint: ")
        .run();
    assert_eq!(
        std::fs::read_to_string(t.path().join("layercache.yml")).unwrap(),
        "image: mine\n"
    );
    // Another name is fine.
    t.clone()
        .args(&[
            "-f",
            "other.yml",
            "init",
            "--image",
            "registry.example.com/x",
        ])
        .success()
        .run();
    t.args(&["-f", "other.yml", "plan"])
        .success()
        .stdout_has("registry.example.com/x:cache-builder")
        .run();
}

#[test]
fn init_handles_one_stage_unnamed_stages_and_bad_input() {
    let t = Test::new().dockerfile("FROM busybox:1.36\nRUN true\n");
    t.clone().args(&["init"]).success().run();
    let text = std::fs::read_to_string(t.path().join("layercache.yml")).unwrap();
    assert!(!text.contains("cache_stages"), "{text}");
    assert!(!text.contains("\ntarget:"), "{text}");

    let t = Test::new()
        .dockerfile("FROM busybox:1.36\nRUN true\nFROM busybox:1.36 AS app\nCOPY --from=0 / /\n");
    t.clone().args(&["init"]).success().run();
    let text = std::fs::read_to_string(t.path().join("layercache.yml")).unwrap();
    assert!(text.contains("# stage 0 has no name"), "{text}");
    assert!(text.contains("target: app\n"), "{text}");

    Test::new()
        .args(&["init"])
        .status(2)
        .stderr_has("cannot read the Dockerfile")
        .run();
    // A spec in another folder names the Dockerfile from there.
    let t = Test::new().file("sub/Dockerfile", MULTI_STAGE);
    t.clone()
        .args(&[
            "-f",
            "sub/layercache.yml",
            "init",
            "--dockerfile",
            "sub/Dockerfile",
        ])
        .success()
        .run();
    let text = std::fs::read_to_string(t.path().join("sub/layercache.yml")).unwrap();
    assert!(text.contains("\ndockerfile: Dockerfile\n"), "{text}");
    t.args(&[
        "-f",
        "other/layercache.yml",
        "init",
        "--dockerfile",
        "sub/Dockerfile",
    ])
    .status(2)
    .stderr_has("this one is outside it")
    .run();
    Test::new()
        .dockerfile(MULTI_STAGE)
        .args(&["init", "--image", "Bad/App"])
        .status(2)
        .stderr_has("--image Bad/App")
        .run();
}

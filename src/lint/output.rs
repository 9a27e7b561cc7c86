//! Output.

use super::*;
use std::path::{Component, Path, PathBuf};

/// `Dockerfile:12 warning LC001 message` and an indented `fix:` line, per finding.
pub fn human(reports: &[Report]) -> String {
    let mut out = String::new();
    for report in reports {
        for f in &report.findings {
            out.push_str(&human_line(&report.file, f));
            out.push('\n');
            out.push_str(&format!("  fix: {}\n", f.fix));
        }
    }
    out
}

/// One finding on one line, without its fix.
pub fn human_line(file: &str, f: &Finding) -> String {
    format!(
        "{file}:{} {} {} {}",
        f.line,
        f.severity(),
        f.rule.id(),
        f.message
    )
}

/// A JSON list of findings with `file`, `rule`, `severity`, `line`, `message` and `fix`.
pub fn json(reports: &[Report]) -> Value {
    let list: Vec<Value> = each(reports)
        .map(|(file, f)| {
            json!({
                "file": file,
                "rule": f.rule.id(),
                "severity": f.severity(),
                "line": f.line,
                "message": f.message,
                "fix": f.fix,
            })
        })
        .collect();
    Value::Array(list)
}

/// A GitLab Code Quality report (the Code Climate issue subset GitLab reads).
pub fn gitlab(reports: &[Report]) -> Value {
    let list: Vec<Value> = each(reports)
        .map(|(file, f)| {
            json!({
                "description": format!("{} {}; fix: {}", f.rule.id(), f.message, f.fix),
                "check_name": f.rule.id(),
                "fingerprint": fingerprint(file, f),
                "severity": f.severity().gitlab(),
                "location": {"path": file, "lines": {"begin": f.line}},
            })
        })
        .collect();
    Value::Array(list)
}

/// Where the project lives: SARIF's `tool.driver.informationUri`, and its README's lint rules
/// are the rules' `helpUri`. The repository's address is not settled yet; this is the
/// placeholder the GitHub Action's `uses:`, the component's project and the schema's `$id` use.
pub const INFORMATION_URI: &str = "https://github.com/layercache/layercache";

/// The base that relative artifact URIs are relative to: the working directory.
const SRCROOT: &str = "%SRCROOT%";

/// A SARIF 2.1.0 log of one run, for GitHub code scanning and other SARIF viewers: every rule
/// with its descriptions and default level (whether it was found or not, so a viewer can show
/// what a rule means, and a run without findings closes the alerts of an earlier one), and one
/// result per finding. Files are named relative to `cwd` (the working directory: for code
/// scanning, the repository's root), under the `%SRCROOT%` base; a file outside it by an
/// absolute `file:` URI. `sources` holds the text of the Dockerfiles by report file: where
/// it is given, a result's region also has the columns of the instruction on its line and
/// the line as a snippet (findings know their line, not the word within it).
pub fn sarif(reports: &[Report], cwd: &Path, sources: &BTreeMap<String, String>) -> Value {
    let rules: Vec<Value> = Rule::ALL.iter().map(|&rule| sarif_rule(rule)).collect();
    let results: Vec<Value> = each(reports)
        .map(|(file, f)| {
            let mut location = json!({"artifactLocation": artifact_location(file, cwd)});
            if f.line > 0 {
                let text = sources
                    .get(file)
                    .and_then(|t| t.split('\n').nth(f.line - 1));
                location["region"] = region(f.line, text);
            }
            let text = format!("{}. Fix: {}.", sentence(&f.message), sentence(&f.fix));
            json!({
                "ruleId": f.rule.id(),
                "ruleIndex": Rule::ALL.iter().position(|&r| r == f.rule),
                "level": sarif_level(f.severity()),
                "message": {"text": text},
                "locations": [{"physicalLocation": location}],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "layercache",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": directory_uri(cwd)}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// A line's region: with its text, from the instruction's first character to its last on
/// that line (columns count characters; the end column is the one after the last), and the
/// line as the snippet.
fn region(line: usize, text: Option<&str>) -> Value {
    let mut region = json!({"startLine": line});
    let Some(text) = text.map(|t| t.strip_suffix('\r').unwrap_or(t)) else {
        return region;
    };
    // A byte-order mark is no character of the first line's text.
    let text = if line == 1 {
        text.trim_start_matches('\u{feff}')
    } else {
        text
    };
    let indent = text.chars().take_while(|c| c.is_whitespace()).count();
    let end = text.trim_end().chars().count();
    if end > indent {
        region["startColumn"] = json!(indent + 1);
        region["endColumn"] = json!(end + 1);
        region["snippet"] = json!({"text": text});
    }
    region
}

fn sarif_rule(rule: Rule) -> Value {
    let info = rule.info();
    json!({
        "id": rule.id(),
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.description},
        "help": {
            "text": info.help,
            "markdown": format!(
                "{}\n\n[{}]({INFORMATION_URI}#lint-rules) in layercache's lint rules.",
                info.help,
                rule.id()
            ),
        },
        "helpUri": format!("{INFORMATION_URI}#lint-rules"),
        "defaultConfiguration": {"level": sarif_level(rule.severity())},
        "properties": {
            "tags": if rule.severity() == Severity::Error {
                vec!["security", "dockerfile"]
            } else {
                vec!["cache", "dockerfile"]
            },
        },
    })
}

/// SARIF's levels: `error`, `warning`, `note`.
fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// `text` without a closing period, so that one can be added: messages and fixes are written
/// as clauses (for `file:line ... message` and `fix: ...`), SARIF's are sentences.
fn sentence(text: &str) -> &str {
    text.trim_end().trim_end_matches('.')
}

/// A file as SARIF names it: relative to `cwd` under [`SRCROOT`] (`..` and `.` resolved first),
/// else an absolute `file:` URI.
fn artifact_location(file: &str, cwd: &Path) -> Value {
    let absolute = normalize(&cwd.join(file));
    match absolute.strip_prefix(normalize(cwd)) {
        Ok(relative) if relative.as_os_str().is_empty() => {
            // The working directory itself: no file to point at, keep what was given.
            json!({"uri": encode_path(Path::new(file), false)})
        }
        Ok(relative) => json!({"uri": encode_path(relative, false), "uriBaseId": SRCROOT}),
        Err(_) => json!({"uri": format!("file://{}", encode_path(&absolute, true))}),
    }
}

/// `cwd` as a `file:` URI ending in `/`, as a base URI must.
fn directory_uri(cwd: &Path) -> String {
    let path = encode_path(&normalize(cwd), true);
    let slash = if path.ends_with('/') { "" } else { "/" };
    format!("file://{path}{slash}")
}

/// `.` and `..` resolved by text (the path need not exist, and a symbolic link is named as
/// the user named it).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A path as a URI path: its segments joined by `/`, each byte outside RFC 3986's unreserved
/// characters and a few safe sub-delimiters percent-encoded (`:` too, which in a relative
/// reference's first segment would read as a scheme). `absolute`: with its leading `/`.
fn encode_path(path: &Path, absolute: bool) -> String {
    let segments: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(encode_segment(name.as_encoded_bytes())),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect();
    let joined = segments.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn encode_segment(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(super) fn each(reports: &[Report]) -> impl Iterator<Item = (&str, &Finding)> {
    reports
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r.file.as_str(), f)))
}

/// GitLab matches findings across pipelines by fingerprint, so it must not change between
/// runs or toolchains: std's `DefaultHasher` makes no such promise, FNV-1a is fixed.
pub(super) fn fingerprint(file: &str, f: &Finding) -> String {
    let text = format!("{file}\0{}\0{}\0{}", f.rule.id(), f.line, f.message);
    format!("{:016x}", fnv1a64(text.as_bytes()))
}

pub(super) fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

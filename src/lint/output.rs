//! Output.

use super::*;

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

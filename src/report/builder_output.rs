//! Reading what the builder printed (BuildKit's plain progress, the legacy builder's steps)
//! into per-stage step counts.

use super::{BuildReport, CacheExport, CacheImportError, StageReport};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub(super) struct Vertex {
    stage: String,
    index: usize,
    instruction: String,
    cached: bool,
    seconds: Option<f64>,
    done: bool,
}

/// Reads BuildKit's plain progress output.
pub fn parse_buildkit<'a>(lines: impl IntoIterator<Item = &'a str>) -> BuildReport {
    let mut vertices: BTreeMap<u64, Vertex> = BTreeMap::new();
    let mut imports: BTreeMap<u64, String> = BTreeMap::new();
    let mut errors = Vec::new();
    // The vertex of the cache export (`exporting cache to registry`, `... to client directory`,
    // `exporting to GitHub Actions Cache`), and what became of it.
    let mut export: Option<(u64, CacheExport)> = None;
    for line in lines {
        let Some((id, rest)) = vertex_line(line) else {
            continue;
        };
        if rest.starts_with("exporting cache")
            || rest.starts_with("exporting to GitHub Actions Cache")
        {
            export = Some((id, CacheExport::default()));
            continue;
        }
        if let Some((_, done)) = export.as_mut().filter(|(at, _)| *at == id) {
            if let Some(time) = rest.strip_prefix("DONE ") {
                done.seconds = time.trim_end_matches('s').parse().ok();
            } else if let Some(error) = rest
                .strip_prefix("ERROR: ")
                .or_else(|| rest.strip_prefix("ERROR "))
            {
                done.error = Some(error.trim().to_string());
            }
            continue;
        }
        if let Some(reference) = rest.strip_prefix("importing cache manifest from ") {
            imports.insert(id, reference.trim().to_string());
        } else if let Some(header) = rest.strip_prefix('[') {
            if let Some((stage, index, instruction)) = step_header(header) {
                let v = vertices.entry(id).or_default();
                (v.stage, v.index, v.instruction) = (stage, index, instruction);
            }
        } else if rest == "CACHED" || rest.starts_with("extracting sha256:") {
            // On the containerd image store a hit from a registry cache may print the download
            // and unpacking of the step's layers instead of `CACHED` (seen on 26.1 and 28.5,
            // tests/fixtures/engines/E2E-MATRIX.md); a step that runs never unpacks layers under
            // its own vertex.
            if let Some(v) = vertices.get_mut(&id) {
                v.cached = true;
            }
        } else if let Some(time) = rest.strip_prefix("DONE ") {
            if let Some(v) = vertices.get_mut(&id) {
                v.done = true;
                v.seconds = time.trim_end_matches('s').parse().ok();
            }
        } else if let Some(error) = rest
            .strip_prefix("ERROR: ")
            .or_else(|| rest.strip_prefix("ERROR "))
        {
            if let Some(reference) = imports.remove(&id) {
                errors.push(CacheImportError {
                    reference,
                    error: error.trim().to_string(),
                });
            }
        }
    }
    let steps = vertices
        .into_values()
        .filter(|v| !v.instruction.is_empty() && !is_from(&v.instruction));
    BuildReport {
        stages: summarise(steps, true),
        cache_import_errors: errors,
        cache_export: export.map(|(_, e)| e),
    }
}

/// `#12 rest` -> (12, "rest").
pub(super) fn vertex_line(line: &str) -> Option<(u64, &str)> {
    let rest = line.strip_prefix('#')?;
    let (id, rest) = rest.split_once(' ')?;
    Some((id.parse().ok()?, rest.trim_end()))
}

/// `builder 3/5] RUN x` -> ("builder", 3, "RUN x"); `2/3] RUN x` -> ("", 2, "RUN x").
pub(super) fn step_header(header: &str) -> Option<(String, usize, String)> {
    let (inside, instruction) = header.split_once("] ")?;
    let (stage, position) = match inside.rsplit_once(' ') {
        Some((stage, position)) => (stage.to_string(), position),
        None => (String::new(), inside),
    };
    let (index, total) = position.split_once('/')?;
    if stage == "internal" || total.parse::<usize>().is_err() {
        return None;
    }
    Some((stage, index.parse().ok()?, instruction.trim().to_string()))
}

pub(super) fn is_from(instruction: &str) -> bool {
    instruction
        .split_whitespace()
        .next()
        .is_some_and(|k| k.eq_ignore_ascii_case("FROM"))
}

/// Reads the legacy builder's output.
pub fn parse_legacy<'a>(lines: impl IntoIterator<Item = &'a str>) -> BuildReport {
    let mut steps = Vec::new();
    let mut stage_count = 0;
    let mut stage = String::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix("Step ") {
            let Some((position, instruction)) = rest.split_once(" : ") else {
                continue;
            };
            let index = position
                .split('/')
                .next()
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            let instruction = instruction.trim().to_string();
            if is_from(&instruction) {
                stage = legacy_stage_name(&instruction, stage_count);
                stage_count += 1;
                continue;
            }
            steps.push(Vertex {
                stage: stage.clone(),
                index,
                instruction,
                ..Vertex::default()
            });
        } else if line.trim() == "---> Using cache" {
            if let Some(last) = steps.last_mut() {
                last.cached = true;
            }
        } else if line.trim_start().starts_with("---> Running in ") {
            if let Some(last) = steps.last_mut() {
                last.done = true;
            }
        }
    }
    BuildReport {
        stages: summarise(steps.into_iter(), false),
        cache_import_errors: Vec::new(),
        cache_export: None,
    }
}

/// `FROM x AS builder` -> `builder`; an unnamed stage is `stage-N`, as BuildKit names it.
pub(super) fn legacy_stage_name(from: &str, index: usize) -> String {
    let words: Vec<&str> = from.split_whitespace().collect();
    match words.iter().position(|w| w.eq_ignore_ascii_case("as")) {
        Some(i) if i + 1 < words.len() => words[i + 1].to_string(),
        _ => format!("stage-{index}"),
    }
}

pub(super) fn summarise(steps: impl Iterator<Item = Vertex>, timed: bool) -> Vec<StageReport> {
    let mut by_stage: Vec<(String, Vec<Vertex>)> = Vec::new();
    for v in steps {
        match by_stage.iter_mut().find(|(s, _)| *s == v.stage) {
            Some((_, list)) => list.push(v),
            None => by_stage.push((v.stage.clone(), vec![v])),
        }
    }
    by_stage
        .into_iter()
        .map(|(stage, mut list)| {
            list.sort_by_key(|v| v.index);
            let cached = list.iter().filter(|v| v.cached).count();
            let seconds = timed.then(|| {
                list.iter()
                    .filter(|v| !v.cached)
                    .filter_map(|v| v.seconds)
                    .sum()
            });
            StageReport {
                stage,
                steps: list.len(),
                cached,
                executed: list.len() - cached,
                seconds,
                first_miss: list
                    .iter()
                    .find(|v| !v.cached)
                    .map(|v| v.instruction.clone()),
            }
        })
        .collect()
}

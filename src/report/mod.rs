//! Reading what the builder printed: per stage, how many steps there were, how many came from
//! the cache, how many ran, the time they took, and the first step that missed (the one that
//! broke the chain). Also the cache imports that failed. Pure text in, numbers out.
//!
//! BuildKit's `--progress=plain` prints `#N [stage i/n] INSTRUCTION`, then `#N CACHED` or
//! `#N DONE 1.2s` (or `#N ERROR: ...`); a step's header may repeat as output interleaves. The
//! legacy builder prints `Step i/n : INSTRUCTION`, then ` ---> Using cache` or
//! ` ---> Running in <id>`, and stages are only visible through their `FROM ... AS name` steps.

use crate::plan::step::{Step, StepKind};
use crate::plan::{Builder, Plan};
use crate::run::{Outcome, Status};
use serde::Serialize;
use std::collections::BTreeMap;

/// What one build did to one stage's steps (FROM lines are not counted: they are not cached
/// work).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StageReport {
    /// The stage as the builder names it: `builder`, or `stage-1`, or `` for an unnamed
    /// single stage.
    pub stage: String,
    pub steps: usize,
    pub cached: usize,
    pub executed: usize,
    /// Seconds the executed steps took (BuildKit only; the legacy builder prints no times).
    pub seconds: Option<f64>,
    /// The first step, in Dockerfile order, that did not come from the cache.
    pub first_miss: Option<String>,
}

/// A `--cache-from` source BuildKit could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheImportError {
    pub reference: String,
    pub error: String,
}

impl CacheImportError {
    /// The registry has no such image yet: the usual first build, not worth a warning.
    pub fn is_absent(&self) -> bool {
        crate::plan::step::ABSENT_IMAGE_MARKERS
            .iter()
            .any(|m| self.error.contains(m))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BuildReport {
    pub stages: Vec<StageReport>,
    pub cache_import_errors: Vec<CacheImportError>,
}

impl BuildReport {
    pub fn stage(&self, name: &str) -> Option<&StageReport> {
        self.stages
            .iter()
            .find(|s| s.stage.eq_ignore_ascii_case(name))
    }

    /// The stage a build step built: by name, or for a single unnamed stage (which BuildKit
    /// leaves unnamed and the legacy parser calls `stage-0`) the one stage there is.
    fn built(&self, name: &str) -> Option<&StageReport> {
        let only = match self.stages.as_slice() {
            [only] if name.is_empty() => Some(only),
            _ => None,
        };
        self.stage(name).or(only)
    }
}

/// One built stage in the report of a whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageCache {
    pub image: String,
    /// The stage as the plan names it (`builder`, `stage 0`).
    pub stage: String,
    #[serde(flatten)]
    pub report: StageReport,
}

/// What the cache did in a whole run: each built stage, and the cache sources that failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheReport {
    pub stages: Vec<StageCache>,
    pub cache_import_errors: Vec<CacheImportError>,
}

/// Reads every build step's output in a run. Only the stage each build targeted is counted
/// (a final build also prints its ancestors' steps, as local cache hits).
pub fn cache_report(plan: &Plan, outcome: &Outcome) -> CacheReport {
    let steps: Vec<&Step> = plan.steps().collect();
    let mut report = CacheReport::default();
    for done in &outcome.steps {
        let Some(step) = steps
            .get(done.position)
            .filter(|s| s.kind == StepKind::Build)
        else {
            continue;
        };
        let lines = done.output.iter().map(String::as_str);
        let parsed = match plan.builder {
            Builder::BuildKit => parse_buildkit(lines),
            Builder::Legacy => parse_legacy(lines),
        };
        let stage = step.output_stage.clone().unwrap_or_default();
        if let Some(found) = parsed.built(&stage) {
            report.stages.push(StageCache {
                image: step.image.clone(),
                stage: step.stage.clone().unwrap_or_default(),
                report: StageReport {
                    stage,
                    ..found.clone()
                },
            });
        }
        report
            .cache_import_errors
            .extend(parsed.cache_import_errors);
    }
    report
}

impl CacheReport {
    /// The end-of-build table, for people, with a warning for each unreadable cache source.
    pub fn table(&self) -> String {
        let mut out = String::from("\ncache report:\n");
        let width = self
            .stages
            .iter()
            .map(|s| s.image.len())
            .max()
            .unwrap_or(5)
            .max(5);
        out.push_str(&format!(
            "  {:<width$}  {:<12} {:>5} {:>6} {:>4} {:>7}  first miss\n",
            "image", "stage", "steps", "cached", "ran", "time"
        ));
        for s in &self.stages {
            let r = &s.report;
            let time = r
                .seconds
                .map(|t| format!("{t:.1}s"))
                .unwrap_or_else(|| "-".into());
            let miss = match &r.first_miss {
                Some(m) => shorten(m, 60),
                None => "(all cached)".into(),
            };
            out.push_str(&format!(
                "  {:<width$}  {:<12} {:>5} {:>6} {:>4} {:>7}  {miss}\n",
                s.image, s.stage, r.steps, r.cached, r.executed, time
            ));
        }
        for e in self.cache_import_errors.iter().filter(|e| !e.is_absent()) {
            out.push_str(&format!(
                "warning: the cache {} could not be read, so its stage was built without it: {}\n",
                e.reference, e.error
            ));
        }
        out
    }

    /// The report as a Markdown table, for a GitHub Actions step summary.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "### layercache cache report\n\n| image | stage | steps | cached | ran | first miss |\n\
             |---|---|---:|---:|---:|---|\n",
        );
        for s in &self.stages {
            let r = &s.report;
            let miss = match &r.first_miss {
                Some(m) => format!("`{}`", shorten(m, 60).replace('|', "\\|")),
                None => String::new(),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {miss} |\n",
                s.image, s.stage, r.steps, r.cached, r.executed
            ));
        }
        out
    }

    /// GitLab's metrics report: one `name value` line each, totals then per stage.
    pub fn metrics(&self) -> String {
        let steps: usize = self.stages.iter().map(|s| s.report.steps).sum();
        let cached: usize = self.stages.iter().map(|s| s.report.cached).sum();
        let mut out = format!(
            "layercache_steps {steps}\nlayercache_cached_steps {cached}\nlayercache_executed_steps {}\n",
            steps - cached
        );
        for s in &self.stages {
            let name = metric_name(&format!("{}_{}", s.image, s.stage));
            out.push_str(&format!(
                "layercache_cached_steps_{name} {}\n",
                s.report.cached
            ));
        }
        out
    }
}

/// The end-of-build table: each step, how it ended and how long it took. The first line's
/// total is the docker commands' own time (the benchmark reads it to find layercache's overhead).
pub fn steps_table(outcome: &Outcome) -> String {
    let total: f64 = outcome.steps.iter().map(|s| s.duration.as_secs_f64()).sum();
    let mut out = format!(
        "\nlayercache: {} steps in {total:.3}s of docker\n",
        outcome.steps.len()
    );
    for s in &outcome.steps {
        let status = status_word(&s.status, "missed", "FAILED");
        out.push_str(&format!(
            "  {status:<7} {:>7.1}s  {}\n",
            s.duration.as_secs_f64(),
            s.label
        ));
    }
    out
}

/// The steps and their durations as a Markdown table, for GitHub's step summary.
pub fn steps_markdown(outcome: &Outcome) -> String {
    let mut out =
        String::from("### layercache steps\n\n| step | result | seconds |\n|---|---|---:|\n");
    for s in &outcome.steps {
        let status = status_word(&s.status, "missed (tolerated)", "**failed**");
        out.push_str(&format!(
            "| {} | {status} | {:.1} |\n",
            s.label,
            s.duration.as_secs_f64()
        ));
    }
    out
}

fn status_word<'a>(status: &Status, tolerated: &'a str, failed: &'a str) -> &'a str {
    match status {
        Status::Succeeded => "ok",
        Status::Tolerated { .. } => tolerated,
        Status::Failed { .. } => failed,
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

fn metric_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[derive(Debug, Default)]
struct Vertex {
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
    for line in lines {
        let Some((id, rest)) = vertex_line(line) else {
            continue;
        };
        if let Some(reference) = rest.strip_prefix("importing cache manifest from ") {
            imports.insert(id, reference.trim().to_string());
        } else if let Some(header) = rest.strip_prefix('[') {
            if let Some((stage, index, instruction)) = step_header(header) {
                let v = vertices.entry(id).or_default();
                (v.stage, v.index, v.instruction) = (stage, index, instruction);
            }
        } else if rest == "CACHED" {
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
    }
}

/// `#12 rest` -> (12, "rest").
fn vertex_line(line: &str) -> Option<(u64, &str)> {
    let rest = line.strip_prefix('#')?;
    let (id, rest) = rest.split_once(' ')?;
    Some((id.parse().ok()?, rest.trim_end()))
}

/// `builder 3/5] RUN x` -> ("builder", 3, "RUN x"); `2/3] RUN x` -> ("", 2, "RUN x").
fn step_header(header: &str) -> Option<(String, usize, String)> {
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

fn is_from(instruction: &str) -> bool {
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
    }
}

/// `FROM x AS builder` -> `builder`; an unnamed stage is `stage-N`, as BuildKit names it.
fn legacy_stage_name(from: &str, index: usize) -> String {
    let words: Vec<&str> = from.split_whitespace().collect();
    match words.iter().position(|w| w.eq_ignore_ascii_case("as")) {
        Some(i) if i + 1 < words.len() => words[i + 1].to_string(),
        _ => format!("stage-{index}"),
    }
}

fn summarise(steps: impl Iterator<Item = Vertex>, timed: bool) -> Vec<StageReport> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const BUILDKIT: &str = "\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#3 importing cache manifest from 127.0.0.1:5000/app:cache-builder
#3 DONE 0.1s
#4 importing cache manifest from 127.0.0.1:1/app:cache-final
#4 ERROR: failed to do request: Head \"http://127.0.0.1:1/v2/app/manifests/cache-final\": dial tcp 127.0.0.1:1: connect: connection refused
#5 [builder 1/5] FROM 127.0.0.1:5000/layercache/base:1
#5 DONE 0.0s
#6 [builder 2/5] WORKDIR /build
#6 CACHED
#8 [builder 4/5] RUN sleep 3
#7 [builder 3/5] COPY requirements.txt .
#7 CACHED
#8 [builder 4/5] RUN sleep 3
#8 CACHED
#9 [builder 5/5] COPY src/ src/
#9 DONE 0.1s
#10 [final 2/2] COPY --from=builder /build/app.sh .
#10 DONE 0.2s
";

    #[test]
    fn buildkit_steps_are_counted_per_stage() {
        let r = parse_buildkit(BUILDKIT.lines());
        let b = r.stage("builder").unwrap();
        assert_eq!((b.steps, b.cached, b.executed), (4, 3, 1));
        assert_eq!(b.first_miss.as_deref(), Some("COPY src/ src/"));
        assert_eq!(b.seconds, Some(0.1));
        let f = r.stage("final").unwrap();
        assert_eq!((f.steps, f.cached, f.executed), (1, 0, 1));
    }

    #[test]
    fn failed_cache_imports_are_reported() {
        let r = parse_buildkit(BUILDKIT.lines());
        assert_eq!(r.cache_import_errors.len(), 1);
        assert_eq!(
            r.cache_import_errors[0].reference,
            "127.0.0.1:1/app:cache-final"
        );
        assert!(r.cache_import_errors[0]
            .error
            .contains("connection refused"));
        assert!(!r.cache_import_errors[0].is_absent());
    }

    #[test]
    fn unnamed_single_stage_is_the_empty_name() {
        let r = parse_buildkit("#5 [2/3] RUN a\n#5 DONE 1.5s\n#6 [3/3] RUN b\n#6 CACHED\n".lines());
        assert_eq!(r.stages.len(), 1);
        assert_eq!(r.stages[0].stage, "");
        assert_eq!(r.stages[0].first_miss.as_deref(), Some("RUN a"));
        assert_eq!(r.stages[0].seconds, Some(1.5));
    }

    #[test]
    fn legacy_steps_follow_from_lines() {
        let out = "Step 1/6 : FROM base AS builder\n ---> 5777da2355a1\nStep 2/6 : WORKDIR /b\n ---> Using cache\n\
                   ---> 87f7d107ff3c\nStep 3/6 : RUN x\n ---> Running in 1234\nStep 4/6 : FROM base\n\
                   Step 5/6 : COPY --from=builder /b /b\n ---> Using cache\nStep 6/6 : CMD [\"sh\"]\n ---> Running in 99\n";
        let r = parse_legacy(out.lines());
        let b = r.stage("builder").unwrap();
        assert_eq!((b.steps, b.cached, b.executed), (2, 1, 1));
        assert_eq!(b.first_miss.as_deref(), Some("RUN x"));
        assert_eq!(b.seconds, None);
        let last = r.stage("stage-1").unwrap();
        assert_eq!((last.steps, last.cached), (2, 1));
        assert_eq!(last.first_miss.as_deref(), Some("CMD [\"sh\"]"));
    }

    #[test]
    fn garbage_is_no_steps() {
        let r = parse_buildkit(["#", "#x y", "#1 [", "#2 [a b] c", "#3 [a 1/] x", "Step : x"]);
        assert!(r.stages.is_empty());
        assert!(
            parse_legacy(["Step 1/1 : FROM", " ---> Using cache", "Step x"])
                .stages
                .is_empty()
        );
    }
}

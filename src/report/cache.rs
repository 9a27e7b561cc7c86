//! The cache report of a whole run: each built stage's hits and misses, and the cache sources
//! that could not be read; as a table, JSON, GitLab metrics and Markdown.

use super::steps::shorten;
use super::{parse_buildkit, parse_legacy, CacheExport, CacheImportError, StageReport};
use crate::plan::step::{Step, StepKind};
use crate::plan::Plan;
use crate::run::Outcome;
use serde::Serialize;

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
    /// Per image built with an exported cache: the export's time, or its error.
    pub cache_exports: Vec<ImageCacheExport>,
}

/// The cache export of one image's build.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageCacheExport {
    pub image: String,
    #[serde(flatten)]
    pub export: CacheExport,
}

/// Reads every build step's output in a run. For a per-stage build only the stage it targeted
/// is counted (a final build also prints its ancestors' steps, as local cache hits); a build
/// with an exported cache (no `output_stage`) builds every stage it needs, and counts them all.
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
        // The legacy builder is the one a step runs with DOCKER_BUILDKIT=0.
        let legacy = step.env.get("DOCKER_BUILDKIT").map(String::as_str) == Some("0");
        let parsed = if legacy {
            parse_legacy(lines)
        } else {
            parse_buildkit(lines)
        };
        if let Some(export) = &parsed.cache_export {
            report.cache_exports.push(ImageCacheExport {
                image: step.image.clone(),
                export: export.clone(),
            });
        }
        let Some(stage) = step.output_stage.clone() else {
            // A build with an exported cache: every stage it printed.
            for found in &parsed.stages {
                report.stages.push(StageCache {
                    image: step.image.clone(),
                    stage: found.stage.clone(),
                    report: found.clone(),
                });
            }
            report
                .cache_import_errors
                .extend(parsed.cache_import_errors);
            continue;
        };
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
        for e in &self.cache_exports {
            match (&e.export.error, e.export.seconds) {
                (Some(error), _) => out.push_str(&format!(
                    "warning: the cache export of {} failed: {error}\n",
                    e.image
                )),
                (None, Some(t)) => {
                    out.push_str(&format!("  {}: cache exported in {t:.1}s\n", e.image))
                }
                (None, None) => {}
            }
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

pub(super) fn metric_name(text: &str) -> String {
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

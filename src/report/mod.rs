//! Reading what the builder printed: per stage, how many steps there were, how many came from
//! the cache, how many ran, the time they took, and the first step that missed (the one that
//! broke the chain). Also the cache imports that failed. Pure text in, numbers out.
//!
//! BuildKit's `--progress=plain` prints `#N [stage i/n] INSTRUCTION`, then `#N CACHED` or
//! `#N DONE 1.2s` (or `#N ERROR: ...`); a step's header may repeat as output interleaves. The
//! legacy builder prints `Step i/n : INSTRUCTION`, then ` ---> Using cache` or
//! ` ---> Running in <id>`, and stages are only visible through their `FROM ... AS name` steps.

mod builder_output;
mod cache;
mod files;
mod pushes;
mod steps;

pub use builder_output::{parse_buildkit, parse_legacy};
pub use cache::{cache_report, CacheReport, StageCache};
pub use files::{write_files, Files};
pub use pushes::push_summary;
pub use steps::{steps_markdown, steps_table};

use serde::Serialize;

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

/// The cache export of a build with an exported cache (`--cache-to`): how long it took, and
/// its error when it failed (a failed export is reported, never hidden).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheExport {
    pub seconds: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BuildReport {
    pub stages: Vec<StageReport>,
    pub cache_import_errors: Vec<CacheImportError>,
    pub cache_export: Option<CacheExport>,
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

    #[test]
    fn a_registry_hit_on_the_containerd_store_counts_as_cached() {
        for engine in ["26.1-containerd", "28.5-containerd"] {
            let path = format!(
                "{}/tests/fixtures/engines/{engine}/layercache-rebuild-remote-hit-without-CACHED.log",
                env!("CARGO_MANIFEST_DIR")
            );
            let log = std::fs::read_to_string(&path).unwrap();
            // The builder stage's own build: the first segment of layercache's log.
            let segment: Vec<&str> = log
                .lines()
                .skip_while(|l| !l.ends_with("] build builder"))
                .skip(1)
                .take_while(|l| !l.starts_with('['))
                .collect();
            let report = parse_buildkit(segment);
            let builder = report.stage("builder").unwrap();
            assert_eq!(builder.cached, 2, "{engine}: {builder:?}");
            assert_eq!(
                builder.first_miss.as_deref(),
                Some("COPY src/ src/"),
                "{engine}"
            );
        }
    }
}

//! The build-output parsers against output recorded from the real engine (tests/fixtures/):
//! `layercache build` of examples/multi-stage after a source change on a wiped runner, once
//! through BuildKit (Debian's docker 20.10 client) and once through the legacy builder (the
//! docker 28.2 client without buildx). The expected counts were read off the same logs.

use layercache::report::{parse_buildkit, parse_legacy, BuildReport};

/// The output of one of layercache's steps, e.g. `build builder`, out of a whole log.
fn step_output<'a>(log: &'a str, label: &str) -> Vec<&'a str> {
    let header = |l: &str| l.starts_with('[') && l.contains("] ");
    log.lines()
        .skip_while(|l| !(header(l) && l.ends_with(&format!("] {label}"))))
        .skip(1)
        .take_while(|l| !header(l) && !l.starts_with("layercache: "))
        .collect()
}

fn counts(report: &BuildReport, stage: &str) -> (usize, usize, usize, Option<String>) {
    let s = report
        .stage(stage)
        .unwrap_or_else(|| panic!("no stage {stage} in {report:#?}"));
    (s.steps, s.cached, s.executed, s.first_miss.clone())
}

#[test]
fn buildkit_rebuild_after_a_source_change() {
    let log = include_str!("fixtures/buildkit-rebuild.log");
    let builder = parse_buildkit(step_output(log, "build builder"));
    assert_eq!(
        counts(&builder, "builder"),
        (5, 3, 2, Some("COPY src/ src/".into()))
    );
    assert_eq!(builder.stage("builder").unwrap().seconds, Some(1.3));
    let final_build = parse_buildkit(step_output(log, "build final"));
    assert_eq!(
        counts(&final_build, "final"),
        (2, 1, 1, Some("COPY --from=builder /build/app.sh .".into()))
    );
    // The final build repeats the builder's steps, all from the local cache.
    assert_eq!(
        counts(&final_build, "builder").1,
        counts(&final_build, "builder").0
    );
    assert!(final_build.cache_import_errors.is_empty());
}

#[test]
fn legacy_rebuild_after_a_source_change() {
    let log = include_str!("fixtures/legacy-rebuild.log");
    let builder = parse_legacy(step_output(log, "build builder"));
    assert_eq!(
        counts(&builder, "builder"),
        (5, 3, 2, Some("COPY src/ src/".into()))
    );
    assert_eq!(builder.stage("builder").unwrap().seconds, None);
    let final_build = parse_legacy(step_output(log, "build final"));
    assert_eq!(
        counts(&final_build, "final"),
        (3, 1, 2, Some("COPY --from=builder /build/app.sh .".into()))
    );
}

#[test]
fn the_summary_table_in_the_logs_agrees_with_the_parsers() {
    for (log, name) in [
        (include_str!("fixtures/buildkit-rebuild.log"), "buildkit"),
        (include_str!("fixtures/legacy-rebuild.log"), "legacy"),
    ] {
        let table: Vec<&str> = log.lines().skip_while(|l| *l != "cache report:").collect();
        assert!(
            table
                .iter()
                .any(|l| l.contains(" builder ") && l.contains("  5      3    2 ")),
            "{name}: {table:?}"
        );
    }
}

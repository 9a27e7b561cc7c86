//! The end-of-build steps table: each docker command, how it ended and how long it took.

use crate::run::{Outcome, Status};

/// The end-of-build table: each step, how it ended and how long it took. The first line's
/// total is the docker commands' own time, and where steps ran at once, the time docker was
/// busy (the benchmark reads the latter, else the former, to find layercache's overhead).
pub fn steps_table(outcome: &Outcome) -> String {
    let total: f64 = outcome.steps.iter().map(|s| s.duration.as_secs_f64()).sum();
    let busy = outcome.docker_busy().as_secs_f64();
    let at_once = if total - busy >= 0.0005 {
        format!(" ({busy:.3}s with steps at once)")
    } else {
        String::new()
    };
    let mut out = format!(
        "\nlayercache: {} steps in {total:.3}s of docker{at_once}\n",
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

pub(super) fn status_word<'a>(status: &Status, tolerated: &'a str, failed: &'a str) -> &'a str {
    match status {
        Status::Succeeded => "ok",
        Status::Tolerated { .. } => tolerated,
        Status::Failed { .. } => failed,
    }
}

pub(super) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

//! The executor: spawns each step of a [`Plan`] with `std::process::Command` (never through a
//! shell), streams its output to stderr as it comes, and stops at the first failure that is not
//! tolerated. It decides nothing about what to run.

mod log_style;
mod signals;

pub use log_style::LogStyle;
pub use signals::Interrupts;

use crate::plan::step::{Step, StepKind};
use crate::plan::Plan;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    /// Failed, but the step allows failure (a missing cache image).
    Tolerated {
        reason: String,
    },
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct StepOutcome {
    /// The step's position in the plan (0-based, over all images).
    pub position: usize,
    pub label: String,
    pub status: Status,
    pub duration: Duration,
    /// What the step printed, stdout and stderr interleaved as they arrived (bounded).
    pub output: Vec<String>,
}

/// What a run did: every step that ran, in order.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub steps: Vec<StepOutcome>,
    /// The message for the step that stopped the run, if one did.
    pub failure: Option<String>,
    /// The signal (SIGINT, SIGTERM) that stopped the run, if one did.
    pub interrupted: Option<i32>,
    /// Docker's words, when a step could not reach the daemon (the run stopped there).
    pub daemon_unreachable: Option<String>,
}

/// Lines kept per step for the summary and report; output beyond this is still streamed.
const MAX_KEPT_LINES: usize = 200_000;

/// Runs every step in order; `log` receives headers, docker's output and warnings.
/// A failure stops the run, or with `keep_going` only the rest of that image's steps.
pub fn run(plan: &Plan, log: &mut dyn Write, interrupts: &Interrupts, style: LogStyle) -> Outcome {
    let total = plan.steps().count();
    let mut outcome = Outcome::default();
    let mut failures = Vec::new();
    let mut n = 0;
    // The logins come first, as a group of their own; their failure stops everything.
    let groups = std::iter::once((None, &plan.logins))
        .chain(plan.images.iter().map(|i| (Some(&i.name), &i.steps)));
    'images: for (image, steps) in groups {
        for (k, step) in steps.iter().enumerate() {
            n += 1;
            if let Some(signal) = interrupts.received() {
                outcome.interrupted = Some(signal);
                break 'images;
            }
            let header = format!("[{n}/{total}] {}", step.label());
            let _ = writeln!(log, "{}", style.open(n, &header));
            let result = StepOutcome {
                position: n - 1,
                ..run_step(step, log, interrupts)
            };
            if let Some(close) = style.close(n) {
                let _ = writeln!(log, "{close}");
            }
            let status = result.status.clone();
            outcome.steps.push(result);
            if let Some(signal) = interrupts.received() {
                let _ = writeln!(
                    log,
                    "interrupted (signal {signal}): {} stopped; no further step runs",
                    step.label()
                );
                outcome.interrupted = Some(signal);
                break 'images;
            }
            if let Some(line) = daemon_unreachable(&outcome.steps[outcome.steps.len() - 1].output) {
                outcome.daemon_unreachable = Some(line);
                break 'images;
            }
            match status {
                Status::Succeeded => {}
                Status::Tolerated { reason } => {
                    let _ = writeln!(
                        log,
                        "warning: {} failed, continuing without it: {reason}",
                        step.label()
                    );
                }
                Status::Failed { reason } => {
                    failures.push(failure_message(step, n, total, &reason));
                    let Some(image) = image.filter(|_| plan.keep_going) else {
                        break 'images;
                    };
                    n += steps.len() - k - 1;
                    let _ = writeln!(
                        log,
                        "{image} failed; --keep-going: going on with the next image"
                    );
                    continue 'images;
                }
            }
        }
    }
    // The logouts, whatever happened above: after a failure, and after an interrupt too (no
    // signal is forwarded to them; a second one does not stop them either).
    let first = total - plan.logouts.len();
    let undisturbed = Interrupts::none();
    for (i, step) in plan.logouts.iter().enumerate() {
        let header = format!("[{}/{total}] {}", first + i + 1, step.label());
        let _ = writeln!(log, "{}", style.open(first + i + 1, &header));
        let result = StepOutcome {
            position: first + i,
            ..run_step(step, log, &undisturbed)
        };
        if let Some(close) = style.close(first + i + 1) {
            let _ = writeln!(log, "{close}");
        }
        if let Status::Tolerated { reason } = &result.status {
            let _ = writeln!(log, "warning: {} failed: {reason}", step.label());
        }
        outcome.steps.push(result);
    }
    outcome.failure = match failures.len() {
        0 => None,
        1 => failures.pop(),
        k => Some(format!(
            "{k} of {} images failed:\n{}",
            plan.images.len(),
            failures.join("\n")
        )),
    };
    outcome
}

fn failure_message(step: &Step, n: usize, total: usize, reason: &str) -> String {
    let image = if step.image.is_empty() {
        String::new()
    } else {
        format!(" (image {})", step.image)
    };
    let mut msg = format!(
        "step {n}/{total} failed: {}{image}\n  {reason}",
        step.label()
    );
    if step.kind == StepKind::Login {
        msg.push_str("\n  hint: check the registry user and the password variable; nothing was built or pushed");
    }
    if matches!(step.kind, StepKind::Push | StepKind::Pull) {
        if let Some(registry) = step.reference.as_deref().and_then(registry_of) {
            msg.push_str(&format!(
                "\n  hint: check that the registry {registry} is reachable and that you are logged in to it"
            ));
        }
    }
    if step.kind == StepKind::Build && step.args.iter().any(|a| a == "--push") {
        // One build that also exports the cache and pushes: it fails as a whole, and the
        // registry is the usual suspect when the steps themselves ran.
        if let Some(registry) = registry_of(&step.image) {
            msg.push_str(&format!(
                "\n  hint: if the steps succeeded, check that the registry {registry} is reachable and that you are logged in to it"
            ));
        }
    } else if step.kind == StepKind::Build {
        msg.push_str("\n  no tag or cache of this image was pushed");
    }
    msg
}

/// The registry host of a reference, as docker reads it.
fn registry_of(reference: &str) -> Option<String> {
    crate::input::reference::parse(reference)
        .ok()
        .map(|r| r.registry().to_string())
}

/// Runs a step, trying it again after a failure as its `retry` says: not after an interrupt,
/// and not for a pull of an image the registry does not have.
fn run_step(step: &Step, log: &mut dyn Write, interrupts: &Interrupts) -> StepOutcome {
    let started = Instant::now();
    let delays = step.retry.delays();
    let mut tries = 0;
    loop {
        tries += 1;
        let (status, output) = run_once(step, log, interrupts);
        let failed = !matches!(status, Status::Succeeded);
        let absent = step.kind == StepKind::Pull && says_absent(&output);
        let absent = absent || daemon_unreachable(&output).is_some();
        let delay = delays.get(tries - 1).copied();
        match delay {
            Some(delay) if failed && !absent && interrupts.received().is_none() => {
                let _ = writeln!(
                    log,
                    "{} failed (try {tries} of {}); trying again in {:.1}s",
                    step.label(),
                    step.retry.tries,
                    delay.as_secs_f64()
                );
                if interrupts.sleep(delay) {
                    continue;
                }
            }
            _ => {}
        }
        let status = match status {
            Status::Failed { reason } if tries > 1 => Status::Failed {
                reason: format!("{reason} (after {tries} tries)"),
            },
            Status::Tolerated { reason } if tries > 1 => Status::Tolerated {
                reason: format!("{reason} (after {tries} tries)"),
            },
            other => other,
        };
        return StepOutcome {
            position: 0,
            label: step.label(),
            status,
            duration: started.elapsed(),
            output,
        };
    }
}

fn daemon_unreachable(output: &[String]) -> Option<String> {
    output
        .iter()
        .find(|l| {
            crate::plan::step::DAEMON_UNREACHABLE_MARKERS
                .iter()
                .any(|m| l.contains(m))
        })
        .map(|l| l.trim().to_string())
}

/// Case-sensitive, as the sh script's `case` matches.
fn says_absent(output: &[String]) -> bool {
    output.iter().any(|l| {
        crate::plan::step::ABSENT_IMAGE_MARKERS
            .iter()
            .any(|m| l.contains(m))
    })
}

/// One try: spawn, stream, wait.
fn run_once(step: &Step, log: &mut dyn Write, interrupts: &Interrupts) -> (Status, Vec<String>) {
    // The secret for stdin is read here, at the last moment, and never kept or logged.
    let stdin = match &step.stdin_var {
        None => None,
        Some(var) => match std::env::var(var) {
            Ok(value) => Some(value),
            Err(_) => {
                let reason = format!(
                    "the environment variable {var} (the password for {}) is not set",
                    step.label()
                );
                return (Status::Failed { reason }, Vec::new());
            }
        },
    };
    let mut command = crate::docker::step_command(step);
    tracing::debug!(argv = ?step.argv(), env = ?step.env, "spawning");
    let (status, (output, errors)) = match command.spawn() {
        Ok(mut child) => {
            interrupts.child_started(child.id());
            if let (Some(value), Some(mut pipe)) = (stdin, child.stdin.take()) {
                // Dropping the pipe closes it, so docker sees the end of the password.
                let _ = pipe.write_all(value.as_bytes());
            }
            let output = stream(child.stdout.take(), child.stderr.take(), log);
            let status = child.wait().map_err(|e| e.to_string());
            interrupts.child_ended();
            (status, output)
        }
        Err(e) => (
            Err(format!("cannot run `{}`: {e}", step.program)),
            (Vec::new(), Vec::new()),
        ),
    };
    let status = match status {
        Ok(s) if s.success() => Status::Succeeded,
        Ok(s) => {
            let code = s
                .code()
                .map(|c| format!("exit status {c}"))
                .unwrap_or_else(|| "killed by a signal".into());
            // Docker writes its reasons to stderr; stdout only as a last resort.
            let last = match last_error_line(&errors) {
                l if l.is_empty() => last_error_line(&output),
                l => l,
            };
            let reason = if last.is_empty() {
                code
            } else {
                format!("{code}: {last}")
            };
            if step.allow_failure {
                Status::Tolerated { reason }
            } else {
                Status::Failed { reason }
            }
        }
        Err(reason) if step.allow_failure => Status::Tolerated { reason },
        Err(reason) => Status::Failed { reason },
    };
    (status, output)
}

/// Docker's own explanation: the last line that says error, or else the last line.
fn last_error_line(output: &[String]) -> String {
    output
        .iter()
        .rev()
        .find(|l| l.to_lowercase().contains("error"))
        .or_else(|| output.iter().rev().find(|l| !l.trim().is_empty()))
        .map(|l| l.trim().to_string())
        .unwrap_or_default()
}

/// Copies both pipes to `log` line by line as they arrive, and keeps the lines.
/// Returns every line, and separately the stderr lines, where docker puts its reasons.
fn stream(
    stdout: Option<impl Read + Send>,
    stderr: Option<impl Read + Send>,
    log: &mut dyn Write,
) -> (Vec<String>, Vec<String>) {
    let (tx, rx) = mpsc::channel::<(bool, String)>();
    std::thread::scope(|scope| {
        if let Some(out) = stdout {
            let tx = tx.clone();
            scope.spawn(move || forward_lines(out, false, tx));
        }
        if let Some(err) = stderr {
            let tx = tx.clone();
            scope.spawn(move || forward_lines(err, true, tx));
        }
        drop(tx);
        let (mut kept, mut errors) = (Vec::new(), Vec::new());
        for (is_stderr, line) in rx {
            let _ = writeln!(log, "{line}");
            if is_stderr && errors.len() < MAX_KEPT_LINES {
                errors.push(line.clone());
            }
            if kept.len() < MAX_KEPT_LINES {
                kept.push(line);
            }
        }
        let _ = log.flush();
        (kept, errors)
    })
}

fn forward_lines(pipe: impl Read, is_stderr: bool, tx: mpsc::Sender<(bool, String)>) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    while let Ok(n) = reader.read_until(b'\n', &mut buf) {
        if n == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf)
            .trim_end_matches(['\n', '\r'])
            .to_string();
        if tx.send((is_stderr, line)).is_err() {
            break;
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_reason_prefers_error_lines() {
        let out = vec![
            "Using default tag".to_string(),
            "Error response from daemon: manifest unknown".into(),
            "".into(),
        ];
        assert_eq!(
            last_error_line(&out),
            "Error response from daemon: manifest unknown"
        );
        assert_eq!(last_error_line(&["a".into(), "b".into()]), "b");
        assert_eq!(last_error_line(&[]), "");
    }
}

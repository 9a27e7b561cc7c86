//! The executor: spawns each step of a [`Plan`] with `std::process::Command` (never through a
//! shell), up to `Plan::jobs` at once, each on a thread of its own once the steps and images it
//! waits for have ended well (`Step::after`, `ImagePlan::after`: the plan decides the order, the
//! executor only follows it). The main thread owns the log: workers send it their lines, which
//! it writes as they come (prefixed with the image and stage) or in one block per step. The
//! first failure that is not tolerated stops the run, and the commands still running with it.

mod log_style;
mod signals;

pub use log_style::{LogStyle, Progress};
pub use signals::Interrupts;

use crate::error::Error;
use crate::plan::step::{Step, StepKind};
use crate::plan::Plan;
use crate::secrets::Secrets;
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
    /// When it started (its first try), for the time docker was busy when steps ran at once.
    pub started: Instant,
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

impl Outcome {
    /// How long at least one docker command was running: the steps' own time, with the time
    /// several ran at once counted once.
    pub fn docker_busy(&self) -> Duration {
        let mut spans: Vec<(Instant, Instant)> = self
            .steps
            .iter()
            .map(|s| (s.started, s.started + s.duration))
            .collect();
        spans.sort();
        let mut busy = Duration::ZERO;
        let mut current: Option<(Instant, Instant)> = None;
        for (start, end) in spans {
            current = match current {
                Some((s, e)) if start <= e => Some((s, e.max(end))),
                Some((s, e)) => {
                    busy += e - s;
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        busy + current.map_or(Duration::ZERO, |(s, e)| e - s)
    }

    /// How the run ended, as the command's result: interrupted, the daemon not reachable
    /// (`docker_host` says where it was looked for), a step failed, or success. Docker's words
    /// are masked.
    pub fn result(&self, docker_host: Option<String>, secrets: &Secrets) -> Result<(), Error> {
        if let Some(signal) = self.interrupted {
            return Err(Error::interrupted(signal));
        }
        if let Some(reason) = &self.daemon_unreachable {
            let host = docker_host.unwrap_or_else(|| "the default socket".into());
            return Err(Error::environment(format!(
                "the Docker daemon is not reachable ({host}): {}",
                secrets.mask(reason)
            ))
            .hint(
                "start dockerd (or Docker Desktop), check DOCKER_HOST, or use --dry-run to see \
                 the plan",
            ));
        }
        match &self.failure {
            Some(message) => Err(Error::step_failed(secrets.mask(message))),
            None => Ok(()),
        }
    }
}

/// Lines kept per step for the summary and report; output beyond this is still streamed.
const MAX_KEPT_LINES: usize = 200_000;

/// The signal the executor stops running docker commands with when another step failed: the
/// one Ctrl-C sends, which docker handles by cancelling the build or push (a cancelled build
/// exports nothing, a cancelled push never writes the tag's manifest).
const STOP_SIGNAL: i32 = libc::SIGINT;

/// How a step stands while the run goes on.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Waiting,
    Running,
    /// Ended well (or its failure is tolerated).
    Ok,
    Failed,
}

/// What a worker thread tells the executor.
enum Event {
    Line(usize, String),
    Done(usize, StepOutcome),
}

/// Where each step of the plan is: `(image, index in the image's steps)`, image `None` for a
/// login; in `Plan::steps` order, which is the order of positions.
fn positions(plan: &Plan) -> Vec<(Option<usize>, usize)> {
    (0..plan.logins.len())
        .map(|j| (None, j))
        .chain(
            plan.images
                .iter()
                .enumerate()
                .flat_map(|(k, i)| (0..i.steps.len()).map(move |j| (Some(k), j))),
        )
        .collect()
}

/// Runs the plan's steps, up to `plan.jobs` docker commands at once, each when what it waits
/// for has ended well: the logins first, one after another; an image after the images it
/// builds on (`ImagePlan::after`); a step after the steps of its image it names (`Step::after`).
/// With one job the steps run in plan order, exactly as listed.
///
/// A failure stops the run: no step starts after it, and the docker commands still running are
/// stopped (SIGINT), so nothing more is pushed. With `keep_going` only the failed image stops
/// (its running commands finish, its later steps and the images built on it never start); the
/// others finish. `log` receives headers, docker's output (as `progress` says) and warnings.
pub fn run(
    plan: &Plan,
    log: &mut dyn Write,
    interrupts: &Interrupts,
    style: LogStyle,
    progress: Progress,
) -> Outcome {
    // The logins and the images' steps, scheduled below; the logouts run after them, always.
    let steps: Vec<&Step> = plan
        .logins
        .iter()
        .chain(plan.images.iter().flat_map(|i| i.steps.iter()))
        .collect();
    let total = steps.len();
    let shown_total = total + plan.logouts.len();
    let at = positions(plan);
    let base: Vec<usize> = plan
        .images
        .iter()
        .scan(plan.logins.len(), |next, i| {
            let b = *next;
            *next += i.steps.len();
            Some(b)
        })
        .collect();
    let names = short_names(plan);
    let mut state = vec![State::Waiting; total];
    let mut image_failed = vec![false; plan.images.len()];
    let mut outcome = Outcome::default();
    let mut failures: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut stopped: Vec<usize> = Vec::new();
    let mut started = 0;
    let mut running = 0;
    let mut header = vec![String::new(); total];
    let mut buffered: Vec<Vec<String>> = vec![Vec::new(); total];
    let jobs = plan.jobs.max(1);
    let (tx, rx) = mpsc::channel::<Event>();

    let label = |p: usize| match at[p].0 {
        Some(k) if progress != Progress::Plain => format!("{}: {}", names[k], steps[p].label()),
        _ => steps[p].label(),
    };
    let prefix = |p: usize| match (at[p].0, &steps[p].stage) {
        (Some(k), Some(stage)) => format!("{}/{stage} | ", names[k]),
        (Some(k), None) => format!("{} | ", names[k]),
        (None, _) => "login | ".to_string(),
    };
    // Sections fold only when they do not interleave: with prefixed lines, plain headers.
    let sections = progress != Progress::Prefix;

    std::thread::scope(|scope| {
        loop {
            if !interrupts.halted() && outcome.daemon_unreachable.is_none() {
                // Images that can never start: they build on an image that failed.
                for (k, image) in plan.images.iter().enumerate() {
                    if image_failed[k] {
                        continue;
                    }
                    if let Some(&dep) = image.after.iter().find(|&&d| image_failed[d]) {
                        image_failed[k] = true;
                        let msg = format!(
                            "{} is not built: it builds on {}, which failed",
                            image.name, plan.images[dep].name
                        );
                        let _ = writeln!(log, "{msg}");
                        skipped.push(msg);
                    }
                }
                for p in 0..total {
                    if running >= jobs {
                        break;
                    }
                    if state[p] != State::Waiting
                        || !ready(plan, &at, &base, &state, &image_failed, p)
                    {
                        continue;
                    }
                    state[p] = State::Running;
                    running += 1;
                    started += 1;
                    header[p] = format!("[{started}/{shown_total}] {}", label(p));
                    match progress {
                        Progress::Group => {
                            let _ = writeln!(log, "{} ...", header[p]);
                        }
                        Progress::Prefix => {
                            let _ = writeln!(log, "{}", header[p]);
                        }
                        _ => {
                            let _ = writeln!(log, "{}", style.open(p + 1, &header[p]));
                        }
                    }
                    let tx = tx.clone();
                    let step = steps[p];
                    scope.spawn(move || {
                        let mut sink = |line: String| {
                            let _ = tx.send(Event::Line(p, line));
                        };
                        let result = run_step(step, &mut sink, interrupts);
                        let _ = tx.send(Event::Done(
                            p,
                            StepOutcome {
                                position: p,
                                ..result
                            },
                        ));
                    });
                }
            }
            let _ = log.flush();
            if running == 0 {
                break;
            }
            let Ok(event) = rx.recv() else { break };
            let (p, result) = match event {
                Event::Line(p, line) => {
                    match progress {
                        Progress::Group => buffered[p].push(line),
                        Progress::Prefix => {
                            let _ = writeln!(log, "{}{line}", prefix(p));
                        }
                        _ => {
                            let _ = writeln!(log, "{line}");
                        }
                    }
                    continue;
                }
                Event::Done(p, result) => (p, result),
            };
            running -= 1;
            if progress == Progress::Group {
                let _ = writeln!(
                    log,
                    "{}",
                    style.open(p + 1, &format!("{}: {}", header[p], status_text(&result)))
                );
                for line in buffered[p].drain(..) {
                    let _ = writeln!(log, "{line}");
                }
            }
            if sections {
                if let Some(close) = style.close(p + 1) {
                    let _ = writeln!(log, "{close}");
                }
            }
            let step = steps[p];
            let status = result.status.clone();
            let unreachable = daemon_unreachable(&result.output);
            let in_export = step.kind == StepKind::Build && export_failed(&result.output);
            outcome.steps.push(result);
            state[p] = match status {
                Status::Failed { .. } => State::Failed,
                _ => State::Ok,
            };
            if let Some(signal) = interrupts.received() {
                if outcome.interrupted.is_none() {
                    let _ = writeln!(
                        log,
                        "interrupted (signal {signal}): {} stopped; no further step runs",
                        label(p)
                    );
                }
                outcome.interrupted = Some(signal);
                continue;
            }
            if let Some(line) = unreachable {
                if outcome.daemon_unreachable.is_none() {
                    interrupts.stop_all(STOP_SIGNAL);
                }
                outcome.daemon_unreachable = Some(line);
                continue;
            }
            match status {
                Status::Succeeded => {}
                Status::Tolerated { reason } => {
                    let _ = writeln!(
                        log,
                        "warning: {} failed, continuing without it: {reason}",
                        label(p)
                    );
                }
                Status::Failed { .. } if stopped.contains(&p) => {}
                Status::Failed { reason } => {
                    failures.push(failure_message(
                        step,
                        p + 1,
                        shown_total,
                        &reason,
                        in_export,
                    ));
                    let image = at[p].0;
                    if let Some(k) = image {
                        image_failed[k] = true;
                    }
                    match image.filter(|_| plan.keep_going) {
                        Some(k) => {
                            let _ = writeln!(
                                log,
                                "{} failed; --keep-going: the other images go on",
                                plan.images[k].name
                            );
                        }
                        None if !interrupts.halted() => {
                            // Whatever else runs is stopped: nothing more is pushed.
                            stopped = (0..total).filter(|&q| state[q] == State::Running).collect();
                            if !stopped.is_empty() {
                                let names: Vec<String> =
                                    stopped.iter().map(|&q| label(q)).collect();
                                let _ = writeln!(
                                    log,
                                    "{} failed: stopping {}; no further step runs",
                                    label(p),
                                    names.join(", ")
                                );
                            }
                            interrupts.stop_all(STOP_SIGNAL);
                        }
                        None => {}
                    }
                }
            }
        }
    });
    outcome.steps.sort_by_key(|s| s.position);
    // The logouts, whatever happened above: after a failure, and after an interrupt too (no
    // signal is forwarded to them; a second one does not stop them either).
    let first = total;
    let total = total + plan.logouts.len();
    let undisturbed = Interrupts::none();
    for (i, step) in plan.logouts.iter().enumerate() {
        let header = format!("[{}/{total}] {}", first + i + 1, step.label());
        let _ = writeln!(log, "{}", style.open(first + i + 1, &header));
        let result = StepOutcome {
            position: first + i,
            ..run_step(
                step,
                &mut |line| {
                    let _ = writeln!(log, "{line}");
                },
                &undisturbed,
            )
        };
        if let Some(close) = style.close(first + i + 1) {
            let _ = writeln!(log, "{close}");
        }
        if let Status::Tolerated { reason } = &result.status {
            let _ = writeln!(log, "warning: {} failed: {reason}", step.label());
        }
        outcome.steps.push(result);
    }
    let not_built: Vec<&str> = plan
        .images
        .iter()
        .enumerate()
        .filter(|(k, image)| {
            !image_failed[*k] && (0..image.steps.len()).any(|j| state[base[*k] + j] != State::Ok)
        })
        .map(|(_, image)| image.name.as_str())
        .collect();
    let failed_images = image_failed.iter().filter(|f| **f).count() - skipped.len();
    let not_started = match skipped.len() {
        0 => String::new(),
        k => format!(", {k} not built"),
    };
    let mut message = match failures.len() {
        0 => None,
        1 if skipped.is_empty() => failures.pop(),
        _ => Some(format!(
            "{failed_images} of {} images failed{not_started}:\n{}",
            plan.images.len(),
            failures
                .iter()
                .chain(&skipped)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        )),
    };
    if let Some(m) = message.as_mut() {
        if !not_built.is_empty() && outcome.interrupted.is_none() {
            m.push_str(&format!(
                "\n  stopped before they were complete, nothing more pushed: {}",
                not_built.join(", ")
            ));
        }
    }
    outcome.failure = message;
    outcome
}

/// Whether step `p` may start now.
fn ready(
    plan: &Plan,
    at: &[(Option<usize>, usize)],
    base: &[usize],
    state: &[State],
    image_failed: &[bool],
    p: usize,
) -> bool {
    let logins = plan.logins.len();
    let Some(k) = at[p].0 else {
        // Logins one after another.
        return state[..p].iter().all(|s| *s == State::Ok);
    };
    if image_failed[k] || !state[..logins].iter().all(|s| *s == State::Ok) {
        return false;
    }
    let image = &plan.images[k];
    let finished =
        |d: usize| (0..plan.images[d].steps.len()).all(|j| state[base[d] + j] == State::Ok);
    image.after.iter().all(|&d| finished(d))
        && image.steps[at[p].1]
            .after
            .iter()
            .all(|&j| state[base[k] + j] == State::Ok)
}

/// How a step ended, for a group's header.
fn status_text(result: &StepOutcome) -> String {
    let word = match result.status {
        Status::Succeeded => "ok",
        Status::Tolerated { .. } => "missed (tolerated)",
        Status::Failed { .. } => "FAILED",
    };
    format!("{word} in {:.1}s", result.duration.as_secs_f64())
}

/// Each image's name for prefixes: the last part of its repository (`app` for
/// `registry.example.com/team/app`), or the whole repository where two would look alike.
fn short_names(plan: &Plan) -> Vec<String> {
    let last = |n: &str| n.rsplit('/').next().unwrap_or(n).to_string();
    plan.images
        .iter()
        .map(|i| {
            let short = last(&i.name);
            let alike = plan
                .images
                .iter()
                .filter(|o| last(&o.name) == short)
                .count();
            if alike > 1 {
                i.name.clone()
            } else {
                short
            }
        })
        .collect()
}

/// `in_export`: a build that failed exporting its image or cache (`export_failed`).
fn failure_message(step: &Step, n: usize, total: usize, reason: &str, in_export: bool) -> String {
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
        let registry = registry_of(&step.image);
        if let Some(registry) = registry.as_ref().filter(|_| in_export) {
            msg.push_str(&format!(
                "\n  hint: every step built; pushing to the registry {registry} failed: check that it is reachable and that you are logged in to it"
            ));
        } else if let Some(registry) = registry {
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
/// not for a pull of an image the registry does not have, and a build only when it failed in
/// its export (a `buildx build --push` whose push failed: tried again as a push is, its steps
/// then come from the local cache), never for a step of its own.
fn run_step(step: &Step, log: &mut dyn FnMut(String), interrupts: &Interrupts) -> StepOutcome {
    let started = Instant::now();
    let delays = step.retry.delays();
    let mut tries = 0;
    loop {
        tries += 1;
        let (status, output) = run_once(step, log, interrupts);
        let failed = !matches!(status, Status::Succeeded);
        let absent = step.kind == StepKind::Pull && says_absent(&output);
        let absent = absent || daemon_unreachable(&output).is_some();
        let absent = absent || (step.kind == StepKind::Build && !export_failed(&output));
        let delay = delays.get(tries - 1).copied();
        match delay {
            Some(delay) if failed && !absent && !interrupts.halted() => {
                log(format!(
                    "{} failed (try {tries} of {}); trying again in {:.1}s",
                    step.label(),
                    step.retry.tries,
                    delay.as_secs_f64()
                ));
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
            started,
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

/// Whether a BuildKit build failed in an export: a vertex `#N exporting to image` (or
/// `exporting cache to registry`, ...) then `#N ERROR`. Exports run after every Dockerfile step
/// succeeded, so what failed is the registry traffic (seen on 28.5 with the containerd store:
/// `#11 exporting to image` ... `#11 ERROR: failed to push ...`, `#12 exporting cache to
/// registry` ... `#12 ERROR: error writing manifest blob: ... 500`).
fn export_failed(output: &[String]) -> bool {
    let mut exports = std::collections::HashSet::new();
    for line in output {
        let Some((id, rest)) = line.strip_prefix('#').and_then(|l| l.split_once(' ')) else {
            continue;
        };
        if rest.starts_with("exporting ") {
            exports.insert(id);
        } else if rest.starts_with("ERROR") && exports.contains(id) {
            return true;
        }
    }
    false
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
fn run_once(
    step: &Step,
    log: &mut dyn FnMut(String),
    interrupts: &Interrupts,
) -> (Status, Vec<String>) {
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
    if interrupts.halted() {
        // Stopped between the decision to start and now: a command killed at once is no use.
        let reason = "not started: the run is stopping".to_string();
        return (Status::Failed { reason }, Vec::new());
    }
    let mut command = crate::docker::step_command(step);
    tracing::debug!(argv = ?step.argv(), env = ?step.env, "spawning");
    let (status, (output, errors)) = match command.spawn() {
        Ok(mut child) => {
            let pid = child.id();
            interrupts.child_started(pid);
            if let (Some(value), Some(mut pipe)) = (stdin, child.stdin.take()) {
                // Dropping the pipe closes it, so docker sees the end of the password.
                let _ = pipe.write_all(value.as_bytes());
            }
            let output = stream(child.stdout.take(), child.stderr.take(), log);
            let status = child.wait().map_err(|e| e.to_string());
            interrupts.child_ended(pid);
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
    log: &mut dyn FnMut(String),
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
            log(line.clone());
            if is_stderr && errors.len() < MAX_KEPT_LINES {
                errors.push(line.clone());
            }
            if kept.len() < MAX_KEPT_LINES {
                kept.push(line);
            }
        }
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

    #[test]
    fn docker_is_busy_once_while_steps_run_at_once() {
        let t0 = Instant::now();
        let step = |start_ms: u64, ms: u64| StepOutcome {
            position: 0,
            label: String::new(),
            status: Status::Succeeded,
            started: t0 + Duration::from_millis(start_ms),
            duration: Duration::from_millis(ms),
            output: Vec::new(),
        };
        let outcome = |steps| Outcome {
            steps,
            ..Outcome::default()
        };
        // One after the other: the sum.
        let one_by_one = outcome(vec![step(0, 100), step(100, 50)]);
        assert_eq!(one_by_one.docker_busy(), Duration::from_millis(150));
        // Two branches at once, then a gap, then a push: 0-300, 400-450.
        let at_once = outcome(vec![step(0, 300), step(50, 100), step(400, 50)]);
        assert_eq!(at_once.docker_busy(), Duration::from_millis(350));
        assert_eq!(outcome(Vec::new()).docker_busy(), Duration::ZERO);
    }

    #[test]
    fn an_export_failure_is_told_from_a_step_failure() {
        let lines = |t: &str| t.lines().map(String::from).collect::<Vec<_>>();
        assert!(export_failed(&lines(
            "#9 [2/3] RUN x\n#9 DONE 0.1s\n#11 exporting to image\n#11 exporting layers 0.1s done\n\
             #11 ERROR: failed to push r/app:v1: failed to do request"
        )));
        assert!(export_failed(&lines(
            "#12 exporting cache to registry\n#12 ERROR: error writing manifest blob: 500"
        )));
        assert!(!export_failed(&lines(
            "#4 importing cache manifest from r/app:cache\n#4 ERROR: not found\n\
             #9 [2/3] RUN false\n#9 ERROR: process \"/bin/sh -c false\" did not complete successfully"
        )));
    }
}

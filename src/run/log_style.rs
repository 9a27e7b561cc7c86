//! How the run's log looks: plain step headers, or the CI's collapsible sections.

use crate::input::ci::Platform;
use crate::secrets::Secrets;

/// How docker's output is shown when several commands run at once (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Progress {
    /// Each line as it comes, prefixed with its image and stage: `app/builder | #6 DONE 0.1s`
    Prefix,
    /// Each step's output in one block when it ends (in CI, inside its collapsible section)
    Group,
    /// Each line as it comes, as docker printed it
    Plain,
}

impl Progress {
    /// `--progress` when given; else plain when one docker command runs at a time (the log of
    /// a sequential run, unchanged), group where the CI folds sections (interleaved sections
    /// would not fold), and prefix elsewhere.
    pub fn choose(asked: Option<Progress>, concurrent: bool, style: LogStyle) -> Progress {
        match asked {
            Some(p) => p,
            None if !concurrent => Progress::Plain,
            None if style != LogStyle::Plain => Progress::Group,
            None => Progress::Prefix,
        }
    }
}

/// How step headers look in the log: plain, or the CI's collapsible sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStyle {
    /// `[2/5] build base`
    Plain,
    /// GitLab's `section_start` / `section_end` markers: each step a collapsible section.
    GitLab,
    /// GitHub Actions' `::group::` / `::endgroup::` workflow commands.
    GitHub,
}

impl LogStyle {
    /// The style for the CI a run is in.
    pub fn for_platform(platform: Platform) -> LogStyle {
        match platform {
            Platform::GitLab => LogStyle::GitLab,
            Platform::GitHub => LogStyle::GitHub,
            _ => LogStyle::Plain,
        }
    }

    /// What goes to stdout before the run: on GitHub, an `::add-mask::` command per secret, so
    /// the runner hides those values in its own logs too. The line is the runner's command
    /// channel, not output (the runner does not print it).
    pub fn preamble(self, secrets: &Secrets) -> String {
        match self {
            LogStyle::GitHub => secrets
                .values()
                .iter()
                .map(|v| format!("::add-mask::{v}\n"))
                .collect(),
            _ => String::new(),
        }
    }

    pub(crate) fn open(self, n: usize, header: &str) -> String {
        match self {
            LogStyle::Plain => header.to_string(),
            LogStyle::GitLab => format!(
                "\x1b[0Ksection_start:{}:layercache_step_{n}[collapsed=true]\r\x1b[0K{header}",
                unix_time()
            ),
            LogStyle::GitHub => format!("::group::{header}"),
        }
    }

    pub(crate) fn close(self, n: usize) -> Option<String> {
        match self {
            LogStyle::Plain => None,
            LogStyle::GitLab => Some(format!(
                "\x1b[0Ksection_end:{}:layercache_step_{n}\r\x1b[0K",
                unix_time()
            )),
            LogStyle::GitHub => Some("::endgroup::".to_string()),
        }
    }
}

fn unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

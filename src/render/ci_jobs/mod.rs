//! CI jobs for `layercache ci`: a GitLab CI job, a GitHub Actions workflow or a CircleCI
//! configuration that builds the spec with its registry cache, as YAML text.
//!
//! Two styles. The default job installs layercache on the runner and runs `layercache build`,
//! which reads the spec, the Dockerfile and the CI's variables in every pipeline: the job names
//! no image, tag or stage, so it does not go stale when the Dockerfile changes. A standalone job
//! embeds the script that `layercache plan --format sh` prints instead, for runners that cannot
//! be given a new tool; it is right for the Dockerfile it was generated from, and says so.
//!
//! The YAML is written as text, not serialized, for the comments and the order a person reads.
//! Everything that is not fixed text here (the spec's path, a registry host, the embedded
//! script) goes through [`scalar`] or [`literal_block`], whose output is tested to parse back to
//! the same string. This module neither plans nor reads files: `commands::ci` hands it the script.

use crate::error::Error;
use crate::input::reference::is_loopback_registry;
use crate::plan::Builder;

mod component;
mod default_style;
mod standalone;
mod yaml;

pub use component::{gitlab_component, COMPONENT, GITLAB_PROJECT};
pub use default_style::default_job;
use default_style::*;
pub use standalone::{standalone_job, standalone_warnings};
use yaml::*;
pub use yaml::{literal_block, scalar};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// GitLab: the client image and the dind daemon are the same release, so the client only speaks
/// API versions the daemon has. Both come with the buildx plugin, so a standalone job builds
/// with BuildKit.
const GITLAB_DOCKER_IMAGE: &str = "docker:24.0";
const GITLAB_DIND_SERVICE: &str = "docker:24.0-dind";

/// The image that compiles layercache for the GitLab job. Not `apk add cargo` in the docker
/// image: the Alpine release under docker:24.0 packages a Rust older than layercache's
/// dependencies need (clap 4.6 wants Rust 1.85). The official Rust image follows stable, and its
/// musl build runs in the Alpine-based docker image.
const GITLAB_RUST_IMAGE: &str = "rust:1-alpine";

const CIRCLECI_MACHINE_IMAGE: &str = "ubuntu-2204:current";

/// Where the default jobs keep the installed layercache between runs.
const INSTALL_ROOT: &str = ".layercache";

/// Where the GitLab standalone job writes the embedded script before `sh` runs it.
const GITLAB_SCRIPT_FILE: &str = "\"${TMPDIR:-/tmp}/layercache-build.sh\"";

/// An environment variable the spec read when the standalone job was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvRead {
    pub name: String,
    /// Whether it was set here (its value is never written: it may be a secret).
    pub set: bool,
}

/// What a standalone job is made of; `commands::ci` plans it.
#[derive(Debug, Clone)]
pub struct Standalone {
    /// The spec's path as the job's checkout has it, or what the job builds without one.
    pub spec: String,
    /// The spec for `-f` in the command that generates the job again: one other than
    /// ./layercache.yml.
    pub spec_flag: Option<String>,
    /// The builder the script was planned for.
    pub builder: Builder,
    /// The `plan --format sh` script that builds and pushes.
    pub script: String,
    /// GitHub only: the same plan with nothing pushed, for pull requests.
    pub pull_request_script: Option<String>,
    /// The registries the plan pushes to, the first image's first.
    pub registries: Vec<String>,
    /// The environment variables the spec read while it was planned.
    pub env_read: Vec<EnvRead>,
}

/// `Local` is no CI: the command line never offers it (`#[value(skip)]`).
pub(super) fn no_platform() -> Error {
    Error::input("a CI job needs a CI platform").hint("name one: gitlab, github or circleci")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Parses `key: <value>` back, as a platform would.
    fn read_back(value: &str) -> String {
        read_back_at(value, 2)
    }

    /// Parses `value` back as the value of a key nested so that its block lines are indented by
    /// `indent` spaces (an even number), and as a `- ` entry placed the same way.
    fn read_back_at(value: &str, indent: usize) -> String {
        let depth = indent / 2 - 1;
        let mut doc = String::new();
        for level in 0..depth {
            doc.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
        }
        let pad = "  ".repeat(depth);
        let as_entry = format!("{doc}{pad}- {value}\n{pad}- next\n");
        let as_value = format!("{doc}{pad}key: {value}\n{pad}other: next\n");
        let read = |doc: &str, entry: bool| {
            let mut node: serde_yaml::Value =
                serde_yaml::from_str(doc).unwrap_or_else(|e| panic!("{e}\n{doc}"));
            for level in 0..depth {
                node = node[format!("k{level}").as_str()].clone();
            }
            let node = if entry {
                node[0].clone()
            } else {
                node["key"].clone()
            };
            node.as_str()
                .unwrap_or_else(|| panic!("not a string: {doc}"))
                .to_string()
        };
        let value_read = read(&as_value, false);
        assert_eq!(read(&as_entry, true), value_read, "{as_entry}");
        value_read
    }

    #[test]
    fn scalars_are_plain_only_when_that_reads_back_the_same() {
        assert_eq!(scalar("layercache build"), "layercache build");
        assert_eq!(
            scalar("registry.example.com:5000"),
            "registry.example.com:5000"
        );
        for tricky in [
            "yes", "on", "1.10", "0x1F", "~", "", "- x", "a: b", "a #b", "'q'", "@x", "a{b}",
        ] {
            assert_eq!(read_back(&scalar(tricky)), tricky, "{tricky}");
        }
        assert_eq!(scalar("on"), "'on'");
        assert_eq!(scalar("it's"), "it's");
        assert_eq!(scalar("'it's'"), "'''it''s'''");
    }

    #[test]
    fn a_block_keeps_every_line_of_the_script() {
        let script = "#!/bin/sh\nset -eu\n\n  indented\ndocker build --build-arg 'A=x\ny'\n";
        assert_eq!(read_back_at(&literal_block(script, 10), 10), script);
        assert!(literal_block(script, 2).starts_with("|\n"));
        assert_eq!(read_back_at(&literal_block("  lead\n", 6), 6), "  lead\n");
        assert_eq!(read_back_at(&literal_block("\tlead\n", 12), 12), "\tlead\n");
        assert_eq!(read_back_at(&literal_block("a\n\n\n", 4), 4), "a\n\n\n");
        assert_eq!(read_back_at(&literal_block("no end", 4), 4), "no end");
        assert_eq!(read_back_at(&literal_block("\t", 10), 10), "\t");
    }

    #[test]
    fn heredoc_delimiters_avoid_the_scripts_lines() {
        assert_eq!(heredoc_delimiter("echo\n"), "LAYERCACHE_SCRIPT");
        assert_eq!(
            heredoc_delimiter("a\nLAYERCACHE_SCRIPT\nLAYERCACHE_SCRIPT_\n"),
            "LAYERCACHE_SCRIPT__"
        );
    }

    #[test]
    fn characters_yaml_cannot_carry_are_refused() {
        assert!(check_text("ok\ttab\n", "x").is_ok());
        assert!(check_line("ok\ttab", "x").is_ok());
        assert!(check_line("two\nlines", "x").is_err());
        for bad in ["a\rb", "bell\u{7}", "nel\u{85}", "ls\u{2028}", "del\u{7f}"] {
            let e = check_text(bad, "the planned script")
                .unwrap_err()
                .to_string();
            assert!(e.contains("U+"), "{bad:?}: {e}");
        }
    }

    proptest! {
        #[test]
        fn any_script_reads_back_from_its_block(
            text in "[ -~\t\n\u{a0}-\u{2fff}]{0,80}",
            half in 1usize..7,
        ) {
            prop_assume!(check_text(&text, "x").is_ok());
            let indent = half * 2;
            prop_assert_eq!(read_back_at(&literal_block(&text, indent), indent), text);
        }

        #[test]
        fn any_line_reads_back_as_a_scalar(text in "[ -~\u{a0}-\u{2fff}]{0,40}") {
            prop_assert_eq!(read_back(&scalar(&text)), text);
        }
    }
}

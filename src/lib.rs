//! layercache: plans and runs per-stage `docker build` sequences with registry-backed layer
//! caching, so builds on fresh CI runners start warm.
//!
//! The flow goes one way: input (`cli`, `spec`, `dockerfile`, `reference`) -> `plan` (pure,
//! produces a [`plan::Plan`] of [`step::Step`]s) -> `run` (spawns docker) or `render` (sh, JSON).
//! `commands` wires them together for each subcommand.

pub mod ci;
pub mod ci_config;
pub mod cli;
pub mod commands;
pub mod docker;
pub mod doctor;
pub mod error;
pub mod input {
    //! Reading and validating what the user wrote.
    pub mod dockerfile;
    pub mod expand;
}
pub mod lint;
pub mod plan;
pub mod reference;
pub mod render;
pub mod report;
pub mod run;
pub mod secrets;
pub mod spec;
pub mod step;

/// Temporary: the old path of the Dockerfile reader, until the callers move to `input::dockerfile`.
pub use input::dockerfile;

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
pub mod dockerfile;
pub mod doctor;
pub mod error;
pub mod input {
    pub mod compose;
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

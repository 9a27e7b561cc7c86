//! layercache: plans and runs per-stage `docker build` sequences with registry-backed layer
//! caching, so builds on fresh CI runners start warm.
//!
//! The flow goes one way: input (`cli`, `input`) -> `plan` (pure, produces a [`plan::Plan`] of
//! [`plan::step::Step`]s) -> `run` (spawns docker) or `render` (sh, JSON, CI jobs) -> `report`.
//! `commands` wires them together for each subcommand.

pub mod cli;
pub mod commands;
pub mod docker;
pub mod dockerfile;
pub mod doctor;
pub mod error;
pub mod input;
pub mod lint;
pub mod options;
pub mod plan;
pub mod render;
pub mod report;
pub mod run;
pub mod secrets;

//! layercache: plans and runs docker builds with registry-backed layer caching, so builds on
//! fresh CI runners start warm, with the cache strategy that is fastest on the engine it finds.
//!
//! The flow goes one way: `options` (the command line and the environment, converted once) ->
//! `input` (spec, Dockerfiles, CI context) -> `plan` (pure, produces a [`plan::Plan`] of
//! [`plan::step::Step`]s, given the engine's [`docker::Capabilities`]) -> `run` (spawns docker)
//! or `render` (sh, JSON, CI jobs) -> `report`. `commands` wires them together per subcommand.

pub mod cli;
pub mod commands;
pub mod docker;
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

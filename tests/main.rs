//! The integration tests, one crate (as ripgrep's `tests/tests.rs` and just's `tests/lib.rs`):
//! the binary and the helpers are built once, not once per file, and one filter picks a suite,
//! e.g. `cargo test --test main e2e::`.
//!
//! Cargo.toml sets `autotests = false`, so a file in tests/ is compiled only when it is declared
//! here: a new suite needs its `mod` line (scripts/test.sh checks that every tests/*.rs has one).

mod support;

mod bad_input;
mod ci;
mod ci_config;
mod cli;
mod completions;
mod compose;
mod compose_oracle;
mod compose_properties;
mod concurrency;
mod doctor;
mod e2e;
mod faults;
mod github_action;
mod gitlab_component;
mod injection;
mod layout;
mod lint;
mod properties;
mod report;
mod schema;
mod secrets;
mod signals;
mod strategies;

//! What the suites share: the `Test` builder that runs layercache against a fake docker
//! (`test.rs`, with the `fake-docker` script it puts first on PATH), and the helpers of the
//! end-to-end tests that talk to the real engine (`engine.rs`), and a TCP proxy that makes a
//! registry misbehave (`fault_proxy.rs`).

pub mod engine;
pub mod fault_proxy;
mod test;

pub use test::{read_calls, Call, Output, Test};

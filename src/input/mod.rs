//! Reading and validating what the user wrote: the spec, the Dockerfiles, image references, the
//! CI's variables. Every error names the file, line and column, and says what to do. Nothing
//! here knows docker commands or reads the environment itself: callers pass a lookup.

pub mod ci;
pub mod ci_job;
pub mod compose;
mod compose_images;
pub mod dockerfile;
pub mod expand;
mod read;
pub mod reference;
pub mod spec;

pub use read::{
    names_input, read_dockerfile, read_inputs, registries_of, secret_vars, spec_relative,
    ImageInput, InputFiles, Inputs, DEFAULT_SPEC,
};

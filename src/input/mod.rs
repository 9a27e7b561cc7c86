//! Reading and validating what the user wrote: the spec, image references, the CI's variables.
//! Every error names the file, line and column, and says what to do.

pub mod ci;
pub mod reference;
pub mod spec;

//! The Compose reader: Compose files in, a resolved build model out ([`Project`]), applying
//! Compose's own rules as compose v2 (2.26 and 2.40, the oracle in
//! `tests/fixtures/compose`) applies them: file discovery and `COMPOSE_FILE`, the override
//! file, `.env` with the environment winning, substitution, `include`, `extends`, the merge
//! of several files, profiles and the project name.
//!
//! What it does not do: run docker, read the process environment, or decide what to build.
//! Build keys it takes no meaning from are listed in [`Project::unsupported`] for the planner to
//! refuse; keys compose itself refuses are errors, placed at `file:line:col` with a hint.
//!
//! One concept per file:
//! - [`request`]: how it is invoked (compose's options and an environment snapshot);
//! - [`discovery`]: which files; [`dotenv`]: `.env` files; [`fs`]: the one window on files;
//! - [`yaml`]: text to YAML; [`position`]: where keys are written, for messages;
//! - [`interpolate`]: `${VAR}` and friends; [`normalize`]: one shape per key, checked against
//!   the schema's [`keys`], the values by [`build_values`] and [`scalars`];
//! - [`merge`]: the merge rules; [`loader`]: files read and merged, with [`include`](mod@include) and
//!   [`extends`]; [`environment`]: `.env` under the process environment;
//! - [`project`]: the pipeline, profiles, the project name, the checks on the merged model;
//! - [`extract`] and [`model`]: the typed result and the build groups;
//! - [`error`]: the error type, [`ComposeError`].
//!
//! ```
//! use layercache::input::compose::{resolve, MemoryFs, Request};
//!
//! let fs = MemoryFs::new([(
//!     "/p/compose.yaml",
//!     "services:\n  app:\n    image: reg/app:${TAG:-dev}\n    build:\n      context: .\n      cache_from: [reg/app:cache]\n",
//! )]);
//! let request = Request {
//!     working_dir: "/p".into(),
//!     env: [("TAG".to_string(), "1.2".to_string())].into(),
//!     ..Request::default()
//! };
//! let project = resolve(&request, &fs).unwrap();
//! assert_eq!(project.name, "p");
//! let app = &project.builds[0];
//! assert_eq!(app.image.as_deref(), Some("reg/app:1.2"));
//! assert_eq!(app.context, "/p");
//! assert_eq!(app.dockerfile.as_deref(), Some("Dockerfile"));
//! assert_eq!(app.cache_from, ["reg/app:cache"]);
//! ```

pub mod build_values;
pub mod discovery;
pub mod dotenv;
pub mod environment;
pub mod error;
pub mod extends;
pub mod extract;
pub mod fs;
pub mod include;
pub mod interpolate;
pub mod keys;
pub mod loader;
pub mod merge;
pub mod model;
pub mod normalize;
pub mod position;
pub mod project;
pub mod request;
pub mod scalars;
pub mod yaml;

pub use error::ComposeError;
pub use fs::{FileSystem, MemoryFs, RealFs};
pub use model::{
    build_order, group_builds, BuildGroup, BuildSecret, Project, SecretSource, ServiceBuild,
    UnsupportedKey,
};
pub use request::Request;
pub use yaml::looks_like_compose;

/// Reads a Compose project from disk: the edge of the reader.
pub fn load(request: &Request) -> Result<Project, ComposeError> {
    project::resolve(request, &RealFs)
}

/// Resolves a Compose project whose files are read through `fs` (pure with [`MemoryFs`]).
pub fn resolve(request: &Request, fs: &dyn FileSystem) -> Result<Project, ComposeError> {
    project::resolve(request, fs)
}

//! The `Loader`: reads Compose files (each YAML document substituted and normalised), applies
//! their `include` and `extends` ([`super::include`], [`super::extends`]) and merges them in
//! order, keeping where every file's keys are so that later errors can be placed.
//!
//! It decides nothing about profiles, names or defaults: that is [`super::project`]'s.

use super::environment::display;
use super::error::ComposeError;
use super::fs::FileSystem;
use super::interpolate::{interpolate_tree, key_text, Outcome};
use super::merge::{merge_mapping, strip_tags};
use super::model::UnsupportedKey;
use super::normalize::{self, FileCtx};
use super::position::{Positions, Seg};
use super::yaml;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How deep `include` and `extends` may nest before the reader calls it a cycle.
pub(super) const MAX_DEPTH: usize = 32;

/// Reads files and applies `include` and `extends`, collecting what it learns on the way.
pub(super) struct Loader<'a> {
    pub(super) fs: &'a dyn FileSystem,
    pub(super) working_dir: &'a Path,
    /// Each file read, with where its keys are, to place later errors.
    pub(super) sources: Vec<(String, Positions)>,
    pub(super) unsupported: Vec<UnsupportedKey>,
    pub(super) warnings: Vec<String>,
    pub(super) outcome: Outcome,
    /// The files being included, outermost first, to name an include cycle.
    pub(super) including: Vec<PathBuf>,
    /// See [`FileCtx::args_by_name`].
    pub(super) args_by_name: std::cell::RefCell<std::collections::BTreeSet<(String, String)>>,
}

impl Loader<'_> {
    /// Reads, substitutes and normalises one file; `base_dir` is where its relative paths start.
    pub(super) fn load_file(
        &mut self,
        path: &Path,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<(Vec<Mapping>, usize), ComposeError> {
        let shown = display(self.working_dir, path);
        let text = match self.fs.read(path) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(ComposeError::new(shown, "no such compose file")
                    .hint("check the path (-f, COMPOSE_FILE, include or extends)"))
            }
            Err(why) => return Err(ComposeError::new(shown, format!("cannot read it: {why}"))),
        };
        let positions = Positions::index(&text);
        let mut docs = Vec::new();
        for doc in yaml::parse(&text, &shown)? {
            docs.push(self.document(doc, &shown, &positions, base_dir, env)?);
        }
        self.sources.push((shown, positions));
        Ok((docs, self.sources.len() - 1))
    }

    /// One YAML document of a file: substituted, its services normalised.
    pub(super) fn document(
        &mut self,
        doc: Mapping,
        shown: &str,
        positions: &Positions,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<Mapping, ComposeError> {
        let mut doc = Value::Mapping(doc);
        interpolate_tree(&mut doc, env, &mut self.outcome).map_err(|e| {
            let (message, hint, needle) = e.message();
            ComposeError::new(shown, message)
                .at(positions.in_value(&e.path, &needle))
                .hint(hint)
        })?;
        let Value::Mapping(mut doc) = doc else {
            return Err(ComposeError::new(
                shown,
                "internal: the file stopped being a mapping",
            ));
        };
        if doc.contains_key("version") {
            self.warnings.push(format!(
                "{shown}: the attribute `version` is obsolete, it will be ignored"
            ));
        }
        let ctx = FileCtx {
            display: shown,
            positions,
            base_dir,
            env,
            args_by_name: &self.args_by_name,
        };
        if let Some(services) = doc.get_mut("services") {
            let given = std::mem::take(services);
            let Value::Mapping(given) = given else {
                return Err(ctx.error(
                    &[Seg::key("services")],
                    "services must be a mapping of service names",
                    "",
                ));
            };
            let mut out = Mapping::new();
            for (k, v) in given {
                let name = key_text(&k);
                out.insert(
                    k,
                    normalize::service(&name, v, &ctx, &mut self.unsupported)?,
                );
            }
            *services = Value::Mapping(out);
        }
        if let Some(secrets) = doc.get_mut("secrets") {
            *secrets = normalize::top_secrets(std::mem::take(secrets), &ctx);
        }
        Ok(doc)
    }

    /// Loads `files` as one model, merged in order.
    pub(super) fn load_model(
        &mut self,
        files: &[PathBuf],
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<Mapping, ComposeError> {
        let mut model = Mapping::new();
        for file in files {
            let (docs, source) = self.load_file(file, base_dir, env)?;
            self.including.push(file.clone());
            let added = docs.into_iter().try_for_each(|doc| {
                self.add_document(&mut model, doc, source, base_dir, env, depth)
            });
            self.including.pop();
            added?;
        }
        Ok(match strip_tags(Value::Mapping(model)) {
            Value::Mapping(m) => m,
            _ => Mapping::new(),
        })
    }

    /// Applies a document's `include` and `extends`, then merges it into `model`.
    pub(super) fn add_document(
        &mut self,
        model: &mut Mapping,
        mut doc: Mapping,
        source: usize,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<(), ComposeError> {
        if let Some(include) = doc.remove("include") {
            self.include(&mut doc, include, source, base_dir, env, depth)?;
        }
        self.extends(&mut doc, source, base_dir, env, depth)?;
        merge_mapping(model, doc, &mut Vec::new()).map_err(|e| {
            let path: Vec<Seg> = e.path.split('.').map(Seg::key).collect();
            let (file, positions) = &self.sources[source];
            ComposeError::new(file.as_str(), e.message)
                .at(positions.nearest(&path))
                .hint("give it in one file only, or replace it with `ssh: !override [...]`")
        })
    }

    /// An error about the merged model at `path`, placed in the last file that writes it.
    pub(super) fn merged_error(&self, path: &[Seg], message: String, hint: &str) -> ComposeError {
        let found = self
            .sources
            .iter()
            .rev()
            .find_map(|(file, positions)| positions.find(path).map(|at| (file, at)));
        match found {
            Some((file, at)) => ComposeError::new(file.as_str(), message).at(at),
            None => ComposeError::new(
                self.sources.first().map_or("", |(f, _)| f.as_str()),
                message,
            ),
        }
        .hint(hint)
    }
}

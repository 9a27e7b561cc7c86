//! `extends:` as compose applies it: the base service (of the same file, or of another file
//! whose relative paths and nested `extends.file` are taken from its own folder) merged under
//! the extending one by the merge rules; cycles are errors.

use super::error::ComposeError;
use super::fs::join_clean;
use super::interpolate::key_text;
use super::loader::{Loader, MAX_DEPTH};
use super::merge::merge_mapping;
use super::position::Seg;
use super::scalars;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::Path;

impl Loader<'_> {
    /// Resolves `extends:` in every service of `doc`.
    pub(super) fn extends(
        &mut self,
        doc: &mut Mapping,
        source: usize,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<(), ComposeError> {
        let Some(Value::Mapping(services)) = doc.get("services") else {
            return Ok(());
        };
        let services = services.clone();
        let mut resolved = Mapping::new();
        for k in services.keys() {
            let name = key_text(k);
            let mut chain = Vec::new();
            let v = self.extended(&services, &name, source, base_dir, env, depth, &mut chain)?;
            resolved.insert(k.clone(), v);
        }
        doc.insert("services".into(), Value::Mapping(resolved));
        Ok(())
    }

    /// Service `name` of `services` (read from `sources[source]`), with its `extends` applied.
    #[allow(clippy::too_many_arguments)]
    fn extended(
        &mut self,
        services: &Mapping,
        name: &str,
        source: usize,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
        chain: &mut Vec<String>,
    ) -> Result<Value, ComposeError> {
        let place = |this: &Self, path: &[Seg], message: String, hint: &str| {
            let (file, positions) = &this.sources[source];
            ComposeError::new(file.as_str(), message)
                .at(positions.nearest(path))
                .hint(hint)
        };
        let at = [Seg::key("services"), Seg::key(name), Seg::key("extends")];
        let Some(Value::Mapping(service)) = services.get(name) else {
            return Ok(services.get(name).cloned().unwrap_or(Value::Null));
        };
        let mut service = service.clone();
        let Some(extends) = service.remove("extends") else {
            return Ok(Value::Mapping(service));
        };
        let link = format!("{}:{name}", self.sources[source].0);
        if chain.contains(&link) || depth + chain.len() >= MAX_DEPTH {
            chain.push(link);
            return Err(place(
                self,
                &at,
                format!("circular extends: {}", chain.join(" -> ")),
                "",
            ));
        }
        chain.push(link);
        let get = |k: &str| match &extends {
            Value::Mapping(m) => m.get(k).and_then(scalars::scalar_text),
            _ => None,
        };
        let Some(target) = get("service") else {
            return Err(place(
                self,
                &at,
                format!("services.{name}.extends names no service"),
                "write `extends: {service: other}`",
            ));
        };
        let base = match get("file") {
            Some(file) => {
                let path = join_clean(base_dir, &file);
                let dir = path
                    .parent()
                    .map_or_else(|| base_dir.to_path_buf(), Path::to_path_buf);
                let (docs, other_source) = self.load_file(&path, &dir, env)?;
                let mut other = Mapping::new();
                for doc in docs {
                    merge_mapping(&mut other, doc, &mut Vec::new())
                        .map_err(|e| place(self, &at, e.message, ""))?;
                }
                let Some(Value::Mapping(other_services)) = other.get("services") else {
                    return Err(place(
                        self,
                        &at,
                        format!("{file} has no services, so no `{target}` to extend"),
                        "",
                    ));
                };
                if !other_services.contains_key(target.as_str()) {
                    return Err(place(
                        self,
                        &at,
                        format!("cannot extend service {target}: {file} does not define it"),
                        "",
                    ));
                }
                let other_services = other_services.clone();
                self.extended(
                    &other_services,
                    &target,
                    other_source,
                    &dir,
                    env,
                    depth,
                    chain,
                )?
            }
            None => {
                if !services.contains_key(target.as_str()) {
                    return Err(place(
                        self,
                        &at,
                        format!("cannot extend service {target}: it is not defined in this file"),
                        "",
                    ));
                }
                self.extended(services, &target, source, base_dir, env, depth, chain)?
            }
        };
        let mut merged = match base {
            Value::Mapping(m) => m,
            _ => Mapping::new(),
        };
        let mut path = vec!["services".to_string(), name.to_string()];
        merge_mapping(&mut merged, service, &mut path)
            .map_err(|e| place(self, &at, e.message, ""))?;
        Ok(Value::Mapping(merged))
    }
}

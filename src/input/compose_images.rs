//! A resolved Compose project -> the images the planner builds ([`ImageConfig`]s): one per
//! group of services that share a build ([`compose::group_builds`]), in [`compose::build_order`]
//! (a `service:` additional context first), each tagged as `docker compose up --no-build`
//! looks for it, with layercache's settings (the spec's `compose:` form, or the flags) on top.
//!
//! Every Compose key is either mapped to a docker build flag or refused here, placed at the
//! file, line and column where it is written (exit 2): nothing is dropped. Keys that only
//! BuildKit can do are marked for the planner, which knows the builder.

use crate::error::{Error, Place};
use crate::input::compose::position::{Positions, Seg};
use crate::input::compose::{
    build_order, group_builds, Project, SecretSource, ServiceBuild, UnsupportedKey,
};
use crate::input::reference::{self, Reference};
use crate::input::spec::{BuildExtras, ComposeSpec, ImageConfig, Overrides};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The images of `project`; files are shown relative to `working_dir`. `process_env` is the environment docker will run in: an arg
/// written as `KEY` alone whose value is the same there is passed by name.
pub fn images_of(
    project: &Project,
    settings: &ComposeSpec,
    overrides: &Overrides,
    working_dir: &Path,
    process_env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<ImageConfig>, Error> {
    let places = Places::read(project, working_dir);
    refuse_flags(overrides)?;
    if let Some(first) = project.unsupported.first() {
        return Err(unsupported(first, project.unsupported.len()));
    }
    if project.builds.is_empty() {
        let file = project.files.first().map(|f| places.shown(f));
        return Err(Error::input("no service of the Compose project has a `build:`")
            .hint("layercache builds the services with `build:`; the others are pulled by compose")
            .at(Place::whole(&file.unwrap_or_default())));
    }
    let ordered: Vec<ServiceBuild> = build_order(&project.builds)
        .map_err(|cycle| {
            Error::input(format!(
                "the services' `additional_contexts: {{..: service:NAME}}` form a cycle: {cycle}"
            ))
            .hint("no order can build them: remove one of the `service:` contexts")
        })?
        .into_iter()
        .cloned()
        .collect();
    let mut images: Vec<ImageConfig> = Vec::new();
    // Service -> the ref its image is published as, for `service:` contexts.
    let mut built: BTreeMap<String, String> = BTreeMap::new();
    // Builds of one Dockerfile that differ only in their target share per-stage caches: the
    // seed's `base` and `app` services would otherwise each build and push `cache-base`.
    let mut families: Vec<(Family, Reference)> = Vec::new();
    for group in group_builds(&ordered) {
        let convert = Convert {
            project,
            settings,
            places: &places,
            build: &group.build,
            process_env,
        };
        let mut config = convert.image(&group.services, &ordered, &built)?;
        let family = family(&group.build);
        match families.iter().find(|(f, _)| *f == family) {
            Some((_, cache)) => config.extras.shared_stage_cache = Some(cache.clone()),
            None => families.push((family, config.cache_repository.clone())),
        }
        let primary = config.image.with_tag(&config.tags[0]).to_string();
        for s in &group.services {
            built.insert(s.clone(), primary.clone());
        }
        images.push(config);
    }
    Ok(images)
}

/// What makes two builds' stages the same: context, Dockerfile and args.
type Family = (String, Option<String>, BTreeMap<String, String>);

fn family(b: &ServiceBuild) -> Family {
    let mut args = b.args.clone();
    args.remove(INLINE_CACHE_ARG);
    (b.context.clone(), b.dockerfile.clone(), args)
}

/// Passed by layercache itself where its strategy needs it; the seed's Compose files set it by
/// hand, and it changes nothing in the stages.
const INLINE_CACHE_ARG: &str = "BUILDKIT_INLINE_CACHE";

/// The flags that name one image's build cannot apply to a project of services.
fn refuse_flags(ov: &Overrides) -> Result<(), Error> {
    let given = [
        ("--image", ov.image.is_some()),
        ("--dockerfile", ov.dockerfile.is_some()),
        ("--context", ov.context.is_some()),
        ("--target", ov.target.is_some()),
    ];
    match given.iter().find(|(_, set)| *set) {
        Some((flag, _)) => Err(Error::input(format!(
            "{flag} cannot be used with a Compose project: each service's `build:` says it"
        ))
        .hint("edit the service in the Compose file, or pass a layercache.yml with -f")),
        None => Ok(()),
    }
}

fn unsupported(key: &UnsupportedKey, count: usize) -> Error {
    let more = match count {
        1 => String::new(),
        n => format!(" ({} more such keys)", n - 1),
    };
    Error::input(format!(
        "services.{}.{}: docker build cannot do this, so layercache refuses it rather than \
         build something else than compose would{more}",
        key.service, key.key
    ))
    .hint("remove the key, or build this service with `docker compose build`")
    .at(Place::at(&key.file, key.line, key.column))
}

/// Where the keys of the project's files are written, to place refusals.
struct Places {
    files: Vec<(String, Positions)>,
    working_dir: PathBuf,
}

impl Places {
    fn read(project: &Project, working_dir: &Path) -> Places {
        let mut places = Places {
            files: Vec::new(),
            working_dir: working_dir.to_path_buf(),
        };
        for f in &project.files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let shown = places.shown(f);
            places.files.push((shown, Positions::index(&text)));
        }
        places
    }

    /// A file as the user would name it: relative to the current folder when inside it.
    fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.working_dir)
            .ok()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// `services.SERVICE.KEYS...` in the last file that writes it (the one that won the
    /// merge), else the service, else the first file.
    fn of(&self, service: &str, keys: &[&str]) -> Place {
        let mut path = vec![Seg::key("services"), Seg::key(service)];
        path.extend(keys.iter().map(|k| Seg::key(k)));
        for n in (2..=path.len()).rev() {
            for (file, positions) in self.files.iter().rev() {
                if let Some((line, column)) = positions.find(&path[..n]) {
                    return Place::at(file, line, column);
                }
            }
        }
        Place::whole(self.files.first().map_or("", |(f, _)| f.as_str()))
    }
}

struct Convert<'a> {
    project: &'a Project,
    settings: &'a ComposeSpec,
    places: &'a Places,
    build: &'a ServiceBuild,
    process_env: &'a dyn Fn(&str) -> Option<String>,
}

impl Convert<'_> {
    fn service(&self) -> &str {
        &self.build.service
    }

    fn at(&self, keys: &[&str]) -> Place {
        self.places.of(self.service(), keys)
    }

    /// An error about `build.KEY` of this service.
    fn refuse(&self, key: &str, message: &str, hint: &str) -> Error {
        self.at(&["build", key]).error(
            &format!("services.{}.build.{key}: {message}", self.service()),
            hint,
        )
    }

    fn image(
        &self,
        services: &[String],
        all: &[ServiceBuild],
        built: &BTreeMap<String, String>,
    ) -> Result<ImageConfig, Error> {
        let b = self.build;
        let defaults = &self.settings.defaults;
        self.refuse_what_docker_build_cannot_do()?;
        let (image, own_tag, local) = self.reference()?;
        let tags = self.published_tags(own_tag);
        // Compose's own names, tagged in the local engine only: `docker compose up --no-build`
        // looks for them there, and a local name cannot be pushed.
        let mut local_tags: Vec<String> = local.into_iter().collect();
        // The other services of the group: their `image:` names this same build.
        let mut extra_refs = Vec::new();
        for other in services.iter().skip(1) {
            if let Some(o) = all.iter().find(|x| &x.service == other) {
                let (refs, local) = self.names_of(o)?;
                extra_refs.extend(refs);
                local_tags.extend(local);
            }
        }
        for t in &b.tags {
            reference::parse(t).map_err(|e| {
                self.at(&["build", "tags"])
                    .error(&format!("`{t}`: {}", e.headline()), &e.hint)
            })?;
            extra_refs.push(t.clone());
        }
        let cache_repository = match &self.settings.cache_repository {
            Some(prefix) => {
                let name = format!("{}/{}", prefix.repository(), self.service().to_lowercase());
                reference::parse_repository(&name).map_err(|e| {
                    Error::input(format!(
                        "the cache repository of service `{}` would be `{name}`: {}",
                        self.service(),
                        e.headline()
                    ))
                    .hint("set `cache_repository:` in layercache.yml to a valid repository")
                })?
            }
            None => image.clone(),
        };
        let context = PathBuf::from(&b.context);
        let dockerfile = match &b.dockerfile {
            Some(d) if Path::new(d).is_absolute() => PathBuf::from(d),
            Some(d) => context.join(d),
            None => PathBuf::from("Dockerfile"),
        };
        let mut build_args: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (k, v) in b.args.iter().filter(|(k, _)| *k != INLINE_CACHE_ARG) {
            let by_name =
                b.args_by_name.contains(k) && (self.process_env)(k).as_deref() == Some(v.as_str());
            build_args.insert(k.clone(), (!by_name).then(|| v.clone()));
        }
        for (k, v) in &defaults.build_args {
            build_args.insert(k.clone(), v.clone());
        }
        let target_place = match &b.target {
            Some(_) => self.at(&["build", "target"]),
            None => Place::whole(&self.at(&[]).file),
        };
        let extras = self.extras(extra_refs, built)?;
        // Masked in everything printed: the variables build secrets are read from.
        let mut secrets = defaults.secrets.clone();
        for s in &b.secrets {
            if let Some(SecretSource::Environment(var)) = self.project.secrets.get(&s.source) {
                secrets.push(var.clone());
            }
        }
        Ok(ImageConfig {
            image,
            dockerfile,
            context,
            tags,
            build_args,
            target: b.target.clone(),
            target_place,
            cache_stages: None,
            cache_stage_places: Vec::new(),
            cache_repository,
            origin: self.at(&[]).file,
            extras: BuildExtras {
                local_tags,
                ..extras
            },
            secrets,
            ..defaults.clone()
        })
    }

    /// The repository of the service's image, the tag compose looks for, and the local name to
    /// tag it with besides: `image:` as written (its tag, `latest` when it has none); without
    /// one, `<registry>/<project>-<service>` under the spec's `registry:` (the CI's registry
    /// image by default) with no tag of its own, and compose's local name
    /// `<project>-<service>:latest` besides; else that local name itself, which cannot be
    /// pushed.
    fn reference(&self) -> Result<(Reference, Option<String>, Option<String>), Error> {
        let b = self.build;
        if let Some(image) = &b.image {
            let r = self.image_reference(b, image)?;
            let tag = r.tag.clone().unwrap_or_else(|| "latest".into());
            let repository = Reference {
                tag: None,
                digest: None,
                ..r
            };
            return Ok((repository, Some(tag), None));
        }
        let local = self.local_name(b)?;
        let r = match &self.settings.registry {
            Some(prefix) => self.prefixed(b, prefix)?,
            None if self.settings.defaults.push => {
                return Err(self.at(&[]).error(
                    &format!(
                        "service `{}` has no `image:`, so its image cannot be pushed: compose \
                         names it `{local}`, a local name",
                        self.service()
                    ),
                    &format!(
                        "add `image: registry.example.com/team/{}` to the service, or \
                         `registry: registry.example.com/team` to a layercache.yml with \
                         `compose:`, or build with --no-push (in GitLab CI and GitHub \
                         Actions the CI's registry image is the default registry)",
                        self.service()
                    ),
                ))
            }
            None => return Ok((local, Some("latest".into()), None)),
        };
        Ok((r, None, Some(local.with_tag("latest").to_string())))
    }

    /// The tags an image is published under: its own (the one compose looks for), then the
    /// spec's `tags:` (or `--tag`, or the CI's commit and branch); with no tag of its own and
    /// none of those, `latest`, as for a spec's image.
    fn published_tags(&self, own: Option<String>) -> Vec<String> {
        let mut tags: Vec<String> = own.into_iter().collect();
        for t in &self.settings.extra_tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        if tags.is_empty() {
            tags.push("latest".into());
        }
        tags
    }

    /// The names another service of the group gives this build: the refs it is published as
    /// (its `image:`, or the registry's, with the spec's tags as for the first service), and
    /// its local name when compose looks for one that is not among them.
    fn names_of(&self, other: &ServiceBuild) -> Result<(Vec<String>, Option<String>), Error> {
        let refs = |r: &Reference, own: Option<String>| -> Vec<String> {
            self.published_tags(own)
                .iter()
                .map(|t| r.with_tag(t).to_string())
                .collect()
        };
        if let Some(image) = &other.image {
            let r = self.image_reference(other, image)?;
            let own = r.tag.clone().unwrap_or_else(|| "latest".into());
            return Ok((refs(&r, Some(own)), None));
        }
        let local = self.local_name(other)?.with_tag("latest").to_string();
        match &self.settings.registry {
            Some(prefix) => Ok((refs(&self.prefixed(other, prefix)?, None), Some(local))),
            None => Ok((Vec::new(), Some(local))),
        }
    }

    /// `image:` of service `b`, refused at its place when it is not a name a build can tag.
    fn image_reference(&self, b: &ServiceBuild, image: &str) -> Result<Reference, Error> {
        let place = self.places.of(&b.service, &["image"]);
        let r = reference::parse(image)
            .map_err(|e| place.error(&format!("`{image}`: {}", e.headline()), &e.hint))?;
        if r.digest.is_some() {
            return Err(place.error(
                &format!("`{image}` names a digest: a build cannot produce a given digest"),
                "name the image by a tag",
            ));
        }
        Ok(r)
    }

    /// Compose's name for the image of a service without `image:`, `<project>-<service>`.
    fn local_name(&self, b: &ServiceBuild) -> Result<Reference, Error> {
        let name = b.default_image_name(&self.project.name).to_lowercase();
        reference::parse_repository(&name).map_err(|e| {
            self.places.of(&b.service, &[]).error(
                &format!("`{name}` is not a valid image name: {}", e.headline()),
                "add an `image:` to the service",
            )
        })
    }

    /// `<registry>/<project>-<service>`.
    fn prefixed(&self, b: &ServiceBuild, prefix: &Reference) -> Result<Reference, Error> {
        let name = format!(
            "{}/{}",
            prefix.repository(),
            b.default_image_name(&self.project.name).to_lowercase()
        );
        reference::parse_repository(&name).map_err(|e| {
            self.places.of(&b.service, &[]).error(
                &format!("`{name}` is not a valid image name: {}", e.headline()),
                "shorten the `registry:` prefix, or add an `image:` to the service",
            )
        })
    }

    fn refuse_what_docker_build_cannot_do(&self) -> Result<(), Error> {
        let b = self.build;
        if b.dockerfile_inline.is_some() {
            return Err(self.refuse(
                "dockerfile_inline",
                "layercache plans from a Dockerfile on disk, and the `plan` script must run \
                 without it",
                "write the Dockerfile to a file and name it with `dockerfile:`",
            ));
        }
        if b.context.contains("://") || b.context.starts_with("git@") {
            return Err(self.refuse(
                "context",
                &format!(
                    "`{}` is a remote context; layercache reads the Dockerfile to plan its stages",
                    b.context
                ),
                "check the repository out and use a folder as the context",
            ));
        }
        if !b.cache_to.is_empty() {
            return Err(self.refuse(
                "cache_to",
                "layercache writes the cache itself (per stage, or one registry cache in \
                 mode=max), so a second export would race with it",
                "remove `cache_to`; choose where the cache goes with `cache_repository:` (and \
                 `strategy:`) in layercache.yml",
            ));
        }
        if !b.platforms.is_empty() {
            return Err(self.refuse(
                "platforms",
                "multi-platform builds are not taken from Compose files yet",
                "remove `platforms`, or build this service with `docker compose build`",
            ));
        }
        if let Some(p) = &b.platform {
            return Err(self.at(&["platform"]).error(
                &format!(
                    "services.{}.platform: building for `{p}` is not taken from Compose files yet",
                    self.service()
                ),
                "remove `platform:` (the engine's own platform is built)",
            ));
        }
        if b.no_cache {
            return Err(self.refuse(
                "no_cache",
                "a build without cache is what layercache exists to avoid",
                "remove `no_cache`",
            ));
        }
        Ok(())
    }

    fn extras(
        &self,
        extra_refs: Vec<String>,
        built: &BTreeMap<String, String>,
    ) -> Result<BuildExtras, Error> {
        let b = self.build;
        let mut buildkit_only = Vec::new();
        let mut secrets = Vec::new();
        for s in &b.secrets {
            if s.uid.is_some() || s.gid.is_some() || s.mode.is_some() {
                return Err(self.refuse(
                    "secrets",
                    &format!(
                        "`{}`: uid, gid and mode cannot be set on a build secret",
                        s.source
                    ),
                    "remove uid, gid and mode (a build secret is mounted with the RUN's own)",
                ));
            }
            let id = s.target.clone().unwrap_or_else(|| s.source.clone());
            let value = match self.project.secrets.get(&s.source) {
                Some(SecretSource::File(path)) => format!("id={id},src={}", path.display()),
                Some(SecretSource::Environment(var)) => {
                    if (self.process_env)(var).is_none() {
                        return Err(self.refuse(
                            "secrets",
                            &format!(
                                "secret `{}` is read from the environment variable {var}, which \
                                 is not set (docker reads it from layercache's environment, not \
                                 from .env)",
                                s.source
                            ),
                            &format!("export {var} in the job's environment"),
                        ));
                    }
                    format!("id={id},env={var}")
                }
                _ => {
                    return Err(self.refuse(
                        "secrets",
                        &format!(
                            "secret `{}` is neither a `file:` nor an `environment:`; a build can \
                             read no other",
                            s.source
                        ),
                        "define the top-level secret with `file:` or `environment:`",
                    ))
                }
            };
            secrets.push(value);
        }
        if !secrets.is_empty() {
            buildkit_only.push(("build.secrets".to_string(), self.at(&["build", "secrets"])));
        }
        if !b.ssh.is_empty() {
            buildkit_only.push(("build.ssh".to_string(), self.at(&["build", "ssh"])));
        }
        let mut build_contexts = BTreeMap::new();
        for (name, value) in &b.additional_contexts {
            let value = match value.strip_prefix("service:") {
                Some(service) => match built.get(service) {
                    Some(r) => format!("docker-image://{r}"),
                    None => {
                        return Err(self.refuse(
                            "additional_contexts",
                            &format!("service `{service}` has no build to read the image of"),
                            "name a service with `build:`, or use `docker-image://IMAGE`",
                        ))
                    }
                },
                None => value.clone(),
            };
            build_contexts.insert(name.clone(), value);
        }
        if !build_contexts.is_empty() {
            buildkit_only.push((
                "build.additional_contexts".to_string(),
                self.at(&["build", "additional_contexts"]),
            ));
        }
        let add_hosts = b
            .extra_hosts
            .iter()
            .flat_map(|(host, addrs)| addrs.iter().map(move |a| format!("{host}:{a}")))
            .collect();
        Ok(BuildExtras {
            cache_from: b.cache_from.clone(),
            extra_refs,
            labels: b.labels.clone(),
            secrets,
            ssh: b.ssh.clone(),
            network: b.network.clone(),
            add_hosts,
            shm_size: b.shm_size,
            build_contexts,
            pull_base: b.pull,
            local_tags: Vec::new(),
            buildkit_only,
            shared_stage_cache: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::compose::{resolve, MemoryFs, Request};
    use crate::input::spec::compose_settings_from_flags;

    fn images(compose: &str, env: &[(&str, &str)], push: bool) -> Result<Vec<ImageConfig>, Error> {
        let overrides = Overrides {
            push: Some(push),
            ..Overrides::default()
        };
        images_with(compose, env, overrides)
    }

    fn images_with(
        compose: &str,
        env: &[(&str, &str)],
        overrides: Overrides,
    ) -> Result<Vec<ImageConfig>, Error> {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let request = Request {
            working_dir: "/p".into(),
            env: env.clone(),
            ..Request::default()
        };
        let project = resolve(&request, &MemoryFs::new([("/p/compose.yaml", compose)])).unwrap();
        let settings = compose_settings_from_flags(&overrides).unwrap();
        images_of(&project, &settings, &overrides, Path::new("/p"), &|k| {
            env.get(k).cloned()
        })
    }

    #[test]
    fn image_gives_repository_and_tag_and_args_keep_their_source() {
        let c = images(
            "services:\n  app:\n    image: reg:5000/team/app:1.2\n    build:\n      context: .\n      \
             dockerfile: D\n      target: final\n      args: [TOKEN, A=1, BUILDKIT_INLINE_CACHE=1]\n",
            &[("TOKEN", "t")],
            true,
        )
        .unwrap()
        .remove(0);
        assert_eq!(c.image.to_string(), "reg:5000/team/app");
        assert_eq!(c.tags, ["1.2"]);
        assert_eq!(c.cache_repository.to_string(), "reg:5000/team/app");
        assert_eq!(c.dockerfile, PathBuf::from("/p/D"));
        assert_eq!(c.target.as_deref(), Some("final"));
        assert_eq!(
            c.build_args,
            BTreeMap::from([
                ("A".to_string(), Some("1".to_string())),
                ("TOKEN".to_string(), None)
            ])
        );
    }

    #[test]
    fn services_of_one_dockerfile_share_stage_caches_and_one_build_has_every_name() {
        let list = images(
            "services:\n  a:\n    image: r/a\n    build: {context: ., target: one}\n  \
             b:\n    image: r/b\n    build: {context: ., target: two}\n  \
             c:\n    image: r/c:2\n    build: {context: ., target: two}\n",
            &[],
            true,
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].image.to_string(), "r/a");
        assert_eq!(list[0].extras.shared_stage_cache, None);
        assert_eq!(list[1].image.to_string(), "r/b");
        assert_eq!(list[1].extras.extra_refs, ["r/c:2"]);
        assert_eq!(
            list[1].stage_cache_repository().to_string(),
            "r/a",
            "per-stage caches in the first service's repository"
        );
        assert_eq!(list[1].cache_repository.to_string(), "r/b");
    }

    #[test]
    fn a_service_without_image_needs_no_push_or_a_registry() {
        let text = "name: shop\nservices:\n  web:\n    build: .\n";
        let e = images(text, &[], true).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("service `web` has no `image:`"),
            "{e}"
        );
        let c = images(text, &[], false).unwrap().remove(0);
        assert_eq!(c.image.to_string(), "shop-web");
        assert_eq!(c.tags, ["latest"]);
    }

    #[test]
    fn in_ci_the_ci_s_tags_and_registry_image_are_the_defaults() {
        let ci = || Overrides {
            fallback_image: Some("registry.gitlab.com/team/app".into()),
            fallback_tags: vec!["abc".into(), "main".into()],
            ..Overrides::default()
        };
        let text = "name: shop\nservices:\n  app:\n    image: r/app:1\n    build: .\n  \
                    web:\n    build: {context: ., target: web}\n";
        let list = images_with(text, &[], ci()).unwrap();
        assert_eq!(list[0].tags, ["1", "abc", "main"], "besides the image: tag");
        assert_eq!(
            list[1].image.to_string(),
            "registry.gitlab.com/team/app/shop-web"
        );
        assert_eq!(
            list[1].tags,
            ["abc", "main"],
            "no tag of its own: the CI's alone"
        );
        assert_eq!(list[1].extras.local_tags, ["shop-web:latest"]);
        // A flag's tag replaces the CI's.
        let flagged = Overrides {
            tags: vec!["v2".into()],
            ..ci()
        };
        let list = images_with(text, &[], flagged).unwrap();
        assert_eq!(list[0].tags, ["1", "v2"]);
        assert_eq!(list[1].tags, ["v2"]);
    }

    #[test]
    fn docker_hub_is_no_default_registry() {
        // CircleCI's default image is on Docker Hub: `user/repo/shop-web` could not be pushed.
        let circle = Overrides {
            fallback_image: Some("octo/app".into()),
            ..Overrides::default()
        };
        let e =
            images_with("name: shop\nservices:\n  web:\n    build: .\n", &[], circle).unwrap_err();
        assert!(
            e.to_string().contains("service `web` has no `image:`"),
            "{e}"
        );
    }
}

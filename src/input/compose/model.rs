//! The resolved model the reader hands on: the project's name and, per service with a
//! `build:`, everything the planner needs to build it ([`ServiceBuild`]), with every Compose
//! default filled in; plus [`group_builds`], the services that share one build.
//!
//! It holds no docker knowledge and decides nothing: keys the reader could not give a meaning
//! are listed in [`Project::unsupported`] for the planner to refuse.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A Compose project, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The project name (normalised as compose does: lower case, `[a-z0-9_-]`).
    pub name: String,
    /// The folder relative paths were taken from.
    pub project_dir: PathBuf,
    /// The Compose files read, in merge order (includes and extended files not listed).
    pub files: Vec<PathBuf>,
    /// Services with a `build:`, by service name.
    pub builds: Vec<ServiceBuild>,
    /// Services without `build:`: their `image:` (pulled, never built).
    pub images: BTreeMap<String, String>,
    /// Top-level `secrets:` definitions that build secrets refer to.
    pub secrets: BTreeMap<String, SecretSource>,
    /// Keys valid in Compose that the reader takes no meaning from; the planner refuses them.
    pub unsupported: Vec<UnsupportedKey>,
    /// What compose would warn about (several default files, unset variables, ...).
    pub warnings: Vec<String>,
}

/// One service's build, as Compose resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceBuild {
    pub service: String,
    /// The service's `image:`; `None` when compose would name it `{project}-{service}`.
    pub image: Option<String>,
    /// The service's `platform:` (used for the build when `platforms` is empty).
    pub platform: Option<String>,
    /// A folder (absolute when the project folder is) or a remote context (URL) as written.
    pub context: String,
    /// Relative to the context unless absolute; `None` only with `dockerfile_inline`.
    pub dockerfile: Option<String>,
    pub dockerfile_inline: Option<String>,
    /// Resolved: a `KEY` given alone took the environment's value, or was dropped when unset.
    pub args: BTreeMap<String, String>,
    /// The args written as `KEY` alone (in some file) that took the environment's value.
    pub args_by_name: std::collections::BTreeSet<String>,
    pub target: Option<String>,
    pub cache_from: Vec<String>,
    pub cache_to: Vec<String>,
    pub tags: Vec<String>,
    pub platforms: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub secrets: Vec<BuildSecret>,
    /// `default` or `id=path`.
    pub ssh: Vec<String>,
    pub network: Option<String>,
    /// Host name -> addresses, in the order given.
    pub extra_hosts: BTreeMap<String, Vec<String>>,
    /// Bytes.
    pub shm_size: Option<u64>,
    /// Name -> folder (resolved), `docker-image://...`, `service:NAME`, or a URL.
    pub additional_contexts: BTreeMap<String, String>,
    pub pull: bool,
    pub no_cache: bool,
}

impl ServiceBuild {
    /// The image compose builds: `image:`, else [`Self::default_image_name`].
    pub fn image_name(&self, project: &str) -> String {
        match &self.image {
            Some(image) => image.clone(),
            None => self.default_image_name(project),
        }
    }

    /// Compose v2's name for the image of a service without `image:`: `{project}-{service}`
    /// ("Services are built once and then tagged, by default as project-service",
    /// <https://docs.docker.com/reference/cli/docker/compose/build/>). Compose v1 and v2's
    /// `--compatibility` mode join them with `_` instead.
    pub fn default_image_name(&self, project: &str) -> String {
        format!("{project}-{}", self.service)
    }

    /// Services whose images this build reads through `additional_contexts: {x: service:NAME}`:
    /// they must be built first.
    pub fn context_services(&self) -> Vec<&str> {
        self.additional_contexts
            .values()
            .filter_map(|v| v.strip_prefix("service:"))
            .collect()
    }
}

/// A build secret: `secrets: [name]` or the long form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildSecret {
    pub source: String,
    pub target: Option<String>,
    pub uid: Option<String>,
    pub gid: Option<String>,
    pub mode: Option<String>,
}

/// Where a top-level secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Environment(String),
    /// `external: true` or anything else a build cannot read.
    Other,
}

/// A key Compose accepts whose meaning the reader does not take (`build.privileged`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedKey {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub service: String,
    /// The key's path under the service: `build.ulimits`.
    pub key: String,
}

impl std::fmt::Display for UnsupportedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.file)?,
            l => write!(f, "{}:{l}:{}", self.file, self.column)?,
        }
        write!(f, ": services.{}.{}", self.service, self.key)
    }
}

/// Services that share one build: same context, Dockerfile (or inline text), target and args.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildGroup {
    /// Service names, in the order of `builds`.
    pub services: Vec<String>,
    /// The first service's build; the others differ at most in keys outside the group key.
    pub build: ServiceBuild,
}

/// Groups builds by (context, dockerfile, dockerfile_inline, target, args), keeping the order
/// in which each group first appears.
pub fn group_builds(builds: &[ServiceBuild]) -> Vec<BuildGroup> {
    type Key<'a> = (
        &'a str,
        &'a Option<String>,
        &'a Option<String>,
        &'a Option<String>,
        &'a BTreeMap<String, String>,
    );
    fn key(b: &ServiceBuild) -> Key<'_> {
        (
            &b.context,
            &b.dockerfile,
            &b.dockerfile_inline,
            &b.target,
            &b.args,
        )
    }
    let mut groups: Vec<BuildGroup> = Vec::new();
    for b in builds {
        match groups.iter_mut().find(|g| key(&g.build) == key(b)) {
            Some(g) => g.services.push(b.service.clone()),
            None => groups.push(BuildGroup {
                services: vec![b.service.clone()],
                build: b.clone(),
            }),
        }
    }
    groups
}

/// The builds in an order where each comes after the services its `service:` contexts name
/// (ties keep the order of `builds`). `Err` names a cycle (`a -> b -> a`): no order builds it.
pub fn build_order(builds: &[ServiceBuild]) -> Result<Vec<&ServiceBuild>, String> {
    fn visit<'a>(
        b: &'a ServiceBuild,
        builds: &'a [ServiceBuild],
        done: &mut Vec<&'a str>,
        path: &mut Vec<&'a str>,
        out: &mut Vec<&'a ServiceBuild>,
    ) -> Result<(), String> {
        if done.contains(&b.service.as_str()) {
            return Ok(());
        }
        if let Some(i) = path.iter().position(|s| *s == b.service) {
            let mut cycle: Vec<&str> = path[i..].to_vec();
            cycle.push(&b.service);
            return Err(cycle.join(" -> "));
        }
        path.push(&b.service);
        for dep in b.context_services() {
            // A service without a build is pulled, not built: nothing to order.
            if let Some(d) = builds.iter().find(|x| x.service == dep) {
                visit(d, builds, done, path, out)?;
            }
        }
        path.pop();
        done.push(&b.service);
        out.push(b);
        Ok(())
    }
    let mut out = Vec::new();
    let mut done = Vec::new();
    for b in builds {
        visit(b, builds, &mut done, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(service: &str, target: &str) -> ServiceBuild {
        ServiceBuild {
            service: service.into(),
            context: "/p".into(),
            dockerfile: Some("Dockerfile.multi".into()),
            target: Some(target.into()),
            ..ServiceBuild::default()
        }
    }

    #[test]
    fn services_with_the_same_build_are_one_group() {
        let mut other_args = build("c", "final");
        other_args.args.insert("A".into(), "1".into());
        let groups = group_builds(&[
            build("web", "final"),
            build("base", "base"),
            build("worker", "final"),
            other_args,
        ]);
        let services: Vec<Vec<String>> = groups.iter().map(|g| g.services.clone()).collect();
        assert_eq!(
            services,
            vec![
                vec!["web".to_string(), "worker".to_string()],
                vec!["base".to_string()],
                vec!["c".to_string()]
            ]
        );
    }

    #[test]
    fn service_contexts_are_built_first() {
        let mut app = build("app", "final");
        app.additional_contexts
            .insert("base".into(), "service:base".into());
        let mut base = build("base", "base");
        base.additional_contexts
            .insert("tools".into(), "service:tools".into());
        let tools = build("tools", "tools");
        let builds = [app, base, tools];
        let order: Vec<&str> = build_order(&builds)
            .unwrap()
            .iter()
            .map(|b| b.service.as_str())
            .collect();
        assert_eq!(order, ["tools", "base", "app"]);
        let mut looped = builds.clone();
        looped[2]
            .additional_contexts
            .insert("app".into(), "service:app".into());
        assert_eq!(
            build_order(&looped).unwrap_err(),
            "app -> base -> tools -> app"
        );
    }

    #[test]
    fn image_names_and_context_services() {
        let mut b = build("web", "final");
        assert_eq!(b.image_name("shop"), "shop-web");
        b.image = Some("reg/web:1".into());
        assert_eq!(b.image_name("shop"), "reg/web:1");
        b.additional_contexts
            .insert("base".into(), "service:base".into());
        b.additional_contexts.insert("x".into(), "/p/x".into());
        assert_eq!(b.context_services(), vec!["base"]);
    }
}

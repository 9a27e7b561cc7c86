//! Which CI system this run is in, read from the variables each one documents, as a plain
//! [`CiContext`] value that the spec, the planner and the executor are given. Nothing else in
//! layercache reads CI variables.
//!
//! - GitLab CI: `GITLAB_CI`, `CI_COMMIT_SHA`, `CI_COMMIT_REF_NAME` / `CI_COMMIT_REF_SLUG`,
//!   `CI_DEFAULT_BRANCH`, `CI_COMMIT_TAG`, `CI_REGISTRY`, `CI_REGISTRY_IMAGE`,
//!   `CI_REGISTRY_USER`, `CI_REGISTRY_PASSWORD`.
//! - GitHub Actions: `GITHUB_ACTIONS`, `GITHUB_SHA`, `GITHUB_REF_NAME`, `GITHUB_REF_TYPE`,
//!   `GITHUB_HEAD_REF` (a pull request's branch), `GITHUB_BASE_REF`, `GITHUB_REPOSITORY`,
//!   `GITHUB_ACTOR`, `GITHUB_TOKEN` (when the workflow passes it), `GITHUB_STEP_SUMMARY`, and the
//!   event payload at `GITHUB_EVENT_PATH` for the repository's default branch.
//! - CircleCI: `CIRCLECI`, `CIRCLE_SHA1`, `CIRCLE_BRANCH`, `CIRCLE_TAG`,
//!   `CIRCLE_PROJECT_USERNAME`, `CIRCLE_PROJECT_REPONAME`.

use crate::input::reference::slug_tag;
use serde::Serialize;
use std::path::PathBuf;

/// The CI system a run is in (or `Local`), and the one `layercache ci` writes a job for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    #[default]
    #[value(skip)]
    Local,
    /// A GitLab CI job, docker-in-docker (.gitlab-ci.yml)
    #[value(name = "gitlab")]
    GitLab,
    /// A GitHub Actions workflow (.github/workflows/)
    #[value(name = "github")]
    GitHub,
    /// A CircleCI configuration, machine executor (.circleci/config.yml)
    #[value(name = "circleci")]
    CircleCi,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Local => "a local run",
            Platform::GitLab => "GitLab CI",
            Platform::GitHub => "GitHub Actions",
            Platform::CircleCi => "CircleCI",
        }
    }

    /// The word `layercache ci` takes for it.
    pub fn arg(self) -> &'static str {
        match self {
            Platform::Local => "local",
            Platform::GitLab => "gitlab",
            Platform::GitHub => "github",
            Platform::CircleCi => "circleci",
        }
    }

    /// Where the platform reads its configuration.
    pub fn config_file(self) -> &'static str {
        match self {
            Platform::Local => "",
            Platform::GitLab => ".gitlab-ci.yml",
            Platform::GitHub => ".github/workflows/layercache.yml",
            Platform::CircleCi => ".circleci/config.yml",
        }
    }
}

/// A `docker login` the run can do: the password stays in the named variable, and reaches
/// docker only through its stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Login {
    pub registry: String,
    pub user: String,
    pub password_var: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiContext {
    pub platform: Platform,
    pub sha: Option<String>,
    /// The branch being built, as a tag-safe slug.
    pub branch: Option<String>,
    /// The repository's default branch, as a tag-safe slug.
    pub default_branch: Option<String>,
    /// The git tag being built, as a tag-safe slug.
    pub git_tag: Option<String>,
    /// The image repository the CI's own registry offers this project.
    pub image: Option<String>,
    pub login: Option<Login>,
    /// GitHub Actions' step summary file.
    pub step_summary: Option<PathBuf>,
}

/// Room left in a 128-character tag after `cache-<stage>-`, for a branch: stage names are
/// short in practice, and a slug this long still tells branches apart.
const BRANCH_SLUG_LEN: usize = 63;

impl CiContext {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> CiContext {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        let slug = |v: Option<String>| v.map(|v| slug_tag(&v, BRANCH_SLUG_LEN));
        // `GITLAB_CI=false` (a local test of a job script) is no CI; the platforms set `true`.
        let on = |k: &str| var(k).is_some_and(|v| v != "false");
        if on("GITLAB_CI") {
            let login = match (
                var("CI_REGISTRY"),
                var("CI_REGISTRY_USER"),
                var("CI_REGISTRY_PASSWORD"),
            ) {
                (Some(registry), Some(user), Some(_)) => Some(Login {
                    registry,
                    user,
                    password_var: "CI_REGISTRY_PASSWORD".into(),
                }),
                _ => None,
            };
            let tag = var("CI_COMMIT_TAG");
            let branch = if tag.is_some() {
                None
            } else {
                var("CI_COMMIT_REF_SLUG").or(var("CI_COMMIT_REF_NAME"))
            };
            return CiContext {
                platform: Platform::GitLab,
                sha: var("CI_COMMIT_SHA"),
                branch: slug(branch),
                default_branch: slug(var("CI_DEFAULT_BRANCH")),
                git_tag: slug(tag),
                image: var("CI_REGISTRY_IMAGE"),
                login,
                step_summary: None,
            };
        }
        if on("GITHUB_ACTIONS") {
            let is_tag = var("GITHUB_REF_TYPE").as_deref() == Some("tag");
            let branch = if is_tag {
                None
            } else {
                var("GITHUB_HEAD_REF").or(var("GITHUB_REF_NAME"))
            };
            let default_branch = var("GITHUB_EVENT_PATH")
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .and_then(|event| {
                    event["repository"]["default_branch"]
                        .as_str()
                        .map(String::from)
                })
                .or(var("GITHUB_BASE_REF"));
            let login = match (var("GITHUB_ACTOR"), var("GITHUB_TOKEN")) {
                (Some(user), Some(_)) => Some(Login {
                    registry: "ghcr.io".into(),
                    user,
                    password_var: "GITHUB_TOKEN".into(),
                }),
                _ => None,
            };
            return CiContext {
                platform: Platform::GitHub,
                sha: var("GITHUB_SHA"),
                branch: slug(branch),
                default_branch: slug(default_branch),
                git_tag: slug(if is_tag { var("GITHUB_REF_NAME") } else { None }),
                image: var("GITHUB_REPOSITORY").map(|r| format!("ghcr.io/{}", r.to_lowercase())),
                login,
                step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            };
        }
        if on("CIRCLECI") {
            let image = match (
                var("CIRCLE_PROJECT_USERNAME"),
                var("CIRCLE_PROJECT_REPONAME"),
            ) {
                (Some(user), Some(repo)) => Some(format!("{user}/{repo}").to_lowercase()),
                _ => None,
            };
            let tag = var("CIRCLE_TAG");
            return CiContext {
                platform: Platform::CircleCi,
                sha: var("CIRCLE_SHA1"),
                branch: slug(if tag.is_some() {
                    None
                } else {
                    var("CIRCLE_BRANCH")
                }),
                // CircleCI names no default branch: main, unless LAYERCACHE_DEFAULT_BRANCH says.
                default_branch: slug(var("LAYERCACHE_DEFAULT_BRANCH").or(Some("main".into()))),
                git_tag: slug(tag),
                image,
                login: None,
                step_summary: None,
            };
        }
        CiContext::default()
    }

    /// The tags to publish when the spec names none: the commit SHA, and the branch or git tag.
    pub fn default_tags(&self) -> Vec<String> {
        let sha = self.sha.as_deref().map(|s| slug_tag(s, 128));
        sha.into_iter()
            .chain(self.git_tag.clone().or_else(|| self.branch.clone()))
            .collect()
    }
}

/// A CI job file's view of the CI, for scripts generated once and run in every pipeline
/// (`layercache ci --standalone`): the defaults of [`CiContext::from_env`] as shell variables
/// the job computes at run time. Values in the plan are placeholder tokens (valid in tags and
/// repository names), which [`crate::render::resolve_symbols`] turns into `"${VAR}"`.
#[derive(Debug, Default)]
pub struct ShellCi {
    /// Shell lines that set `LC_IMAGE`, `LC_SHA`, `LC_REF`, `LC_DEFAULT` from the CI's variables.
    pub prelude: String,
    /// Placeholder token -> shell expression.
    symbols: std::cell::RefCell<Vec<(String, String)>>,
}

/// How placeholder tokens begin: lowercase letters, valid in tags and repository names.
pub const TOKEN_PREFIX: &str = "lcsym";

/// Slugs a branch name in the job as `reference::slug_tag` does here.
const SLUG_FUNCTION: &str = r#"lc_slug() {
    _s=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_.-' '-' | sed -e 's/^[.-]*//' -e 's/--*/-/g' | cut -c1-63 | sed -e 's/[-.]*$//')
    printf '%s' "${_s:-default}"
}
"#;

impl ShellCi {
    pub fn new(platform: Platform) -> ShellCi {
        let vars = match platform {
            Platform::GitLab => [
                "LC_IMAGE=$CI_REGISTRY_IMAGE",
                "LC_SHA=$CI_COMMIT_SHA",
                "LC_REF=$CI_COMMIT_REF_SLUG",
                "LC_DEFAULT=$(lc_slug \"$CI_DEFAULT_BRANCH\")",
            ],
            Platform::GitHub => [
                "LC_IMAGE=\"ghcr.io/$(printf '%s' \"$GITHUB_REPOSITORY\" | tr '[:upper:]' '[:lower:]')\"",
                "LC_SHA=$GITHUB_SHA",
                "LC_REF=$(lc_slug \"${GITHUB_HEAD_REF:-$GITHUB_REF_NAME}\")",
                "LC_DEFAULT=$(lc_slug \"${GITHUB_BASE_REF:-main}\")",
            ],
            Platform::CircleCi | Platform::Local => [
                "LC_IMAGE=$(printf '%s/%s' \"$CIRCLE_PROJECT_USERNAME\" \"$CIRCLE_PROJECT_REPONAME\" | tr '[:upper:]' '[:lower:]')",
                "LC_SHA=$CIRCLE_SHA1",
                "LC_REF=$(lc_slug \"${CIRCLE_TAG:-${CIRCLE_BRANCH:-}}\")",
                // CircleCI names no default branch: main, unless LAYERCACHE_DEFAULT_BRANCH says.
                "LC_DEFAULT=$(lc_slug \"${LAYERCACHE_DEFAULT_BRANCH:-main}\")",
            ],
        };
        let prelude = format!(
            "\n# The CI's values, read in each run (as `layercache build` reads them).\n{SLUG_FUNCTION}{}\n",
            vars.join("\n")
        );
        ShellCi {
            prelude,
            symbols: Default::default(),
        }
    }

    /// A token standing for a shell expression in the plan.
    pub fn token(&self, expression: &str) -> String {
        let mut symbols = self.symbols.borrow_mut();
        if let Some((token, _)) = symbols.iter().find(|(_, e)| e == expression) {
            return token.clone();
        }
        let token = format!("{TOKEN_PREFIX}{:02}q", symbols.len());
        symbols.push((token.clone(), expression.to_string()));
        token
    }

    /// The CI context of the job: every CI-derived value a token for its shell variable.
    pub fn context(&self) -> CiContext {
        CiContext {
            platform: Platform::Local,
            sha: Some(self.token("${LC_SHA}")),
            branch: Some(self.token("${LC_REF}")),
            default_branch: Some(self.token("${LC_DEFAULT}")),
            git_tag: None,
            image: Some(self.token("${LC_IMAGE}")),
            login: None,
            step_summary: None,
        }
    }

    pub fn symbols(&self) -> Vec<(String, String)> {
        self.symbols.borrow().clone()
    }
}

/// Whether a variable belongs to the platform's own set, which a job reads in each run.
pub fn is_platform_variable(platform: Platform, name: &str) -> bool {
    match platform {
        Platform::GitLab => name.starts_with("CI_") || name == "GITLAB_CI",
        Platform::GitHub => name.starts_with("GITHUB_"),
        Platform::CircleCi => name.starts_with("CIRCLE_") || name == "CIRCLECI",
        Platform::Local => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(vars: &[(&str, &str)]) -> CiContext {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CiContext::from_env(&move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    /// Variables as GitLab sets them for a branch pipeline.
    const GITLAB: &[(&str, &str)] = &[
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_SHA", "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c"),
        ("CI_COMMIT_REF_NAME", "feature/Login-Page"),
        ("CI_COMMIT_REF_SLUG", "feature-login-page"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_REGISTRY", "registry.gitlab.com"),
        ("CI_REGISTRY_IMAGE", "registry.gitlab.com/team/app"),
        ("CI_REGISTRY_USER", "gitlab-ci-token"),
        ("CI_REGISTRY_PASSWORD", "glcbt-secret"),
    ];

    #[test]
    fn gitlab_branch_pipeline() {
        let c = ctx(GITLAB);
        assert_eq!(c.platform, Platform::GitLab);
        assert_eq!(c.branch.as_deref(), Some("feature-login-page"));
        assert_eq!(c.default_branch.as_deref(), Some("main"));
        assert_eq!(c.image.as_deref(), Some("registry.gitlab.com/team/app"));
        assert_eq!(
            c.default_tags(),
            [
                "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c",
                "feature-login-page"
            ]
        );
        let login = c.login.unwrap();
        assert_eq!(
            (login.registry.as_str(), login.user.as_str()),
            ("registry.gitlab.com", "gitlab-ci-token")
        );
        assert_eq!(login.password_var, "CI_REGISTRY_PASSWORD");
    }

    #[test]
    fn gitlab_tag_pipeline_publishes_the_tag() {
        let mut vars = GITLAB.to_vec();
        vars.push(("CI_COMMIT_TAG", "v1.2.0"));
        let c = ctx(&vars);
        assert_eq!(c.branch, None);
        assert_eq!(
            c.default_tags(),
            ["1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c", "v1.2.0"]
        );
    }

    #[test]
    fn github_pull_request_uses_the_head_branch_and_the_event_default() {
        let dir = tempfile::tempdir().unwrap();
        let event = dir.path().join("event.json");
        std::fs::write(&event, r#"{"repository": {"default_branch": "trunk"}}"#).unwrap();
        let c = ctx(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_REF_NAME", "42/merge"),
            ("GITHUB_REF_TYPE", "branch"),
            ("GITHUB_HEAD_REF", "Fix/Thing"),
            ("GITHUB_BASE_REF", "main"),
            ("GITHUB_REPOSITORY", "Octo-Org/My-App"),
            ("GITHUB_ACTOR", "octocat"),
            ("GITHUB_TOKEN", "ghs_secret"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", "/tmp/summary.md"),
        ]);
        assert_eq!(c.platform, Platform::GitHub);
        assert_eq!(c.branch.as_deref(), Some("fix-thing"));
        assert_eq!(c.default_branch.as_deref(), Some("trunk"));
        assert_eq!(c.image.as_deref(), Some("ghcr.io/octo-org/my-app"));
        assert_eq!(c.default_tags(), ["abc123", "fix-thing"]);
        assert_eq!(c.login.unwrap().password_var, "GITHUB_TOKEN");
        assert_eq!(c.step_summary, Some(PathBuf::from("/tmp/summary.md")));
    }

    #[test]
    fn github_push_without_event_falls_back_to_base_ref_or_nothing() {
        let c = ctx(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_REF_TYPE", "branch"),
        ]);
        assert_eq!(c.branch.as_deref(), Some("main"));
        assert_eq!(c.default_branch, None);
        assert_eq!(c.login, None);
    }

    #[test]
    fn circleci_branch_and_tag() {
        let c = ctx(&[
            ("CIRCLECI", "true"),
            ("CIRCLE_SHA1", "def456"),
            ("CIRCLE_BRANCH", "release/2.0"),
            ("CIRCLE_PROJECT_USERNAME", "Acme"),
            ("CIRCLE_PROJECT_REPONAME", "Web"),
        ]);
        assert_eq!(c.platform, Platform::CircleCi);
        assert_eq!(c.branch.as_deref(), Some("release-2.0"));
        assert_eq!(c.image.as_deref(), Some("acme/web"));
        assert_eq!(c.default_tags(), ["def456", "release-2.0"]);
    }

    #[test]
    fn a_local_run_has_no_defaults() {
        let c = ctx(&[("HOME", "/root")]);
        assert_eq!(c, CiContext::default());
        assert!(c.default_tags().is_empty());
    }
}

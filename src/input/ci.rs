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
    /// A pipeline of a change from another repository (a fork): GitHub's `pull_request` whose
    /// head repository is not the base repository, GitLab's merge request whose source
    /// project is not this project. Such a run reads caches and publishes nothing, unless
    /// `--allow-fork-push` says otherwise: what a fork pushes, the default branch would read.
    pub from_fork: bool,
}

/// Room left in a 128-character tag after `cache-<stage>-`, for a branch: stage names are
/// short in practice, and a slug this long still tells branches apart.
const BRANCH_SLUG_LEN: usize = 63;

/// A branch name as a tag, different for different names: the name itself when it is a valid
/// tag already (`main`, `feature-x`); otherwise its slug with `-` and the name's POSIX `cksum`
/// (CRC-32, 8 hex digits) added, so `Main`, `main.` and `MAIN/` never write `main`'s caches
/// and tags, nor `feature/x` those of `feature-x`. The job scripts compute the same in sh
/// (`lc_slug`), which is why the hash is `cksum`'s and not a better one.
pub fn branch_slug(name: &str) -> String {
    // A trailing `.` is a valid tag, but the cache refs drop it (`cache-x-main.` would read
    // as a typo): without it here too, `main.` is a changed name.
    let slug = |len| {
        let s = slug_tag(name, len);
        match s.trim_end_matches(['-', '.']) {
            "" => "default".to_string(),
            t => t.to_string(),
        }
    };
    let plain = slug(BRANCH_SLUG_LEN);
    if plain == name {
        return plain;
    }
    format!(
        "{}-{:08x}",
        slug(BRANCH_SLUG_LEN - 9),
        cksum(name.as_bytes())
    )
}

/// POSIX `cksum`'s CRC: polynomial 0x04C11DB7, most significant bit first, the length appended
/// in as few bytes as it takes (least significant first), the result complemented.
fn cksum(data: &[u8]) -> u32 {
    fn feed(crc: u32, byte: u8) -> u32 {
        let mut crc = crc ^ (u32::from(byte) << 24);
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
        crc
    }
    let mut crc = data.iter().fold(0, |crc, &b| feed(crc, b));
    let mut len = data.len();
    while len > 0 {
        crc = feed(crc, (len & 0xff) as u8);
        len >>= 8;
    }
    !crc
}

impl CiContext {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> CiContext {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        let slug = |v: Option<String>| v.map(|v| slug_tag(&v, BRANCH_SLUG_LEN));
        let branch_slug = |v: Option<String>| v.map(|v| branch_slug(&v));
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
                // The name, not GitLab's slug: `Main` and `main` share a slug.
                var("CI_COMMIT_REF_NAME").or(var("CI_COMMIT_REF_SLUG"))
            };
            let from_fork = match (
                var("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"),
                var("CI_PROJECT_ID"),
            ) {
                (Some(source), Some(project)) => source != project,
                _ => false,
            };
            return CiContext {
                platform: Platform::GitLab,
                sha: var("CI_COMMIT_SHA"),
                branch: branch_slug(branch),
                default_branch: branch_slug(var("CI_DEFAULT_BRANCH")),
                git_tag: slug(tag),
                image: var("CI_REGISTRY_IMAGE"),
                login,
                step_summary: None,
                from_fork,
            };
        }
        if on("GITHUB_ACTIONS") {
            let is_tag = var("GITHUB_REF_TYPE").as_deref() == Some("tag");
            let branch = if is_tag {
                None
            } else {
                var("GITHUB_HEAD_REF").or(var("GITHUB_REF_NAME"))
            };
            let event = var("GITHUB_EVENT_PATH")
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .unwrap_or_default();
            let default_branch = event["repository"]["default_branch"]
                .as_str()
                .map(String::from)
                .or(var("GITHUB_BASE_REF"));
            // A pull request's payload names both repositories; a deleted fork's head is null.
            let pull = &event["pull_request"];
            let from_fork = pull.is_object()
                && pull["head"]["repo"]["full_name"] != pull["base"]["repo"]["full_name"];
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
                branch: branch_slug(branch),
                default_branch: branch_slug(default_branch),
                git_tag: slug(if is_tag { var("GITHUB_REF_NAME") } else { None }),
                image: var("GITHUB_REPOSITORY").map(|r| format!("ghcr.io/{}", r.to_lowercase())),
                login,
                step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
                from_fork,
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
                branch: branch_slug(if tag.is_some() {
                    None
                } else {
                    var("CIRCLE_BRANCH")
                }),
                // CircleCI names no default branch: main, unless LAYERCACHE_DEFAULT_BRANCH says.
                default_branch: branch_slug(
                    var("LAYERCACHE_DEFAULT_BRANCH").or(Some("main".into())),
                ),
                git_tag: slug(tag),
                image,
                login: None,
                step_summary: None,
                from_fork: false,
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

/// Slugs a branch name in the job as [`branch_slug`] does here: the name when it is a tag, else
/// its slug and its `cksum` in hex.
const SLUG_FUNCTION: &str = r#"lc_cut() {
    _s=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_.-' '-' | sed -e 's/^[.-]*//' -e 's/--*/-/g' | cut -c1-"$2" | sed -e 's/[-.]*$//')
    printf '%s' "${_s:-default}"
}
lc_slug() {
    _slug=$(lc_cut "$1" 63)
    if [ "$_slug" != "$1" ]; then
        _slug="$(lc_cut "$1" 54)-$(printf '%08x' "$(printf '%s' "$1" | cksum | cut -d' ' -f1)")"
    fi
    printf '%s' "$_slug"
}
"#;

impl ShellCi {
    pub fn new(platform: Platform) -> ShellCi {
        let vars = match platform {
            Platform::GitLab => [
                "LC_IMAGE=$CI_REGISTRY_IMAGE",
                "LC_SHA=$CI_COMMIT_SHA",
                "LC_REF=$(lc_slug \"$CI_COMMIT_REF_NAME\")",
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
            from_fork: false,
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
        assert_eq!(c.branch.as_deref(), Some("feature-login-page-1ab88ae7"));
        assert_eq!(c.default_branch.as_deref(), Some("main"));
        assert_eq!(c.image.as_deref(), Some("registry.gitlab.com/team/app"));
        assert_eq!(
            c.default_tags(),
            [
                "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c",
                "feature-login-page-1ab88ae7"
            ]
        );
        assert!(!c.from_fork);
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
        assert_eq!(c.branch.as_deref(), Some("fix-thing-c82091c8"));
        assert_eq!(c.default_branch.as_deref(), Some("trunk"));
        assert_eq!(c.image.as_deref(), Some("ghcr.io/octo-org/my-app"));
        assert_eq!(c.default_tags(), ["abc123", "fix-thing-c82091c8"]);
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
        assert_eq!(c.branch.as_deref(), Some("release-2.0-ec2cb778"));
        assert_eq!(c.image.as_deref(), Some("acme/web"));
        assert_eq!(c.default_tags(), ["def456", "release-2.0-ec2cb778"]);
    }

    #[test]
    fn a_local_run_has_no_defaults() {
        let c = ctx(&[("HOME", "/root")]);
        assert_eq!(c, CiContext::default());
        assert!(c.default_tags().is_empty());
    }

    #[test]
    fn branches_named_like_the_default_branch_get_their_own_slug() {
        assert_eq!(branch_slug("main"), "main");
        assert_eq!(branch_slug("feature-x"), "feature-x");
        // `printf %s NAME | cksum`, in hex.
        assert_eq!(branch_slug("Main"), "main-69eefa67");
        assert_eq!(branch_slug("main."), "main-a4ff181a");
        assert_eq!(branch_slug("MAIN/"), "main-cc3d87a1");
        assert_eq!(
            branch_slug("feature/x"),
            format!("feature-x-{:08x}", cksum(b"feature/x"))
        );
        let long = "Feature/".repeat(20);
        let slug = branch_slug(&long);
        assert_eq!(slug.len(), 54 + 9, "{slug}");
        // The default branch's name goes through the same function.
        let mut vars = GITLAB.to_vec();
        vars.extend([
            ("CI_COMMIT_REF_NAME", "Main"),
            ("CI_COMMIT_REF_SLUG", "main"),
        ]);
        vars.retain(|(k, v)| !(k.starts_with("CI_COMMIT_REF") && v.starts_with("feature")));
        let c = ctx(&vars);
        assert_eq!(c.branch.as_deref(), Some("main-69eefa67"));
        assert_eq!(c.default_branch.as_deref(), Some("main"));
    }

    #[test]
    fn the_job_scripts_slug_as_layercache_does() {
        for name in [
            "main",
            "Main",
            "main.",
            "MAIN/",
            "feature/Login-Page",
            "a--b",
            ".x",
        ] {
            let out = std::process::Command::new("sh")
                .args(["-c", &format!("{SLUG_FUNCTION}lc_slug \"$1\""), "sh", name])
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                branch_slug(name),
                "{name}"
            );
        }
    }

    #[test]
    fn pull_requests_and_merge_requests_from_forks_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let event = |head: &str| {
            let path = dir.path().join(format!("{}.json", head.replace('/', "_")));
            let head = if head == "null" {
                "null".to_string()
            } else {
                format!(r#"{{"full_name": "{head}"}}"#)
            };
            std::fs::write(
                &path,
                format!(
                    r#"{{"pull_request": {{"head": {{"repo": {head}}}, "base": {{"repo": {{"full_name": "octo/app"}}}}}},
                        "repository": {{"default_branch": "main"}}}}"#
                ),
            )
            .unwrap();
            path.to_str().unwrap().to_string()
        };
        let github = |path: &str| {
            ctx(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_REF_NAME", "7/merge"),
                ("GITHUB_HEAD_REF", "fix"),
                ("GITHUB_EVENT_PATH", path),
            ])
            .from_fork
        };
        assert!(github(&event("mallory/app")));
        assert!(github(&event("null")), "a deleted fork");
        assert!(!github(&event("octo/app")));
        let push = dir.path().join("push.json");
        std::fs::write(&push, r#"{"repository": {"default_branch": "main"}}"#).unwrap();
        assert!(!github(push.to_str().unwrap()));

        let gitlab = |source: &str| {
            let mut vars = GITLAB.to_vec();
            vars.extend([
                ("CI_PROJECT_ID", "100"),
                ("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", source),
            ]);
            ctx(&vars).from_fork
        };
        assert!(gitlab("200"));
        assert!(!gitlab("100"));
        assert!(!ctx(GITLAB).from_fork);
    }
}

//! Who logs in where, and the `docker login` step that does it.

use super::builder::{builder_env, Builder};
use super::step::{Retry, Step, StepKind};
use super::{ImageInput, Options};
use crate::error::Error;
use crate::input::ci::{CiContext, Login};

/// `docker login --password-stdin`: the password goes from its variable to docker's stdin.
pub(crate) fn login_step(login: &Login, opts: &Options, builder: Builder) -> Step {
    Step {
        after: Vec::new(),
        kind: StepKind::Login,
        program: opts.docker.clone(),
        args: [
            "login",
            "--username",
            &login.user,
            "--password-stdin",
            &login.registry,
        ]
        .map(String::from)
        .to_vec(),
        env: builder_env(builder),
        allow_failure: false,
        image: String::new(),
        stage: None,
        reference: Some(login.registry.clone()),
        // stdin is read once: a retry would send docker an empty password.
        retry: Retry::ONCE,
        output_stage: None,
        stdin_var: Some(login.password_var.clone()),
    }
}

/// `docker logout REGISTRY`: tolerated, as a cleanup whose failure must not hide the run's.
pub(crate) fn logout_step(registry: &str, opts: &Options, builder: Builder) -> Step {
    Step {
        kind: StepKind::Logout,
        program: opts.docker.clone(),
        args: vec!["logout".into(), registry.to_string()],
        env: builder_env(builder),
        allow_failure: true,
        image: String::new(),
        stage: None,
        reference: Some(registry.to_string()),
        retry: Retry::ONCE,
        output_stage: None,
        stdin_var: None,
        after: Vec::new(),
    }
}

/// The login flags `--registry-user` and `--registry-password-var`, which go together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFlags {
    pub user: String,
    pub password_var: String,
}

/// Who logs in where: the login flags (for the registry of the first image); else each image's
/// `registry_user` / `registry_password_var`; else the CI's own registry credentials. One
/// login per registry. `is_set` says whether an environment variable is set: a password
/// variable that is not fails here, before anything runs.
pub fn logins(
    ci: &CiContext,
    flags: Option<&LoginFlags>,
    inputs: &[ImageInput],
    is_set: &dyn Fn(&str) -> bool,
) -> Result<Vec<Login>, Error> {
    let mut logins: Vec<Login> = Vec::new();
    match (flags, inputs.first()) {
        (Some(flags), Some(first)) => logins.push(Login {
            registry: first.config.image.registry().to_string(),
            user: flags.user.clone(),
            password_var: flags.password_var.clone(),
        }),
        _ => {
            for i in inputs {
                if let Some((user, var)) = &i.config.registry_login {
                    logins.push(Login {
                        registry: i.config.image.registry().to_string(),
                        user: user.clone(),
                        password_var: var.clone(),
                    });
                }
            }
        }
    }
    if logins.is_empty() {
        logins.extend(ci.login.iter().cloned());
    }
    logins.dedup_by(|a, b| a.registry == b.registry);
    if let Some(unset) = logins.iter().find(|l| !is_set(&l.password_var)) {
        return Err(Error::input(format!(
            "the registry password variable {} (for {}) is not set",
            unset.password_var, unset.registry
        ))
        .hint(format!(
            "export {} with the registry password (in CI: from a masked secret)",
            unset.password_var
        )));
    }
    Ok(logins)
}

/// The registries to log out of at the end: each one logged in to, unless `keep_login`, or the
/// user was logged in to it before the run (`theirs`: their login, left as it was).
pub fn logouts(logins: &[Login], keep_login: bool, theirs: &dyn Fn(&str) -> bool) -> Vec<String> {
    if keep_login {
        return Vec::new();
    }
    logins
        .iter()
        .filter(|l| !theirs(&l.registry))
        .map(|l| l.registry.clone())
        .collect()
}

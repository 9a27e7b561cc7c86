//! The docker client's plugins, found where the client finds them (docker/cli's plugin manager:
//! `cliPluginsExtraDirs` of the config file, `<config folder>/cli-plugins`, then the system
//! folders), without starting docker: a plugin file is there or it is not.

use super::engine_env::EngineEnv;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// docker/cli's system plugin folders on Linux, searched after the user's.
const SYSTEM_PLUGIN_DIRS: [&str; 4] = [
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
];

/// The first executable `docker-<name>` in the client's plugin folders.
pub fn find(env: &EngineEnv, name: &str) -> Option<PathBuf> {
    find_in(&search_path(env), name)
}

fn search_path(env: &EngineEnv) -> Vec<PathBuf> {
    let mut dirs = env.extra_plugin_dirs.clone();
    dirs.extend(env.config_dir.iter().map(|d| d.join("cli-plugins")));
    dirs.extend(SYSTEM_PLUGIN_DIRS.iter().map(PathBuf::from));
    dirs
}

fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    let file = format!("docker-{name}");
    dirs.iter()
        .map(|d| d.join(&file))
        .find(|path| is_executable(path))
}

/// A file (or a symlink to one) with an execute bit: what the client would try to run.
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_is_an_executable_file_in_the_first_folder_that_has_one() {
        let dir = tempfile::tempdir().unwrap();
        let (user, extra) = (dir.path().join("cli-plugins"), dir.path().join("extra"));
        std::fs::create_dir_all(&user).unwrap();
        std::fs::create_dir_all(&extra).unwrap();
        let env = EngineEnv {
            config_dir: Some(dir.path().to_path_buf()),
            extra_plugin_dirs: vec![extra.clone()],
            ..EngineEnv::default()
        };
        let dirs = [extra.clone(), user.clone()];
        assert_eq!(find_in(&dirs, "buildx"), None);
        // Not executable: docker would not run it either.
        std::fs::write(user.join("docker-buildx"), "#!/bin/sh\n").unwrap();
        assert_eq!(find_in(&dirs, "buildx"), None);
        let executable = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(user.join("docker-buildx"), executable.clone()).unwrap();
        assert_eq!(find(&env, "buildx"), Some(user.join("docker-buildx")));
        // cliPluginsExtraDirs come first.
        std::fs::write(extra.join("docker-buildx"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(extra.join("docker-buildx"), executable).unwrap();
        assert_eq!(find(&env, "buildx"), Some(extra.join("docker-buildx")));
        // A folder is not a plugin.
        std::fs::create_dir_all(user.join("docker-compose")).unwrap();
        assert_eq!(find_in(&[user], "compose"), None);
        assert_eq!(
            search_path(&env).last(),
            Some(&PathBuf::from(SYSTEM_PLUGIN_DIRS[3]))
        );
    }
}

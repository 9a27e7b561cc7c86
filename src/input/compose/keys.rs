//! The keys of the Compose schema the reader checks against, taken from the JSON schema
//! embedded in compose 2.40.3 (the newer of the two oracle versions), and the typo suggestion
//! for a key that is none of them.

/// Build keys the reader takes.
pub const BUILD_KEYS: &[&str] = &[
    "context",
    "dockerfile",
    "dockerfile_inline",
    "args",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "additional_contexts",
    "network",
    "target",
    "shm_size",
    "extra_hosts",
    "secrets",
    "tags",
    "platforms",
    "pull",
    "no_cache",
];

/// Build keys valid in Compose whose meaning the reader does not take: listed, never dropped.
pub const UNSUPPORTED_BUILD_KEYS: &[&str] = &[
    "entitlements",
    "isolation",
    "privileged",
    "ulimits",
    "provenance",
    "sbom",
];

/// Service keys of the Compose schema embedded in compose 2.40.3 (2.26.1 lacks `models`,
/// `provider`, `pull_refresh_after` and `use_api_socket`). Only `build`, `image`, `platform`,
/// `profiles`, `extends` and `depends_on` mean something to the reader; the others are for
/// running containers and are kept as written. Any other key is refused, as compose does, so a
/// misspelt `biuld:` is not silently a service without a build.
pub const SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];

/// The closest candidate by edit distance, when close enough to be a typo: the spec's own.
pub use crate::input::spec::nearest;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_matched_to_a_key() {
        assert_eq!(nearest("contxt", BUILD_KEYS), Some("context"));
        assert_eq!(nearest("biuld", SERVICE_KEYS), Some("build"));
        assert_eq!(nearest("zzzzzzzz", BUILD_KEYS), None);
    }
}

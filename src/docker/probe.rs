//! What the engine can do, asked once per run: the buildx plugin and the builder it would use
//! (with its driver), the daemon's version and image store, and the client's version where it
//! decides something. Answered from the client's files and the daemon's socket where they
//! settle it, and by docker itself where they do not (another context, a TCP or TLS daemon,
//! `buildx use --default`): issue 11's overhead budget is 50 ms, and each docker process the
//! probe used to start cost 20-410 ms on these machines. The parsing is pure and tested on
//! output recorded from real engines (tests/fixtures/engines).

use super::buildx_store::{self, Lookup};
use super::command::probe_command;
use super::engine_env::EngineEnv;
use super::{daemon_socket, plugins};
use std::path::{Path, PathBuf};
use std::process::Child;

/// What the docker client and engine on this machine offer. Everything is optional: a probe
/// that fails (no daemon, no buildx) leaves its part unknown, and the planner decides on what
/// it knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The client's version as it prints it, e.g. `28.2.2`: asked where there is no buildx
    /// (it decides the builder then) and by `doctor`.
    pub client: Option<String>,
    /// Client version, e.g. (28, 2).
    pub client_version: Option<(u32, u32)>,
    /// The buildx plugin, or `None` without buildx.
    pub buildx: Option<BuildxPlugin>,
    /// The builder `docker buildx build` uses (buildx's current one, or `BUILDX_BUILDER`).
    pub builder: Option<BuildxBuilder>,
    /// `BUILDX_BUILDER` was set: plain `docker build` goes to that builder too. Without it,
    /// `docker build` uses the docker driver of the current context.
    pub buildx_builder_env: bool,
    /// The daemon, when it answered.
    pub daemon: Option<Daemon>,
}

/// The buildx plugin: the file the client runs, and its version where it was asked (`doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildxPlugin {
    pub path: PathBuf,
    /// As `docker buildx version` prints it, e.g. `0.29.1+ds1`.
    pub version: Option<String>,
}

#[cfg(test)]
impl BuildxPlugin {
    /// Where Debian's docker-buildx installs it: a plugin found, for the planner's tests.
    pub fn debian() -> BuildxPlugin {
        BuildxPlugin {
            path: "/usr/libexec/docker/cli-plugins/docker-buildx".into(),
            version: None,
        }
    }
}

/// A buildx builder, as `docker buildx inspect` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildxBuilder {
    pub name: String,
    pub driver: Driver,
    /// How many nodes it has (the `Name:` lines under `Nodes:`); more than one when each
    /// platform builds natively on a node of its own, which matters for caches
    /// (docker/buildx#1044).
    pub nodes: usize,
}

/// How a buildx builder runs BuildKit. Only the `docker` driver builds into the daemon's image
/// store; the others keep results in their own cache unless told to `--push` or `--load`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Driver {
    Docker,
    DockerContainer,
    Kubernetes,
    Remote,
    Cloud,
    Other(String),
}

/// The daemon, from `docker info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    /// As it reports it, e.g. `28.5.2+dfsg4`.
    pub version: String,
    pub version_number: Option<(u32, u32)>,
    pub store: ImageStore,
}

/// Where the daemon keeps images: the classic graph drivers, or containerd's snapshotters (the
/// default of fresh Docker 29 installs), which can also export a BuildKit cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageStore {
    Classic,
    Containerd,
}

impl Driver {
    pub fn parse(name: &str) -> Driver {
        match name {
            "docker" => Driver::Docker,
            "docker-container" => Driver::DockerContainer,
            "kubernetes" => Driver::Kubernetes,
            "remote" => Driver::Remote,
            "cloud" => Driver::Cloud,
            other => Driver::Other(other.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Driver::Docker => "docker",
            Driver::DockerContainer => "docker-container",
            Driver::Kubernetes => "kubernetes",
            Driver::Remote => "remote",
            Driver::Cloud => "cloud",
            Driver::Other(name) => name,
        }
    }
}

impl ImageStore {
    pub fn name(self) -> &'static str {
        match self {
            ImageStore::Classic => "classic",
            ImageStore::Containerd => "containerd",
        }
    }
}

/// The `docker info` template: the server's version, then its storage driver status as JSON.
const INFO_FORMAT: &str = "{{.ServerVersion}}|{{json .DriverStatus}}";

/// Asks the client's files and the daemon's socket, and docker only what they leave open; what
/// is asked of docker is started at once, so it costs about as much as the slowest answer.
pub fn probe(docker: &Path, env: &EngineEnv) -> Capabilities {
    let address = env.daemon_address();
    let from_socket = address.map(|a| std::thread::spawn(move || daemon_socket::info(&a)));
    let buildx = plugins::find(env, "buildx").map(|path| BuildxPlugin {
        path,
        version: None,
    });
    let lookup = buildx.as_ref().map(|_| buildx_store::current_builder(env));
    let start = |args: &[&str]| probe_command(docker, args).spawn().ok();
    // Without buildx the client's version decides the builder: clients before 23.0 build with
    // BuildKit from DOCKER_BUILDKIT=1, later ones refuse to.
    let version = buildx.is_none().then(|| start(&["--version"])).flatten();
    let inspect = matches!(lookup, Some(Lookup::Unknown))
        .then(|| start(&["buildx", "inspect"]))
        .flatten();
    let daemon = match from_socket.and_then(|t| t.join().ok()).flatten() {
        Some(daemon) => Some(daemon),
        None => output(start(&["info", "--format", INFO_FORMAT])).and_then(|t| parse_info(&t)),
    };
    let builder = match lookup {
        Some(Lookup::Found(builder)) => Some(builder),
        Some(Lookup::Unknown) => output(inspect).and_then(|t| parse_buildx_inspect(&t)),
        None => None,
    };
    let version = output(version);
    Capabilities {
        client: version.as_deref().map(client_version_text),
        client_version: version.as_deref().and_then(parse_version),
        buildx,
        builder,
        buildx_builder_env: env.buildx_builder.is_some(),
        daemon,
    }
}

/// What `doctor` shows besides: the client's version and buildx's, asked of docker.
pub fn versions(docker: &Path, caps: &mut Capabilities) {
    let start = |args: &[&str]| probe_command(docker, args).spawn().ok();
    let client = caps
        .client
        .is_none()
        .then(|| start(&["--version"]))
        .flatten();
    let buildx = caps
        .buildx
        .is_some()
        .then(|| start(&["buildx", "version"]))
        .flatten();
    if let Some(text) = output(client) {
        caps.client = Some(client_version_text(&text));
        caps.client_version = parse_version(&text);
    }
    if let Some(plugin) = caps.buildx.as_mut() {
        plugin.version = output(buildx).as_deref().and_then(parse_buildx_version);
    }
}

/// The stdout of a probe that ran and succeeded.
fn output(child: Option<Child>) -> Option<String> {
    child
        .and_then(|c| c.wait_with_output().ok())
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// `Docker version 28.2.2, build e6534b4` -> `28.2.2`.
pub fn client_version_text(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|w| w.trim_end_matches(',').to_string())
        .unwrap_or_else(|| text.trim().to_string())
}

/// `Docker version 28.2.2, build e6534b4` (or `28.5.2+dfsg4`) -> (28, 2).
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let v = text
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let mut parts = v.trim_end_matches(',').split(['.', '+', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// `github.com/docker/buildx 0.29.1+ds1 0.29.1+ds1-4` or `... v0.13.1 abc123` -> the version.
pub fn parse_buildx_version(text: &str) -> Option<String> {
    let line = text.lines().find(|l| !l.trim().is_empty())?;
    let version = line.split_whitespace().nth(1)?;
    Some(version.trim_start_matches('v').to_string())
}

/// The builder's name and driver: the first `Name:` and `Driver:` lines (the nodes follow).
pub fn parse_buildx_inspect(text: &str) -> Option<BuildxBuilder> {
    let field = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    let nodes = text
        .lines()
        .skip_while(|l| l.trim() != "Nodes:")
        .filter(|l| l.split_once(':').is_some_and(|(k, _)| k == "Name"))
        .count();
    Some(BuildxBuilder {
        name: field("Name")?,
        driver: Driver::parse(&field("Driver")?),
        nodes: nodes.max(1),
    })
}

/// `28.5.2+dfsg4|[["driver-type","io.containerd.snapshotter.v1"]]` -> the daemon.
pub fn parse_info(text: &str) -> Option<Daemon> {
    let (version, status) = text.trim().split_once('|')?;
    let status = serde_json::from_str(status).unwrap_or_default();
    daemon_from(version, &status)
}

/// The daemon from `/info`'s `ServerVersion` and `DriverStatus` (pairs of strings).
pub fn daemon_from(version: &str, driver_status: &serde_json::Value) -> Option<Daemon> {
    if version.is_empty() {
        return None;
    }
    Some(Daemon {
        version: version.to_string(),
        version_number: parse_version(version),
        store: store_of(driver_status),
    })
}

/// The containerd image store reports `driver-type: io.containerd.snapshotter.v1` among its
/// driver status pairs; the classic graph drivers never do.
fn store_of(driver_status: &serde_json::Value) -> ImageStore {
    let pairs = driver_status
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let containerd = pairs.iter().any(|pair| {
        pair[0].as_str() == Some("driver-type")
            && pair[1]
                .as_str()
                .is_some_and(|v| v.starts_with("io.containerd.snapshotter"))
    });
    if containerd {
        ImageStore::Containerd
    } else {
        ImageStore::Classic
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file recorded from a real engine by scripts/record-engine-fixtures.sh.
    fn recorded(engine: &str, name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/engines/{engine}/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// `docker info --format INFO_FORMAT`, rebuilt from the recorded `{{json .}}`.
    fn recorded_info(engine: &str) -> String {
        let info: serde_json::Value =
            serde_json::from_str(&recorded(engine, "buildkit-info-json.stdout")).unwrap();
        format!(
            "{}|{}\n",
            info["ServerVersion"].as_str().unwrap(),
            info["DriverStatus"]
        )
    }

    #[test]
    fn versions_are_read_from_client_output() {
        assert_eq!(
            parse_version("Docker version 28.2.2, build e6534b4"),
            Some((28, 2))
        );
        assert_eq!(
            parse_version("Docker version 20.10.24+dfsg1, build 297e128"),
            Some((20, 10))
        );
        assert_eq!(parse_version("28.5.2+dfsg4"), Some((28, 5)));
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn each_recorded_engine_is_read_as_it_is() {
        // (set-up, daemon version, store, buildx version, driver)
        let expected = [
            ("20.10", (20, 10), ImageStore::Classic, None, None),
            ("20.10-tls", (20, 10), ImageStore::Classic, None, None),
            (
                "26.1-classic",
                (26, 1),
                ImageStore::Classic,
                Some("0.13.1+ds1"),
                Some(Driver::Docker),
            ),
            (
                "26.1-containerd",
                (26, 1),
                ImageStore::Containerd,
                Some("0.13.1+ds1"),
                Some(Driver::Docker),
            ),
            (
                "28.5-classic",
                (28, 5),
                ImageStore::Classic,
                Some("0.29.1+ds1"),
                Some(Driver::Docker),
            ),
            (
                "28.5-containerd",
                (28, 5),
                ImageStore::Containerd,
                Some("0.29.1+ds1"),
                Some(Driver::Docker),
            ),
        ];
        for (engine, version, store, buildx, driver) in expected {
            let daemon = parse_info(&recorded_info(engine)).unwrap();
            assert_eq!(daemon.version_number, Some(version), "{engine}");
            assert_eq!(daemon.store, store, "{engine}");
            let buildx_text = recorded(engine, "buildkit-buildx-version.stdout");
            assert_eq!(
                parse_buildx_version(&buildx_text).as_deref(),
                buildx,
                "{engine}"
            );
            let inspect = recorded(engine, "buildkit-buildx-inspect.stdout");
            assert_eq!(
                parse_buildx_inspect(&inspect).map(|b| b.driver),
                driver,
                "{engine}"
            );
        }
    }

    #[test]
    fn other_drivers_are_read_from_public_output() {
        for (file, driver) in [
            (
                "docker-container.inspect.build-push-action-1302.txt",
                Driver::DockerContainer,
            ),
            (
                "docker-container.inspect.buildx-docs.txt",
                Driver::DockerContainer,
            ),
            ("kubernetes.inspect.buildx-pr-370.txt", Driver::Kubernetes),
            (
                "remote.inspect.docker-docs-buildkit-windows.txt",
                Driver::Remote,
            ),
        ] {
            let text = recorded("public", file);
            assert_eq!(
                parse_buildx_inspect(&text).map(|b| b.driver),
                Some(driver),
                "{file}"
            );
        }
        assert_eq!(
            parse_buildx_inspect("Name: x\nDriver: cloud\n").map(|b| b.driver),
            Some(Driver::Cloud)
        );
        // Nodes: one per `Name:` under `Nodes:` (a builder with a node per platform has two).
        let one = recorded("28.5-containerd", "buildkit-buildx-inspect.stdout");
        assert_eq!(parse_buildx_inspect(&one).map(|b| b.nodes), Some(1));
        let two = "Name: multi\nDriver: docker-container\n\nNodes:\nName: multi0\nEndpoint: unix:///var/run/docker.sock\n\nName: arm64-builder\nEndpoint: ssh://1.1.1.1\nPlatforms: linux/arm64*\n";
        assert_eq!(parse_buildx_inspect(two).map(|b| b.nodes), Some(2));
        let per_arch = recorded("public", "kubernetes.inspect.buildx-pr-370.txt");
        assert_eq!(parse_buildx_inspect(&per_arch).map(|b| b.nodes), Some(2));
    }

    #[test]
    fn unreadable_answers_leave_the_part_unknown() {
        assert_eq!(parse_info("|null"), None);
        assert_eq!(parse_info("garbage"), None);
        assert_eq!(parse_buildx_inspect("docker: unknown command"), None);
        assert_eq!(parse_buildx_version(""), None);
        assert_eq!(
            parse_info("24.0.7|null").map(|d| d.store),
            Some(ImageStore::Classic)
        );
    }
}

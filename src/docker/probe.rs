//! What the engine can do, asked once per run: the client's version, the buildx plugin and the
//! builder it would use (with its driver), the daemon's version and its image store. Four docker
//! commands, all started at once so the probe costs about as much as the slowest of them (the
//! benchmark's overhead figure includes it). The parsing is pure and tested on output recorded
//! from real engines (tests/fixtures/engines).

use super::command::probe_command;
use std::path::Path;
use std::process::Child;

/// What the docker client and engine on this machine offer. Everything is optional: a probe
/// that fails (no daemon, no buildx) leaves its part unknown, and the planner decides on what
/// it knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The client's version as it prints it, e.g. `28.2.2`.
    pub client: Option<String>,
    /// Client version, e.g. (28, 2).
    pub client_version: Option<(u32, u32)>,
    /// The buildx plugin's version (`0.29.1+ds1`), or `None` without buildx.
    pub buildx: Option<String>,
    /// The builder `docker buildx build` uses (buildx's current one, or `BUILDX_BUILDER`).
    pub builder: Option<BuildxBuilder>,
    /// `BUILDX_BUILDER` was set: plain `docker build` goes to that builder too. Without it,
    /// `docker build` uses the docker driver of the current context.
    pub buildx_builder_env: bool,
    /// The daemon, when it answered.
    pub daemon: Option<Daemon>,
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

/// Asks the client and the engine, all four questions at once. `buildx_builder_env` is whether
/// `BUILDX_BUILDER` is set (the probes inherit it, so `buildx inspect` already honours it).
pub fn probe(docker: &Path, buildx_builder_env: bool) -> Capabilities {
    let start = |args: &[&str]| probe_command(docker, args).spawn().ok();
    let version = start(&["--version"]);
    let buildx = start(&["buildx", "version"]);
    let inspect = start(&["buildx", "inspect"]);
    let info = start(&["info", "--format", INFO_FORMAT]);
    let text = |child: Option<Child>| {
        child
            .and_then(|c| c.wait_with_output().ok())
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let version = text(version);
    Capabilities {
        client: version.as_deref().map(client_version_text),
        client_version: version.as_deref().and_then(parse_version),
        buildx: text(buildx).as_deref().and_then(parse_buildx_version),
        builder: text(inspect).as_deref().and_then(parse_buildx_inspect),
        buildx_builder_env,
        daemon: text(info).as_deref().and_then(parse_info),
    }
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
    if version.is_empty() {
        return None;
    }
    Some(Daemon {
        version: version.to_string(),
        version_number: parse_version(version),
        store: store_of(status),
    })
}

/// The containerd image store reports `driver-type: io.containerd.snapshotter.v1` among its
/// driver status pairs; the classic graph drivers never do.
fn store_of(driver_status: &str) -> ImageStore {
    let pairs: Vec<Vec<String>> = serde_json::from_str(driver_status).unwrap_or_default();
    let containerd = pairs.iter().any(|pair| {
        pair.first().is_some_and(|k| k == "driver-type")
            && pair
                .get(1)
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

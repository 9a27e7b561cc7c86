//! The global scope `FROM` lines are expanded in: BuildKit's automatic platform ARGs, then the
//! `ARG`s before the first `FROM` with build args applied.

use super::*;
use std::fmt;

impl Platform {
    /// linux/amd64: what BuildKit uses when nothing says otherwise on the machines CI runs on.
    pub fn linux_amd64() -> Platform {
        Platform {
            os: "linux".into(),
            arch: "amd64".into(),
            variant: String::new(),
        }
    }

    /// `os/arch[/variant]`, normalised as containerd normalises it (`aarch64` is `arm64`, `arm`
    /// is `arm/v7`, `x86_64` is `amd64`); `None` for text of another shape.
    pub fn parse(text: &str) -> Option<Platform> {
        let parts: Vec<String> = text.split('/').map(str::to_ascii_lowercase).collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (os.clone(), arch.clone(), String::new()),
            [os, arch, variant] => (os.clone(), arch.clone(), variant.clone()),
            _ => return None,
        };
        if os.is_empty() || arch.is_empty() {
            return None;
        }
        let (arch, variant) = match (arch.as_str(), variant.as_str()) {
            ("x86_64" | "x86-64" | "amd64", "v1") => ("amd64", ""),
            ("x86_64" | "x86-64" | "amd64", v) => ("amd64", v),
            ("aarch64" | "arm64", "8" | "v8") => ("arm64", ""),
            ("aarch64" | "arm64", v) => ("arm64", v),
            ("armhf", _) => ("arm", "v7"),
            ("armel", _) => ("arm", "v6"),
            ("arm", "") => ("arm", "v7"),
            ("arm", v) if !v.starts_with('v') => ("arm", ""),
            ("i386", v) => ("386", v),
            (a, v) => (a, v),
        };
        let variant = match (arch, variant) {
            ("arm", v) if !v.starts_with('v') && !v.is_empty() => format!("v{v}"),
            (_, v) => v.to_string(),
        };
        Some(Platform {
            os,
            arch: arch.to_string(),
            variant,
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}

/// The automatic platform ARGs for one target platform, as BuildKit defines them before any
/// `ARG` (a build arg of the same name replaces one).
pub(super) fn platform_args(
    target: &Platform,
    build: &Platform,
    target_stage: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("BUILDPLATFORM", build.to_string()),
        ("BUILDOS", build.os.clone()),
        ("BUILDOSVERSION", String::new()),
        ("BUILDARCH", build.arch.clone()),
        ("BUILDVARIANT", build.variant.clone()),
        ("TARGETPLATFORM", target.to_string()),
        ("TARGETOS", target.os.clone()),
        ("TARGETOSVERSION", String::new()),
        ("TARGETARCH", target.arch.clone()),
        ("TARGETVARIANT", target.variant.clone()),
        ("TARGETSTAGE", target_stage.to_string()),
    ]
}

impl GraphInputs {
    /// The builder's platform.
    pub fn build_platform(&self) -> Platform {
        self.build_platform
            .clone()
            .unwrap_or_else(Platform::linux_amd64)
    }

    /// The platforms built: the given ones, or the builder's.
    pub fn target_platforms(&self) -> Vec<Platform> {
        if self.platforms.is_empty() {
            vec![self.build_platform()]
        } else {
            self.platforms.clone()
        }
    }

    pub(super) fn target_stage(&self) -> String {
        self.target
            .as_deref()
            .map_or_else(|| "default".to_string(), str::to_ascii_lowercase)
    }
}

impl Dockerfile {
    /// The global scope a `FROM` is expanded in, for build args whose values may be unknown
    /// (`None`: docker reads it from its environment), on `platform` (`None`: linux/amd64). A
    /// value that depends on an unknown one is unknown (`None`). Lint judges base images with it.
    pub fn global_scope(
        &self,
        build_args: &BTreeMap<String, Option<String>>,
        platform: Option<&Platform>,
    ) -> HashMap<String, Option<String>> {
        let target = platform.cloned().unwrap_or_else(Platform::linux_amd64);
        let mut scope: HashMap<String, Option<String>> = HashMap::new();
        for (name, value) in platform_args(&target, &Platform::linux_amd64(), "default") {
            let value = match build_args.get(name) {
                Some(given) => given.clone(),
                None => Some(value),
            };
            scope.insert(name.to_string(), value);
        }
        let options = expand::Options {
            escape: Some(self.escape),
            max_value: MAX_SUBSTITUTED_VALUE,
            max_depth: MAX_EXPANSION_DEPTH,
            ..expand::Options::BUILDKIT
        };
        for (name, default) in &self.global_args_written {
            let value = match (build_args.get(name), default) {
                (Some(given), _) => given.clone(),
                (None, Some(default)) => expand::expand(default, &scope, &options)
                    .ok()
                    .map(|e| e.text),
                // Declared without a default: the platform ARG keeps its value, others stay unset.
                (None, None) => continue,
            };
            scope.insert(name.clone(), value);
        }
        scope
    }
}

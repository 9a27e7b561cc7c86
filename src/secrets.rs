//! Secret values: which environment variables hold them, and masking them as `***` in every
//! line layercache prints (docker's output, errors, summaries, plans).
//!
//! Secrets never go into argv: a build arg that takes a secret is passed by name
//! (`--build-arg NPM_TOKEN`) and docker reads its value from the environment.

use std::io::Write;

/// Variables that CI systems and registries use for credentials: always treated as secret.
pub const BUILTIN: &[&str] = &[
    "CI_REGISTRY_PASSWORD",
    "CI_JOB_TOKEN",
    "CI_DEPLOY_PASSWORD",
    "CI_DEPENDENCY_PROXY_PASSWORD",
    "GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "DOCKER_PASSWORD",
    "DOCKERHUB_TOKEN",
    "REGISTRY_PASSWORD",
    "LAYERCACHE_REGISTRY_PASSWORD",
];

/// Values shorter than this are not masked: replacing every `1` or `ab` in a log would hide
/// far more than the secret. Documented in the README.
pub const MIN_MASKED_LEN: usize = 4;

/// Whether a variable name is secret: built in, or listed in the spec's `secrets:`.
pub fn is_secret(name: &str, listed: &[String]) -> bool {
    BUILTIN.contains(&name) || listed.iter().any(|n| n == name)
}

/// The secret values in force for a run.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    /// Reads the values of the built-in and the listed secret variables.
    pub fn from_env(listed: &[String], env: &dyn Fn(&str) -> Option<String>) -> Secrets {
        let mut values: Vec<String> = BUILTIN
            .iter()
            .map(|n| n.to_string())
            .chain(listed.iter().cloned())
            .filter_map(|n| env(&n))
            .filter(|v| v.len() >= MIN_MASKED_LEN)
            .collect();
        // Longest first, so a secret that contains another is masked whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Secrets { values }
    }

    /// The values, for CI systems that mask them in their own logs (GitHub's `::add-mask::`).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
    }
}

/// A writer that masks secrets line by line (a secret split across two writes is still
/// caught, since nothing is passed on before its line is complete).
pub struct MaskingWriter<W: Write> {
    inner: W,
    secrets: Secrets,
    pending: Vec<u8>,
}

impl<W: Write> MaskingWriter<W> {
    pub fn new(inner: W, secrets: Secrets) -> Self {
        MaskingWriter {
            inner,
            secrets,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(bytes);
        self.inner.write_all(self.secrets.mask(&text).as_bytes())
    }
}

impl<W: Write> Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(i) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=i).collect();
            self.emit(&line)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for MaskingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        let env = |k: &str| match k {
            "CI_REGISTRY_PASSWORD" => Some("hunter2-long".to_string()),
            "NPM_TOKEN" => Some("npm_abcdef".to_string()),
            "SHORT" => Some("ab".to_string()),
            _ => None,
        };
        Secrets::from_env(&["NPM_TOKEN".into(), "SHORT".into()], &env)
    }

    #[test]
    fn builtin_and_listed_values_are_masked() {
        let s = secrets();
        assert_eq!(
            s.mask("pw=hunter2-long token=npm_abcdef ab"),
            "pw=*** token=*** ab"
        );
    }

    #[test]
    fn writer_masks_secrets_split_across_writes() {
        let mut out = Vec::new();
        {
            let mut w = MaskingWriter::new(&mut out, secrets());
            w.write_all(b"login with hunt").unwrap();
            w.write_all(b"er2-long done\nnext npm_").unwrap();
            w.write_all(b"abcdef").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "login with *** done\nnext ***"
        );
    }

    #[test]
    fn names_are_secret_when_built_in_or_listed() {
        assert!(is_secret("CI_REGISTRY_PASSWORD", &[]));
        assert!(is_secret("NPM_TOKEN", &["NPM_TOKEN".into()]));
        assert!(!is_secret("HOME", &[]));
    }
}

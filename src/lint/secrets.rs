//! LC008: secrets in ARG or ENV.

use super::*;

/// LC008 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const SECRET_IN_ARG_OR_ENV: RuleInfo = RuleInfo {
    name: "SecretInArgOrEnv",
    summary: "A secret-looking name in an ARG or ENV.",
    description: "An `ARG` or `ENV` has a secret-looking name (`*PASSWORD*`, `*TOKEN`, \
                  `*SECRET*`, `*_KEY`, `*API_KEY*`, ...). Its value ends up in the image history \
                  and in the cache keys, where anyone who can pull the image or its cache can \
                  read it.",
    help: "Pass the secret as a BuildKit secret: `RUN --mount=type=secret,id=<id> ...`, with \
           `docker build --secret id=<id>,...`.",
};

pub(super) fn secret_in_arg_or_env(stage: &Stage, findings: &mut Vec<Finding>) {
    for ins in &stage.instructions {
        let names: Vec<String> = match ins.keyword.as_str() {
            "ARG" => arg_declarations(&ins.args)
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
            "ENV" => env_names(&ins.args),
            _ => continue,
        };
        for name in names.iter().filter(|n| is_secret_name(n)) {
            let id = name.to_ascii_lowercase();
            findings.push(Finding {
                rule: Rule::SecretInArgOrEnv,
                line: ins.line,
                message: format!(
                    "{} {name} looks like a secret: ARG and ENV values are kept in the image \
                     history (`docker history`) and in the build cache keys",
                    ins.keyword
                ),
                fix: format!(
                    "use a BuildKit secret instead: `RUN --mount=type=secret,id={id} ...` reads it \
                     from /run/secrets/{id}; pass it with `docker build --secret id={id},env={name}`"
                ),
            });
        }
    }
}

/// `ENV A=1 B=2` or the old `ENV A 1`.
pub(super) fn env_names(args: &str) -> Vec<String> {
    let words = words(args);
    match words.first() {
        Some(first) if !first.contains('=') => vec![first.clone()],
        _ => words
            .iter()
            .filter_map(|w| w.split_once('=').map(|(n, _)| n.to_string()))
            .collect(),
    }
}

/// Names that hold credentials, matched by `_`-separated word so `TOKENIZERS_PARALLELISM` is not
/// a token. `GPG_KEY`-style and `*PUBLIC*` names are left alone: official images set `GPG_KEY`
/// to a public key fingerprint.
pub(super) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').collect();
    if words
        .iter()
        .any(|w| *w == "PUBLIC" || w.starts_with("GPG") || w.starts_with("PGP"))
    {
        return false;
    }
    // `*_FILE` and `*_PATH` hold where a secret is (`POSTGRES_PASSWORD_FILE`), not the secret.
    if words
        .last()
        .is_some_and(|w| matches!(*w, "FILE" | "PATH" | "DIR" | "FILES" | "PATHS"))
    {
        return false;
    }
    words.iter().enumerate().any(|(i, w)| {
        w.contains("PASSWORD")
            || w.contains("PASSWD")
            || *w == "PASS"
            || *w == "PASSPHRASE"
            || w.contains("SECRET")
            || w.ends_with("TOKEN")
            || *w == "TOKENS"
            || w.ends_with("APIKEY")
            || (i > 0 && (*w == "KEY" || *w == "KEYS"))
    })
}

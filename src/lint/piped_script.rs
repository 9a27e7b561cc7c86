//! LC009: a script downloaded and run in one go (`curl ... | sh`).

use super::*;

/// LC009 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const PIPED_SCRIPT: RuleInfo = RuleInfo {
    name: "PipedScript",
    summary: "A script downloaded from an unversioned URL is piped into a shell.",
    description: "`RUN curl <url> | sh` (or `wget`, into `bash`, `python`, ...) runs a script \
                  whose URL names no version or commit. The layer is cached by the `RUN` text, \
                  not by what the server returns, so a cached build and a fresh one can install \
                  different things.",
    help: "Download it pinned: `ADD --checksum=sha256:<digest> <url> /tmp/install.sh`, then `RUN \
           sh /tmp/install.sh`; or use a URL that names a version.",
};

pub(super) fn piped_script(stage: &Stage, findings: &mut Vec<Finding>) {
    for ins in stage.instructions.iter().filter(|i| i.keyword == "RUN") {
        for url in piped_urls(&run_script(ins)) {
            findings.push(Finding {
                rule: Rule::PipedScript,
                line: ins.line,
                message: format!(
                    "`{url}` is downloaded and piped into a shell: the layer is cached by the RUN \
                     text, not by what the server returns, so a warm runner keeps the result of an \
                     old script while a cold one runs the new one, and nothing pins either"
                ),
                fix: "download a pinned version, check it and run it: `ADD --checksum=sha256:<digest> \
                      <url> /tmp/install.sh` then `RUN sh /tmp/install.sh`, or a versioned URL"
                    .to_string(),
            });
        }
    }
}

/// The URLs that a `curl`/`wget` fetches and pipes into an interpreter, in a shell script.
/// Pinned URLs (a version or a commit in the path) are left alone.
fn piped_urls(script: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for pipeline in pipelines(script) {
        let Some((fetch, rest)) = pipeline.split_first() else {
            continue;
        };
        let fetch = command_words(fetch);
        let is_fetch = fetch
            .first()
            .is_some_and(|p| matches!(p.rsplit('/').next(), Some("curl" | "wget")));
        let runs = rest.iter().any(|words| {
            command_words(words).first().is_some_and(|p| {
                matches!(
                    p.rsplit('/').next(),
                    Some(
                        "sh" | "bash"
                            | "ash"
                            | "dash"
                            | "zsh"
                            | "python"
                            | "python3"
                            | "perl"
                            | "ruby"
                    )
                )
            })
        });
        if !(is_fetch && runs) {
            continue;
        }
        urls.extend(
            fetch
                .iter()
                .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
                .filter(|url| !is_pinned_url(url))
                .cloned(),
        );
    }
    urls
}

/// The pipelines of a script: each a list of simple commands joined by `|` (not `||`).
fn pipelines(script: &str) -> Vec<Vec<Vec<String>>> {
    let mut out = Vec::new();
    // Split at the separators that end a pipeline, outside quotes, then at single `|`.
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = script.chars().peekable();
    let mut pieces: Vec<String> = Vec::new();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == ';' || c == '\n' || c == '(' || c == ')' => {
                pieces.push(std::mem::take(&mut current));
                continue;
            }
            None if (c == '&' || c == '|') && chars.peek() == Some(&c) => {
                chars.next();
                pieces.push(std::mem::take(&mut current));
                continue;
            }
            None if c == '&' => {
                pieces.push(std::mem::take(&mut current));
                continue;
            }
            None => {}
        }
        current.push(c);
    }
    pieces.push(current);
    for piece in pieces {
        let commands: Vec<Vec<String>> = split_pipes(&piece)
            .iter()
            .map(|part| words(part))
            .filter(|w| !w.is_empty())
            .collect();
        if commands.len() > 1 {
            out.push(commands);
        }
    }
    out
}

/// `a | b` into `a` and `b`, outside quotes.
fn split_pipes(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '|' => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// A URL whose path names a version (`/v0.39.7/`, `-1.2.3.sh`) or a commit (40 hex digits).
fn is_pinned_url(url: &str) -> bool {
    let path = url.splitn(4, '/').nth(3).unwrap_or_default();
    // A variable in the path is a version set by an ARG (`/${TOOL_VERSION}/install.sh`).
    if path.contains('$') {
        return true;
    }
    path.split(['/', '-', '_', '=', '?', '&']).any(|segment| {
        let digits = segment.trim_start_matches('v');
        let version = digits.split('.').count() >= 2
            && digits.split('.').next().is_some_and(|major| {
                !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit())
            });
        let commit = segment.len() >= 40 && segment.bytes().all(|b| b.is_ascii_hexdigit());
        version || commit
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piped_scripts() {
        assert_eq!(
            piped_urls("apt-get update && curl -fsSL https://sh.rustup.rs | sh -s -- -y"),
            vec!["https://sh.rustup.rs".to_string()]
        );
        assert_eq!(
            piped_urls("wget -qO- https://get.example.com | sudo bash"),
            vec!["https://get.example.com".to_string()]
        );
        for fine in [
            "curl -fsSL https://raw.githubusercontent.com/nvm-sh/nvm/v0.39.7/install.sh | bash",
            "curl -sSfL https://raw.githubusercontent.com/x/y/${Y_VERSION}/install.sh | sh -s",
            "curl -fsSL https://example.com/key.gpg | gpg --dearmor -o /k.gpg",
            "curl -fsSL https://example.com/x.tgz | tar xz",
            "curl -o /i.sh https://example.com/i.sh && echo 'abc  /i.sh' | sha256sum -c -",
            "echo 'curl https://x | sh'",
            "curl https://x || sh -c 'echo failed'",
        ] {
            assert!(piped_urls(fine).is_empty(), "{fine}");
        }
    }
}

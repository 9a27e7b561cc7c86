//! Docker image references (`[domain/]path[:tag][@digest]`) and tags, checked against the grammar
//! that `docker` itself enforces (distribution/reference as reached through
//! `ParseNormalizedNamed`, plus go-digest's checks on digests).
//!
//! The point is to reject a bad name while reading the spec, with the column and a hint, instead of
//! after minutes of building when `docker push` refuses it.
//!
//! Deliberately not done here: normalization. `busybox` stays `busybox` (docker would say
//! `docker.io/library/busybox`), so that `Display` gives back what the user wrote and plans show
//! familiar names. Only the length limit looks at the expanded form, because that is what docker
//! measures. Nothing here talks to a registry.
//!
//! The parser is hand-written rather than a regex so that every rejection can name the offending
//! character and its column. It never panics: all slicing happens at ASCII separators found in
//! the input, and columns are counted in characters, so non-ASCII input is safe.

use std::fmt;
use std::str::FromStr;

/// distribution's `NameTotalLengthMax`, measured on the expanded name.
const NAME_MAX: usize = 255;
/// A tag is one leading character plus at most 127 more.
const TAG_MAX: usize = 128;
/// Where docker sends a reference without a domain.
const DEFAULT_REGISTRY: &str = "docker.io";
/// The Docker Hub alias that docker rewrites to `docker.io`.
const LEGACY_REGISTRY: &str = "index.docker.io";
/// Docker Hub's namespace for single-component names (`app` -> `library/app`).
const OFFICIAL_PREFIX: &str = "library/";
/// What `slug_tag` returns when nothing usable is left of its input.
const FALLBACK_TAG: &str = "default";

const SEPARATOR_HINT: &str =
    "path components are lowercase letters and digits, joined by one `.`, one or two `_`, or dashes";
const TAG_CHARS_HINT: &str = "tags use letters, digits, `_`, `.` and `-` (at most 128 characters)";
const DIGEST_HINT: &str = "a digest looks like `sha256:` followed by 64 lowercase hex digits";
const HOST_HINT: &str =
    "a registry host is DNS labels (letters, digits, inner `-`) joined by `.`, \
     or an IPv6 address in brackets, optionally followed by `:port`";

/// A parsed image reference, kept as written (not normalized).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host with optional port, e.g. `ghcr.io` or `localhost:5000`; `None` means Docker Hub.
    pub domain: Option<String>,
    /// Repository path below the registry, e.g. `team/app`.
    pub path: String,
    pub tag: Option<String>,
    /// `algorithm:hex`, e.g. `sha256:…`.
    pub digest: Option<String>,
}

impl Reference {
    /// "domain/path" (no tag, no digest): the repository.
    pub fn repository(&self) -> String {
        match &self.domain {
            Some(domain) => format!("{domain}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// The same repository with another tag (digest dropped).
    ///
    /// The tag is taken as given: pass one checked by [`validate_tag`] or made by [`slug_tag`],
    /// otherwise the result will not survive a round trip through `Display` and [`parse`].
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: Some(tag.to_string()),
            digest: None,
        }
    }

    /// The registry host a push/pull talks to: the domain, or "docker.io" when none.
    pub fn registry(&self) -> &str {
        self.domain.as_deref().unwrap_or(DEFAULT_REGISTRY)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Why an input is not a valid reference or tag, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    /// The whole string that was checked.
    pub input: String,
    /// 1-based position (in characters) of the offending character in `input`; for something
    /// missing at the end, one past the last character.
    pub column: usize,
    pub message: String,
    /// What to do about it; may be empty.
    pub hint: String,
}

impl ReferenceError {
    /// The message without the hint. The input is escaped so that a stray newline or tab is
    /// visible, not reproduced.
    pub fn headline(&self) -> String {
        format!(
            "invalid image reference `{}`: {}",
            self.input.escape_debug(),
            self.message
        )
    }
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for ReferenceError {}

/// Parses `name[:tag][@digest]`.
pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
    parse_reference(s).map_err(|fault| fault.locate(s))
}

/// A repository without tag or digest (e.g. the `image:` of a spec). A tag or digest present is an
/// error with a hint ("put tags under `tags:`").
pub fn parse_repository(s: &str) -> Result<Reference, ReferenceError> {
    parse_bare_repository(s).map_err(|fault| fault.locate(s))
}

/// Checks a tag on its own (the part after `:`).
pub fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    check_standalone_tag(tag).map_err(|fault| fault.locate(tag))
}

/// Make a valid tag from any string (e.g. a git branch name `feature/Foo_bar` -> `feature-foo_bar`):
/// lowercase, characters outside [a-z0-9_.-] become '-', leading '.'/'-' stripped, runs of '-'
/// collapsed, cut to at most `max_len` chars (itself capped to 1..=128) without a trailing '-';
/// never empty (fallback "default", cut to `max_len` too).
pub fn slug_tag(s: &str, max_len: usize) -> String {
    let max_len = max_len.clamp(1, TAG_MAX);
    let mut out = String::new();
    for ch in s.chars() {
        if out.len() >= max_len {
            break;
        }
        let mapped = slug_char(ch);
        // A tag may not start with '.' or '-'; dropping them keeps `.hidden` readable as `hidden`.
        let leading_bad = out.is_empty() && matches!(mapped, '.' | '-');
        let repeated_dash = mapped == '-' && out.ends_with('-');
        if !leading_bad && !repeated_dash {
            out.push(mapped);
        }
    }
    // Legal, but a trailing dash is always an artifact of the cut or of a trailing symbol.
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        FALLBACK_TAG.chars().take(max_len).collect()
    } else {
        out
    }
}

/// One character of a slug: ASCII only, so that the result is a tag on every registry.
fn slug_char(ch: char) -> char {
    match ch {
        'a'..='z' | '0'..='9' | '_' | '.' => ch,
        'A'..='Z' => ch.to_ascii_lowercase(),
        _ => '-',
    }
}

/// A problem found in a part of the input, before it is placed in the whole input.
///
/// `at` is a byte offset; it is shifted as parts are put back together and only turned into a
/// character column at the end, so that the checks can work on plain `&str` slices.
#[derive(Debug)]
struct Fault {
    at: usize,
    message: String,
    hint: String,
    /// Whether the message is about one character, so the column is worth saying in it.
    pointed: bool,
}

impl Fault {
    /// A problem with the part as a whole (its column is where the part starts).
    fn new(at: usize, message: impl Into<String>, hint: impl Into<String>) -> Fault {
        Fault {
            at,
            message: message.into(),
            hint: hint.into(),
            pointed: false,
        }
    }

    /// A problem with the one character at `at`.
    fn pointed(at: usize, message: impl Into<String>, hint: impl Into<String>) -> Fault {
        Fault {
            pointed: true,
            ..Fault::new(at, message, hint)
        }
    }

    /// Moves the position from a part to the enclosing string, where the part starts at `by`.
    fn shift(mut self, by: usize) -> Fault {
        self.at = self.at.saturating_add(by);
        self
    }

    fn locate(self, input: &str) -> ReferenceError {
        // `get` refuses offsets that are out of range or inside a character, instead of panicking.
        let before = input.get(..self.at).unwrap_or(input);
        let column = before.chars().count() + 1;
        let message = if self.pointed {
            format!("{} at column {column}", self.message)
        } else {
            self.message
        };
        ReferenceError {
            input: input.to_string(),
            column,
            message,
            hint: self.hint,
        }
    }
}

/// `ch` as it appears in a message: escaped, so control characters are visible.
fn show(ch: char) -> String {
    format!("`{}`", ch.escape_debug())
}

/// The parts of a reference as written, each with the byte offset where its text starts.
struct Parts<'a> {
    name: &'a str,
    tag: Option<(usize, &'a str)>,
    digest: Option<(usize, &'a str)>,
}

/// Splits at the first `@` (neither name nor tag may hold one) and then at the first `:` after the
/// last `/`, since a `:` before it belongs to a registry port (`localhost:5000/app`).
///
/// Splitting at the first rather than the last `:` makes `app:sha256:…` come out as a tag that
/// looks like a digest, which gets a precise message instead of "bad character `:`".
fn split(input: &str) -> Parts<'_> {
    let (before_digest, digest) = match input.split_once('@') {
        Some((before, digest)) => (before, Some((before.len() + 1, digest))),
        None => (input, None),
    };
    let last_slash_end = before_digest.rfind('/').map_or(0, |i| i + 1);
    let after_slash = before_digest.get(last_slash_end..).unwrap_or("");
    let (name, tag) = match after_slash.split_once(':') {
        Some((last, tag)) => {
            let colon = last_slash_end + last.len();
            (
                before_digest.get(..colon).unwrap_or(before_digest),
                Some((colon + 1, tag)),
            )
        }
        None => (before_digest, None),
    };
    Parts { name, tag, digest }
}

fn parse_reference(s: &str) -> Result<Reference, Fault> {
    check_whole(s)?;
    let parts = split(s);
    let (domain, path) = check_name(parts.name)?;
    let tag = match parts.tag {
        Some((start, tag)) => Some(check_tag_after_colon(start, tag)?),
        None => None,
    };
    let digest = match parts.digest {
        Some((start, digest)) => Some(check_digest_after_at(start, digest)?),
        None => None,
    };
    Ok(Reference {
        domain,
        path,
        tag,
        digest,
    })
}

fn parse_bare_repository(s: &str) -> Result<Reference, Fault> {
    check_whole(s)?;
    let parts = split(s);
    // The name is checked first: a misspelt repository is the more useful thing to hear about.
    let (domain, path) = check_name(parts.name)?;
    if let Some((start, tag)) = parts.tag {
        return Err(unexpected_tag(parts.name, start, tag));
    }
    if let Some((start, digest)) = parts.digest {
        return Err(Fault::new(
            start.saturating_sub(1),
            format!("a repository is expected here, without the digest `@{digest}`"),
            "builds are pushed by tag: remove the `@…` part and put tags under `tags:`",
        ));
    }
    Ok(Reference {
        domain,
        path,
        tag: None,
        digest: None,
    })
}

fn unexpected_tag(name: &str, start: usize, tag: &str) -> Fault {
    let mut hint = "the repository is written without a tag: put tags under `tags:`".to_string();
    // `registry.example.com:5000` alone reads to docker as image `registry.example.com`, tag `5000`.
    if !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_digit()) {
        hint.push_str(&format!(
            "; if `{tag}` is a registry port, add the repository after it: `{name}:{tag}/app`"
        ));
    }
    Fault::new(
        start.saturating_sub(1),
        format!("a repository is expected here, without the tag `:{tag}`"),
        hint,
    )
}

/// Checks that apply to the whole string before it is split.
fn check_whole(s: &str) -> Result<(), Fault> {
    if s.is_empty() {
        return Err(Fault::new(
            0,
            "empty image reference",
            "give a repository such as `myorg/app`",
        ));
    }
    check_no_whitespace(s)?;
    // docker refuses these as names because they would be mistaken for image IDs.
    if s.len() == 64 && s.bytes().all(is_lower_hex) {
        return Err(Fault::new(
            0,
            "a 64-character hex string is an image ID, not a repository name",
            "use a repository name such as `myorg/app`; to pin content, write `app@sha256:<hex>`",
        ));
    }
    Ok(())
}

fn check_no_whitespace(s: &str) -> Result<(), Fault> {
    match s.char_indices().find(|(_, ch)| ch.is_whitespace()) {
        Some((at, ch)) => Err(Fault::pointed(
            at,
            whitespace_name(ch),
            "image references are one word: check the quoting of the value or the variable that \
             built it (a trailing newline from `$(cat …)`?)",
        )),
        None => Ok(()),
    }
}

fn whitespace_name(ch: char) -> String {
    match ch {
        ' ' => "a space".to_string(),
        '\t' => "a tab".to_string(),
        '\n' => "a newline".to_string(),
        '\r' => "a carriage return".to_string(),
        _ => format!("whitespace ({})", ch.escape_unicode()),
    }
}

/// Checks `[domain "/"] path` and returns its two halves. Offsets are relative to the name, which
/// starts the input.
fn check_name(name: &str) -> Result<(Option<String>, String), Fault> {
    if name.is_empty() {
        return Err(Fault::new(
            0,
            "missing repository name",
            "a reference starts with the repository, e.g. `app:1.0` or `app@sha256:…`",
        ));
    }
    if let Some(at) = name.find("//") {
        return Err(Fault::pointed(
            at + 1,
            "double slash `//` in repository name",
            "remove the extra `/`",
        ));
    }
    let (domain, path, path_start) = match name.split_once('/') {
        Some((first, rest)) if looks_like_domain(first) => (Some(first), rest, first.len() + 1),
        _ => (None, name, 0),
    };
    if let Some(domain) = domain {
        check_domain(domain)?;
    }
    if path.is_empty() {
        return Err(Fault::pointed(
            path_start.saturating_sub(1),
            "missing repository path after the registry",
            "write the repository after the registry, e.g. `ghcr.io/owner/app`",
        ));
    }
    check_path(path, domain).map_err(|fault| fault.shift(path_start))?;
    check_length(name, domain, path)?;
    Ok((domain.map(str::to_string), path.to_string()))
}

/// docker's rule (`splitDockerDomain`) for whether the first component names a registry.
///
/// An uppercase first component counts as a registry because repository paths cannot hold
/// uppercase; this is how docker reads `MyOrg/app`, so we agree with it rather than guess.
fn looks_like_domain(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.chars().any(char::is_uppercase)
}

/// host [":" port], host being DNS labels or a bracketed IPv6 address.
fn check_domain(domain: &str) -> Result<(), Fault> {
    let (host_end, port) = if domain.starts_with('[') {
        split_ipv6(domain)?
    } else {
        match domain.split_once(':') {
            Some((host, port)) => {
                check_dns_host(host)?;
                (host.len(), Some(port))
            }
            None => {
                check_dns_host(domain)?;
                (domain.len(), None)
            }
        }
    };
    match port {
        Some(port) => check_port(port).map_err(|fault| fault.shift(host_end + 1)),
        None => Ok(()),
    }
}

/// Checks `[hex:…]` and returns where it ends and the port text after it, if any.
fn split_ipv6(domain: &str) -> Result<(usize, Option<&str>), Fault> {
    let Some(close) = domain.find(']') else {
        return Err(Fault::pointed(
            0,
            "unclosed `[` in IPv6 registry address",
            HOST_HINT,
        ));
    };
    let body = domain.get(1..close).unwrap_or("");
    if body.is_empty() {
        return Err(Fault::pointed(
            close,
            "empty IPv6 registry address `[]`",
            HOST_HINT,
        ));
    }
    if let Some((i, ch)) = body
        .char_indices()
        .find(|(_, ch)| !(ch.is_ascii_hexdigit() || *ch == ':'))
    {
        let message = format!(
            "character {} is not allowed in an IPv6 registry address",
            show(ch)
        );
        return Err(Fault::pointed(
            1 + i,
            message,
            "IPv6 addresses are hex digits and `:` (no zone)",
        ));
    }
    let rest = domain.get(close + 1..).unwrap_or("");
    match rest.strip_prefix(':') {
        Some(port) => Ok((close + 1, Some(port))),
        None => match rest.chars().next() {
            Some(ch) => Err(Fault::pointed(
                close + 1,
                format!("character {} after the IPv6 registry address", show(ch)),
                HOST_HINT,
            )),
            None => Ok((close + 1, None)),
        },
    }
}

fn check_dns_host(host: &str) -> Result<(), Fault> {
    let mut start = 0;
    for label in host.split('.') {
        check_dns_label(label, start)?;
        start += label.len() + 1;
    }
    Ok(())
}

/// One label of a host name: `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`; `start` is its offset.
fn check_dns_label(label: &str, start: usize) -> Result<(), Fault> {
    if label.is_empty() {
        // Points at the dot that ends (or the one that should not start) an empty label.
        return Err(Fault::pointed(
            start.saturating_sub(1),
            "empty label in registry host",
            HOST_HINT,
        ));
    }
    if let Some((i, ch)) = label
        .char_indices()
        .find(|(_, ch)| !(ch.is_ascii_alphanumeric() || *ch == '-'))
    {
        let message = format!("character {} is not allowed in a registry host", show(ch));
        return Err(Fault::pointed(start + i, message, HOST_HINT));
    }
    if label.starts_with('-') {
        return Err(Fault::pointed(
            start,
            "registry host label starts with `-`",
            HOST_HINT,
        ));
    }
    if label.ends_with('-') {
        return Err(Fault::pointed(
            start + label.len() - 1,
            "registry host label ends with `-`",
            HOST_HINT,
        ));
    }
    Ok(())
}

fn check_port(port: &str) -> Result<(), Fault> {
    if port.is_empty() {
        return Err(Fault::new(
            0,
            "empty port after `:` in registry",
            "write the port number, e.g. `localhost:5000/app`",
        ));
    }
    match port.char_indices().find(|(_, ch)| !ch.is_ascii_digit()) {
        Some((i, ch)) => Err(Fault::pointed(
            i,
            format!("character {} in registry port", show(ch)),
            "a port is digits only, e.g. `localhost:5000/app`",
        )),
        None => Ok(()),
    }
}

/// path-component ("/" path-component)*, lowercase only. `domain` is only used in the hint.
///
/// Characters are checked over the whole path before the structure, so the user first hears about
/// the character that can never work, then about case, then about how separators are placed.
fn check_path(path: &str, domain: Option<&str>) -> Result<(), Fault> {
    let allowed = |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-' | '/');
    if let Some((at, ch)) = path.char_indices().find(|(_, ch)| !allowed(*ch)) {
        let message = format!("character {} is not allowed in a repository name", show(ch));
        return Err(Fault::pointed(at, message, SEPARATOR_HINT));
    }
    if let Some((at, ch)) = path.char_indices().find(|(_, ch)| ch.is_ascii_uppercase()) {
        let lower = path.to_ascii_lowercase();
        let suggestion = match domain {
            Some(domain) => format!("{domain}/{lower}"),
            None => lower,
        };
        return Err(Fault::pointed(
            at,
            format!("uppercase letter {} in repository name", show(ch)),
            format!("repository names must be lowercase: use `{suggestion}`"),
        ));
    }
    let mut start = 0;
    for component in path.split('/') {
        check_component(component, start)?;
        start += component.len() + 1;
    }
    Ok(())
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*` with separator `.`, `_`, `__` or `-+`; `start` is its
/// offset. Characters are already known to be `[a-z0-9._-]`.
fn check_component(component: &str, start: usize) -> Result<(), Fault> {
    let bytes = component.as_bytes();
    let Some(&first) = bytes.first() else {
        // Only a leading or trailing `/` gets here: `//` and `registry/` were caught earlier.
        let message = if start == 0 {
            "repository name starts with `/`"
        } else {
            "repository name ends with `/`"
        };
        return Err(Fault::pointed(
            start.saturating_sub(1),
            message,
            "remove the extra `/`",
        ));
    };
    if !first.is_ascii_alphanumeric() {
        let message = format!(
            "path component `{component}` starts with `{}`",
            first as char
        );
        return Err(Fault::pointed(start, message, SEPARATOR_HINT));
    }
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let run_end = bytes[i..]
            .iter()
            .position(u8::is_ascii_alphanumeric)
            .map_or(bytes.len(), |n| i + n);
        check_separator(component, i, run_end).map_err(|fault| fault.shift(start))?;
        i = run_end;
    }
    Ok(())
}

/// The separator run `component[from..to]`: allowed in the middle only, and only in docker's forms.
fn check_separator(component: &str, from: usize, to: usize) -> Result<(), Fault> {
    let run = component.get(from..to).unwrap_or("");
    if to == component.len() {
        let message = format!("path component `{component}` ends with `{run}`");
        return Err(Fault::pointed(from, message, SEPARATOR_HINT));
    }
    let valid = matches!(run, "." | "_" | "__") || run.bytes().all(|b| b == b'-');
    if valid {
        Ok(())
    } else {
        let message = format!("`{run}` is not a valid separator in path component `{component}`");
        Err(Fault::pointed(from, message, SEPARATOR_HINT))
    }
}

/// docker measures the name after expanding it (`app` -> `docker.io/library/app`), so a name that
/// fits as written can still be refused by `docker push`; we refuse it here instead.
fn check_length(name: &str, domain: Option<&str>, path: &str) -> Result<(), Fault> {
    let expanded = expanded_name(domain, path);
    if expanded.len() <= NAME_MAX {
        return Ok(());
    }
    let len = expanded.len();
    let message = if expanded == name {
        format!("repository name is {len} characters long ({len} > {NAME_MAX})")
    } else {
        format!("repository name is {len} characters long as docker expands it to `{expanded}` ({len} > {NAME_MAX})")
    };
    // Points at the first character that does not fit, counted in the expanded form.
    let at = name.len().saturating_sub(len - NAME_MAX);
    Err(Fault::new(at, message, "shorten the repository path"))
}

/// The canonical name docker checks the length of (see `splitDockerDomain`).
fn expanded_name(domain: Option<&str>, path: &str) -> String {
    match domain {
        None | Some(DEFAULT_REGISTRY) | Some(LEGACY_REGISTRY) => {
            let library = if path.contains('/') {
                ""
            } else {
                OFFICIAL_PREFIX
            };
            format!("{DEFAULT_REGISTRY}/{library}{path}")
        }
        Some(domain) => format!("{domain}/{path}"),
    }
}

/// The tag of a reference, starting at byte `start` of the input (just after the `:`).
fn check_tag_after_colon(start: usize, tag: &str) -> Result<String, Fault> {
    if tag.is_empty() {
        return Err(Fault::pointed(
            start.saturating_sub(1),
            "empty tag after `:`",
            "write a tag after the colon (e.g. `app:1.0`) or drop the colon",
        ));
    }
    check_tag(tag).map_err(|fault| fault.shift(start))?;
    Ok(tag.to_string())
}

fn check_standalone_tag(tag: &str) -> Result<(), Fault> {
    if tag.is_empty() {
        return Err(Fault::new(0, "empty tag", TAG_CHARS_HINT));
    }
    check_no_whitespace(tag)?;
    check_tag(tag)
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, for a non-empty tag.
fn check_tag(tag: &str) -> Result<(), Fault> {
    // A pasted digest is the likeliest reason for a `:` here; say so instead of "bad character".
    if tag
        .split_once(':')
        .is_some_and(|(algorithm, _)| is_algorithm(algorithm))
    {
        return Err(Fault::new(
            0,
            "a digest is not a tag",
            "pin a digest with `@` after the repository (`app@sha256:…`), or use a tag such as `v1.2`",
        ));
    }
    if let Some(first @ ('.' | '-')) = tag.chars().next() {
        return Err(Fault::pointed(
            0,
            format!("tag starts with `{first}`"),
            "tags start with a letter, a digit or `_`",
        ));
    }
    let allowed = |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-');
    if let Some((at, ch)) = tag.char_indices().find(|(_, ch)| !allowed(*ch)) {
        let message = format!("character {} is not allowed in a tag", show(ch));
        return Err(Fault::pointed(at, message, TAG_CHARS_HINT));
    }
    // All ASCII from here on, so bytes are characters.
    if tag.len() > TAG_MAX {
        let len = tag.len();
        return Err(Fault::new(
            TAG_MAX,
            format!("tag is {len} characters long ({len} > {TAG_MAX})"),
            "shorten the tag to at most 128 characters",
        ));
    }
    Ok(())
}

/// The digest of a reference, starting at byte `start` of the input (just after the `@`).
fn check_digest_after_at(start: usize, digest: &str) -> Result<String, Fault> {
    if digest.is_empty() {
        return Err(Fault::pointed(
            start.saturating_sub(1),
            "empty digest after `@`",
            DIGEST_HINT,
        ));
    }
    check_digest(digest).map_err(|fault| fault.shift(start))?;
    Ok(digest.to_string())
}

/// algorithm ":" hex, where docker (through go-digest) only accepts the SHA-2 family with their
/// exact lowercase hex lengths, although the reference grammar alone would allow more.
fn check_digest(digest: &str) -> Result<(), Fault> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(Fault::new(
            0,
            format!("digest `{digest}` is not `algorithm:hex`"),
            DIGEST_HINT,
        ));
    };
    if !is_algorithm(algorithm) {
        return Err(Fault::new(
            0,
            format!("`{algorithm}` is not a digest algorithm"),
            DIGEST_HINT,
        ));
    }
    let expected = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(Fault::new(
                0,
                format!("unsupported digest algorithm `{algorithm}`"),
                "docker accepts sha256, sha384 and sha512 digests",
            ))
        }
    };
    let hex_start = algorithm.len() + 1;
    check_hex(hex).map_err(|fault| fault.shift(hex_start))?;
    if hex.len() != expected {
        return Err(Fault::new(
            hex_start,
            format!(
                "{algorithm} digest has {} hex digits, expected {expected}",
                hex.len()
            ),
            DIGEST_HINT,
        ));
    }
    Ok(())
}

fn check_hex(hex: &str) -> Result<(), Fault> {
    match hex
        .char_indices()
        .find(|(_, ch)| !ch.is_ascii() || !is_lower_hex(*ch as u8))
    {
        Some((at, ch)) if ch.is_ascii_hexdigit() => Err(Fault::pointed(
            at,
            format!("uppercase hex digit {} in digest", show(ch)),
            "digests are written in lowercase hex",
        )),
        Some((at, ch)) => Err(Fault::pointed(
            at,
            format!("character {} is not a hex digit", show(ch)),
            DIGEST_HINT,
        )),
        None => Ok(()),
    }
}

fn is_lower_hex(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'a'..=b'f')
}

/// `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*`, the algorithm part of a digest.
fn is_algorithm(s: &str) -> bool {
    s.split(['-', '_', '+', '.']).all(|part| {
        part.starts_with(|ch: char| ch.is_ascii_alphabetic())
            && part.chars().all(|ch| ch.is_ascii_alphanumeric())
    })
}

/// Whether a registry host (`host[:port]`) is this machine: docker talks plain HTTP to such a
/// registry, and a CI runner has none there.
pub fn is_loopback_registry(registry: &str) -> bool {
    let name = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.rsplit_once(':').map_or(registry, |(name, _)| name),
    };
    name == "localhost" || name.starts_with("127.") || name == "::1"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex64() -> String {
        "0123456789abcdef".repeat(4)
    }

    fn valid_inputs() -> Vec<String> {
        let sha = hex64();
        vec![
            "busybox".into(),
            "python:3.9.7".into(),
            "localhost:5000/a/b:c".into(),
            "127.0.0.1:5000/x".into(),
            format!("registry.example.com:443/team/app@sha256:{sha}"),
            "ghcr.io/owner/repo:v1.2".into(),
            "a__b/c--d.e".into(),
            "localhost".into(),
            "localhost:5000".into(),
            "localhost/app".into(),
            "example.com".into(),
            "[::1]:5000/app".into(),
            "[fe80::1]/app:_x".into(),
            "Registry.Example.COM/team/app".into(),
            format!("app:v1@sha256:{sha}"),
            format!("app@sha512:{}", "ab".repeat(64)),
            format!("app@sha384:{}", "cd".repeat(48)),
            format!("app:{}", "T".repeat(128)),
            "a/b/c/d".into(),
            "a-----b.c_d".into(),
        ]
    }

    fn err(input: &str) -> ReferenceError {
        match parse(input) {
            Ok(r) => panic!("{input:?} parsed as {r:?}"),
            Err(e) => e,
        }
    }

    fn tag_err(tag: &str) -> ReferenceError {
        match validate_tag(tag) {
            Ok(()) => panic!("{tag:?} accepted as a tag"),
            Err(e) => e,
        }
    }

    #[test]
    fn valid_references_parse() {
        for input in valid_inputs() {
            if let Err(e) = parse(&input) {
                panic!("{input:?} rejected: {e}");
            }
        }
    }

    #[test]
    fn valid_references_round_trip_through_display() {
        for input in valid_inputs() {
            let r = parse(&input).expect("valid");
            assert_eq!(r.to_string(), input);
            assert_eq!(parse(&r.to_string()), Ok(r));
        }
    }

    #[test]
    fn parts_are_split_like_docker_does() {
        let r = parse("busybox").unwrap();
        assert_eq!(
            r,
            Reference {
                domain: None,
                path: "busybox".into(),
                tag: None,
                digest: None
            }
        );
        assert_eq!(r.registry(), "docker.io");

        let r = parse("python:3.9.7").unwrap();
        assert_eq!(
            (r.path.as_str(), r.tag.as_deref()),
            ("python", Some("3.9.7"))
        );

        let r = parse("localhost:5000/a/b:c").unwrap();
        assert_eq!(r.domain.as_deref(), Some("localhost:5000"));
        assert_eq!((r.path.as_str(), r.tag.as_deref()), ("a/b", Some("c")));
        assert_eq!(r.registry(), "localhost:5000");

        // Without a slash the colon is a tag, as in docker: image `localhost`, tag `5000`.
        let r = parse("localhost:5000").unwrap();
        assert_eq!(
            (r.domain, r.path.as_str(), r.tag.as_deref()),
            (None, "localhost", Some("5000"))
        );

        let r = parse("127.0.0.1:5000/x").unwrap();
        assert_eq!(
            (r.domain.as_deref(), r.path.as_str()),
            (Some("127.0.0.1:5000"), "x")
        );

        let digest = format!("sha256:{}", hex64());
        let r = parse(&format!("registry.example.com:443/team/app@{digest}")).unwrap();
        assert_eq!(r.domain.as_deref(), Some("registry.example.com:443"));
        assert_eq!((r.path.as_str(), r.tag.as_deref()), ("team/app", None));
        assert_eq!(r.digest.as_deref(), Some(digest.as_str()));

        let r = parse("ghcr.io/owner/repo:v1.2").unwrap();
        assert_eq!(r.registry(), "ghcr.io");
        assert_eq!(
            (r.path.as_str(), r.tag.as_deref()),
            ("owner/repo", Some("v1.2"))
        );

        // No dot, colon or uppercase: a namespace on Docker Hub, not a registry.
        let r = parse("a__b/c--d.e").unwrap();
        assert_eq!((r.domain, r.path.as_str()), (None, "a__b/c--d.e"));

        let r = parse("[::1]:5000/app").unwrap();
        assert_eq!(r.domain.as_deref(), Some("[::1]:5000"));
    }

    #[test]
    fn uppercase_first_component_is_a_registry_as_in_docker() {
        let r = parse("MyOrg/app").unwrap();
        assert_eq!(
            (r.domain.as_deref(), r.path.as_str()),
            (Some("MyOrg"), "app")
        );
    }

    #[test]
    fn repository_with_tag_and_registry() {
        let r = parse(&format!("ghcr.io/o/r:v1@sha256:{}", hex64())).unwrap();
        assert_eq!(r.repository(), "ghcr.io/o/r");
        let t = r.with_tag("cache-main");
        assert_eq!(t.to_string(), "ghcr.io/o/r:cache-main");
        assert_eq!(t.digest, None);
        assert_eq!(parse("app").unwrap().with_tag("x").to_string(), "app:x");
        assert_eq!(parse("team/app").unwrap().repository(), "team/app");
    }

    #[test]
    fn from_str_is_parse() {
        let r: Reference = "ghcr.io/o/r:v1".parse().unwrap();
        assert_eq!(r, parse("ghcr.io/o/r:v1").unwrap());
        assert!("".parse::<Reference>().is_err());
    }

    #[test]
    fn empty_is_an_error() {
        let e = err("");
        assert_eq!(e.message, "empty image reference");
        assert_eq!(e.column, 1);
        assert!(parse_repository("").is_err());
        assert_eq!(tag_err("").message, "empty tag");
    }

    #[test]
    fn uppercase_path_is_an_error_with_lowercase_hint() {
        let e = err("myorg/App");
        assert_eq!(e.column, 7);
        assert!(e.message.contains("uppercase letter `A`"), "{}", e.message);
        assert_eq!(
            e.hint,
            "repository names must be lowercase: use `myorg/app`"
        );

        let e = err("Team/App");
        assert_eq!(e.hint, "repository names must be lowercase: use `Team/app`");

        let e = err("ghcr.io/Owner/repo:v1");
        assert_eq!(e.column, 9);
        assert!(e.hint.contains("use `ghcr.io/owner/repo`"), "{}", e.hint);

        let e = err("Busybox");
        assert_eq!(e.hint, "repository names must be lowercase: use `busybox`");
    }

    #[test]
    fn bad_character_is_named_with_its_column() {
        let e = err("my!app");
        assert_eq!(e.column, 3);
        assert_eq!(
            e.message,
            "character `!` is not allowed in a repository name at column 3"
        );

        // Columns count characters, not bytes.
        let e = err("caf\u{e9}/app");
        assert_eq!(e.column, 4);
        assert!(e.message.contains("`\u{e9}`"), "{}", e.message);

        let e = err("exa_mple.com/app");
        assert_eq!(e.column, 4);
        assert!(e.message.contains("registry host"), "{}", e.message);

        let e = err("app:v1+build");
        assert_eq!(e.column, 7);
        assert!(
            e.message.contains("`+` is not allowed in a tag"),
            "{}",
            e.message
        );

        let e = err("app\u{0}");
        assert!(e.message.contains("`\\0`"), "{}", e.message);
    }

    #[test]
    fn tag_too_long_says_the_length() {
        let long = "a".repeat(129);
        let e = tag_err(&long);
        assert_eq!(e.message, "tag is 129 characters long (129 > 128)");
        assert_eq!(e.column, 129);

        let e = err(&format!("app:{long}"));
        assert!(e.message.contains("129 > 128"), "{}", e.message);
        assert_eq!(e.column, 4 + 1 + 128);

        assert!(validate_tag(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn tag_cannot_start_with_dot_or_dash() {
        assert_eq!(
            tag_err(".hidden").message,
            "tag starts with `.` at column 1"
        );
        assert_eq!(tag_err("-x").message, "tag starts with `-` at column 1");
        let e = err("app:-x");
        assert_eq!(e.column, 5);
        assert!(validate_tag("_x").is_ok());
        assert!(validate_tag("V1.2-rc_3").is_ok());
    }

    #[test]
    fn digest_is_not_a_tag() {
        let digest = format!("sha256:{}", hex64());
        let e = tag_err(&digest);
        assert_eq!(e.message, "a digest is not a tag");
        assert!(e.hint.contains('@'), "{}", e.hint);

        let e = err(&format!("app:{digest}"));
        assert_eq!(e.message, "a digest is not a tag");
        assert_eq!(e.column, 5);

        // A colon that does not follow an algorithm is just a bad character.
        assert!(tag_err("1:2").message.contains("`:`"));
    }

    #[test]
    fn empty_tag_after_colon() {
        let e = err("busybox:");
        assert_eq!(e.message, "empty tag after `:` at column 8");
        let e = err(&format!("app:@sha256:{}", hex64()));
        assert_eq!(e.column, 4);
    }

    #[test]
    fn name_too_long() {
        let e = err(&format!("example.com/{}", "a".repeat(244)));
        assert_eq!(
            e.message,
            "repository name is 256 characters long (256 > 255)"
        );
        assert_eq!(e.column, 256);
        assert!(parse(&format!("example.com/{}", "a".repeat(243))).is_ok());

        // docker measures `docker.io/library/<name>`, so a bare 240-character name is too long.
        let e = err(&"a".repeat(240));
        assert!(e.message.contains("docker.io/library/"), "{}", e.message);
        assert!(e.message.contains("258 > 255"), "{}", e.message);
        assert!(parse(&"a".repeat(237)).is_ok());
        assert!(parse(&format!("team/{}", "a".repeat(240))).is_ok());
        assert!(parse(&format!("team/{}", "a".repeat(241))).is_err());
    }

    #[test]
    fn whitespace_is_an_error() {
        let e = err(" app");
        assert_eq!(e.message, "a space at column 1");
        let e = err("app :v1");
        assert_eq!(e.column, 4);
        let e = err("app:v1\n");
        assert_eq!(e.message, "a newline at column 7");
        assert!(e.to_string().contains("`app:v1\\n`"), "{e}");
        assert_eq!(tag_err("v 1").column, 2);
        assert!(err("app\u{a0}").message.starts_with("whitespace"));
    }

    #[test]
    fn slashes_in_the_wrong_place() {
        let e = err("a//b");
        assert_eq!(
            e.message,
            "double slash `//` in repository name at column 3"
        );
        let e = err("example.com//app");
        assert_eq!(e.column, 13);
        assert_eq!(
            err("/app").message,
            "repository name starts with `/` at column 1"
        );
        assert_eq!(
            err("team/app/").message,
            "repository name ends with `/` at column 9"
        );
        let e = err("ghcr.io/:v1");
        assert!(
            e.message.starts_with("missing repository path"),
            "{}",
            e.message
        );
        assert_eq!(e.column, 8);
    }

    #[test]
    fn separators_follow_docker_rules() {
        assert!(err("a._b")
            .message
            .starts_with("`._` is not a valid separator"));
        assert!(err("a___b")
            .message
            .starts_with("`___` is not a valid separator"));
        assert!(err("a-.b")
            .message
            .starts_with("`-.` is not a valid separator"));
        assert_eq!(
            err("-a").message,
            "path component `-a` starts with `-` at column 1"
        );
        assert_eq!(
            err("team/a_").message,
            "path component `a_` ends with `_` at column 7"
        );
        assert_eq!(err("a..b").column, 2);
    }

    #[test]
    fn registry_host_and_port_are_checked() {
        assert_eq!(
            err("-bad.com/app").message,
            "registry host label starts with `-` at column 1"
        );
        assert_eq!(err("bad-.com/app").column, 4);
        assert_eq!(err("a..com/app").column, 2);
        assert_eq!(err("localhost:abc/app").column, 11);
        assert_eq!(
            err("localhost:/app").message,
            "empty port after `:` in registry"
        );
        assert!(err("[::1/app").message.starts_with("unclosed `[`"));
        assert!(err("[::g]/app").message.contains("`g`"));
        assert!(err("[]:5/app").message.starts_with("empty IPv6"));
        assert!(err("[::1]x:5/app").message.contains("after the IPv6"));
    }

    #[test]
    fn digests_are_checked_like_docker() {
        let e = err("app@sha256:abc");
        assert_eq!(e.message, "sha256 digest has 3 hex digits, expected 64");
        assert_eq!(e.column, 12);
        let e = err(&format!("app@md5:{}", hex64()));
        assert_eq!(e.message, "unsupported digest algorithm `md5`");
        let e = err(&format!("app@sha256:{}", hex64().to_uppercase()));
        assert!(
            e.message.starts_with("uppercase hex digit"),
            "{}",
            e.message
        );
        assert_eq!(err("app@").message, "empty digest after `@` at column 4");
        assert!(err("app@sha256").message.contains("algorithm:hex"));
        assert!(err("app@1sha:00")
            .message
            .contains("not a digest algorithm"));
        assert!(err(&format!("app@sha256:{}@x", hex64()))
            .message
            .contains("`@`"));
        assert!(err("@sha256:00")
            .message
            .starts_with("missing repository name"));
        assert!(err(":v1").message.starts_with("missing repository name"));
    }

    #[test]
    fn image_id_is_not_a_name() {
        assert!(err(&hex64()).message.contains("image ID"));
        // With a namespace it is an ordinary (odd) name, as in docker.
        assert!(parse(&format!("team/{}", hex64())).is_ok());
    }

    #[test]
    fn parse_repository_refuses_tags_and_digests() {
        let r = parse_repository("ghcr.io/owner/app").unwrap();
        assert_eq!(r.repository(), "ghcr.io/owner/app");
        let e = parse_repository("app:v1").unwrap_err();
        assert_eq!(e.column, 4);
        assert!(e.hint.contains("put tags under `tags:`"), "{}", e.hint);
        let e = parse_repository("registry.example.com:5000").unwrap_err();
        assert!(
            e.hint.contains("`registry.example.com:5000/app`"),
            "{}",
            e.hint
        );
        let e = parse_repository(&format!("app@sha256:{}", hex64())).unwrap_err();
        assert!(e.message.contains("digest"), "{}", e.message);
        assert_eq!(e.column, 4);
        // The name is reported first even when a tag is present.
        assert!(parse_repository("App:v1")
            .unwrap_err()
            .message
            .contains("uppercase"));
    }

    #[test]
    fn error_display_has_message_then_hint() {
        let e = err("myorg/App");
        assert_eq!(
            e.to_string(),
            "invalid image reference `myorg/App`: uppercase letter `A` in repository name at column 7\n  \
             hint: repository names must be lowercase: use `myorg/app`"
        );
    }

    #[test]
    fn slug_tag_makes_valid_tags() {
        assert_eq!(slug_tag("feature/Foo_bar", 128), "feature-foo_bar");
        assert_eq!(slug_tag("release/1.2", 128), "release-1.2");
        assert_eq!(slug_tag("Feature/ÜBER--cool!!", 128), "feature-ber-cool");
        assert_eq!(slug_tag("refs/heads/main", 128), "refs-heads-main");
        assert_eq!(slug_tag("..--x", 128), "x");
        assert_eq!(slug_tag("_x", 128), "_x");
        assert_eq!(slug_tag("日本語/ブランチ", 128), "default");
        assert_eq!(slug_tag("///***", 128), "default");
        assert_eq!(slug_tag("", 128), "default");
        assert_eq!(slug_tag("🦀rust🦀", 128), "rust");

        let long = "ab/".repeat(100);
        let slug = slug_tag(&long, 128);
        assert!(slug.len() <= 128 && !slug.ends_with('-'), "{slug}");
        assert!(validate_tag(&slug).is_ok());
        assert_eq!(slug_tag(&"x".repeat(300), 128).len(), 128);
        assert_eq!(slug_tag(&"x".repeat(300), 1000).len(), 128);

        // The cut lands on a dash: it is dropped rather than kept at the end.
        assert_eq!(slug_tag("abc/def", 4), "abc");
        assert_eq!(slug_tag("abcdef", 0), "a");
        assert_eq!(slug_tag("", 3), "def");
    }

    /// A small deterministic generator (no dependency) of awkward strings: separators, case,
    /// multi-byte characters and control characters, in random order.
    fn awkward_strings() -> Vec<String> {
        let alphabet: Vec<char> = "aZ09._-_/:@[]!é日🦀 \t\n\0AF".chars().collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        (0..5000)
            .map(|_| {
                let len = next() % 24;
                (0..len)
                    .map(|_| alphabet[next() % alphabet.len()])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn arbitrary_input_never_panics_and_results_are_consistent() {
        for input in awkward_strings() {
            match parse(&input) {
                Ok(r) => assert_eq!(r.to_string(), input),
                Err(e) => assert!(
                    e.column >= 1 && e.column <= input.chars().count() + 1,
                    "{input:?}: {e}"
                ),
            }
            if let Ok(r) = parse_repository(&input) {
                assert_eq!((r.tag, r.digest), (None, None));
            }
            if let Err(e) = validate_tag(&input) {
                assert!(e.column <= input.chars().count() + 1, "{input:?}: {e}");
            }
            let slug = slug_tag(&input, 16);
            assert!(validate_tag(&slug).is_ok(), "{input:?} -> {slug:?}");
            assert!(!slug.is_empty() && slug.len() <= 16 && !slug.ends_with('-'));
        }
    }

    #[test]
    fn loopback_registries_are_recognised() {
        for local in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]",
            "[::1]:5000",
        ] {
            assert!(is_loopback_registry(local), "{local}");
        }
        for remote in ["registry.example.com:5000", "docker.io", "ghcr.io"] {
            assert!(!is_loopback_registry(remote), "{remote}");
        }
    }
}

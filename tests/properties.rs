//! Property tests of the input layers: the parsers never panic on any input, valid image
//! references survive a round trip through `Display`, and shell quoting survives `sh`.
//!
//! Case counts are kept moderate so this file runs in a few seconds in a debug build; the fuzz
//! targets in `fuzz/` are for long runs. A failing case is saved by proptest under
//! `tests/properties.proptest-regressions` and tried first next time.

// Every path into the library that this file uses is on these lines.
use layercache::error::Error;
use layercache::input::dockerfile;
use layercache::input::spec::KEYS as SPEC_KEYS;
use layercache::input::{reference, spec};
use layercache::render;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::path::Path;

/// `cases` per property, unless `PROPTEST_CASES` asks for more (or fewer) for a longer run.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // Shrinking a parser input can take thousands of runs; a few hundred find a small one.
        max_shrink_iters: 512,
        // Beside this file, as before it became a module of tests/main.rs: proptest's default
        // would now find main.rs and write to proptest-regressions/properties.txt instead.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Dockerfiles

/// Pieces that matter to the Dockerfile lexer, to be strung together in any order.
fn dockerfile_token() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "FROM",
        "from",
        "AS",
        "as",
        "RUN",
        "COPY",
        "ADD",
        "ARG",
        "ENV",
        "ONBUILD",
        "CMD",
        "--from=",
        "--from=0",
        "--from=1",
        "--from=a",
        "--from=$A",
        "--platform=",
        "--mount=",
        "type=bind,from=",
        "from=b",
        ",",
        "=",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\\",
        "\\\n",
        "`",
        "# escape=`\n",
        "# escape=\\\n",
        "# syntax=x\n",
        "#",
        "<<EOF",
        "<<-EOF",
        "<<\"EOF\"",
        "<<'E'",
        "EOF\n",
        "\tEOF\n",
        "E\n",
        "<<",
        "'",
        "\"",
        "[",
        "]",
        "[\"a\"]",
        "[1]",
        "${",
        "}",
        "$",
        "${A:-b}",
        "${A:+",
        "$A",
        "A=",
        "\u{feff}",
        "a",
        "b",
        "0",
        "1",
        "busybox",
        "é",
        "\u{0}",
        "\u{b}",
        "\u{c}",
    ])
    .prop_map(str::to_string);
    prop_oneof![8 => fixed, 1 => "[a-z0-9]{1,6}"]
}

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(dockerfile_token(), 0..80).prop_map(|tokens| tokens.concat())
}

/// A word of an instruction: flags, stage references, variables, quotes, heredoc markers, JSON.
fn dockerfile_word() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "--from=0",
        "--from=1",
        "--from=2",
        "--from=a",
        "--from=b",
        "--from=$A",
        "--from=${B:-a}",
        "--platform=linux/amd64",
        "--platform=$P",
        "--mount=type=bind,from=a,target=/x",
        "--mount=from=b",
        "--chown=1",
        "--",
        "AS",
        "as",
        "a",
        "b",
        "c",
        "A",
        "busybox",
        "$A",
        "${A}",
        "${A:-b}",
        "${A:+x}",
        "${",
        "}",
        "\"a b\"",
        "'a'",
        "\"",
        "'",
        "\\",
        "`",
        "<<EOF",
        "<<-EOF",
        "<<\"EOF\"",
        "<<'E'",
        "2<<EOF",
        "<<",
        "[\"a\"]",
        "[\"a\", \"b\"]",
        "[1]",
        "[",
        "]",
        "A=x",
        "B=$A$A",
        "=",
        ",",
        "é",
        "\u{feff}",
        "\u{0}",
        "\u{b}",
        "#",
        "0",
        "1",
    ])
    .prop_map(str::to_string);
    prop_oneof![8 => fixed, 1 => "[a-z0-9]{1,6}"]
}

/// How a line ends: mostly plainly, sometimes continued, glued to the next or followed by a comment.
fn ending() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        12 => Just("\n"),
        2 => Just("\r\n"),
        1 => Just(" \\\n"),
        1 => Just("\\\r\n"),
        1 => Just(" `\n"),
        1 => Just("\n# comment\n"),
        1 => Just("\n\n"),
        1 => Just(""),
    ]
}

/// A heredoc marker to put on a RUN/COPY line, and its body and terminator after the line.
fn heredoc() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop::sample::select(vec![
        ("<<EOF", "\necho hi\nEOF"),
        ("<<-EOF", "\n\techo hi\n\tEOF"),
        ("<<'E'", "\n$A \\\nE"),
        ("2<<EOF", "\nEOF"),
        ("<<EOF <<E", "\na\nEOF\nb\nE"),
        ("<<EOF", "\nEOFX"),
    ])
}

/// What `FROM`, `--from=` and `--mount=from=` may name: indexes, names in any case, variables.
fn stage_ref() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "0", "1", "2", "9", "a", "b", "c", "B", "$A", "${A}", "${B:-c}", "busybox", "",
    ])
}

/// One line, usually an instruction of the shape the stage graph reads, sometimes anything.
fn dockerfile_line() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["a", "b", "c", "A", "B", "d.e", "1x", "$A"]);
    let from = (
        prop::sample::select(vec!["FROM", "FROM", "from", "  FROM"]),
        prop::option::of(prop::sample::select(vec![
            "--platform=linux/amd64",
            "--platform=$P",
            "--platform",
            "--x=1",
        ])),
        stage_ref(),
        prop::option::of((prop::sample::select(vec!["AS", "as", "As"]), name)),
        ending(),
    )
        .prop_map(|(k, flag, image, alias, end)| {
            let flag = flag.map(|f| format!(" {f}")).unwrap_or_default();
            let alias = alias.map(|(a, n)| format!(" {a} {n}")).unwrap_or_default();
            format!("{k}{flag} {image}{alias}{end}")
        });
    let copy = (
        prop::sample::select(vec!["COPY", "ADD", "copy", "ONBUILD COPY"]),
        prop::option::of(stage_ref()),
        prop::collection::vec(dockerfile_word(), 0..4),
        ending(),
    )
        .prop_map(|(k, from, words, end)| {
            let from = from.map(|f| format!(" --from={f}")).unwrap_or_default();
            format!("{k}{from} {} /dst{end}", words.join(" "))
        });
    let run = (
        prop::sample::select(vec!["RUN", "run", "ONBUILD RUN", "RUN --network=none"]),
        prop::option::of(stage_ref()),
        prop::collection::vec(dockerfile_word(), 0..5),
        prop::option::weighted(0.3, heredoc()),
        ending(),
    )
        .prop_map(|(k, from, words, heredoc, end)| {
            let mount = from
                .map(|f| format!(" --mount=type=cache,from={f},target=/c"))
                .unwrap_or_default();
            let (marker, body) = heredoc.unwrap_or(("", ""));
            format!("{k}{mount} {} {marker}{body}{end}", words.join(" "))
        });
    let keyword = prop::sample::select(vec![
        "ARG",
        "ARG",
        "ENV",
        "ONBUILD",
        "CMD",
        "LABEL",
        "WORKDIR",
        "\tRUN",
        "HEALTHCHECK",
    ]);
    let instruction = (
        keyword,
        prop::collection::vec(dockerfile_word(), 0..6),
        ending(),
    )
        .prop_map(|(keyword, words, ending)| format!("{keyword} {}{ending}", words.join(" ")));
    let other = prop::sample::select(vec![
        "# escape=`\n",
        "# escape=\\\n",
        "# syntax=docker/dockerfile:1\n",
        "# check=skip=all\n",
        "\n",
        "   \n",
        "# comment\n",
        "EOF\n",
        "\u{feff}",
        "\r\n",
        "\\\n",
    ])
    .prop_map(str::to_string);
    prop_oneof![4 => from, 3 => copy, 3 => run, 3 => instruction, 1 => other, 1 => dockerfile_word()]
}

fn dockerfile_lines() -> impl Strategy<Value = String> {
    prop::collection::vec(dockerfile_line(), 0..12).prop_map(|lines| lines.concat())
}

/// What must hold of any parse: positions are 1-based, and every dependency points backwards
/// (the planner relies on ascending index being a build order).
fn check_dockerfile(result: Result<dockerfile::Dockerfile, dockerfile::DockerfileError>) {
    match result {
        Ok(df) => {
            assert!(!df.stages.is_empty());
            for (i, stage) in df.stages.iter().enumerate() {
                assert_eq!(stage.index, i);
                assert!(stage.line >= 1);
                assert!(stage.depends_on.windows(2).all(|w| w[0] < w[1]));
                assert!(stage.depends_on.iter().all(|&d| d < i), "{stage:?}");
                if let Some(base) = stage.base_stage {
                    assert!(stage.depends_on.contains(&base));
                }
                if let Some(name) = &stage.name {
                    // A name used twice is allowed, the later stage winning (issue 12: BuildKit
                    // builds these with a warning).
                    let last = df.stages.iter().rposition(|s| s.name == stage.name);
                    assert_eq!(df.find_stage(name), last, "{name}");
                    assert_eq!(df.find_stage(&name.to_ascii_uppercase()), last, "{name}");
                }
                let order = df.stages_for_target(i);
                assert_eq!(order.last(), Some(&i));
                assert!(order.windows(2).all(|w| w[0] < w[1]));
            }
        }
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "{e:?}");
            assert!(!e.message.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn dockerfile_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_dockerfile(dockerfile::parse_bytes(&bytes));
    }

    #[test]
    fn dockerfile_token_soup_never_panics(text in token_soup()) {
        check_dockerfile(dockerfile::parse(&text));
        check_dockerfile(dockerfile::parse_bytes(text.as_bytes()));
    }

    /// Soup after a valid first stage, so the later instructions are reached.
    #[test]
    fn dockerfile_soup_after_a_stage_never_panics(text in token_soup()) {
        check_dockerfile(dockerfile::parse(&format!("ARG A=x\nFROM busybox AS a\n{text}")));
    }

    /// Lines shaped like instructions, so that about one in five parses and the stage graph,
    /// heredocs and continuations are reached, not only the first-line errors.
    #[test]
    fn dockerfile_lines_never_panic(text in dockerfile_lines()) {
        check_dockerfile(dockerfile::parse(&text));
        check_dockerfile(dockerfile::parse(&format!("ARG A=a\nFROM busybox AS a\n{text}")));
    }

    /// Bytes are only decoded: the same text gives the same result either way.
    #[test]
    fn dockerfile_parse_bytes_agrees_with_parse(
        // parse_bytes refuses NUL bytes, so there is nothing to agree on with them.
        text in dockerfile_lines().prop_map(|t| t.replace('\0', ""))
    ) {
        // A doubled BOM is the known exception: see `parse_bytes_strips_one_byte_order_mark_like_parse`.
        prop_assume!(!text.starts_with("\u{feff}\u{feff}"));
        prop_assert_eq!(dockerfile::parse_bytes(text.as_bytes()), dockerfile::parse(&text));
    }

    #[test]
    fn dockerfile_text_never_panics(text in any::<String>()) {
        check_dockerfile(dockerfile::parse(&text));
    }
}

/// BuildKit strips one UTF-8 byte-order mark from the first line, as `parse` does.
#[test]
fn parse_bytes_strips_one_byte_order_mark_like_parse() {
    let text = "\u{feff}\u{feff}FROM busybox\n";
    assert!(dockerfile::parse(text).is_err());
    assert_eq!(
        dockerfile::parse_bytes(text.as_bytes()),
        dockerfile::parse(text)
    );
}

// ---------------------------------------------------------------------------------------------
// The spec and interpolation

fn test_env(name: &str) -> Option<String> {
    match name {
        "SET" | "A" => Some("value".into()),
        "EMPTY" => Some(String::new()),
        "DOLLAR" => Some("${A}$$".into()),
        _ => None,
    }
}

fn parse_spec(text: &str) -> Result<Vec<spec::ImageConfig>, Error> {
    spec::parse(
        text,
        "layercache.yml",
        Path::new("base"),
        &test_env,
        &spec::Overrides::default(),
    )
}

/// What must hold of any spec parse: an accepted spec has valid names and tags (the planner
/// builds references from them without checking again); a refused one is an input error
/// (exit 2) that names the file.
fn check_spec(result: Result<Vec<spec::ImageConfig>, Error>) {
    match result {
        Ok(images) => {
            assert!(!images.is_empty());
            for config in images {
                assert!(!config.tags.is_empty());
                for tag in &config.tags {
                    assert!(reference::validate_tag(tag).is_ok(), "{tag:?}");
                }
                for repository in [&config.image, &config.cache_repository] {
                    let text = repository.to_string();
                    assert_eq!(reference::parse_repository(&text).as_ref(), Ok(repository));
                }
            }
        }
        Err(e) => {
            assert_eq!(e.exit_code(), 2, "{e}");
            assert!(e.to_string().starts_with("layercache.yml"), "{e}");
        }
    }
}

/// The spec's keys as the loader knows them, so a new key is exercised here without an edit, and
/// `images:`, the list of them.
fn spec_keys() -> Vec<&'static str> {
    let mut keys = SPEC_KEYS.to_vec();
    keys.push("images");
    keys
}

/// Spec text line by line: a known key (or a near miss), then a value from the token soup.
fn spec_lines() -> impl Strategy<Value = String> {
    let mut keys = spec_keys();
    // `image` twice as often; a near miss, an image of a list, a build arg, a list entry.
    keys.extend(["image", "tgas", "  - image", "  A", "- "]);
    let key = prop::sample::select(keys);
    let line = (key, prop::collection::vec(spec_token(), 0..5))
        .prop_map(|(key, value)| format!("{key}: {}\n", value.concat()));
    prop::collection::vec(line, 0..8).prop_map(|lines| lines.concat())
}

fn spec_token() -> impl Strategy<Value = String> {
    let mut tokens = spec_keys();
    tokens.extend([
        ":",
        ": ",
        "- ",
        "\n",
        "  ",
        "\t",
        "[",
        "]",
        "{",
        "}",
        ",",
        "'",
        "\"",
        "#",
        "&a ",
        "*a",
        "!!str ",
        "---\n",
        "...\n",
        "|\n",
        ">\n",
        "${SET}",
        "${UNSET}",
        "${EMPTY:-d}",
        "${A-x}",
        "${",
        "}",
        "$$",
        "$",
        "localhost:5000/",
        "app",
        "App",
        "v1",
        "3.10",
        "1e3",
        "true",
        "null",
        "~",
        "~/",
        "@sha256:",
        "\u{feff}",
        "é",
        "\r\n",
    ]);
    let fixed = prop::sample::select(tokens).prop_map(str::to_string);
    prop_oneof![8 => fixed, 1 => "[a-z0-9]{1,6}"]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn spec_parse_never_panics(text in any::<String>()) {
        check_spec(parse_spec(&text));
    }

    #[test]
    fn spec_token_soup_never_panics(tokens in prop::collection::vec(spec_token(), 0..60)) {
        let text = tokens.concat();
        check_spec(parse_spec(&text));
        // And as the value of a valid key, so interpolation and validation are reached.
        let text = format!("image: app\ntags: ['{}']\n", text.replace('\'', "''"));
        check_spec(parse_spec(&text));
    }

    #[test]
    fn spec_lines_never_panic(text in spec_lines()) {
        check_spec(parse_spec(&text));
    }

    #[test]
    fn interpolate_never_panics(text in any::<String>()) {
        let _ = spec::interpolate(&text, &test_env);
    }

    #[test]
    fn interpolate_soup_never_panics(
        tokens in prop::collection::vec(
            prop::sample::select(vec!["$", "{", "}", "$$", "${", ":-", "-", "SET", "UNSET", "EMPTY", "A", "1", "é", " "]),
            0..40,
        )
    ) {
        let _ = spec::interpolate(&tokens.concat(), &test_env);
    }

    /// Without `$` nothing changes, and `$$` is the escape for `$`, so escaping every `$` gives
    /// back the text as written.
    #[test]
    fn interpolate_keeps_escaped_text(text in any::<String>()) {
        let plain = text.replace('$', "");
        prop_assert_eq!(spec::interpolate(&plain, &test_env).unwrap(), plain);
        let escaped = text.replace('$', "$$");
        prop_assert_eq!(spec::interpolate(&escaped, &test_env).unwrap(), text);
    }
}

// ---------------------------------------------------------------------------------------------
// Image references

/// `[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?`
fn dns_label() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9]", "[A-Za-z0-9][A-Za-z0-9-]{0,8}[A-Za-z0-9]",]
}

/// A registry host that docker reads as one: it has a `.` or a port, or is `localhost`.
fn domain() -> impl Strategy<Value = String> {
    let port = prop::option::of("[0-9]{1,5}");
    let host = prop_oneof![
        Just("localhost".to_string()),
        prop::collection::vec(dns_label(), 2..4).prop_map(|labels| labels.join(".")),
        // An IPv6 address always has a `:`, which is what marks it as a registry.
        "\\[[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){1,7}\\]",
    ];
    (host, port).prop_map(|(host, port)| match port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*`, short enough that no name is 64 hex digits (an image ID).
fn path_component() -> impl Strategy<Value = String> {
    let separator = prop_oneof![
        Just("."),
        Just("_"),
        Just("__"),
        Just("-"),
        Just("--"),
        Just("---")
    ];
    (
        "[a-z0-9]{1,8}",
        prop::collection::vec((separator, "[a-z0-9]{1,6}"), 0..3),
    )
        .prop_map(|(first, rest)| {
            let mut out = first;
            for (separator, part) in rest {
                out.push_str(separator);
                out.push_str(&part);
            }
            out
        })
}

fn tag() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
}

/// A valid reference and its parts, from the grammar.
#[derive(Debug, Clone)]
struct ValidReference {
    domain: Option<String>,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ValidReference {
    fn text(&self) -> String {
        let mut out = String::new();
        if let Some(domain) = &self.domain {
            out.push_str(domain);
            out.push('/');
        }
        out.push_str(&self.path);
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }
}

fn valid_reference() -> impl Strategy<Value = ValidReference> {
    (
        prop::option::of(domain()),
        prop::collection::vec(path_component(), 1..4),
        prop::option::of(tag()),
        prop::option::of("sha256:[0-9a-f]{64}"),
    )
        .prop_filter_map(
            "a first component docker would read as a registry",
            |(domain, path, tag, digest)| {
                // Without a domain, a first component with `.` (or `localhost`) would be read as one.
                let first = &path[0];
                if domain.is_none()
                    && path.len() > 1
                    && (first.contains('.') || first == "localhost")
                {
                    return None;
                }
                Some(ValidReference {
                    domain,
                    path: path.join("/"),
                    tag,
                    digest,
                })
            },
        )
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn reference_parse_never_panics(text in any::<String>()) {
        if let Ok(r) = reference::parse(&text) {
            // Whatever is accepted comes back as written.
            prop_assert_eq!(r.to_string(), text.clone());
            prop_assert_eq!(reference::parse(&r.to_string()), Ok(r));
        }
        let _ = reference::parse_repository(&text);
        let _ = reference::validate_tag(&text);
    }

    #[test]
    fn reference_parse_never_panics_on_near_misses(
        tokens in prop::collection::vec(
            prop::sample::select(vec![
                "a", "B", "0", "f", ".", "_", "__", "-", "/", "//", ":", "@", "sha256:", "[", "]",
                "::1", "localhost", "5000", "é", " ", "\n", "\u{0}",
            ]),
            0..30,
        )
    ) {
        let text = tokens.concat();
        if let Ok(r) = reference::parse(&text) {
            prop_assert_eq!(r.to_string(), text.clone());
        }
        let _ = reference::parse_repository(&text);
        let _ = reference::validate_tag(&text);
    }

    #[test]
    fn valid_references_round_trip(valid in valid_reference()) {
        let text = valid.text();
        let r = reference::parse(&text);
        prop_assert!(r.is_ok(), "{:?} refused: {}", text, r.unwrap_err());
        let r = r.unwrap();
        prop_assert_eq!(r.to_string(), text.clone());
        prop_assert_eq!(&r.tag, &valid.tag);
        prop_assert_eq!(&r.digest, &valid.digest);
        let repository = match &valid.domain {
            Some(domain) => format!("{domain}/{}", valid.path),
            None => valid.path.clone(),
        };
        prop_assert_eq!(r.repository(), repository.clone());
        if valid.domain.is_some() {
            prop_assert_eq!(&r.domain, &valid.domain);
            prop_assert_eq!(&r.path, &valid.path);
        }
        // The repository alone is a valid `image:`, and the tag a valid `tags:` entry.
        prop_assert!(reference::parse_repository(&repository).is_ok(), "{}", repository);
        if let Some(tag) = &valid.tag {
            prop_assert!(reference::validate_tag(tag).is_ok(), "{}", tag);
            prop_assert_eq!(r.with_tag(tag).to_string(), format!("{repository}:{tag}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shell quoting

/// Words heavy in what sh treats specially.
fn shell_word() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        "'", "\"", "\\", "$", "`", "$(", ")", "${", "}", "*", "?", "[", "]", "~", "#", "!", "&",
        ";", "|", "<", ">", " ", "\t", "\n", "\r", "=", "-", "--", "%", "a", "é", "\u{1}",
        "\u{7f}", "'\\''",
    ]);
    prop::collection::vec(special, 0..16).prop_map(|parts| parts.concat())
}

proptest! {
    // Each case starts a shell: few cases, so the file stays fast.
    #![proptest_config(config(64))]

    #[test]
    fn quote_round_trips_through_sh(
        word in prop_oneof![
            any::<String>().prop_map(|s| s.replace('\0', "")),
            shell_word(),
        ]
    ) {
        let quoted = render::quote(&word);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s' {quoted}"))
            .output()
            .expect("run sh");
        prop_assert!(out.status.success(), "sh failed on {:?}: {}", quoted, String::from_utf8_lossy(&out.stderr));
        prop_assert_eq!(String::from_utf8_lossy(&out.stdout), word);
    }
}

/// The random words above may miss these; they are the ones most likely to go wrong.
#[test]
fn quote_round_trips_known_hard_words() {
    let words = [
        "", "'", "''", "'\\''", "\\'", "a'b'c", "$HOME", "${HOME}", "$(id)", "`id`", "!", "~",
        "~root", "*", "-n", "--", "a\nb", "\r", "#", " ", "\t", "é", "\u{1}", "=", "A=B", "%s",
    ];
    for word in words {
        let quoted = render::quote(word);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s' {quoted}"))
            .output()
            .expect("run sh");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            word,
            "quoted as {quoted}"
        );
    }
}

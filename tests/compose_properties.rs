//! Property tests of the Compose reader: on any text, as a compose file, a second `-f` file, an
//! included or extended file or a `.env`, it returns a project or an error, and never panics;
//! its parts (substitution, `.env` parsing, the position index) never panic on any string.
//!
//! Case counts are moderate so this runs in seconds in a debug build; `PROPTEST_CASES` asks
//! for more.

use layercache::input::compose::{self, dotenv, interpolate, position, MemoryFs, Request};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        max_shrink_iters: 512,
        ..ProptestConfig::default()
    }
}

/// Pieces of Compose YAML, strung together in any order: keys the reader treats specially,
/// indentation, YAML syntax (anchors, tags, flow collections, block scalars) and substitutions.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("services:".to_string()),
        Just("\n".to_string()),
        Just("  ".to_string()),
        Just("- ".to_string()),
        Just(": ".to_string()),
        Just("app:".to_string()),
        Just("build:".to_string()),
        Just("build: .".to_string()),
        Just("context:".to_string()),
        Just("dockerfile_inline: |".to_string()),
        Just("args:".to_string()),
        Just("labels:".to_string()),
        Just("extra_hosts:".to_string()),
        Just("ssh:".to_string()),
        Just("secrets:".to_string()),
        Just("shm_size: ".to_string()),
        Just("additional_contexts:".to_string()),
        Just("extends:".to_string()),
        Just("extends: app".to_string()),
        Just("file: other.yaml".to_string()),
        Just("service:".to_string()),
        Just("include:".to_string()),
        Just("path: other.yaml".to_string()),
        Just("profiles: [p]".to_string()),
        Just("image: x".to_string()),
        Just("name: ".to_string()),
        Just("x-a: &a".to_string()),
        Just("<<: *a".to_string()),
        Just("*a".to_string()),
        Just("!reset".to_string()),
        Just("!override".to_string()),
        Just("!other".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(", ".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("#".to_string()),
        Just("${".to_string()),
        Just("$".to_string()),
        Just("$$".to_string()),
        Just("${A:-".to_string()),
        Just("${A:?".to_string()),
        Just("${A+".to_string()),
        Just("KEY=v".to_string()),
        Just("KEY".to_string()),
        Just("256m".to_string()),
        Just("service:app".to_string()),
        Just("~".to_string()),
        Just("3.10".to_string()),
        Just("-1".to_string()),
        Just("true".to_string()),
        Just("é".to_string()),
        "[a-zA-Z0-9_./=:-]{0,8}",
    ]
}

fn yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..80).prop_map(|t| t.concat())
}

fn request() -> Request {
    Request {
        working_dir: PathBuf::from("/p"),
        files: vec!["compose.yaml".into(), "second.yaml".into()],
        env: [("A", "1"), ("EMPTY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Request::default()
    }
}

proptest! {
    // Generating the token strings, not reading them, is what takes the time (a few ms per
    // case in a debug build): 64 cases here, PROPTEST_CASES for long runs.
    #![proptest_config(config(64))]

    #[test]
    fn the_reader_never_panics_on_compose_like_text(
        main in yamlish(),
        second in yamlish(),
        other in yamlish(),
        dotenv_text in "[ -~\n]{0,60}",
    ) {
        let fs = MemoryFs::new([
            ("/p/compose.yaml", main),
            ("/p/second.yaml", second),
            ("/p/other.yaml", other),
            ("/p/.env", dotenv_text),
        ]);
        let _ = compose::resolve(&request(), &fs);
    }

}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn the_reader_never_panics_on_any_text(text in "\\PC{0,200}") {
        let fs = MemoryFs::new([("/p/compose.yaml", text.clone()), ("/p/second.yaml", text)]);
        let _ = compose::resolve(&request(), &fs);
    }

    #[test]
    fn substitution_never_panics(template in "([$]|[{]|[}]|:|-|[+]|[?]|A|B|_|1|x|\n|é){0,40}") {
        let env: BTreeMap<String, String> =
            [("A".to_string(), "a".to_string())].into_iter().collect();
        let lookup = |n: &str| env.get(n).cloned();
        let _ = interpolate::substitute(&template, &lookup, &mut interpolate::Outcome::default());
    }

    #[test]
    fn dotenv_and_positions_never_panic(text in "\\PC{0,200}") {
        let _ = dotenv::parse(&text, ".env", &BTreeMap::new());
        let positions = position::Positions::index(&text);
        let path = [position::Seg::key("services"), position::Seg::Index(0)];
        let _ = positions.in_value(&path, "$");
    }
}

/// Errors place themselves inside the file: a line past the end would mislead.
#[test]
fn error_places_are_inside_the_file() {
    let cases = [
        "services:\n  app:\n    build:\n      args: {A: '${B:?}'}\n",
        "services:\n  app:\n    build:\n      contxt: .\n",
        "services:\n  app:\n    build: [\n",
        "services:\n  app:\n    command: ${1}\n",
    ];
    for text in cases {
        let fs = MemoryFs::new([("/p/compose.yaml", text)]);
        let mut r = request();
        r.files = vec!["compose.yaml".into()];
        let e = compose::resolve(&r, &fs).unwrap_err();
        let lines = text.lines().count();
        assert!(e.line >= 1 && e.line <= lines + 1, "{text:?}: {e}");
    }
}

//! Any text as a `layercache.yml`: `spec::parse` must return, never panic; an accepted spec has
//! valid repositories and tags, a refused one is an input error naming the file.
#![no_main]

use layercache::input::{reference, spec};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fn env(name: &str) -> Option<String> {
    match name {
        "SET" => Some("value".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fuzz_target!(|text: &str| {
    let result = spec::parse(
        text,
        "layercache.yml",
        Path::new("base"),
        &env,
        &spec::Overrides::default(),
    );
    match result {
        Ok(images) => {
            for config in images {
                for tag in &config.tags {
                    assert!(reference::validate_tag(tag).is_ok(), "{tag:?}");
                }
                let image = config.image.to_string();
                assert_eq!(reference::parse_repository(&image), Ok(config.image));
            }
        }
        Err(e) => {
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().starts_with("layercache.yml"), "{e}");
        }
    }
});

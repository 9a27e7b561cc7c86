//! Any text through `${VAR}` interpolation: never a panic; text without `$` is unchanged, and
//! `$$` escapes are undone exactly.
#![no_main]

use layercache::input::spec;
use libfuzzer_sys::fuzz_target;

fn env(name: &str) -> Option<String> {
    match name {
        "SET" | "A" => Some("value".into()),
        "EMPTY" => Some(String::new()),
        "DOLLAR" => Some("${A}$$".into()),
        _ => None,
    }
}

fuzz_target!(|text: &str| {
    let _ = spec::interpolate(text, &env);
    let escaped = text.replace('$', "$$");
    assert_eq!(spec::interpolate(&escaped, &env).as_deref(), Ok(text));
});

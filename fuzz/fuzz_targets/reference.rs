//! Any text as an image reference, repository and tag: never a panic, and whatever `parse`
//! accepts comes back unchanged through `Display` and parses to the same value.
#![no_main]

use layercache::input::reference;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(r) = reference::parse(text) {
        let shown = r.to_string();
        assert_eq!(shown, text);
        assert_eq!(reference::parse(&shown), Ok(r));
    }
    if let Ok(r) = reference::parse_repository(text) {
        assert_eq!(r.to_string(), text);
        assert!(r.tag.is_none() && r.digest.is_none());
    }
    if reference::validate_tag(text).is_ok() {
        assert!(!text.is_empty() && text.len() <= 128);
    }
    // A slug is always a tag docker accepts.
    let slug = reference::slug_tag(text, text.len());
    assert!(reference::validate_tag(&slug).is_ok(), "{slug:?}");
});

//! Any bytes as a Dockerfile: `parse_bytes` must return, never panic, and what it returns must
//! hold together (1-based positions, dependencies only on earlier stages).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match layercache::input::dockerfile::parse_bytes(data) {
        Ok(df) => {
            assert!(!df.stages.is_empty());
            for (i, stage) in df.stages.iter().enumerate() {
                assert_eq!(stage.index, i);
                assert!(stage.line >= 1);
                assert!(stage.depends_on.iter().all(|&d| d < i));
                assert_eq!(df.stages_for_target(i).last(), Some(&i));
            }
        }
        Err(e) => assert!(e.line >= 1 && e.column >= 1, "{e:?}"),
    }
});

//! SIGINT and SIGTERM during a step: forwarded to the docker child, waited for, no further step
//! (no push), exit 130 / 143.

use crate::support::{read_calls, Test};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt_during_first_build(signal: &str, expected_code: i32) {
    let test = Test::new()
        .dockerfile("FROM busybox:1.36 AS builder\nRUN true\nFROM busybox:1.36\nCOPY --from=builder /x /x\n")
        .spec("image: localhost:5000/app\n")
        .buildkit_client()
        .env("FAKE_DOCKER_SLEEP", "30")
        .args(&["build"]);
    let (mut child, record) = test.spawn();
    // Probes come first (--version, buildx version, version), then the first build.
    let started = (1..10)
        .map(|n| record.join(format!("call-{n}.started")))
        .collect::<Vec<_>>();
    let start = Instant::now();
    let first = loop {
        if let Some(p) = started.iter().find(|p| p.exists()) {
            break p.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no build started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    wait_for(&first);
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(code, Some(expected_code), "{stderr}");

    let signal_file = first.with_extension("signal");
    let got = std::fs::read_to_string(&signal_file).unwrap_or_default();
    assert_eq!(got.trim(), signal, "the docker child got the signal");
    let calls: Vec<_> = read_calls(&record)
        .into_iter()
        .filter(|c| !c.is_probe())
        .collect();
    assert_eq!(
        calls.len(),
        1,
        "no step after the interrupted one: {calls:?}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
}

#[test]
fn sigterm_is_forwarded_and_exits_143() {
    interrupt_during_first_build("TERM", 143);
}

#[test]
fn sigint_is_forwarded_and_exits_130() {
    interrupt_during_first_build("INT", 130);
}

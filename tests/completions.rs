//! `layercache completions SHELL` and `layercache man`: generated from the clap definitions, so
//! they name every command and flag; the bash script is loaded into bash and asked to complete.

use crate::support::Test;
use std::process::Command;

#[test]
fn every_shell_gets_a_script_that_names_the_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Test::new()
            .args(&["completions", shell])
            .success()
            .stdout_has("layercache")
            .run();
        for word in ["build", "init", "builder", "standalone"] {
            assert!(
                out.stdout.contains(word),
                "{shell}: no {word}:\n{}",
                out.stdout
            );
        }
    }
    Test::new()
        .args(&["completions", "tcsh"])
        .status(2)
        .stderr_has("invalid value")
        .run();
}

/// Loads the bash script and runs its completion function the way bash's `complete -F` does
/// for the words typed so far; returns the candidates.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = Test::new()
        .args(&["completions", "bash"])
        .success()
        .run()
        .stdout;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("layercache.bash");
    std::fs::write(&path, script).expect("write");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let driver = format!(
        "source '{}'\n\
         COMP_WORDS=({})\n\
         COMP_CWORD={}\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _layercache layercache \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &driver])
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn bash_completes_build_bui_to_builder() {
    let candidates = bash_complete(&["layercache", "build", "--bui"]);
    assert!(
        candidates.contains(&"--builder".to_string()),
        "{candidates:?}"
    );
    assert!(
        candidates.iter().all(|c| c.starts_with("--bui")),
        "{candidates:?}"
    );
    // One letter more and it is the only candidate: bash writes it out.
    assert_eq!(
        bash_complete(&["layercache", "build", "--builde"]),
        ["--builder"]
    );
    // The builder's values, and the commands.
    let values = bash_complete(&["layercache", "build", "--builder", ""]);
    assert!(values.contains(&"buildkit".to_string()), "{values:?}");
    let commands = bash_complete(&["layercache", "i"]);
    assert!(commands.contains(&"init".to_string()), "{commands:?}");
}

#[test]
fn the_man_page_is_roff_for_layercache_and_each_command() {
    let out = Test::new()
        .args(&["man"])
        .success()
        .stdout_has(".TH layercache 1")
        .stdout_has(".SH SYNOPSIS")
        .run();
    for command in [
        "build",
        "plan",
        "lint",
        "doctor",
        "ci",
        "init",
        "completions",
    ] {
        assert!(
            out.stdout.contains(command),
            "no {command} in:\n{}",
            out.stdout
        );
    }
    let build = Test::new()
        .args(&["man", "build"])
        .success()
        .stdout_has(".TH layercache-build 1")
        .stdout_has(env!("CARGO_PKG_VERSION"))
        .run();
    for flag in ["builder", "cache\\-repository", "dry\\-run"] {
        assert!(
            build.stdout.contains(flag),
            "no {flag} in:\n{}",
            build.stdout
        );
    }
    Test::new()
        .args(&["man", "nope"])
        .status(2)
        .stderr_has("`nope` is not a layercache command")
        .run();
    // man(1) itself reads it, where it is installed.
    let Ok(check) = Command::new("man").arg("--version").output() else {
        eprintln!("skipped: no man(1) to render the page");
        return;
    };
    if check.status.success() {
        let dir = tempfile::tempdir().expect("temp dir");
        let page = dir.path().join("layercache.1");
        std::fs::write(&page, &out.stdout).expect("write");
        let rendered = Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("run man");
        let text = String::from_utf8_lossy(&rendered.stdout);
        // A stub man (minimized images) prints nothing useful: only a real rendering is judged.
        if rendered.status.success() && text.contains("SYNOPSIS") {
            assert!(text.contains("layercache"), "{text}");
        }
    }
}

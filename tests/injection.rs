//! Spec values that look like shell reach docker as literal argv, and the `plan --format sh`
//! script carries them the same way: no file is created, no command runs.

use crate::support::Test;

const SPEC: &str = r#"image: localhost:5000/app
context: "ctx; touch pwned-context"
build_args:
  SUBST: "$(touch pwned-subst)"
  BACKTICK: "`touch pwned-backtick`"
  QUOTE: "x'; touch pwned-quote; echo '"
  DQUOTE: "\"; touch pwned-dquote; \""
  NEWLINE: "line1\ntouch pwned-newline"
  SEMI: "a; touch pwned-semi"
  GLOB: "*"
"#;

fn test() -> Test {
    Test::new()
        .dockerfile("FROM busybox:1.36\nRUN true\n")
        .spec(SPEC)
        .file("ctx; touch pwned-context/.keep", "")
        .buildkit_client()
}

fn assert_nothing_ran(test: &Test) {
    let pwned: Vec<_> = std::fs::read_dir(test.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pwned"))
        .collect();
    assert!(pwned.is_empty(), "commands ran: {pwned:?}");
}

#[test]
fn shell_looking_values_are_literal_argv_in_build_and_in_the_sh_script() {
    let test = test();
    let built = test.clone().args(&["build"]).success().run();
    assert_nothing_ran(&test);
    let build = &built.calls()[0].argv;
    for expected in [
        "SUBST=$(touch pwned-subst)",
        "BACKTICK=`touch pwned-backtick`",
        "QUOTE=x'; touch pwned-quote; echo '",
        "DQUOTE=\"; touch pwned-dquote; \"",
        "NEWLINE=line1\ntouch pwned-newline",
        "SEMI=a; touch pwned-semi",
        "GLOB=*",
    ] {
        assert!(
            build.iter().any(|a| a == expected),
            "{expected:?} not in {build:?}"
        );
    }
    assert_eq!(
        build.last().map(String::as_str),
        Some("ctx; touch pwned-context")
    );

    let script = test
        .clone()
        .args(&["plan", "--format", "sh"])
        .success()
        .run();
    let by_sh = test.clone().success().run_sh(&script.stdout);
    assert_nothing_ran(&test);
    assert_eq!(by_sh.calls(), built.calls());
}

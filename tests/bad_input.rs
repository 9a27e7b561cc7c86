//! The bad-input catalogue: one test per kind of bad spec or Dockerfile. Each one checks that
//! layercache exits 2, that the message names the file (and the line and column where they are
//! known) and says what to do, and that no docker step ran: input errors must surface before
//! anything is pulled, built or pushed.
//!
//! Probes of the client (`docker --version`, `docker buildx version`) may happen before an error
//! that is only found while planning (an unknown target); they change nothing, so only the plan
//! steps (`Output::calls`) have to be empty.
//!
//! Tests marked `#[ignore = "bug: ..."]` state what the message should be and fail today; run them
//! with `cargo test --test main bad_input:: -- --ignored`. They are written to be safe to run: the ones
//! about memory use run layercache under `ulimit -v`.

use crate::support::{Output, Test};
use std::time::Instant;

const DOCKERFILE: &str =
    "FROM busybox:1.36 AS builder\nRUN true\nFROM busybox:1.36 AS final\nCOPY --from=builder / /\n";
const SPEC: &str = "image: localhost:5000/team/app\n";

/// A variable no test environment sets.
const UNSET: &str = "LAYERCACHE_TEST_SURELY_UNSET_VARIABLE";

fn with_spec(spec: &str) -> Test {
    Test::new()
        .dockerfile(DOCKERFILE)
        .spec(spec)
        .args(&["build"])
}

fn with_dockerfile(dockerfile: impl AsRef<[u8]>) -> Test {
    Test::new()
        .file("Dockerfile", dockerfile)
        .spec(SPEC)
        .args(&["build"])
}

/// Asserts the input was refused: exit 2, an `error: <place>: ...` message that holds every
/// needle and says what to do (a `hint:` line), and no docker step run.
#[track_caller]
fn refused(test: Test, place: &str, needles: &[&str]) {
    let error = refused_with(test, place, needles);
    assert!(
        error.contains("\n  hint: "),
        "the message should say what to do:\n{error}"
    );
}

/// Like `refused`, for messages that say what to do in the message itself (no `hint:` line).
/// Returns the message, from `error:` on.
#[track_caller]
fn refused_with(test: Test, place: &str, needles: &[&str]) -> String {
    let out = test.status(2).no_docker().run();
    let error = match out.stderr.find("error: ") {
        Some(at) => &out.stderr[at..],
        None => panic!("no `error:` in:\n{}", out.dump()),
    };
    // `file:*` stands for "this file, at some line and column".
    let placed = match place.strip_suffix(":*") {
        Some(file) => error
            .strip_prefix(&format!("error: {file}:"))
            .and_then(|rest| rest.split_once(": "))
            .is_some_and(|(at, _)| {
                at.split(':').count() == 2 && at.split(':').all(|n| n.parse::<usize>().is_ok())
            }),
        None => error.starts_with(&format!("error: {place}: ")),
    };
    assert!(
        placed,
        "expected the message to start with `error: {place}: `, got:\n{error}"
    );
    for needle in needles {
        assert!(error.contains(needle), "{needle:?} not in:\n{error}");
    }
    error.to_string()
}

// ---------------------------------------------------------------------------------------------
// The spec

#[test]
fn empty_spec() {
    for spec in ["", "\n\n", "# only a comment\n", "---\n"] {
        refused(
            with_spec(spec),
            "layercache.yml:1:1",
            &["the spec is empty", "image: registry.example.com/team/app"],
        );
    }
}

#[test]
fn malformed_yaml() {
    let cases = [
        // An unclosed flow list: libyaml notices at the end of the file.
        (
            "image: app\ntags: [v1\n",
            "layercache.yml:3:1",
            "did not find expected",
        ),
        ("image: \"app\n", "layercache.yml:2:1", "end of stream"),
        (
            "image: app\n\tpush: true\n",
            "layercache.yml:2:1",
            "tab character",
        ),
        ("- a\n- b\n", "layercache.yml:1:1", "must be a mapping"),
        ("images: []\n", "layercache.yml:1:1", "`images:` is empty"),
    ];
    for (spec, place, needle) in cases {
        refused(with_spec(spec), place, &[needle]);
    }
}

#[test]
fn wrong_types() {
    let cases = [
        (
            "image: app\ntags: {a: b}\n",
            "layercache.yml:2:7",
            "tags: invalid type: map, expected a sequence",
        ),
        (
            "image: app\ntags: 5\n",
            "layercache.yml:2:7",
            "invalid type: integer `5`, expected a sequence",
        ),
        (
            "image: app\nbuild_args: [1]\n",
            "layercache.yml:2:13",
            "build_args: invalid type: sequence, expected a map",
        ),
        // YAML reads 3.10 as 3.1; a version must not change silently.
        (
            "image: app\nbuild_args:\n  PY: 3.10\n",
            "layercache.yml:3:7",
            "put it in quotes",
        ),
        // No image (outside a CI that would supply one).
        ("dockerfile: D\n", "layercache.yml:1:1", "no `image:`"),
    ];
    for (spec, place, needle) in cases {
        refused(with_spec(spec), place, &[needle]);
    }
    // These say what to write in the message itself.
    refused_with(
        with_spec("image: app\npush: maybe\n"),
        "layercache.yml:2:7",
        &["`push` must be true or false"],
    );
    refused_with(
        with_spec("image: app\npull: sometimes\n"),
        "layercache.yml:2:7",
        &["`sometimes` is not a pull policy; use auto, always or never"],
    );
}

#[test]
fn wrong_type_for_a_single_value_names_its_key_and_line() {
    refused(
        with_spec("image: app\npush: [true]\n"),
        "layercache.yml:2:7",
        &["push", "list or mapping"],
    );
}

#[test]
fn unknown_keys_suggest_the_nearest() {
    refused(
        with_spec("image: app\ntgas: [v1]\n"),
        "layercache.yml:2:1",
        &["unknown field `tgas`", "did you mean `tags`?"],
    );
    refused(
        with_spec("image: app\ndockerfil: D\n"),
        "layercache.yml:2:1",
        &["unknown field `dockerfil`", "did you mean `dockerfile`?"],
    );
    // Too far from every key for a guess: the valid keys are listed instead.
    refused(
        with_spec("image: app\nzzzzzzzz: 1\n"),
        "layercache.yml:2:1",
        &["unknown field `zzzzzzzz`", "valid keys: image,"],
    );
}

#[test]
fn unknown_keys_in_an_images_list_suggest_the_nearest() {
    refused(
        with_spec("images:\n  - image: a\n    dockerfle: D\n"),
        "layercache.yml:3:5",
        &["unknown field `dockerfle`", "did you mean `dockerfile`?"],
    );
}

#[test]
fn image_and_images_together_is_explained() {
    // Not a suggestion of the key it refuses.
    with_spec("image: app\nimages:\n  - image: b\n")
        .status(2)
        .stderr_lacks("did you mean `image`?")
        .run();
}

#[test]
fn duplicate_keys() {
    // Placed, though not yet at the repeated key: see the ignored test below.
    refused(
        with_spec("image: a\nimage: b\n"),
        "layercache.yml:*",
        &["duplicate entry with key \"image\"", "may appear once"],
    );
    refused(
        with_spec("image: app\nbuild_args:\n  A: 1\n  A: 2\n"),
        "layercache.yml:*",
        &["duplicate entry with key \"A\""],
    );
}

#[test]
fn duplicate_keys_point_at_the_repeated_key() {
    refused(
        with_spec("image: a\nimage: b\n"),
        "layercache.yml:2:1",
        &["duplicate", "image"],
    );
    refused(
        with_spec("image: app\nbuild_args:\n  A: 1\n  A: 2\n"),
        "layercache.yml:4:3",
        &["duplicate", "may appear once"],
    );
}

#[test]
fn unset_variable() {
    let spec = format!("image: app\ntags:\n  - ${{{UNSET}}}\n");
    refused(
        with_spec(&spec),
        "layercache.yml:3:5",
        &[
            &format!("environment variable `{UNSET}` is not set"),
            &format!("${{{UNSET}:-value}}"),
        ],
    );
    // In the second image of a list, in the middle of a value.
    let spec = format!("images:\n  - image: a\n  - image: ${{{UNSET}}}/b\n");
    refused(with_spec(&spec), "layercache.yml:3:12", &[UNSET]);
    // The same name set to something makes it valid: the error was about the variable.
    with_spec(&format!("image: app\ntags: ['${{{UNSET}}}']\n"))
        .env(UNSET, "v1")
        .args(&["plan"])
        .success()
        .run();
}

#[test]
fn invalid_image_references() {
    let cases = [
        (
            "image: Team/App\n",
            "layercache.yml:1:8",
            "uppercase letter `A`",
        ),
        ("image: team/App\n", "layercache.yml:1:8", "use `team/app`"),
        (
            "image: team/a$p\n",
            "layercache.yml:1:8",
            "character `$` is not allowed in a repository name",
        ),
        (
            "image: 'team/app!'\n",
            "layercache.yml:1:9",
            "character `!`",
        ),
        ("image: team//app\n", "layercache.yml:1:8", "double slash"),
        (
            "image: app:v1\n",
            "layercache.yml:1:8",
            "put tags under `tags:`",
        ),
        (
            "image: app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
            "layercache.yml:1:8",
            "without the digest",
        ),
        (
            "image: app\ncache_repository: x//y\n",
            "layercache.yml:2:19",
            "double slash",
        ),
    ];
    for (spec, place, needle) in cases {
        refused(with_spec(spec), place, &["invalid image reference", needle]);
    }
}

#[test]
fn empty_values_name_their_line() {
    refused(
        with_spec("image: \"\"\n"),
        "layercache.yml:1:8",
        &["invalid image reference", "empty image reference"],
    );
    refused(
        with_spec("image: app\ndockerfile: ''\n"),
        "layercache.yml:2:13",
        &["a path is empty", "remove the key"],
    );
    refused(
        with_spec("image:\n"),
        "layercache.yml:1:7",
        &["image: a value is missing"],
    );
}

#[test]
fn invalid_tags() {
    let long = "a".repeat(129);
    refused(
        with_spec(&format!("image: app\ntags: [{long}]\n")),
        "layercache.yml:2:8",
        &["tag is 129 characters long (129 > 128)", "shorten the tag"],
    );
    // 128 is the limit, and allowed.
    let fits = "a".repeat(128);
    with_spec(&format!("image: app\ntags: [{fits}]\n"))
        .args(&["plan"])
        .success()
        .run();

    let digest = format!("sha256:{}", "a".repeat(64));
    refused(
        with_spec(&format!("image: app\ntags: ['{digest}']\n")),
        "layercache.yml:2:9",
        &["a digest is not a tag", "`app@sha256:"],
    );
    refused(
        with_spec("image: app\ntags: ['v1/x']\n"),
        "layercache.yml:2:9",
        &["character `/` is not allowed in a tag"],
    );
    refused(
        with_spec("image: app\ntags: ['-x']\n"),
        "layercache.yml:2:9",
        &["tag starts with `-`"],
    );
    refused(
        with_spec("image: app\ntags: []\n"),
        "layercache.yml:2:1",
        &["`tags:` is empty"],
    );
}

#[test]
fn invalid_values_from_the_command_line() {
    with_spec(SPEC)
        .args(&["build", "--tag", "bad tag"])
        .status(2)
        .stderr_has("`bad tag`: a space")
        .no_steps()
        .run();
    Test::new()
        .dockerfile(DOCKERFILE)
        .args(&["build", "--image", "Bad/App"])
        .status(2)
        .stderr_has("uppercase letter")
        .no_steps()
        .run();
}

#[test]
fn command_line_values_are_not_blamed_on_the_spec() {
    // The tag came from --tag, not from the spec.
    with_spec(SPEC)
        .args(&["build", "--tag", "bad tag"])
        .status(2)
        .stderr_lacks("error: layercache.yml")
        .stderr_has("--tag")
        .run();
}

// ---------------------------------------------------------------------------------------------
// The Dockerfile

#[test]
fn missing_dockerfile() {
    refused(
        Test::new().spec(SPEC).args(&["build"]),
        "Dockerfile",
        &[
            "cannot read the Dockerfile",
            "set `dockerfile:` in layercache.yml or pass --dockerfile PATH",
        ],
    );
    refused(
        Test::new()
            .spec("image: app\ndockerfile: sub/Dockerfile.multi\n")
            .args(&["build"]),
        "sub/Dockerfile.multi",
        &["cannot read the Dockerfile"],
    );
    refused(
        with_spec(SPEC).args(&["build", "--dockerfile", "nope/Dockerfile"]),
        "nope/Dockerfile",
        &["cannot read the Dockerfile"],
    );
}

#[test]
fn unreadable_dockerfile() {
    // A folder where the file should be cannot be read by anyone, root included.
    let test = Test::new().spec(SPEC).args(&["build"]);
    std::fs::create_dir(test.path().join("Dockerfile")).unwrap();
    refused(
        test,
        "Dockerfile",
        &["this is a folder, not a Dockerfile", "--dockerfile PATH"],
    );

    // A file without read permission; skipped where it is readable anyway (root, or
    // CAP_DAC_OVERRIDE, as in the containers these tests often run in).
    use std::os::unix::fs::PermissionsExt;
    let test = with_dockerfile(DOCKERFILE);
    let path = test.path().join("Dockerfile");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&path).is_ok() {
        eprintln!("skipped the chmod 000 case: this user can read a mode-000 file (root?)");
        return;
    }
    refused(
        test,
        "Dockerfile",
        &["cannot read the Dockerfile", "Permission denied"],
    );
}

#[test]
fn empty_dockerfile() {
    for text in [
        "",
        "\n\n  \n",
        "# just a comment\n\n# another\n",
        "\u{feff}",
    ] {
        refused(
            with_dockerfile(text),
            "Dockerfile:1:1",
            &[
                "the Dockerfile has no instructions",
                "starts with FROM <image>",
            ],
        );
    }
}

#[test]
fn non_utf8_dockerfile() {
    refused(
        with_dockerfile(b"FROM a\nRUN \xff\n"),
        "Dockerfile:2:5",
        &[
            "not valid UTF-8: byte 0xFF at byte offset 11",
            "save the Dockerfile as UTF-8",
        ],
    );
    // Latin-1 text, as an old editor may save it.
    refused(
        with_dockerfile(b"FROM a\nLABEL author=\"Ren\xe9\"\n"),
        "Dockerfile:2:18",
        &["not valid UTF-8: byte 0xE9"],
    );
    refused(
        with_dockerfile(b"\xff\xfeF\x00R\x00O\x00M\x00"),
        "Dockerfile:1:1",
        &["UTF-16"],
    );
}

#[test]
fn binary_dockerfile() {
    refused(
        with_dockerfile(b"FROM a\x00\x01\x02\xff"),
        "Dockerfile:1:7",
        &[
            "NUL byte (at byte offset 6); it looks binary",
            "check that the path points to the Dockerfile",
        ],
    );
    // An ELF header, as when --dockerfile names a program.
    refused(
        with_dockerfile(b"\x7fELF\x02\x01\x01\x00\x00\x00"),
        "Dockerfile:1:8",
        &["NUL byte"],
    );
}

#[test]
fn no_from() {
    refused(
        with_dockerfile("RUN true\n"),
        "Dockerfile:1:1",
        &["RUN comes before the first FROM", "add FROM <image>"],
    );
    refused(
        with_dockerfile("ARG VERSION=1\n# nothing else\n"),
        "Dockerfile:1:1",
        &["no FROM instruction"],
    );
    refused(
        with_dockerfile("FROM\n"),
        "Dockerfile:1:1",
        &["FROM requires an image"],
    );
}

#[test]
fn duplicate_stage_names() {
    // BuildKit compares stage names case-insensitively, so `B` repeats `b`; it builds such a
    // file with a DuplicateStageName warning (issue 12: this was refused with exit 2).
    with_dockerfile("FROM a AS b\nRUN true\nFROM c AS B\n")
        .success()
        .stderr_has("Dockerfile:3:11: duplicate stage name \"B\": already used at line 1")
        .run();
}

#[test]
fn from_an_unknown_or_later_stage() {
    refused(
        with_dockerfile("FROM a AS x\nFROM b AS y\nCOPY --from=5 / /\n"),
        "Dockerfile:3:6",
        &[
            "stage \"5\" is not defined before this instruction",
            "this is stage 1",
        ],
    );
    // A stage's own index is not before it either.
    refused(
        with_dockerfile("FROM a AS x\nCOPY --from=0 / /\n"),
        "Dockerfile:2:6",
        &["stage \"0\" is not defined before"],
    );
    // An index too big for any integer type.
    refused(
        with_dockerfile("FROM a AS x\nCOPY --from=99999999999999999999999 / /\n"),
        "Dockerfile:2:6",
        &["is not defined before"],
    );
    refused(
        with_dockerfile("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\n"),
        "Dockerfile:2:6",
        &["stage \"y\" is defined later, at line 3", "move it above"],
    );
    refused(
        with_dockerfile("FROM a AS x\nRUN --mount=type=bind,from=y,target=/y true\nFROM b AS y\n"),
        "Dockerfile:2:5",
        &["stage \"y\" is defined later"],
    );
    refused(
        with_dockerfile("FROM a AS x\nCOPY --from=X / /\n"),
        "Dockerfile:2:6",
        &["refers to itself"],
    );
}

#[test]
fn target_that_is_not_a_stage() {
    refused(
        with_spec("image: app\ntarget: nope\n"),
        "layercache.yml:2:9",
        &[
            "target `nope` is not a stage of Dockerfile",
            "stages are: builder, final",
        ],
    );
    // From the command line: the spec is not to blame.
    refused(
        with_spec(SPEC).args(&["build", "--target", "2"]),
        "--target",
        &["target `2` is not a stage"],
    );
    refused(
        with_spec("image: app\ncache_stages: [nope]\n"),
        "layercache.yml:2:16",
        &["cache_stages names `nope`", "stages are: builder, final"],
    );
}

#[test]
fn target_that_is_not_a_stage_names_its_line() {
    refused(
        with_spec("image: app\ntarget: nope\n"),
        "layercache.yml:2:9",
        &["target `nope`"],
    );
}

// ---------------------------------------------------------------------------------------------
// Size

#[test]
fn a_spec_of_10000_images_is_planned() {
    let mut spec = String::from("images:\n");
    for i in 0..10_000 {
        spec.push_str(&format!("  - image: localhost:5000/team/app{i}\n"));
    }
    let test = with_spec(&spec)
        .args(&["plan", "--format", "json"])
        .success()
        .no_steps();
    let start = Instant::now();
    let out = test.run();
    eprintln!("10,000-image spec: planned in {:?}", start.elapsed());
    let plan = out.json();
    let images = plan["images"].as_array().unwrap();
    assert_eq!(images.len(), 10_000);
    assert_eq!(images[9_999]["name"], "localhost:5000/team/app9999");
}

#[test]
fn a_dockerfile_of_100000_lines_is_planned() {
    let mut text = String::from("FROM busybox:1.36 AS builder\n");
    for i in 0..49_997 {
        text.push_str(&format!("RUN echo {i}\n"));
    }
    text.push_str("RUN echo \\\n");
    for i in 0..49_999 {
        text.push_str(&format!("  {i} \\\n"));
    }
    text.push_str("  end\nFROM builder AS final\n");
    assert_eq!(text.lines().count(), 100_000);
    let test = with_dockerfile(&text)
        .args(&["plan", "--format", "json"])
        .success()
        .no_steps();
    let start = Instant::now();
    let out = test.run();
    eprintln!("100,000-line Dockerfile: planned in {:?}", start.elapsed());
    let plan = out.json();
    assert_eq!(plan["images"][0]["targets"], serde_json::json!([0, 1]));
}

/// Runs `layercache plan` under a memory limit, so a runaway allocation ends the process instead
/// of the machine.
fn plan_with_memory_limit(test: &Test, kib: u64) -> Output {
    let script = format!(
        "ulimit -v {kib}\nexec '{}' plan >/dev/null\n",
        env!("CARGO_BIN_EXE_layercache")
    );
    test.run_sh(&script)
}

#[test]
fn a_dockerfile_of_100000_chained_stages_is_planned_or_refused() {
    // `FROM s0 AS s1`, `FROM s1 AS s2`, ...: every build lists every earlier stage's cache, so the
    // plan grows as n^2 (4,000 stages already make a 228 MB script).
    let mut text = String::from("FROM busybox:1.36 AS s0\n");
    for i in 1..100_000 {
        text.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
    }
    let test = with_dockerfile(&text);
    let start = Instant::now();
    let out = plan_with_memory_limit(&test, 2_000_000);
    eprintln!("100,000 chained stages: {:?}", start.elapsed());
    assert!(
        out.code == 0 || (out.code == 2 && out.stderr.contains("stages")),
        "{}",
        out.dump()
    );
}

#[test]
fn global_args_that_expand_exponentially_are_refused() {
    // Each ARG is eight copies of the one before: the last one is 8^12 bytes.
    let mut text = String::from("ARG A0=xxxxxxxx\n");
    for i in 1..12 {
        text.push_str(&format!(
            "ARG A{i}={}\n",
            format!("${{A{}}}", i - 1).repeat(8)
        ));
    }
    text.push_str("FROM busybox:1.36\n");
    // A refusal.
    let test = with_dockerfile(&text).status(2).stderr_has("Dockerfile:");
    plan_with_memory_limit(&test, 2_000_000);
}

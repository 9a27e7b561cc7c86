use super::*;

fn ok(text: &str) -> Dockerfile {
    match parse(text) {
        Ok(dockerfile) => dockerfile,
        Err(e) => panic!("expected {text:?} to parse, got: {e}"),
    }
}

fn err(text: &str) -> DockerfileError {
    match parse(text) {
        Ok(dockerfile) => panic!("expected {text:?} to fail, got {dockerfile:?}"),
        Err(e) => e,
    }
}

fn err_at(text: &str, line: usize, column: usize, needle: &str) -> DockerfileError {
    let e = err(text);
    assert_eq!((e.line, e.column), (line, column), "position of: {e}");
    assert!(e.message.contains(needle), "{needle:?} not in: {e}");
    e
}

fn instruction(dockerfile: &Dockerfile, stage: usize, index: usize) -> &Instruction {
    &dockerfile.stages[stage].instructions[index]
}

#[test]
fn two_stage_example() {
    let d = ok("FROM python:3.9.7 AS base\n\
                RUN pip install -r requirements.txt\n\
                FROM base AS final\n\
                COPY . .\n");
    assert_eq!(d.stages.len(), 2);
    let base = &d.stages[0];
    assert_eq!(base.name.as_deref(), Some("base"));
    assert_eq!(base.from, "python:3.9.7");
    assert_eq!(base.base_stage, None);
    assert_eq!(base.line, 1);
    assert!(base.depends_on.is_empty());
    assert_eq!(base.instructions.len(), 1);
    assert_eq!(base.instructions[0].keyword, "RUN");
    assert_eq!(base.instructions[0].args, "pip install -r requirements.txt");
    let last = &d.stages[1];
    assert_eq!(last.name.as_deref(), Some("final"));
    assert_eq!(last.from, "base");
    assert_eq!(last.base_stage, Some(0));
    assert_eq!(last.depends_on, vec![0]);
    assert_eq!(last.line, 3);
    assert_eq!(last.instructions[0].line, 4);
    assert_eq!(last.instructions[0].args, ". .");
    assert_eq!(d.stages_for_target(1), vec![0, 1]);
    assert_eq!(d.find_stage("final"), Some(1));
}

#[test]
fn continuation_joins_lines_as_buildkit() {
    let d = ok("FROM a\nRUN apt-get update && \\\n    apt-get install -y curl\nUSER app\n");
    let run = instruction(&d, 0, 0);
    assert_eq!(run.line, 2);
    assert_eq!(run.args, "apt-get update &&     apt-get install -y curl");
    assert_eq!(instruction(&d, 0, 1).line, 4);
}

#[test]
fn continuation_skips_comments_and_blank_lines() {
    let d =
        ok("FROM a\nRUN apt-get install \\\n# curl \\\n\n    git \\\n  # more\n    vim\nUSER x");
    let run = instruction(&d, 0, 0);
    assert_eq!(run.args, "apt-get install     git     vim");
    assert_eq!(instruction(&d, 0, 1).line, 8);
}

#[test]
fn trailing_blanks_after_escape_and_doubled_escape() {
    let d = ok("FROM a\nRUN echo one \\  \n two\nRUN echo c:\\\\\nUSER x\n");
    assert_eq!(instruction(&d, 0, 0).args, "echo one  two");
    assert_eq!(instruction(&d, 0, 1).args, "echo c:\\\\");
    assert_eq!(instruction(&d, 0, 2).keyword, "USER");
}

#[test]
fn escape_directive_backtick() {
    let d = ok("# escape=`\nFROM mcr.microsoft.com/windows AS win\nRUN dir c:\\ `\n    /s\nFROM win\nCOPY --from=win c:\\a c:\\b\n");
    let run = instruction(&d, 0, 0);
    assert_eq!(run.args, "dir c:\\     /s");
    assert_eq!(d.stages[1].line, 5);
    assert_eq!(d.stages[1].depends_on, vec![0]);
}

#[test]
fn syntax_directive_ignored_and_escape_after_it() {
    let d = ok("# syntax=docker/dockerfile:1\n#escape = `\nFROM a\nRUN x `\n y\n");
    assert_eq!(instruction(&d, 0, 0).args, "x  y");
}

#[test]
fn escape_directive_after_comment_is_a_comment() {
    let d = ok("# hello\n# escape=`\nFROM a\nRUN x `\nUSER y\n");
    // The backtick stays literal, so USER is its own instruction.
    assert_eq!(instruction(&d, 0, 0).args, "x `");
    assert_eq!(instruction(&d, 0, 1).keyword, "USER");
}

#[test]
fn heredoc_body_is_not_instructions() {
    let text = "FROM a\nRUN <<EOF\nFROM x AS y\nset -e\nEOF\nUSER app\n";
    let d = ok(text);
    assert_eq!(d.stages.len(), 1);
    let run = instruction(&d, 0, 0);
    assert_eq!(run.args, "<<EOF");
    assert_eq!(run.heredocs, vec!["FROM x AS y\nset -e\n".to_string()]);
    let user = instruction(&d, 0, 1);
    assert_eq!((user.keyword.as_str(), user.line), ("USER", 6));
}

#[test]
fn heredoc_variants() {
    let d = ok("FROM a\n\
                RUN <<-EOT bash\n\techo hi\n\tEOT\n\
                RUN python3 <<'PY'\nprint(1)\nPY\n\
                COPY <<\"CONF\" /etc/app.conf\nFROM not-a-stage\nCONF\n\
                COPY <<ONE <<TWO /dst/\none\nONE\ntwo\nTWO\n\
                RUN cat <<EOF > /x\r\nline\r\nEOF\r\n\
                USER done\n");
    let heredocs: Vec<&Vec<String>> = d.stages[0]
        .instructions
        .iter()
        .map(|i| &i.heredocs)
        .collect();
    assert_eq!(heredocs[0], &vec!["\techo hi\n".to_string()]);
    assert_eq!(heredocs[1], &vec!["print(1)\n".to_string()]);
    assert_eq!(heredocs[2], &vec!["FROM not-a-stage\n".to_string()]);
    assert_eq!(heredocs[3], &vec!["one\n".to_string(), "two\n".to_string()]);
    assert_eq!(heredocs[4], &vec!["line\n".to_string()]);
    assert_eq!(instruction(&d, 0, 5).keyword, "USER");
    assert_eq!(d.stages.len(), 1);
}

#[test]
fn not_heredocs() {
    // Quoted markers, here-strings, JSON form and instructions without heredoc support.
    let d = ok("FROM a\nRUN echo \"<<EOF\"\nRUN cat <<<word\nRUN [\"sh\", \"-c\", \"cat <<EOF\"]\nENV A=<<EOF\nUSER x\n");
    assert!(d.stages[0]
        .instructions
        .iter()
        .all(|i| i.heredocs.is_empty()));
    assert_eq!(d.stages[0].instructions.len(), 5);
}

#[test]
fn onbuild_heredoc() {
    let d = ok("FROM a\nONBUILD RUN <<EOF\nFROM x\nEOF\nUSER y\n");
    assert_eq!(instruction(&d, 0, 0).heredocs, vec!["FROM x\n".to_string()]);
    assert_eq!(d.stages.len(), 1);
}

#[test]
fn json_form_kept_as_written() {
    let d = ok("FROM a\nRUN [\"echo\", \"hi there\"]\nCOPY [\"a b\", \"/dst/\"]\nCMD [\"x\"]\n");
    assert_eq!(instruction(&d, 0, 0).args, "[\"echo\", \"hi there\"]");
    assert_eq!(instruction(&d, 0, 1).args, "[\"a b\", \"/dst/\"]");
    assert_eq!(instruction(&d, 0, 2).keyword, "CMD");
}

#[test]
fn not_quite_json_is_shell_form() {
    let d = ok("FROM a\nRUN [ -f /x ] && echo yes\n");
    assert_eq!(instruction(&d, 0, 0).args, "[ -f /x ] && echo yes");
}

#[test]
fn lowercase_and_mixed_case_keywords_and_indentation() {
    let d = ok("from alpine as Build\n  run echo hi\nfrom scratch\n\tCoPy --from=build a b\n");
    // BuildKit lower-cases stage names when it reads them (issue 12: report the canonical name).
    assert_eq!(d.stages[0].name.as_deref(), Some("build"));
    assert_eq!(d.stages[0].written_name.as_deref(), Some("Build"));
    assert_eq!(instruction(&d, 0, 0).keyword, "RUN");
    assert_eq!(instruction(&d, 1, 0).keyword, "COPY");
    assert_eq!(d.find_stage("BUILD"), Some(0));
    assert_eq!(d.stages[1].depends_on, vec![0]);
    // Flag names are case-sensitive in BuildKit: `--FROM` is an unknown flag (issue 12: it was
    // silently ignored).
    err_at(
        "from alpine as Build\nfrom scratch\ncopy --FROM=build a b\n",
        3,
        6,
        "unknown flag \"--FROM\" on COPY",
    );
}

#[test]
fn crlf_line_endings() {
    let d = ok("FROM a AS b\r\nRUN one \\\r\n  two\r\nFROM b\r\n");
    assert_eq!(d.stages[0].name.as_deref(), Some("b"));
    assert_eq!(instruction(&d, 0, 0).args, "one   two");
    assert_eq!(d.stages[1].base_stage, Some(0));
    assert_eq!(d.stages[1].line, 4);
}

#[test]
fn utf8_bom() {
    let text = "\u{feff}# escape=`\nFROM a\nRUN x `\n y\n";
    assert_eq!(instruction(&ok(text), 0, 0).args, "x  y");
    let d = parse_bytes(text.as_bytes()).expect("BOM file parses");
    assert_eq!(d.stages[0].line, 2);
}

#[test]
fn platform_flag() {
    let d = ok("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=\"linux/arm64\" alpine\n");
    assert_eq!(d.stages[0].platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(d.stages[0].from, "golang:1.22");
    assert_eq!(d.stages[1].platform.as_deref(), Some("linux/arm64"));
}

#[test]
fn global_args() {
    let d = ok("# comment\nARG A=1 B\nARG C=\"x y\" D=${A}-z\nARG E\nFROM a\nARG LOCAL=2\n");
    assert_eq!(
        d.global_args,
        vec![
            ("A".to_string(), Some("1".to_string())),
            ("B".to_string(), None),
            ("C".to_string(), Some("x y".to_string())),
            ("D".to_string(), Some("1-z".to_string())),
            ("E".to_string(), None),
        ]
    );
    assert_eq!(instruction(&d, 0, 0).keyword, "ARG");
}

#[test]
fn arg_substitution_in_from_resolves_a_stage() {
    // `BASE=builder`: BuildKit's FROM lookup is case-sensitive against the lower-cased stage
    // names, so `Builder` would be an image (issue 12; see `from_lookup_is_case_sensitive`).
    let d = ok("ARG BASE=builder\nARG TAG\nFROM golang AS builder\nFROM ${BASE}\nFROM $BASE\nFROM ${MISSING:-builder}\nFROM alpine:${TAG:-3.19}\n");
    assert_eq!(d.stages[1].base_stage, Some(0));
    assert_eq!(d.stages[1].from, "${BASE}");
    assert_eq!(d.stages[2].base_stage, Some(0));
    assert_eq!(d.stages[3].base_stage, Some(0));
    assert_eq!(d.stages[4].base_stage, None);
}

#[test]
fn copy_from_name_index_and_external_image() {
    let d = ok("ARG SRC=deps\nFROM a AS deps\nFROM b AS build\nFROM c\n\
                COPY --from=BUILD /out /out\n\
                COPY --from=0 /x /x\n\
                COPY --from=nginx:1.25 /etc/nginx /etc/nginx\n\
                COPY --chown=app --from=deps /y /y\n");
    assert_eq!(d.stages[2].depends_on, vec![0, 1]);
    assert_eq!(d.stages[2].base_stage, None);
    assert_eq!(
        instruction(&d, 2, 0).flags,
        vec!["--from=BUILD".to_string()]
    );
    assert_eq!(
        instruction(&d, 2, 3).flags,
        vec!["--chown=app".to_string(), "--from=deps".to_string()]
    );
    // BuildKit refuses variables in --from (issue 12: they were expanded).
    err_at(
        "ARG SRC=deps\nFROM a AS deps\nFROM c\nCOPY --chown=app --from=$SRC /y /y\n",
        4,
        18,
        "variable expansion is not supported for --from",
    );
}

#[test]
fn run_mount_from() {
    let d = ok("FROM a AS cache\nFROM b AS src\nFROM c AS tools\nFROM d\n\
                RUN --mount=type=bind,from=src,source=/app,target=/app \\\n    --mount=type=cache,target=/root/.cache,FROM=cache \\\n    --mount=type=tmpfs,target=/tmp make\n\
                RUN --mount=from=busybox,target=/bb true\n");
    assert_eq!(d.stages[3].depends_on, vec![0, 1]);
    assert_eq!(instruction(&d, 3, 0).flags.len(), 3);
    assert_eq!(instruction(&d, 3, 0).args, "make");
}

#[test]
fn diamond_graph() {
    let d = ok("FROM alpine AS base\n\
                FROM base AS left\n\
                FROM base AS right\n\
                FROM scratch AS unrelated\n\
                FROM left AS final\n\
                COPY --from=right /r /r\n");
    assert_eq!(d.find_stage("final"), Some(4));
    assert_eq!(d.stages_for_target(4), vec![0, 1, 2, 4]);
    assert_eq!(d.ancestors(4), vec![0, 1, 2]);
    assert_eq!(d.stages_for_target(3), vec![3]);
    assert!(d.ancestors(0).is_empty());
    assert!(d.stages_for_target(99).is_empty());
}

#[test]
fn find_stage_by_name_or_index() {
    let d = ok("FROM a AS Build\nFROM b\n");
    assert_eq!(d.find_stage("build"), Some(0));
    assert_eq!(d.find_stage("BUILD"), Some(0));
    assert_eq!(d.find_stage("1"), Some(1));
    assert_eq!(d.find_stage("2"), None);
    assert_eq!(d.find_stage("99999999999999999999999"), None);
    assert_eq!(d.find_stage("nope"), None);
    assert_eq!(d.find_stage(""), None);
}

#[test]
fn from_self_or_later_stage_is_an_image() {
    let d = ok("FROM later AS first\nFROM node AS node\nFROM alpine AS later\n");
    assert!(d
        .stages
        .iter()
        .all(|s| s.base_stage.is_none() && s.depends_on.is_empty()));
}

#[test]
fn non_ascii_text_is_safe() {
    let d = ok("FROM a\nRUN echo 'héllo wörld ✓' \\\n  ünïcode\nLABEL name=\"日本\"\n");
    assert_eq!(instruction(&d, 0, 0).args, "echo 'héllo wörld ✓'   ünïcode");
    err_at("FROM a AS 名前\n", 1, 11, "invalid stage name");
    err_at(
        "FROM a AS one\nCOPY --chown=ü:ü --from=two a b\nFROM b AS two\n",
        2,
        18,
        "defined later",
    );
}

// ----- errors

#[test]
fn unknown_instruction_names_column_and_lists_valid_ones() {
    let e = err_at(
        "FROM a\n   RUNN echo\n",
        2,
        4,
        "unknown instruction \"RUNN\"",
    );
    assert!(
        e.hint.starts_with("valid instructions: FROM, RUN, COPY,"),
        "{}",
        e.hint
    );
    err_at("FROM a\nONBUILD FOO x\n", 2, 9, "unknown instruction");
    err_at(
        "FROM a\nONBUILD FROM x\n",
        2,
        9,
        "isn't allowed as an ONBUILD trigger",
    );
}

#[test]
fn instruction_before_first_from() {
    err_at(
        "ARG A=1\n\nRUN echo\nFROM a\n",
        3,
        1,
        "RUN comes before the first FROM",
    );
}

#[test]
fn no_from_at_all() {
    let e = err_at("ARG A=1\n", 1, 1, "no FROM instruction");
    assert_eq!(
        e.message,
        "no FROM instruction; a Dockerfile starts with FROM <image>"
    );
}

#[test]
fn empty_whitespace_and_comment_only_files() {
    for text in [
        "",
        "   \n\t\n",
        "# just a comment\n# syntax=x\n",
        "\u{feff}",
    ] {
        err_at(text, 1, 1, "no instructions");
    }
    assert!(parse_bytes(b"\n\n  \n").is_err());
}

#[test]
fn missing_arguments() {
    err_at("FROM\n", 1, 1, "FROM requires an image");
    err_at(
        "FROM a\n  WORKDIR\n",
        2,
        3,
        "WORKDIR requires at least one argument",
    );
    err_at(
        "FROM a\nCOPY --from=x /only\n",
        2,
        1,
        "COPY requires at least two arguments",
    );
    err_at(
        "FROM a\nCOPY []\n",
        2,
        1,
        "COPY requires at least two arguments",
    );
    // Bare RUN/CMD are accepted by BuildKit.
    ok("FROM a\nRUN\nCMD\n");
}

#[test]
fn from_shape_errors() {
    err_at("FROM a b\n", 1, 8, "expected AS");
    err_at("FROM a AS\n", 1, 8, "needs a stage name");
    err_at("FROM a AS b c\n", 1, 13, "unexpected \"c\"");
    err_at("FROM --foo=1 a\n", 1, 6, "unknown flag \"--foo\"");
    err_at("FROM --platform a\n", 1, 6, "--platform needs a value");
}

#[test]
fn invalid_stage_names() {
    err_at("FROM a AS 1st\n", 1, 11, "invalid stage name \"1st\"");
    err_at("FROM a AS my/stage\n", 1, 11, "invalid stage name");
    ok("FROM a AS My-Stage_1.0\n");
}

#[test]
fn duplicate_stage_names() {
    // BuildKit builds these with a DuplicateStageName warning, the later stage winning the
    // lookups after it (issue 12: they were refused).
    let d = ok("FROM a AS build\nRUN x\nFROM b AS Build\nFROM build\nCOPY --from=BUILD / /\n");
    let w = &d.warnings[0];
    assert_eq!((w.line, w.column), (3, 11), "{w:?}");
    assert!(w.message.contains("duplicate stage name"), "{w:?}");
    assert!(w.message.contains("line 1"), "{w:?}");
    assert_eq!(d.stages[2].base_stage, Some(1));
    assert_eq!(d.stages[2].depends_on, vec![1]);
    assert_eq!(d.find_stage("build"), Some(1));
}

#[test]
fn copy_from_index_not_before() {
    err_at(
        "FROM a\nFROM b\nCOPY --from=1 /a /b\n",
        3,
        6,
        "stage \"1\" is not defined before this instruction",
    );
    err_at("FROM a\nCOPY --from=7 /a /b\n", 2, 6, "not defined before");
}

#[test]
fn copy_from_later_stage() {
    let e = err_at(
        "FROM a AS one\nCOPY --from=two /a /b\nFROM b AS two\n",
        2,
        6,
        "is defined later, at line 3",
    );
    assert!(e.message.contains("move it above"), "{e}");
    err_at(
        "FROM a\nRUN --mount=type=bind,from=later,target=/x true\nFROM b AS later\n",
        2,
        5,
        "defined later",
    );
    err_at(
        "FROM a AS me\nCOPY --from=me /a /b\n",
        2,
        6,
        "refers to itself",
    );
}

#[test]
fn error_position_on_continuation_line() {
    err_at(
        "FROM a AS one\nCOPY \\\n  --from=two /a /b\nFROM b AS two\n",
        3,
        3,
        "defined later",
    );
}

#[test]
fn unterminated_heredoc() {
    err_at(
        "FROM a\nRUN cat <<EOF\nnever ends\n",
        2,
        9,
        "heredoc \"<<EOF\" is not terminated",
    );
}

#[test]
fn directive_errors() {
    err_at("# escape=x\nFROM a\n", 1, 1, "invalid escape character");
    err_at(
        "# escape=`\n# escape=\\\nFROM a\n",
        2,
        1,
        "only one escape parser directive",
    );
}

#[test]
fn json_with_non_strings() {
    err_at(
        "FROM a\nCMD [\"a\", 1]\n",
        2,
        5,
        "not every element is a string",
    );
}

#[test]
fn blank_arg_name() {
    err_at("ARG =x\nFROM a\n", 1, 5, "ARG names can not be blank");
}

#[test]
fn bytes_errors() {
    let e = parse_bytes(b"FROM a\nRUN \xff\xfe\n").expect_err("invalid UTF-8");
    assert_eq!((e.line, e.column), (2, 5));
    assert!(e.message.contains("byte offset 11"), "{e}");
    let e = parse_bytes(b"\xEF\xBB\xBFFROM a\nRUN x\x00y\n").expect_err("NUL");
    assert_eq!((e.line, e.column), (2, 6));
    assert!(e.message.contains("NUL byte (at byte offset 15)"), "{e}");
    let e = parse_bytes(b"\xFF\xFEF\x00R\x00").expect_err("UTF-16");
    assert!(e.message.contains("UTF-16"), "{e}");
}

#[test]
fn display_format() {
    let e = err("FROM a\nBOGUS x\n");
    let shown = e.to_string();
    assert!(
        shown.starts_with(
            "line 2, column 1: unknown instruction \"BOGUS\"\nvalid instructions: FROM"
        ),
        "{shown}"
    );
    let no_hint = DockerfileError {
        line: 1,
        column: 2,
        message: "m".into(),
        hint: String::new(),
    };
    assert_eq!(no_hint.to_string(), "line 1, column 2: m");
}

#[test]
fn long_garbage_keyword_is_quoted_short() {
    let keyword = "X".repeat(10_000);
    let e = err(&format!("FROM a\n{keyword} y\n"));
    assert!(e.message.len() < 100, "{}", e.message);
}

#[test]
fn hundred_thousand_lines_parse() {
    // As many stages as allowed, each a hundred lines long.
    let mut text = String::from("ARG BASE=alpine:3.19\n");
    for stage in 0..MAX_STAGES {
        text.push_str(&format!("FROM $BASE AS s{stage}\n"));
        if stage > 0 {
            text.push_str(&format!("COPY --from=s{} /out /in\n", stage - 1));
        } else {
            text.push_str("COPY . /in\n");
        }
        text.push_str("RUN set -e; \\\n    echo one \\\n    # note\n    && echo two\n");
        text.push_str("RUN <<EOF\nFROM not-a-stage\nEOF\n");
        text.push_str("WORKDIR /w\nENV A=1\n");
        for line in 0..89 {
            text.push_str(&format!("RUN echo {stage}.{line}\n"));
        }
    }
    assert!(text.lines().count() >= 100_000);
    let d = ok(&text);
    assert_eq!(d.stages.len(), MAX_STAGES);
    assert_eq!(d.stages_for_target(MAX_STAGES - 1).len(), MAX_STAGES);
    assert_eq!(d.stages[MAX_STAGES - 1].depends_on, vec![MAX_STAGES - 2]);
}

fn chained_stages(count: usize) -> String {
    let mut text = String::from("FROM busybox AS s0\n");
    for i in 1..count {
        text.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
    }
    text
}

#[test]
fn stages_up_to_the_limit_parse_and_the_graph_stays_cheap() {
    let d = ok(&chained_stages(MAX_STAGES));
    assert_eq!(d.stages.len(), MAX_STAGES);
    // The planner asks for every stage's ancestors: n calls, each linear in the stages below.
    let start = std::time::Instant::now();
    let total: usize = (0..MAX_STAGES).map(|i| d.ancestors(i).len()).sum();
    assert_eq!(total, MAX_STAGES * (MAX_STAGES - 1) / 2);
    assert_eq!(
        d.stages_for_target(MAX_STAGES - 1),
        (0..MAX_STAGES).collect::<Vec<_>>()
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn too_many_stages_are_refused_at_the_first_one_over() {
    let e = err_at(
        &chained_stages(MAX_STAGES + 1),
        MAX_STAGES + 1,
        1,
        "more than 1000 stages",
    );
    assert!(e.hint.contains("merge stages"), "{e}");
    // Refused while reading, so the rest of a huge file costs nothing.
    let start = std::time::Instant::now();
    err_at(
        &chained_stages(100_000),
        MAX_STAGES + 1,
        1,
        "more than 1000 stages",
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn global_args_that_expand_exponentially_are_refused() {
    // Each ARG is eight copies of the one before: A5 would be 256 KiB, A11 8^12 bytes.
    let mut text = String::from("ARG A0=xxxxxxxx\n");
    for i in 1..12 {
        let copies = format!("${{A{}}}", i - 1).repeat(8);
        text.push_str(&format!("ARG A{i}={copies}\n"));
    }
    text.push_str("FROM busybox\n");
    let e = err_at(&text, 6, 5, "ARG A5 expands to more than 64 KiB");
    assert!(e.hint.contains("repeating other ARGs"), "{e}");
}

#[test]
fn substituted_values_up_to_64_kib_are_kept() {
    let limit = "x".repeat(MAX_SUBSTITUTED_VALUE);
    let d = ok(&format!("ARG A={limit}\nARG B=$A\nFROM $B\n"));
    assert_eq!(
        d.global_args[1].1.as_deref().map(str::len),
        Some(MAX_SUBSTITUTED_VALUE)
    );
    err_at(
        &format!("ARG A={limit}\nARG B=${{A}}y\nFROM a\n"),
        2,
        5,
        "ARG B expands to more than 64 KiB",
    );
    err_at(
        &format!("ARG A={limit}x\nFROM a\n"),
        1,
        5,
        "ARG A expands to more than 64 KiB",
    );
    err_at(
        &format!("ARG A={limit}\nFROM $A$A\n"),
        2,
        6,
        "the FROM image expands to more than 64 KiB",
    );
    // A variable in --mount from= is refused before any substitution (issue 12: it was
    // expanded); the limit still holds for FROM --platform.
    err_at(
        &format!("ARG A={limit}\nFROM a\nRUN --mount=from=${{X:-$A$A}} x\n"),
        3,
        5,
        "variable expansion is not supported in --mount from=",
    );
    err_at(
        &format!("ARG A={limit}\nFROM --platform=$A$A a\n"),
        2,
        22,
        "the FROM --platform expands to more than 64 KiB",
    );
}

#[test]
fn substitution_has_a_budget_for_the_whole_file() {
    // 500 copies of a 1,000-byte ARG pass the per-value limit at once.
    // FROM lines carry the substitution: variables in COPY --from are refused (issue 12).
    let a = "a".repeat(1_000);
    let mut text = format!("ARG A={a}\nFROM busybox\n");
    let many = format!("FROM {}\n", "$A".repeat(500));
    text.push_str(&many.repeat(10_000));
    err_at(&text, 3, 6, "the FROM image expands to more than 64 KiB");
    // 60 copies (60,000 bytes) each fit; the 280th line passes the file's 16 MiB.
    let mut text = format!("ARG A={a}\nFROM busybox\n");
    let under = format!("FROM {}\n", "$A".repeat(60));
    text.push_str(&under.repeat(10_000));
    let start = std::time::Instant::now();
    let e = err_at(&text, 282, 6, "copies more than 16 MiB in this Dockerfile");
    assert!(e.hint.contains("shorter ARG values"), "{e}");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn parse_bytes_strips_one_bom_only() {
    let text = "\u{feff}\u{feff}FROM a\n";
    let e = parse_bytes(text.as_bytes()).expect_err("a second BOM is text");
    assert!(e.message.contains("unknown instruction"), "{e}");
    assert_eq!(Err(e), parse(text));
}

#[test]
fn huge_single_lines_do_not_hang() {
    let nested = format!("ARG A=x\nFROM {}\n", "${A:-".repeat(50_000));
    let _ = parse(&nested);
    let unclosed = format!("ARG A=x\nFROM a{}\n", "${".repeat(100_000));
    let _ = parse(&unclosed);
    let long = format!("FROM a\nRUN {}\n", "x \\\n".repeat(50_000));
    assert!(parse(&long).is_ok());
}

/// A tiny deterministic generator: arbitrary bytes and Dockerfile-ish fragments must never
/// panic, whatever the mix.
#[test]
fn arbitrary_input_never_panics() {
    const PIECES: [&str; 24] = [
        "FROM ",
        "AS ",
        "RUN ",
        "COPY ",
        "--from=",
        "--mount=type=bind,from=",
        "ARG ",
        "${",
        "}",
        "$",
        "\\",
        "`",
        "\n",
        "\r\n",
        "<<",
        "EOF",
        "\"",
        "'",
        "#",
        "# escape=`\n",
        "[\"a\"",
        "é",
        "0",
        " ",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3_000 {
        let mut bytes = Vec::new();
        for _ in 0..(next() % 40) {
            if next() % 5 == 0 {
                bytes.push((next() % 256) as u8);
            } else {
                bytes.extend_from_slice(PIECES[(next() % PIECES.len() as u64) as usize].as_bytes());
            }
        }
        let _ = parse_bytes(&bytes);
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }
}

// ----- issue 12: the graph as BuildKit's dispatcher computes it

fn with(text: &str, inputs: &GraphInputs) -> Dockerfile {
    match parse_with(text, inputs) {
        Ok(dockerfile) => dockerfile,
        Err(e) => panic!("expected {text:?} to parse, got: {e}"),
    }
}

fn platforms(list: &[&str]) -> GraphInputs {
    GraphInputs {
        platforms: list.iter().filter_map(|p| Platform::parse(p)).collect(),
        ..GraphInputs::default()
    }
}

fn build_args(pairs: &[(&str, &str)]) -> GraphInputs {
    GraphInputs {
        build_args: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..GraphInputs::default()
    }
}

#[test]
fn automatic_platform_args_pick_the_base_stage() {
    let text =
        "FROM alpine AS base-amd64\nFROM alpine AS base-arm64\nFROM base-${TARGETARCH} AS base\n";
    let d = ok(text);
    assert_eq!(d.stages[2].base, "base-amd64");
    assert_eq!(d.stages[2].depends_on, vec![0]);
    let arm = with(text, &platforms(&["linux/arm64"]));
    assert_eq!(arm.stages[2].depends_on, vec![1]);
    // A multi-platform build needs each platform's base.
    let both = with(text, &platforms(&["linux/amd64", "linux/arm64"]));
    assert_eq!(both.stages[2].depends_on, vec![0, 1]);
    assert_eq!(both.stages[2].base, "base-amd64");
    // BUILDPLATFORM and friends too, and a build arg of the same name wins.
    let d = ok("FROM alpine AS linux-amd64\nFROM ${BUILDOS}-${BUILDARCH}\n");
    assert_eq!(d.stages[1].depends_on, vec![0]);
    let d = with(
        "FROM alpine AS x-arm\nFROM x-$TARGETARCH\n",
        &build_args(&[("TARGETARCH", "arm")]),
    );
    assert_eq!(d.stages[1].depends_on, vec![0]);
    let d = ok("FROM alpine AS p-linux-amd64-\nFROM p-${TARGETPLATFORM/\\//-}-${TARGETVARIANT}\n");
    assert_eq!(d.stages[1].depends_on, vec![0]);
}

#[test]
fn platforms_are_normalised() {
    let p = |s: &str| Platform::parse(s).map(|p| p.to_string());
    assert_eq!(p("linux/arm64/v8").as_deref(), Some("linux/arm64"));
    assert_eq!(p("linux/aarch64").as_deref(), Some("linux/arm64"));
    assert_eq!(p("linux/arm").as_deref(), Some("linux/arm/v7"));
    assert_eq!(p("Linux/x86_64").as_deref(), Some("linux/amd64"));
    assert_eq!(p("linux"), None);
}

#[test]
fn build_args_reach_the_graph() {
    let text = "ARG BASE\nFROM alpine AS builder\nFROM ${BASE}\n";
    let d = with(text, &build_args(&[("BASE", "builder")]));
    assert_eq!(d.stages[1].base, "builder");
    assert_eq!(d.stages[1].depends_on, vec![0]);
    // A build arg that switches the expensive stage off: it is no longer needed.
    let text = "ARG MODE=full\nFROM alpine AS full\nRUN make world\nFROM alpine AS slim\nFROM ${MODE} AS final\n";
    assert_eq!(ok(text).stages_for_target(2), vec![0, 2]);
    let d = with(text, &build_args(&[("MODE", "slim")]));
    assert_eq!(d.stages_for_target(2), vec![1, 2]);
    assert_eq!(
        d.global_args,
        vec![("MODE".to_string(), Some("slim".to_string()))]
    );
    // Only declared global ARGs take build args (BuildKit's meta args).
    let d = with(
        "FROM alpine AS x\nFROM ${UNDECLARED:-alpine}\n",
        &build_args(&[("UNDECLARED", "x")]),
    );
    assert!(d.stages[1].depends_on.is_empty());
}

#[test]
fn the_full_word_grammar_in_from() {
    let d = ok("ARG P=linux/amd64\nARG V=1.2.3\nFROM alpine AS st-amd64\nFROM st-${P#linux/}\nFROM alpine AS v1\nFROM v${V%%.*}\nFROM alpine AS linux\nFROM ${P%/*}\nFROM alpine AS x-1-2-3\nFROM x-${V//./-}\n");
    assert_eq!(d.stages[1].depends_on, vec![0]);
    assert_eq!(d.stages[3].depends_on, vec![2]);
    assert_eq!(d.stages[5].depends_on, vec![4]);
    assert_eq!(d.stages[7].depends_on, vec![6]);
    let e = err_at(
        "ARG IMAGE\nFROM ${IMAGE:?required}\n",
        2,
        6,
        "IMAGE: required",
    );
    assert!(e.hint.contains("--build-arg IMAGE="), "{e}");
    err_at("FROM ${A:1}\n", 1, 6, "unsupported modifier");
    err_at("FROM a${\n", 1, 6, "missing '}'");
}

#[test]
fn variables_in_copy_from_and_mount_from_are_refused() {
    let e = err_at(
        "ARG S=a\nFROM alpine AS a\nFROM b\nCOPY --from=${S} / /\n",
        4,
        6,
        "variable expansion is not supported for --from",
    );
    assert!(e.hint.contains("FROM ${SRC} AS src"), "{e}");
    err_at(
        "FROM alpine AS a\nFROM b\nRUN --mount=type=bind,from=$S,target=/s true\n",
        3,
        5,
        "not supported in --mount from=",
    );
    // BuildKit's own test: a `$` at the very end is no variable.
    ok("FROM b\nRUN --mount=from=a$,target=/s true\n");
}

#[test]
fn from_lookup_is_case_sensitive() {
    let e = err_at(
        "FROM golang AS builder\nFROM Builder\n",
        2,
        6,
        "FROM \"Builder\" names no stage",
    );
    assert_eq!(e.hint, "write FROM builder to build on the stage");
    // COPY --from and --target compare case-insensitively.
    let d =
        ok("FROM golang AS Builder\nFROM builder AS next\nFROM alpine\nCOPY --from=BUILDER / /\n");
    assert_eq!(d.stages[1].depends_on, vec![0]);
    assert_eq!(d.stages[2].depends_on, vec![0]);
    // A registry host may have capitals: that is an image.
    assert!(
        ok("FROM a AS img\nFROM Registry.Example.com/img\n").stages[1]
            .depends_on
            .is_empty()
    );
}

#[test]
fn mount_from_looks_up_names_only() {
    let d =
        ok("FROM alpine AS zero\nFROM b\nRUN --mount=from=0,target=/z true\nCOPY --from=0 / /\n");
    let deps = &d.stages[1].dependencies;
    assert_eq!(
        deps,
        &vec![Dependency {
            stage: 0,
            kind: DependencyKind::CopyFrom,
            line: 4
        }]
    );
    // The last `from=` of a mount wins, keys in any case.
    let d = ok("FROM a AS x\nFROM a AS y\nFROM c\nRUN --mount=from=x,FROM=y,target=/t true\n");
    assert_eq!(d.stages[2].depends_on, vec![1]);
    assert_eq!(
        d.stages[2].dependencies,
        vec![Dependency {
            stage: 1,
            kind: DependencyKind::Mount,
            line: 4
        }]
    );
}

#[test]
fn onbuild_triggers_are_dependencies_of_the_children() {
    let d = ok("FROM alpine AS tools\n\
                FROM alpine AS parent\n\
                ONBUILD COPY --from=tools /t /t\n\
                ONBUILD RUN --mount=from=tools,target=/m true\n\
                FROM parent AS child\n\
                FROM child AS grandchild\n");
    assert!(d.stages[1].depends_on.is_empty());
    assert_eq!(d.stages[2].depends_on, vec![0, 1]);
    assert_eq!(
        d.stages[2].dependencies,
        vec![
            Dependency {
                stage: 0,
                kind: DependencyKind::Onbuild,
                line: 3
            },
            Dependency {
                stage: 0,
                kind: DependencyKind::Onbuild,
                line: 4
            },
            Dependency {
                stage: 1,
                kind: DependencyKind::From,
                line: 5
            },
        ]
    );
    // Triggers run in direct children only.
    assert_eq!(d.stages[3].depends_on, vec![2]);
    err_at(
        "FROM a AS p\nONBUILD COPY --from=$X / /\nFROM p\n",
        2,
        14,
        "not supported for --from",
    );
}

#[test]
fn copy_and_add_flags_as_buildkit() {
    err_at(
        "FROM a AS x\nFROM b\nADD --from=x / /\n",
        3,
        5,
        "unknown flag \"--from\" on ADD",
    );
    let e = err("FROM a AS x\nFROM b\nCOPY --FROM=x / /\n");
    assert!(e.hint.contains("case-sensitive: write --from"), "{e}");
    err_at(
        "FROM b\nCOPY --from / /\n",
        2,
        6,
        "missing a value on flag --from",
    );
    ok("FROM a AS x\nFROM b\nCOPY --link --parents --chmod=755 --exclude=*.md --from=x / /\nADD --checksum=sha256:00 --keep-git-dir=true --unpack https://x/y /\n");
}

#[test]
fn env_and_label_need_values() {
    err_at("FROM a\nENV PATH\n", 2, 5, "ENV \"PATH\" has no value");
    err_at("FROM a\nENV A=1 B\n", 2, 9, "ENV word \"B\" has no `=`");
    err_at(
        "FROM a\nLABEL maintainer\n",
        2,
        7,
        "LABEL \"maintainer\" has no value",
    );
    ok("FROM a\nENV PATH /usr/bin:$PATH\nENV A=\"x y\" B=2\nLABEL a=b\n");
}

#[test]
fn a_blank_base_is_refused_before_docker_runs() {
    let e = err_at(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n",
        2,
        6,
        "base name should not be blank",
    );
    assert!(e.hint.contains("--build-arg BASE_IMAGE=<image>"), "{e}");
    err_at("FROM \"\" AS foo\n", 1, 6, "base name should not be blank");
    let d = with(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n",
        &build_args(&[("BASE_IMAGE", "alpine:3.19")]),
    );
    assert_eq!(d.stages[0].base, "alpine:3.19");
}

#[test]
fn global_scope_with_unknown_values() {
    let d = ok("ARG REPO=library\nARG IMAGE=${REPO}/alpine\nARG TAG\nFROM ${IMAGE}:${TAG:-3}\n");
    let args = BTreeMap::from([("REPO".to_string(), None)]);
    let scope = d.global_scope(&args, None);
    assert_eq!(scope.get("IMAGE"), Some(&None));
    assert_eq!(scope.get("TAG"), None);
    assert_eq!(scope.get("TARGETARCH"), Some(&Some("amd64".to_string())));
    let scope = d.global_scope(&BTreeMap::new(), Platform::parse("linux/arm64").as_ref());
    assert_eq!(
        scope.get("IMAGE"),
        Some(&Some("library/alpine".to_string()))
    );
    assert_eq!(scope.get("TARGETARCH"), Some(&Some("arm64".to_string())));
}

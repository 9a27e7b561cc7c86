//! Checks on one instruction.

use super::*;

pub(super) fn check_instruction(lexed: &Lexed) -> Result<(), DockerfileError> {
    let keyword = lexed.instruction.keyword.as_str();
    if !KEYWORDS.contains(&keyword) {
        return Err(unknown_instruction(
            lexed.written_keyword(),
            lexed.keyword_at(),
        ));
    }
    if lexed.form == Form::MixedJson {
        return Err(error(
            lexed.at(lexed.args_offset),
            format!("{keyword} uses the JSON array form, but not every element is a string"),
            "quote every element, e.g. [\"sh\", \"-c\", \"echo hi\"]",
        ));
    }
    check_argument_count(lexed)?;
    if keyword == "ONBUILD" {
        check_onbuild_trigger(lexed)?;
    }
    if keyword == "ENV" || keyword == "LABEL" {
        check_name_values(lexed)?;
    }
    Ok(())
}

/// `ENV`/`LABEL` pairs as BuildKit's parser reads them: `NAME=value ...`, or the old
/// `NAME value` form, which needs the value (`ENV PATH` alone is refused: "ENV must have two
/// arguments"); in the new form every word needs its `=`.
fn check_name_values(lexed: &Lexed) -> Result<(), DockerfileError> {
    let keyword = lexed.instruction.keyword.as_str();
    // BuildKit splits these words with `\` as escape whatever the escape directive says.
    let words = shell_words(lexed.args_text(), lexed.args_offset, '\\');
    let Some(&(first_at, first)) = words.first() else {
        return Ok(());
    };
    if !first.contains('=') {
        if words.len() < 2 {
            return Err(error(
                lexed.at(first_at),
                format!("{keyword} {} has no value", quoted(first)),
                format!(
                    "write {keyword} {first}=<value> (or the old form {keyword} {first} <value>)"
                ),
            ));
        }
        return Ok(());
    }
    match words.iter().find(|(_, word)| !word.contains('=')) {
        Some(&(at, word)) => Err(error(
            lexed.at(at),
            format!("{keyword} word {} has no `=`", quoted(word)),
            format!(
                "write {keyword} <name>=<value> [<name>=<value> ...]; quote values with blanks"
            ),
        )),
        None => Ok(()),
    }
}

pub(super) fn unknown_instruction(written: &str, at: (usize, usize)) -> DockerfileError {
    error(
        at,
        format!("unknown instruction {}", quoted(written)),
        format!("valid instructions: {}", KEYWORDS.join(", ")),
    )
}

pub(super) fn check_argument_count(lexed: &Lexed) -> Result<(), DockerfileError> {
    let keyword = lexed.instruction.keyword.as_str();
    let (needed, message, hint) = match keyword {
        // BuildKit accepts these bare (an empty command).
        "RUN" | "CMD" | "ENTRYPOINT" => return Ok(()),
        "FROM" => (
            1,
            "FROM requires an image".to_string(),
            FROM_HINT.to_string(),
        ),
        "COPY" | "ADD" => (
            2,
            format!(
                "{keyword} requires at least two arguments: one or more sources and a destination"
            ),
            format!("write {keyword} <source>... <destination>"),
        ),
        _ => (
            1,
            format!("{keyword} requires at least one argument"),
            format!("add the arguments after {keyword}, or remove the line"),
        ),
    };
    if lexed.argument_count() >= needed {
        return Ok(());
    }
    Err(error(lexed.keyword_at(), message, hint))
}

pub(super) fn check_onbuild_trigger(lexed: &Lexed) -> Result<(), DockerfileError> {
    let args = lexed.instruction.args.as_str();
    let trigger = args.split(is_blank).next().unwrap_or_default();
    let at = lexed.at(lexed.args_offset);
    let upper = trigger.to_ascii_uppercase();
    if !KEYWORDS.contains(&upper.as_str()) {
        return Err(unknown_instruction(trigger, at));
    }
    if matches!(upper.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
        return Err(error(
            at,
            format!("{upper} isn't allowed as an ONBUILD trigger"),
            "ONBUILD takes an instruction other than ONBUILD, FROM or MAINTAINER",
        ));
    }
    Ok(())
}

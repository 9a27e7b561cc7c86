//! Reading instructions.

use super::*;

pub(super) fn has_flag(ins: &Instruction, name: &str) -> bool {
    ins.flags.iter().any(|f| {
        let f = f.trim_start_matches('-');
        f == name || f.strip_prefix(name).is_some_and(|r| r.starts_with('='))
    })
}

/// A stage as lint's messages name it: `` `builder` ``, or its index when it has no name.
pub(super) fn stage_label(stage: &Stage) -> String {
    match stage.name {
        Some(_) => format!("`{}`", stage.target()),
        None => stage.target(),
    }
}

/// JSON (exec) form, `["a", "b"]`, as its words.
pub(super) fn exec_form(args: &str) -> Option<Vec<String>> {
    if !args.starts_with('[') {
        return None;
    }
    serde_json::from_str(args).ok()
}

/// The shell text a `RUN` executes: its command (for exec form, the `sh -c` script, or the
/// words) and its heredoc bodies.
pub(super) fn run_script(ins: &Instruction) -> String {
    let mut text = match exec_form(&ins.args) {
        Some(argv) => match argv.iter().position(|a| a == "-c") {
            Some(at) => argv.get(at + 1).cloned().unwrap_or_default(),
            None => argv.join(" "),
        },
        None => ins.args.clone(),
    };
    for body in &ins.heredocs {
        text.push('\n');
        text.push_str(body);
    }
    text
}

/// Sources and destination of a `COPY`/`ADD`, in either form.
pub(super) fn copy_operands(ins: &Instruction) -> Vec<String> {
    exec_form(&ins.args).unwrap_or_else(|| words(&ins.args))
}

/// The words of a simple command after assignments (`DEBIAN_FRONTEND=noninteractive`),
/// wrappers (`sudo`, `env`) and shell keywords (`then`, `do`) in front of the program.
pub(super) fn command_words(words: &[String]) -> &[String] {
    let skip = words
        .iter()
        .take_while(|w| {
            let assignment = w
                .split_once('=')
                .is_some_and(|(n, _)| !n.is_empty() && identifier_len(n) == n.len());
            assignment
                || matches!(
                    w.as_str(),
                    "sudo"
                        | "env"
                        | "time"
                        | "nice"
                        | "exec"
                        | "command"
                        | "then"
                        | "do"
                        | "else"
                        | "if"
                        | "while"
                        | "until"
                        | "!"
                        | "{"
                )
        })
        .count();
    &words[skip..]
}

/// Blank-separated words, quotes removed.
pub(super) fn words(text: &str) -> Vec<String> {
    tokenize(text, false).concat()
}

/// The simple commands of a shell script, each as its words with quotes removed.
pub(super) fn simple_commands(script: &str) -> Vec<Vec<String>> {
    tokenize(script, true)
}

/// Splits text into words (blanks outside quotes) and, when `commands` is set, into simple
/// commands at `;`, `&`, `|`, newlines, parentheses and backticks outside quotes, dropping
/// `#` comments. Not a shell: no expansion, no here-documents; enough to find a program and its
/// subcommand.
pub(super) fn tokenize(text: &str, commands: bool) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    let end_word = |word: &mut String, in_word: &mut bool, current: &mut Vec<String>| {
        if *in_word {
            current.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            Some(_) => word.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '\\' => match chars.next() {
                    Some('\n') | None => {}
                    Some(next) => {
                        word.push(next);
                        in_word = true;
                    }
                },
                '#' if commands && !in_word => {
                    for skipped in chars.by_ref() {
                        if skipped == '\n' {
                            break;
                        }
                    }
                    end_word(&mut word, &mut in_word, &mut current);
                    out.push(std::mem::take(&mut current));
                }
                ';' | '&' | '|' | '\n' | '(' | ')' | '`' if commands => {
                    end_word(&mut word, &mut in_word, &mut current);
                    out.push(std::mem::take(&mut current));
                }
                c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut current),
                _ => {
                    word.push(c);
                    in_word = true;
                }
            },
        }
    }
    end_word(&mut word, &mut in_word, &mut current);
    out.push(current);
    out.retain(|command| !command.is_empty());
    out
}

pub(super) fn identifier_len(text: &str) -> usize {
    text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len())
}

//! Turning a [`Plan`] into text: a POSIX sh script a CI job can paste, or JSON for tools; and
//! the other YAML layercache writes (CI jobs, the starter spec of `layercache init`).
//! Shell quoting lives here and nowhere else.

pub mod ci_jobs;

mod json;
mod sh;
mod starter;

pub use json::json;
pub use sh::{quote, resolve_symbols, sh, sh_for_job, sh_with_prelude};
pub use starter::{starter_spec, Starter};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_leaves_plain_words_bare() {
        assert_eq!(
            quote("localhost:5000/app:cache-base"),
            "localhost:5000/app:cache-base"
        );
        assert_eq!(quote("--build-arg"), "--build-arg");
        assert_eq!(quote("A=1"), "A=1");
    }

    #[test]
    fn quote_wraps_everything_else_in_single_quotes() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$(touch x)"), "'$(touch x)'");
        assert_eq!(quote("`id`;\n"), "'`id`;\n'");
    }

    #[test]
    fn quoted_words_round_trip_through_sh() {
        let words = [
            "",
            "a b",
            "it's",
            "$(touch /tmp/nope)",
            "`id`",
            "x;y",
            "a\nb",
            "\"q\"",
            "\\",
            "*",
            "~",
            "#c",
            "é€",
        ];
        for w in words {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf '%s' {}", quote(w)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), w);
        }
    }

    #[test]
    fn symbols_become_shell_expansions_wherever_they_sit() {
        let symbols = vec![("lcsym00q".to_string(), "${LC_SHA}".to_string())];
        let script = "# it's lcsym00q\ndocker push r:lcsym00q\necho 'a lcsym00q b' \"x lcsym00q\" 'it'\\''s' lcsym00q\n";
        let resolved = resolve_symbols(script, &symbols);
        assert_eq!(
            resolved,
            "# it's ${LC_SHA}\ndocker push r:\"${LC_SHA}\"\necho 'a '\"${LC_SHA}\"' b' \"x ${LC_SHA}\" 'it'\\''s' \"${LC_SHA}\"\n"
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "LC_SHA='abc 1'; printf '%s|' {}",
                resolved.lines().nth(2).unwrap().trim_start_matches("echo ")
            ))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "a abc 1 b|x abc 1|it's|abc 1|"
        );
    }
}

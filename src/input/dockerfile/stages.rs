//! Stages and the graph.

use super::*;

/// A stage reference from `COPY --from` or `RUN --mount=from=`, resolved once all stages are known
/// (a name may belong to a later stage, which is an error we want to explain).
pub(super) struct StageReference {
    pub(super) stage: usize,
    /// The value with global `ARG`s substituted.
    pub(super) value: String,
    pub(super) at: (usize, usize),
}

#[derive(Default)]
pub(super) struct Builder {
    pub(super) global_args: Vec<(String, Option<String>)>,
    /// Global `ARG` defaults, for substitution in `FROM` and `--from`.
    pub(super) env: Env,
    pub(super) stages: Vec<Stage>,
    /// Lower-cased stage name to index.
    pub(super) names: HashMap<String, usize>,
    pub(super) references: Vec<StageReference>,
    /// Bytes copied out of variables so far, against `MAX_SUBSTITUTED_TOTAL`.
    pub(super) substituted: usize,
}

impl Builder {
    pub(super) fn add(&mut self, lexed: Lexed, escape: char) -> Result<(), DockerfileError> {
        match lexed.instruction.keyword.as_str() {
            "FROM" => self.add_stage(&lexed, escape),
            "ARG" if self.stages.is_empty() => self.add_global_args(&lexed, escape),
            keyword if self.stages.is_empty() => Err(error(
                lexed.keyword_at(),
                format!("{keyword} comes before the first FROM"),
                "only ARG, comments and parser directives may come before the first FROM; \
                 add FROM <image> above this line",
            )),
            _ => {
                self.note_references(&lexed, escape)?;
                if let Some(stage) = self.stages.last_mut() {
                    stage.instructions.push(lexed.instruction);
                }
                Ok(())
            }
        }
    }

    pub(super) fn add_global_args(
        &mut self,
        lexed: &Lexed,
        escape: char,
    ) -> Result<(), DockerfileError> {
        for (offset, word) in shell_words(lexed.args_text(), lexed.args_offset, escape) {
            let (name, default) = match word.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (word, None),
            };
            if name.is_empty() {
                return Err(error(
                    lexed.at(offset),
                    "ARG names can not be blank",
                    "write ARG <name>[=<default>]",
                ));
            }
            // Each default sees the global ARGs above it, as BuildKit evaluates them.
            let default = match default {
                Some(value) => {
                    let what = || format!("ARG {name}");
                    Some(self.expand(value, escape, lexed.at(offset), what)?)
                }
                None => None,
            };
            if let Some(value) = &default {
                self.env.insert(name.to_string(), value.clone());
            }
            self.global_args.push((name.to_string(), default));
        }
        Ok(())
    }

    /// `word` with the global `ARG`s substituted, or an error at `at` if that passes the limit on
    /// one value or the file's budget. `what` names the value for the message (`ARG A`).
    pub(super) fn expand(
        &mut self,
        word: &str,
        escape: char,
        at: (usize, usize),
        what: impl FnOnce() -> String,
    ) -> Result<String, DockerfileError> {
        let budget = MAX_SUBSTITUTED_TOTAL.saturating_sub(self.substituted);
        match expand_word(word, escape, &self.env, MAX_SUBSTITUTED_VALUE, budget) {
            Ok(expanded) => {
                self.substituted += expanded.substituted;
                Ok(expanded.text)
            }
            Err(TooLong::Value) => Err(error(
                at,
                format!(
                    "{} expands to more than {} KiB once global ARGs are substituted; \
                     layercache refuses longer values",
                    what(),
                    MAX_SUBSTITUTED_VALUE / 1024
                ),
                "values built by repeating other ARGs grow fast; keep each value short \
                 (image references and stage names are a few dozen bytes)",
            )),
            Err(TooLong::Budget) => Err(error(
                at,
                format!(
                    "{}: substituting global ARGs copies more than {} MiB in this Dockerfile; \
                     layercache refuses that much",
                    what(),
                    MAX_SUBSTITUTED_TOTAL / (1024 * 1024)
                ),
                "use shorter ARG values, or refer to long ones less often",
            )),
        }
    }

    pub(super) fn add_stage(&mut self, lexed: &Lexed, escape: char) -> Result<(), DockerfileError> {
        let index = self.stages.len();
        if index >= MAX_STAGES {
            // Refused before anything else of the stage is read, so a file of a million stages
            // costs no more than its first thousand.
            return Err(error(
                lexed.keyword_at(),
                format!("more than {MAX_STAGES} stages; layercache refuses Dockerfiles this long"),
                "real Dockerfiles have a handful of stages; merge stages, or split the file",
            ));
        }
        let platform = from_platform(lexed)?;
        let FromOperands { image: from, name } = from_operands(lexed)?;
        if let Some((offset, name)) = name {
            self.check_stage_name(lexed, offset, name)?;
        }
        // Only earlier stages are in `names` yet: BuildKit takes `FROM <this or a later stage>`
        // to mean an image of that name.
        let resolved = self
            .expand(from, escape, lexed.at(lexed.args_offset), || {
                "the FROM image".to_string()
            })?
            .to_ascii_lowercase();
        let base_stage = self.names.get(&resolved).copied();
        if let Some((_, name)) = name {
            self.names.insert(name.to_ascii_lowercase(), index);
        }
        self.stages.push(Stage {
            index,
            name: name.map(|(_, name)| name.to_string()),
            from: from.to_string(),
            base_stage,
            platform,
            line: lexed.instruction.line,
            depends_on: base_stage.into_iter().collect(),
            instructions: Vec::new(),
        });
        Ok(())
    }

    pub(super) fn check_stage_name(
        &self,
        lexed: &Lexed,
        offset: usize,
        name: &str,
    ) -> Result<(), DockerfileError> {
        if !is_valid_stage_name(name) {
            return Err(error(
                lexed.at(offset),
                format!("invalid stage name {}", quoted(name)),
                "a stage name starts with a letter and holds only letters, digits, `-`, `_` and `.`",
            ));
        }
        if let Some(&first) = self.names.get(&name.to_ascii_lowercase()) {
            let first_line = self.stages.get(first).map_or(0, |stage| stage.line);
            return Err(error(
                lexed.at(offset),
                format!(
                    "duplicate stage name {}: already used at line {first_line}",
                    quoted(name)
                ),
                "give each stage its own name (names are compared case-insensitively)",
            ));
        }
        Ok(())
    }

    /// Records `COPY --from=` and `RUN --mount=...from=` values for resolution in `finish`.
    pub(super) fn note_references(
        &mut self,
        lexed: &Lexed,
        escape: char,
    ) -> Result<(), DockerfileError> {
        let stage = self.stages.len().saturating_sub(1);
        let keyword = lexed.instruction.keyword.as_str();
        for (offset, raw) in lexed.flag_positions() {
            let value = match (keyword, flag_parts(raw)) {
                ("COPY", (name, Some(value))) if name == "from" => Some(value),
                ("RUN", (name, Some(value))) if name == "mount" => mount_from(&value),
                _ => None,
            };
            if let Some(value) = value {
                let at = lexed.at(offset);
                let what = || format!("the stage in {}", quoted(raw));
                let value = self.expand(&value, escape, at, what)?;
                self.references.push(StageReference { stage, value, at });
            }
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<Dockerfile, DockerfileError> {
        if self.stages.is_empty() {
            return Err(error(
                (1, 1),
                "no FROM instruction; a Dockerfile starts with FROM <image>",
                "add FROM <image> (after any global ARG lines)",
            ));
        }
        for reference in std::mem::take(&mut self.references) {
            if let Some(dependency) = self.resolve(&reference)? {
                if let Some(stage) = self.stages.get_mut(reference.stage) {
                    stage.depends_on.push(dependency);
                }
            }
        }
        for stage in &mut self.stages {
            stage.depends_on.sort_unstable();
            stage.depends_on.dedup();
        }
        Ok(Dockerfile {
            global_args: self.global_args,
            stages: self.stages,
        })
    }

    /// The earlier stage a reference names, `None` for an external image, or an error for a
    /// stage that is not available yet.
    pub(super) fn resolve(
        &self,
        reference: &StageReference,
    ) -> Result<Option<usize>, DockerfileError> {
        let value = reference.value.as_str();
        if value.is_empty() {
            return Ok(None);
        }
        if is_index(value) {
            return match value.parse::<usize>() {
                Ok(index) if index < reference.stage => Ok(Some(index)),
                _ => Err(error(
                    reference.at,
                    format!(
                        "stage {} is not defined before this instruction",
                        quoted(value)
                    ),
                    format!(
                        "stage indexes count FROM lines from 0; this is stage {}, so use an index \
                         below it or a stage name",
                        reference.stage
                    ),
                )),
            };
        }
        match self.names.get(&value.to_ascii_lowercase()).copied() {
            Some(index) if index < reference.stage => Ok(Some(index)),
            Some(index) if index == reference.stage => Err(error(
                reference.at,
                format!("stage {} refers to itself", quoted(value)),
                "a stage cannot copy or mount from itself; split it into two stages",
            )),
            Some(index) => {
                let line = self.stages.get(index).map_or(0, |stage| stage.line);
                Err(error(
                    reference.at,
                    format!(
                        "stage {} is defined later, at line {line}; move it above",
                        quoted(value)
                    ),
                    "a stage can only use stages defined before it",
                ))
            }
            // Not a stage: an image such as `nginx:1.25`, which is no dependency.
            None => Ok(None),
        }
    }
}

/// `--platform` of a `FROM`; any other flag is an error, as in BuildKit.
pub(super) fn from_platform(lexed: &Lexed) -> Result<Option<String>, DockerfileError> {
    let mut platform = None;
    for (offset, raw) in lexed.flag_positions() {
        match flag_parts(raw) {
            (name, Some(value)) if name == "platform" => platform = Some(value),
            (name, None) if name == "platform" => {
                return Err(error(
                    lexed.at(offset),
                    "--platform needs a value",
                    "write --platform=<os>/<arch>, e.g. --platform=linux/amd64",
                ))
            }
            (name, _) => {
                return Err(error(
                    lexed.at(offset),
                    format!("unknown flag {} on FROM", quoted(&format!("--{name}"))),
                    "FROM only takes --platform=<platform>",
                ))
            }
        }
    }
    Ok(platform)
}

/// What follows `FROM` and its flags.
pub(super) struct FromOperands<'a> {
    pub(super) image: &'a str,
    /// The `AS` name and its byte offset.
    pub(super) name: Option<(usize, &'a str)>,
}

/// The image and the optional `AS name` of a `FROM`.
pub(super) fn from_operands(lexed: &Lexed) -> Result<FromOperands<'_>, DockerfileError> {
    let words = blank_words(lexed.args_text(), lexed.args_offset);
    match words.as_slice() {
        [(_, image)] => Ok(FromOperands { image, name: None }),
        [(_, image), (_, keyword), (offset, name)] if keyword.eq_ignore_ascii_case("as") => {
            Ok(FromOperands {
                image,
                name: Some((*offset, name)),
            })
        }
        [] => Err(error(
            lexed.keyword_at(),
            "FROM requires an image",
            FROM_HINT,
        )),
        [_, (offset, keyword)] if keyword.eq_ignore_ascii_case("as") => Err(error(
            lexed.at(*offset),
            "FROM ... AS needs a stage name after AS",
            FROM_HINT,
        )),
        [_, (offset, word)] | [_, (offset, word), _] => Err(error(
            lexed.at(*offset),
            format!("expected AS before a stage name, found {}", quoted(word)),
            FROM_HINT,
        )),
        [_, _, _, (offset, word), ..] => Err(error(
            lexed.at(*offset),
            format!("unexpected {} after the stage name", quoted(word)),
            FROM_HINT,
        )),
    }
}

/// The `from=` of a `--mount` value (`type=bind,from=build,source=/out`), whatever the type.
pub(super) fn mount_from(value: &str) -> Option<String> {
    value.split(',').find_map(|field| {
        let (key, value) = field.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("from")
            .then(|| value.trim().to_string())
    })
}

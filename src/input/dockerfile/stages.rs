//! Stages and the graph: the global scope, `FROM` lookups, and the references of `COPY --from`,
//! `RUN --mount=from=` and `ONBUILD` triggers, as BuildKit's dispatcher resolves them.

use super::*;
use crate::input::expand::{ExpandError, NoVars};
use crate::input::reference;

/// Flags BuildKit's `COPY` takes (names are case-sensitive); `true`: it needs a value.
const COPY_FLAGS: [(&str, bool); 6] = [
    ("from", true),
    ("chown", true),
    ("chmod", true),
    ("link", false),
    ("exclude", true),
    ("parents", false),
];

/// Flags BuildKit's `ADD` takes.
const ADD_FLAGS: [(&str, bool); 7] = [
    ("chown", true),
    ("chmod", true),
    ("link", false),
    ("checksum", true),
    ("keep-git-dir", false),
    ("unpack", false),
    ("exclude", true),
];

/// A stage reference from `COPY --from` or `RUN --mount=from=`, resolved once all stages are known
/// (a name may belong to a later stage, which is an error we want to explain).
pub(super) struct StageReference {
    /// The stage whose instruction it is.
    pub(super) stage: usize,
    /// The value as written (variables are refused).
    pub(super) value: String,
    pub(super) kind: DependencyKind,
    /// `COPY --from` takes a stage index too; `--mount` looks names up only.
    pub(super) by_index: bool,
    pub(super) line: usize,
    pub(super) at: (usize, usize),
}

/// One target platform's global scope.
struct Scope {
    env: Env,
    /// Bytes copied out of variables so far, against `MAX_SUBSTITUTED_TOTAL`.
    substituted: usize,
}

pub(super) struct Builder {
    build_args: BTreeMap<String, String>,
    allow_blank_base: bool,
    /// One per target platform; the first gives `Stage::base`.
    scopes: Vec<Scope>,
    global_args: Vec<(String, Option<String>)>,
    global_args_written: Vec<(String, Option<String>)>,
    stages: Vec<Stage>,
    /// Lower-cased stage name to the last stage of that name read so far.
    names: HashMap<String, usize>,
    references: Vec<StageReference>,
    /// `ONBUILD` triggers that reference a stage, by the stage that declares them; they become
    /// dependencies of the stages built `FROM` it.
    triggers: Vec<StageReference>,
    warnings: Vec<Warning>,
}

impl Builder {
    pub(super) fn new(inputs: &GraphInputs) -> Builder {
        let build = inputs.build_platform();
        let target_stage = inputs.target_stage();
        let scopes = inputs
            .target_platforms()
            .iter()
            .map(|platform| {
                let env = platform_args(platform, &build, &target_stage)
                    .into_iter()
                    .map(|(name, value)| {
                        let value = inputs.build_args.get(name).cloned().unwrap_or(value);
                        (name.to_string(), value)
                    })
                    .collect();
                Scope {
                    env,
                    substituted: 0,
                }
            })
            .collect();
        Builder {
            build_args: inputs.build_args.clone(),
            allow_blank_base: inputs.allow_blank_base,
            scopes,
            global_args: Vec::new(),
            global_args_written: Vec::new(),
            stages: Vec::new(),
            names: HashMap::new(),
            references: Vec::new(),
            triggers: Vec::new(),
            warnings: Vec::new(),
        }
    }

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
                self.note_references(&lexed)?;
                if let Some(stage) = self.stages.last_mut() {
                    stage.instructions.push(lexed.instruction);
                }
                Ok(())
            }
        }
    }

    fn add_global_args(&mut self, lexed: &Lexed, escape: char) -> Result<(), DockerfileError> {
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
            self.global_args_written
                .push((name.to_string(), default.map(str::to_string)));
            let given = self.build_args.get(name).cloned();
            let mut effective = None;
            for k in 0..self.scopes.len() {
                // A build arg replaces the default, which is then not evaluated (BuildKit's
                // `buildMetaArgs`); each default sees the global ARGs above it.
                let value = match (&given, default) {
                    (Some(given), _) => Some(given.clone()),
                    (None, Some(default)) => {
                        let what = || format!("ARG {name}");
                        Some(self.expand(k, default, escape, lexed.at(offset), what)?)
                    }
                    (None, None) => None,
                };
                if let Some(value) = &value {
                    if let Some(scope) = self.scopes.get_mut(k) {
                        scope.env.insert(name.to_string(), value.clone());
                    }
                }
                if k == 0 {
                    effective = value;
                }
            }
            self.global_args.push((name.to_string(), effective));
        }
        Ok(())
    }

    /// `word` expanded in scope `k`, or an error at `at`: one the file's limits refuse, or one
    /// BuildKit raises. `what` names the value for the message (`ARG A`).
    fn expand(
        &mut self,
        k: usize,
        word: &str,
        escape: char,
        at: (usize, usize),
        what: impl FnOnce() -> String,
    ) -> Result<String, DockerfileError> {
        Ok(self.expand_full(k, word, escape, at, what)?.text)
    }

    fn expand_full(
        &mut self,
        k: usize,
        word: &str,
        escape: char,
        at: (usize, usize),
        what: impl FnOnce() -> String,
    ) -> Result<expand::Expanded, DockerfileError> {
        let Some(scope) = self.scopes.get_mut(k) else {
            return Ok(expand::Expanded::default());
        };
        let budget = MAX_SUBSTITUTED_TOTAL.saturating_sub(scope.substituted);
        let options = dockerfile_options(escape, budget);
        match expand::expand(word, &scope.env, &options) {
            Ok(expanded) => {
                scope.substituted += expanded.substituted;
                Ok(expanded)
            }
            Err(ExpandError::TooLong) => Err(error(
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
            Err(ExpandError::OverBudget) => Err(error(
                at,
                format!(
                    "{}: substituting global ARGs copies more than {} MiB in this Dockerfile; \
                     layercache refuses that much",
                    what(),
                    MAX_SUBSTITUTED_TOTAL / (1024 * 1024)
                ),
                "use shorter ARG values, or refer to long ones less often",
            )),
            Err(ExpandError::Required { name, message }) => Err(error(
                at,
                format!("{}: {name}: {message}", what()),
                format!(
                    "the Dockerfile requires {name}: pass --build-arg {name}=<value> \
                     (build_args in the spec), or give ARG {name} a default"
                ),
            )),
            Err(e) => Err(error(
                at,
                format!("{}: failed to process {}: {e}", what(), quoted(word)),
                "BuildKit expands $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alternative}, \
                 ${VAR:?message}, ${VAR#prefix}, ${VAR%suffix} and ${VAR/from/to}; \
                 write a literal $ as \\$",
            )),
        }
    }

    fn add_stage(&mut self, lexed: &Lexed, escape: char) -> Result<(), DockerfileError> {
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
        let image_at = lexed.at(lexed.args_offset);
        let mut bases: Vec<(String, Option<usize>)> = Vec::new();
        for k in 0..self.scopes.len() {
            let expanded =
                self.expand_full(k, from, escape, image_at, || "the FROM image".to_string())?;
            let base = expanded.text;
            if base.is_empty() && !self.allow_blank_base {
                return Err(blank_base(from, &expanded.unset, image_at));
            }
            if let Some(platform) = &platform {
                let value = self.expand(k, platform, escape, image_at, || {
                    "the FROM --platform".to_string()
                })?;
                if value.is_empty() {
                    return Err(error(
                        image_at,
                        format!("FROM --platform={platform} expands to nothing"),
                        "give the variable a value (a global ARG default or a build arg), or \
                         drop --platform",
                    ));
                }
            }
            // Only earlier stages are in `names` yet: BuildKit takes `FROM <this or a later
            // stage>` to mean an image of that name. Names are stored lower-cased and the lookup
            // is exact, so `FROM Builder` is not the stage `builder`.
            let base_stage = self.names.get(&base).copied().filter(|_| !base.is_empty());
            if base_stage.is_none() {
                self.check_not_a_miscased_stage(&base, from, image_at)?;
            }
            bases.push((base, base_stage));
        }
        let (base, base_stage) = bases.first().cloned().unwrap_or_default();
        let line = lexed.instruction.line;
        let mut dependencies: Vec<Dependency> = bases
            .iter()
            .filter_map(|(_, stage)| *stage)
            .map(|stage| Dependency {
                stage,
                kind: DependencyKind::From,
                line,
            })
            .collect();
        dependencies.sort_by_key(|d| d.stage);
        dependencies.dedup();
        let canonical = name.map(|(_, name)| name.to_ascii_lowercase());
        if let Some(name) = &canonical {
            self.names.insert(name.clone(), index);
        }
        self.stages.push(Stage {
            index,
            name: canonical,
            written_name: name.map(|(_, name)| name.to_string()),
            from: from.to_string(),
            base,
            base_stage,
            platform,
            line,
            depends_on: Vec::new(),
            dependencies,
            instructions: Vec::new(),
        });
        Ok(())
    }

    /// `FROM Builder` where a stage `builder` exists: BuildKit looks the base up exactly, finds
    /// no stage, and docker then fails on an image name with capitals. Said here, with the fix.
    fn check_not_a_miscased_stage(
        &self,
        base: &str,
        written: &str,
        at: (usize, usize),
    ) -> Result<(), DockerfileError> {
        let lower = base.to_ascii_lowercase();
        if lower == base || !self.names.contains_key(&lower) || reference::parse(base).is_ok() {
            return Ok(());
        }
        Err(error(
            at,
            format!(
                "FROM {} names no stage: BuildKit keeps stage names lower-case and compares a \
                 FROM exactly, so this is read as an image, and an image name cannot have capitals",
                quoted(written)
            ),
            format!("write FROM {lower} to build on the stage"),
        ))
    }

    fn check_stage_name(
        &mut self,
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
            // BuildKit builds it (its DuplicateStageName check is a warning) and the later stage
            // wins every lookup after it.
            let first_line = self.stages.get(first).map_or(0, |stage| stage.line);
            let (line, column) = lexed.at(offset);
            self.warnings.push(Warning {
                line,
                column,
                message: format!(
                    "duplicate stage name {}: already used at line {first_line}; this later \
                     stage wins the lookups after it (names are compared case-insensitively)",
                    quoted(name)
                ),
            });
        }
        Ok(())
    }

    /// Records `COPY --from=`, `RUN --mount=...from=` and such `ONBUILD` triggers for resolution
    /// in `finish`, and refuses what BuildKit refuses in them.
    fn note_references(&mut self, lexed: &Lexed) -> Result<(), DockerfileError> {
        let stage = self.stages.len().saturating_sub(1);
        let line = lexed.instruction.line;
        let keyword = lexed.instruction.keyword.as_str();
        if keyword == "ONBUILD" {
            let text = lexed.args_text();
            let trigger_len = text.find(is_blank).unwrap_or(text.len());
            let trigger = text
                .get(..trigger_len)
                .unwrap_or_default()
                .to_ascii_uppercase();
            let base = lexed.args_offset + trigger_len;
            let (flags, _) = extract_flags(text, trigger_len);
            let flags: Vec<(usize, String)> = flags
                .into_iter()
                .map(|(offset, flag)| (offset - trigger_len + base, flag))
                .collect();
            let found = references_in(&trigger, &flags, lexed, stage, line)?;
            self.triggers.extend(found.into_iter().map(|mut r| {
                r.kind = DependencyKind::Onbuild;
                r
            }));
            return Ok(());
        }
        check_flags(keyword, lexed)?;
        let flags: Vec<(usize, String)> = lexed
            .flag_positions()
            .map(|(offset, flag)| (offset, flag.to_string()))
            .collect();
        let found = references_in(keyword, &flags, lexed, stage, line)?;
        self.references.extend(found);
        Ok(())
    }

    pub(super) fn finish(mut self, escape: char) -> Result<Dockerfile, DockerfileError> {
        if self.stages.is_empty() {
            return Err(error(
                (1, 1),
                "no FROM instruction; a Dockerfile starts with FROM <image>",
                "add FROM <image> (after any global ARG lines)",
            ));
        }
        for reference in std::mem::take(&mut self.references) {
            if let Some(dependency) = self.resolve(&reference, reference.stage)? {
                if let Some(stage) = self.stages.get_mut(reference.stage) {
                    stage.dependencies.push(Dependency {
                        stage: dependency,
                        kind: reference.kind,
                        line: reference.line,
                    });
                }
            }
        }
        // An ONBUILD trigger runs in each stage built FROM the stage that declares it (only the
        // direct children: BuildKit clears the triggers of a stage's image for its own children).
        let mut triggers: HashMap<usize, Vec<StageReference>> = HashMap::new();
        for trigger in std::mem::take(&mut self.triggers) {
            triggers.entry(trigger.stage).or_default().push(trigger);
        }
        for child in 0..self.stages.len() {
            let parents: Vec<usize> = self.stages[child]
                .dependencies
                .iter()
                .filter(|d| d.kind == DependencyKind::From)
                .map(|d| d.stage)
                .collect();
            let inherited = parents
                .iter()
                .filter_map(|parent| triggers.get(parent))
                .flatten();
            for trigger in inherited {
                if let Some(dependency) = self.resolve(trigger, child)? {
                    self.stages[child].dependencies.push(Dependency {
                        stage: dependency,
                        kind: DependencyKind::Onbuild,
                        line: trigger.line,
                    });
                }
            }
        }
        for stage in &mut self.stages {
            stage
                .dependencies
                .sort_by_key(|d| (d.line, d.kind, d.stage));
            stage.dependencies.dedup();
            stage.depends_on = stage.dependencies.iter().map(|d| d.stage).collect();
            stage.depends_on.sort_unstable();
            stage.depends_on.dedup();
        }
        Ok(Dockerfile {
            global_args: self.global_args,
            global_args_written: self.global_args_written,
            escape,
            stages: self.stages,
            warnings: self.warnings,
        })
    }

    /// The earlier stage a reference names for the instruction in stage `stage`, `None` for an
    /// external image, or an error for a stage that is not available yet.
    fn resolve(
        &self,
        reference: &StageReference,
        stage: usize,
    ) -> Result<Option<usize>, DockerfileError> {
        let value = reference.value.as_str();
        if value.is_empty() {
            return Ok(None);
        }
        if reference.by_index && is_index(value) {
            return match value.parse::<usize>() {
                Ok(index) if index < stage => Ok(Some(index)),
                _ => Err(error(
                    reference.at,
                    format!(
                        "stage {} is not defined before this instruction",
                        quoted(value)
                    ),
                    format!(
                        "stage indexes count FROM lines from 0; this is stage {stage}, so use an \
                         index below it or a stage name"
                    ),
                )),
            };
        }
        match self.names.get(&value.to_ascii_lowercase()).copied() {
            Some(index) if index < stage => Ok(Some(index)),
            Some(index) if index == stage => Err(error(
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

/// The error for a `FROM` whose base expands to nothing, naming the variables without a value.
fn blank_base(from: &str, unset: &[String], at: (usize, usize)) -> DockerfileError {
    let hint = match unset.first() {
        Some(name) => format!(
            "{name} has no value: pass --build-arg {name}=<image> (build_args in the spec), or \
             give it a default: ARG {name}=<image>"
        ),
        None => "give the variables in the FROM a value".to_string(),
    };
    error(
        at,
        format!(
            "the FROM image {} expands to nothing; docker would fail with \
             \"base name should not be blank\"",
            quoted(from)
        ),
        hint,
    )
}

/// Unknown or repeated flags of `COPY` and `ADD`, refused as BuildKit refuses them. Flag names
/// are case-sensitive: `--FROM` is unknown.
fn check_flags(keyword: &str, lexed: &Lexed) -> Result<(), DockerfileError> {
    let known: &[(&str, bool)] = match keyword {
        "COPY" => &COPY_FLAGS,
        "ADD" => &ADD_FLAGS,
        _ => return Ok(()),
    };
    for (offset, raw) in lexed.flag_positions() {
        let (name, value) = flag_parts(raw);
        let Some(&(_, needs_value)) = known.iter().find(|(known, _)| *known == name) else {
            let names: Vec<String> = known.iter().map(|(n, _)| format!("--{n}")).collect();
            let hint = if keyword == "ADD" && name.eq_ignore_ascii_case("from") {
                "ADD cannot take files from a stage; use COPY --from=<stage>".to_string()
            } else if known.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                format!(
                    "flag names are case-sensitive: write --{}",
                    name.to_ascii_lowercase()
                )
            } else {
                format!("{keyword} takes {}", names.join(", "))
            };
            return Err(error(
                lexed.at(offset),
                format!("unknown flag {} on {keyword}", quoted(&format!("--{name}"))),
                hint,
            ));
        };
        if needs_value && value.is_none() {
            return Err(error(
                lexed.at(offset),
                format!("missing a value on flag --{name}"),
                format!("write --{name}=<value>"),
            ));
        }
    }
    Ok(())
}

/// The stage references among the flags of one instruction (`keyword` upper-case).
fn references_in(
    keyword: &str,
    flags: &[(usize, String)],
    lexed: &Lexed,
    stage: usize,
    line: usize,
) -> Result<Vec<StageReference>, DockerfileError> {
    let mut found = Vec::new();
    for (offset, raw) in flags {
        let at = lexed.at(*offset);
        let (kind, by_index, value) = match (keyword, flag_parts(raw)) {
            ("COPY", (name, Some(value))) if name == "from" => {
                check_no_variables_in_copy_from(&value, at)?;
                (DependencyKind::CopyFrom, true, value)
            }
            ("RUN", (name, Some(value))) if name == "mount" => {
                let Some(from) = mount_from(&value) else {
                    continue;
                };
                // BuildKit's check: a `$` anywhere but last.
                if from.find('$').is_some_and(|at| at + 1 != from.len()) {
                    return Err(error(
                        at,
                        format!(
                            "variable expansion is not supported in --mount from= ({})",
                            quoted(&from)
                        ),
                        "define an alias stage with a global ARG: `ARG SRC=...` above the first \
                         FROM, `FROM ${SRC} AS src`, then `--mount=from=src`",
                    ));
                }
                (DependencyKind::Mount, false, from)
            }
            _ => continue,
        };
        found.push(StageReference {
            stage,
            value,
            kind,
            by_index,
            line,
            at,
        });
    }
    Ok(found)
}

/// BuildKit refuses a `COPY --from` that processing as a word would change (a variable).
fn check_no_variables_in_copy_from(value: &str, at: (usize, usize)) -> Result<(), DockerfileError> {
    let unchanged = expand::expand(value, &NoVars, &expand::Options::BUILDKIT)
        .is_ok_and(|expanded| expanded.text == value);
    if unchanged {
        return Ok(());
    }
    Err(error(
        at,
        format!(
            "variable expansion is not supported for --from ({})",
            quoted(value)
        ),
        "define a stage with a global ARG: `ARG SRC=...` above the first FROM, \
         `FROM ${SRC} AS src`, then `COPY --from=src`",
    ))
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

/// The `from=` of a `--mount` value (`type=bind,from=build,source=/out`), whatever the type;
/// keys in any case, the last `from=` winning, as BuildKit reads them.
pub(super) fn mount_from(value: &str) -> Option<String> {
    value.split(',').rev().find_map(|field| {
        let (key, value) = field.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("from")
            .then(|| value.trim().to_string())
    })
}

//! Merging Compose files (several `-f`, the override file, `extends`), by compose's rules:
//! mappings merge key by key, scalars are replaced, sequences are appended, with the
//! exceptions measured on compose 2.26 and 2.40:
//! - `build.tags` appends only tags not yet there; `cache_from`, `cache_to`, `platforms` and
//!   build `secrets` append everything, duplicates included;
//! - `build.ssh` given on both sides is an error ("cannot override");
//! - `command`, `entrypoint` and `healthcheck.test` are replaced;
//! - `!reset` removes a key, `!override` replaces it without merging.
//!
//! It expects both sides already normalised ([`super::normalize`]): `args`, `labels` and
//! `extra_hosts` as mappings, so list and mapping forms merge with each other.

use super::interpolate::key_text;
use serde_yaml::{Mapping, Value};

/// A merge that compose refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError {
    /// Dotted, as compose prints it: `services.app.build.ssh`.
    pub path: String,
    pub message: String,
}

/// What a YAML tag asks of the merge.
enum Tag {
    Reset,
    Override,
    None,
}

fn tag_of(v: &Value) -> Tag {
    match v {
        Value::Tagged(t) if t.tag == "reset" => Tag::Reset,
        Value::Tagged(t) if t.tag == "override" => Tag::Override,
        _ => Tag::None,
    }
}

/// Removes `!reset` keys and unwraps `!override` values, everywhere in `v`.
pub fn strip_tags(v: Value) -> Value {
    match v {
        Value::Tagged(t) if t.tag == "override" || t.tag == "reset" => strip_tags(t.value),
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .filter(|(_, v)| !matches!(tag_of(v), Tag::Reset))
                .map(|(k, v)| (k, strip_tags(v)))
                .collect(),
        ),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(strip_tags).collect()),
        other => other,
    }
}

/// Merges `over` into `base`. `path` is where `base` is (keys from the document root).
pub fn merge_mapping(
    base: &mut Mapping,
    over: Mapping,
    path: &mut Vec<String>,
) -> Result<(), MergeError> {
    for (k, v) in over {
        match tag_of(&v) {
            Tag::Reset => {
                base.remove(&k);
            }
            Tag::Override => {
                base.insert(k, strip_tags(v));
            }
            Tag::None => {
                path.push(key_text(&k));
                let result = match base.remove(&k) {
                    Some(old) => merge_value(old, v, path),
                    None => Ok(strip_tags(v)),
                };
                path.pop();
                base.insert(k, result?);
            }
        }
    }
    Ok(())
}

fn merge_value(base: Value, over: Value, path: &mut Vec<String>) -> Result<Value, MergeError> {
    match (base, over) {
        (Value::Mapping(mut b), Value::Mapping(o)) => {
            merge_mapping(&mut b, o, path)?;
            Ok(Value::Mapping(b))
        }
        (Value::Sequence(mut b), Value::Sequence(o)) => {
            let o: Vec<Value> = o.into_iter().map(strip_tags).collect();
            match sequence_rule(path) {
                SeqRule::Append => b.extend(o),
                SeqRule::AppendUnique => {
                    for v in o {
                        if !b.contains(&v) {
                            b.push(v);
                        }
                    }
                }
                SeqRule::Replace => b = o,
                SeqRule::Refuse => {
                    let at = path.join(".");
                    return Err(MergeError {
                        message: format!("cannot override {at}"),
                        path: at,
                    });
                }
            }
            Ok(Value::Sequence(b))
        }
        (_, over) => Ok(strip_tags(over)),
    }
}

enum SeqRule {
    Append,
    AppendUnique,
    Replace,
    Refuse,
}

fn sequence_rule(path: &[String]) -> SeqRule {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["services", _, "build", "tags"] => SeqRule::AppendUnique,
        ["services", _, "build", "ssh"] => SeqRule::Refuse,
        ["services", _, "command" | "entrypoint"] => SeqRule::Replace,
        ["services", _, "healthcheck", "test"] => SeqRule::Replace,
        _ => SeqRule::Append,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(a: &str, b: &str) -> Result<Value, MergeError> {
        let Value::Mapping(mut a) = serde_yaml::from_str(a).unwrap() else {
            panic!()
        };
        let Value::Mapping(b) = serde_yaml::from_str(b).unwrap() else {
            panic!()
        };
        merge_mapping(&mut a, b, &mut Vec::new())?;
        Ok(Value::Mapping(a))
    }

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn scalars_are_replaced_and_mappings_merged() {
        let m = merged(
            "services: {app: {image: a, build: {target: dev, args: {A: '1', B: '2'}}}}",
            "services: {app: {image: b, build: {target: prod, args: {B: '20', C: '3'}}}}",
        )
        .unwrap();
        assert_eq!(
            m,
            yaml("services: {app: {image: b, build: {target: prod, args: {A: '1', B: '20', C: '3'}}}}")
        );
    }

    #[test]
    fn sequences_append_and_tags_stay_unique() {
        let m = merged(
            "services: {a: {build: {cache_from: [x], tags: [t1], platforms: [p1]}, ports: ['1:1']}}",
            "services: {a: {build: {cache_from: [x, y], tags: [t2, t1], platforms: [p2, p1]}, ports: ['2:2']}}",
        )
        .unwrap();
        assert_eq!(
            m,
            yaml("services: {a: {build: {cache_from: [x, x, y], tags: [t1, t2], platforms: [p1, p2, p1]}, ports: ['1:1', '2:2']}}")
        );
    }

    #[test]
    fn extra_hosts_of_one_host_collect_addresses() {
        let m = merged(
            "services: {a: {build: {extra_hosts: {db: [10.0.0.1]}}}}",
            "services: {a: {build: {extra_hosts: {db: [10.0.0.2], c: [10.0.0.3]}}}}",
        )
        .unwrap();
        assert_eq!(
            m,
            yaml(
                "services: {a: {build: {extra_hosts: {db: [10.0.0.1, 10.0.0.2], c: [10.0.0.3]}}}}"
            )
        );
    }

    #[test]
    fn commands_are_replaced_and_ssh_refused() {
        let m = merged(
            "services: {a: {command: [echo, a]}}",
            "services: {a: {command: [echo, b]}}",
        )
        .unwrap();
        assert_eq!(m, yaml("services: {a: {command: [echo, b]}}"));
        let e = merged(
            "services: {app: {build: {ssh: [default]}}}",
            "services: {app: {build: {ssh: [default]}}}",
        )
        .unwrap_err();
        assert_eq!(e.message, "cannot override services.app.build.ssh");
    }

    #[test]
    fn cache_to_and_build_secrets_append_duplicates() {
        let m = merged(
            "services: {a: {build: {cache_to: [x], secrets: [{source: s}]}}}",
            "services: {a: {build: {cache_to: [x], secrets: [{source: s}, {source: t}]}}}",
        )
        .unwrap();
        assert_eq!(
            m,
            yaml("services: {a: {build: {cache_to: [x, x], secrets: [{source: s}, {source: s}, {source: t}]}}}")
        );
    }

    #[test]
    fn healthcheck_tests_and_entrypoints_are_replaced() {
        let m = merged(
            "services: {a: {entrypoint: [a], healthcheck: {test: [CMD, a], interval: 1s}}}",
            "services: {a: {entrypoint: [b], healthcheck: {test: [CMD, b]}}}",
        )
        .unwrap();
        assert_eq!(
            m,
            yaml("services: {a: {entrypoint: [b], healthcheck: {test: [CMD, b], interval: 1s}}}")
        );
    }

    #[test]
    fn a_whole_service_or_build_can_be_reset_or_overridden() {
        let m = merged(
            "services: {a: {image: i, build: {context: /p, args: {A: '1'}}}, b: {image: j}}",
            "services: {a: {build: !override {context: /q}}, b: !reset null}",
        )
        .unwrap();
        assert_eq!(m, yaml("services: {a: {image: i, build: {context: /q}}}"));
    }

    #[test]
    fn a_scalar_replaces_a_list_and_the_other_way_round() {
        let m = merged("x-a: [1, 2]\nx-b: text", "x-a: one\nx-b: [3]").unwrap();
        assert_eq!(m, yaml("x-a: one\nx-b: [3]"));
    }

    #[test]
    fn tags_nested_inside_new_keys_are_stripped() {
        let m = merged(
            "services: {}",
            "services: {a: {build: {args: !override {A: '1'}, target: !reset x}}}",
        )
        .unwrap();
        assert_eq!(m, yaml("services: {a: {build: {args: {A: '1'}}}}"));
    }

    #[test]
    fn reset_and_override_tags() {
        let m = merged(
            "services: {a: {build: {args: {A: '1'}, cache_from: [x], target: dev}}}",
            "services: {a: {build: {args: !override {C: '3'}, cache_from: !reset [], target: !reset null, new: !reset x}}}",
        )
        .unwrap();
        assert_eq!(m, yaml("services: {a: {build: {args: {C: '3'}}}}"));
    }
}

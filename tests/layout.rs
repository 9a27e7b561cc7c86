//! The code's layout, held to what the README says of it: the "Code layout" table names every
//! entry of src/ and every file of each folder, and the process environment is read at the edge
//! only (main.rs and options.rs), besides the one documented exception.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                name + "/"
            } else {
                name
            }
        })
        .collect()
}

/// The rows of the README's "Code layout" table: the names in the first column (`lint/`,
/// `doctor/`), and the row's text.
fn layout_rows() -> Vec<(Vec<String>, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Code layout\n")
        .nth(1)
        .expect("a \"Code layout\" section")
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|row| {
            let first = row.split('|').nth(1).unwrap();
            let names = first
                .split('`')
                .skip(1)
                .step_by(2)
                .map(String::from)
                .collect();
            (names, row.to_string())
        })
        .collect()
}

#[test]
fn the_readme_names_every_entry_of_src() {
    let rows = layout_rows();
    let listed: BTreeSet<String> = rows.iter().flat_map(|(n, _)| n.iter().cloned()).collect();
    assert_eq!(
        listed,
        names(&src()),
        "README \"Code layout\" against `ls src/`"
    );
}

#[test]
fn the_readme_names_every_file_of_each_folder() {
    for (folders, row) in layout_rows() {
        for folder in folders.iter().filter(|n| n.ends_with('/')) {
            for name in names(&src().join(folder)) {
                if name == "mod.rs" || name == "tests.rs" {
                    continue;
                }
                assert!(
                    row.contains(&format!("`{name}`")),
                    "README \"Code layout\": the row of `{folder}` does not name `{name}`"
                );
            }
        }
    }
}

/// Every .rs file under `dir`, with its text up to its test module.
fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") && !path.ends_with("tests.rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap().to_string();
            out.push((path, code));
        }
    }
}

#[test]
fn the_environment_is_read_at_the_edge_only() {
    let reads = [
        "env::var(",
        "env::var_os(",
        "env::vars(",
        "env::vars_os(",
        "env::current_dir(",
        "which::which(",
    ];
    let mut files = Vec::new();
    sources(&src(), &mut files);
    assert!(files.len() > 50, "{} files", files.len());
    let mut found = Vec::new();
    for (path, code) in &files {
        let relative = path
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for read in reads {
            for _ in code.matches(read) {
                found.push(format!("{relative}: {read}"));
            }
        }
    }
    found.sort();
    // The snapshot (options.rs), and the `docker login` password, which the executor reads at
    // the moment it writes it to docker's stdin, so the value is held nowhere else.
    assert_eq!(
        found,
        [
            "options.rs: env::current_dir(",
            "options.rs: env::vars_os(",
            "run/mod.rs: env::var(",
        ],
    );
}

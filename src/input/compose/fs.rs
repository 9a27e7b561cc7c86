//! The reader's one window on the file system: [`FileSystem`], with [`RealFs`] (the edge that
//! reads disk) and [`MemoryFs`] (files given as text, for tests and for callers that already
//! hold them). Everything else in the reader is pure and goes through this trait.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Compose files above this size are refused: they are a few kilobytes, and this bounds memory.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads files for the reader.
pub trait FileSystem {
    /// The text of `path`: `Ok(None)` when there is no such file, `Err(why)` when it exists but
    /// cannot be read (permissions, not UTF-8, too large).
    fn read(&self, path: &Path) -> Result<Option<String>, String>;

    /// Whether `path` is a file (discovery looks for names without reading them).
    fn is_file(&self, path: &Path) -> bool;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

impl FileSystem for RealFs {
    fn read(&self, path: &Path) -> Result<Option<String>, String> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        if meta.is_dir() {
            return Err("it is a folder, not a file".into());
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err("it is larger than 16 MiB".into());
        }
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "it is not valid UTF-8".into())
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
}

/// Files held in memory, by path.
#[derive(Debug, Default, Clone)]
pub struct MemoryFs {
    pub files: BTreeMap<PathBuf, String>,
}

impl MemoryFs {
    pub fn new<P: Into<PathBuf>, T: Into<String>>(files: impl IntoIterator<Item = (P, T)>) -> Self {
        MemoryFs {
            files: files
                .into_iter()
                .map(|(p, t)| (p.into(), t.into()))
                .collect(),
        }
    }
}

impl FileSystem for MemoryFs {
    fn read(&self, path: &Path) -> Result<Option<String>, String> {
        Ok(self.files.get(path).cloned())
    }

    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }
}

/// `base/rel` made lexically clean (`.` and `..` removed, as Go's `filepath.Join` does), or
/// `rel` itself when it is absolute. No symlink is followed: this never touches the disk.
pub fn join_clean(base: &Path, rel: &str) -> PathBuf {
    let joined = if Path::new(rel).is_absolute() {
        PathBuf::from(rel)
    } else {
        base.join(rel)
    };
    clean(&joined)
}

/// A path with `.` and `..` components resolved lexically.
pub fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_clean_resolves_dots_like_go() {
        assert_eq!(
            join_clean(Path::new("/p/deploy"), ".."),
            PathBuf::from("/p")
        );
        assert_eq!(
            join_clean(Path::new("/p"), "./a/../b/."),
            PathBuf::from("/p/b")
        );
        assert_eq!(
            join_clean(Path::new("/p"), "/abs/x"),
            PathBuf::from("/abs/x")
        );
        assert_eq!(join_clean(Path::new("/"), "../.."), PathBuf::from("/"));
        assert_eq!(
            join_clean(Path::new("rel"), "../../x"),
            PathBuf::from("../x")
        );
        assert_eq!(join_clean(Path::new("a"), ".."), PathBuf::from("."));
    }
}

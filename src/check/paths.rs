//! Containment of the paths a spec and its `xos.toml` name: a spec's `data`
//! and `policy`, and the toml's `policy`, `templates` and `output`, stay
//! inside the spec's repository — the folder of the `xos.toml` in force,
//! else the spec's own folder — so that a spec from a pull request cannot
//! make `xos run` in CI read `/etc/passwd` or `~/.aws/credentials` into a
//! memo or an error.
//!
//! Paths are compared after resolving `..` and symlinks (the deepest
//! existing ancestor is canonicalised, the rest resolved lexically), so
//! neither `../../etc/passwd` nor a symlink `data.csv -> /etc/passwd`
//! escapes. `--allow-outside` on the command line, or `allow_outside =
//! true` in `xos.toml`, lifts the check. Paths given on the command line
//! (`--data`, `--templates`) are the user's own and are not checked.

use std::path::{Component, Path, PathBuf};

use crate::diagnostic::{Diagnostic, Span};

/// The folder the paths of one spec must stay in.
#[derive(Clone, Debug)]
pub(super) struct Repository {
    /// The canonical root; `None` when the check is lifted (or the root
    /// itself cannot be resolved, which the reads then report).
    root: Option<PathBuf>,
    /// The root as written, made absolute without the file system.
    written_root: PathBuf,
    /// Whether the root is an `xos.toml`'s folder (for the message).
    from_config: bool,
}

impl Repository {
    /// The repository of the spec at `spec`: the folder of `config` (the
    /// `xos.toml` in force) when there is one, else the spec's folder.
    /// `allow` lifts the check.
    pub(super) fn of(
        spec: &Path,
        config: Option<&Path>,
        allow: bool,
        folders: Option<&super::FolderCache>,
    ) -> Repository {
        let folder = |file: &Path| {
            file.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let root = match config {
            Some(toml) => folder(toml),
            None => folder(spec),
        };
        Repository {
            root: (!allow).then(|| match folders {
                Some(folders) => folders.resolved_root(&root, resolve),
                None => resolve(&root),
            }),
            written_root: std::path::absolute(&root).unwrap_or(root),
            from_config: config.is_some(),
        }
    }

    /// `xos::check::path_outside` when `resolved` (written as `written` at
    /// `span`, naming `what`: "data file", "policy", "templates folder") is
    /// outside the repository; the caller sets the file the span is in.
    pub(super) fn check(
        &self,
        resolved: &Path,
        written: &str,
        span: Span,
        what: &str,
    ) -> Option<Diagnostic> {
        let root = self.root.as_ref()?;
        if self.plainly_inside(resolved) {
            return None;
        }
        let real = resolve(resolved);
        if real.starts_with(root) {
            return None;
        }
        let repository = if self.from_config {
            "the folder of `xos.toml`"
        } else {
            "the spec's folder (there is no `xos.toml` above it)"
        };
        Some(
            Diagnostic::error(
                "xos::check::path_outside",
                format!(
                    "{what} `{}` is outside the repository",
                    crate::text::token(written)
                ),
            )
            .label(span, format!("resolves outside {repository}"))
            // Not shown (the label is); followed by `xos watch`, so that
            // replacing the file with one inside is seen.
            .at_path(resolved)
            .help(if self.from_config {
                "a spec's paths stay inside its repository, so that a spec cannot make xos read \
                 another file; move the file into the repository, or allow it with \
                 `--allow-outside` (or `allow_outside = true` in `xos.toml`)"
            } else {
                "a spec's paths stay inside its repository, so that a spec cannot make xos read \
                 another file; put an `xos.toml` (it may be empty) at the root of the folder \
                 that holds both, or allow it with `--allow-outside`"
            }),
        )
    }

    /// Whether `path` is the written root followed by plain names none of
    /// which is a symlink (one `lstat` each, where [`resolve`] reads every
    /// component of the path): then its real path is the root's real path
    /// followed by the same names, inside the repository. The common case,
    /// `data "results.csv"` beside the spec, takes one system call instead
    /// of one per folder of the path.
    fn plainly_inside(&self, path: &Path) -> bool {
        let Ok(absolute) = std::path::absolute(path) else {
            return false;
        };
        let Ok(rest) = absolute.strip_prefix(&self.written_root) else {
            return false;
        };
        if !rest
            .components()
            .all(|part| matches!(part, Component::Normal(_)))
        {
            return false;
        }
        let mut at = self.written_root.clone();
        for name in rest.iter() {
            at.push(name);
            match at.symlink_metadata() {
                Ok(meta) if meta.file_type().is_symlink() => return false,
                Ok(_) => {}
                // Not there (yet): the rest is placed lexically, as
                // `resolve` places it, and has no `..` to leave by.
                Err(_) => return true,
            }
        }
        true
    }
}

/// `path` absolute, with `..` and symlinks resolved: the deepest ancestor
/// that exists is canonicalised and the rest is resolved lexically (a file
/// not yet written is still placed where it would be).
fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest: Vec<PathBuf> = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                push(&mut out, part);
            }
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(PathBuf::from(name));
                existing = parent;
            }
            _ => return lexical(&absolute),
        }
    }
}

/// Appends one component, `..` going up.
fn push(out: &mut PathBuf, part: &Path) {
    if part == Path::new("..") {
        out.pop();
    } else if part != Path::new(".") {
        out.push(part);
    }
}

/// `..` and `.` resolved without the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_and_symlinks_are_resolved_before_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("data")).unwrap();
        std::fs::write(repo.join("spec.xos"), "").unwrap();
        std::fs::write(dir.path().join("secret.csv"), "").unwrap();
        let repository = Repository::of(&repo.join("spec.xos"), None, false, None);
        let outside = |p: &Path| {
            repository
                .check(p, "x", Span::new(0, 1), "data file")
                .is_some()
        };
        assert!(!outside(&repo.join("data/../data/a.csv")));
        assert!(!outside(&repo.join("not/yet/there.csv")));
        assert!(outside(&repo.join("../secret.csv")));
        assert!(outside(&repo.join("data/../../secret.csv")));
        assert!(outside(Path::new("/etc/passwd")));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.csv"), repo.join("link.csv"))
                .unwrap();
            assert!(outside(&repo.join("link.csv")));
            // A symlinked folder in the middle of a plain-looking path.
            std::os::unix::fs::symlink(dir.path(), repo.join("up")).unwrap();
            assert!(outside(&repo.join("up/secret.csv")));
            assert!(outside(&repo.join("up/not_there/x.csv")));
            // A missing folder does not hide the `..` after it.
            assert!(outside(&repo.join("missing/../../secret.csv")));
            // A folder swapped for a symlink between two checks, in a folder
            // run: the second check sees the symlink.
            let cache = crate::check::FolderCache::default();
            let in_run = Repository::of(&repo.join("spec.xos"), None, false, Some(&cache));
            let outside_in_run = |p: &Path| in_run.check(p, "x", Span::new(0, 1), "x").is_some();
            std::fs::create_dir_all(repo.join("swap")).unwrap();
            std::fs::write(repo.join("swap/secret.csv"), "").unwrap();
            assert!(!outside_in_run(&repo.join("swap/secret.csv")));
            std::fs::rename(repo.join("swap"), repo.join("swapped")).unwrap();
            std::os::unix::fs::symlink(dir.path(), repo.join("swap")).unwrap();
            assert!(outside_in_run(&repo.join("swap/secret.csv")));
            // A symlink that stays inside is followed and allowed.
            std::os::unix::fs::symlink(repo.join("data"), repo.join("same")).unwrap();
            assert!(!outside(&repo.join("same/a.csv")));
        }
        // Lifted by `--allow-outside`.
        let allowed = Repository::of(&repo.join("spec.xos"), None, true, None);
        assert!(
            allowed
                .check(Path::new("/etc/passwd"), "x", Span::new(0, 1), "data file")
                .is_none()
        );
    }
}

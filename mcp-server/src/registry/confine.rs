//! Confining a client-supplied relative path (typically a `{+path}` template value) to a root
//! directory: [`resolve_under`].

use std::io;
use std::path::{Component, Path, PathBuf};

/// Why [`resolve_under`] refused a path. Messages never repeat the path or the root, so they
/// may reach the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path is empty.
    #[error("the path is empty")]
    Empty,
    /// The path starts at a root (`/etc/passwd`).
    #[error("the path is absolute")]
    Absolute,
    /// A segment is `..`.
    #[error("the path has a `..` segment")]
    ParentSegment,
    /// The path has a backslash (a separator on Windows).
    #[error("the path has a backslash")]
    Backslash,
    /// The path has NUL or another control character.
    #[error("the path has a control character")]
    ControlCharacter,
    /// A segment starts with a drive prefix (`C:`).
    #[error("the path has a drive prefix")]
    DrivePrefix,
    /// Once symbolic links are resolved, the path is outside the root.
    #[error("the path leads outside the root directory")]
    OutsideRoot,
    /// The root or the path could not be resolved (most often: the file does not exist).
    #[error("the path cannot be resolved: {0}")]
    Io(#[from] io::Error),
}

/// The file `relative` names under `root`, guaranteed to be inside `root`: the canonical path
/// (symbolic links resolved) of an existing file or directory.
///
/// `relative` uses `/` as separator. Refused: an empty path, an absolute one, a `..` segment
/// (even one that would stay inside), a backslash, NUL or any control character, a segment
/// starting with a drive prefix (`C:`), and a path that leaves `root` through a symbolic link.
/// `.` and empty segments are ignored. A file that does not exist is [`PathError::Io`]
/// (`NotFound`).
///
/// Use it for `{+path}` values of resource templates, which may legitimately hold `..`
/// (RFC 6570): the template matcher does not refuse them, this does. The check happens when
/// called: if clients can create symbolic links under `root` between the check and the use,
/// this is not enough.
///
/// ```
/// use mcp_server::registry::{PathError, resolve_under};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = std::env::temp_dir().join(format!("mcp-doc-resolve-{}", std::process::id()));
/// std::fs::create_dir_all(root.join("notes"))?;
/// std::fs::write(root.join("notes/today.txt"), "hello")?;
///
/// let file = resolve_under(&root, "notes/today.txt")?;
/// assert_eq!(std::fs::read_to_string(file)?, "hello");
/// assert!(matches!(resolve_under(&root, "../../etc/passwd"), Err(PathError::ParentSegment)));
/// assert!(matches!(resolve_under(&root, "/etc/passwd"), Err(PathError::Absolute)));
/// # std::fs::remove_dir_all(&root)?;
/// # Ok(()) }
/// ```
pub fn resolve_under(root: &Path, relative: &str) -> Result<PathBuf, PathError> {
    check_syntax(relative)?;
    let root = root.canonicalize()?;
    let mut candidate = root.clone();
    for segment in relative.split('/').filter(|s| !s.is_empty() && *s != ".") {
        candidate.push(segment);
    }
    let resolved = candidate.canonicalize()?;
    if resolved.starts_with(&root) {
        Ok(resolved)
    } else {
        Err(PathError::OutsideRoot)
    }
}

/// The checks that need no file system.
fn check_syntax(relative: &str) -> Result<(), PathError> {
    if relative.is_empty() {
        return Err(PathError::Empty);
    }
    if relative.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter);
    }
    if relative.contains('\\') {
        return Err(PathError::Backslash);
    }
    if relative.starts_with('/') {
        return Err(PathError::Absolute);
    }
    for segment in relative.split('/') {
        if segment == ".." {
            return Err(PathError::ParentSegment);
        }
        if let [letter, b':', ..] = segment.as_bytes() {
            if letter.is_ascii_alphabetic() {
                return Err(PathError::DrivePrefix);
            }
        }
    }
    // What the platform itself sees in the path (a prefix or root the checks above missed).
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err(PathError::ParentSegment),
            Component::RootDir => return Err(PathError::Absolute),
            Component::Prefix(_) => return Err(PathError::DrivePrefix),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory holding `root/` (`a.txt`, `sub/b.txt`) and, beside it, `secret.txt`.
    struct Fixture {
        base: PathBuf,
        root: PathBuf,
    }

    impl Fixture {
        fn new(name: &str) -> Fixture {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let base = std::env::temp_dir()
                .join(format!("mcp-resolve-{name}-{}-{nanos}", std::process::id()));
            let root = base.join("root");
            std::fs::create_dir_all(root.join("sub")).unwrap();
            std::fs::write(root.join("a.txt"), "a").unwrap();
            std::fs::write(root.join("sub/b.txt"), "b").unwrap();
            std::fs::write(base.join("secret.txt"), "secret").unwrap();
            Fixture { base, root }
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.base);
        }
    }

    #[test]
    fn paths_inside_the_root_resolve_to_their_canonical_file() {
        let f = Fixture::new("inside");
        let b = f.root.join("sub/b.txt").canonicalize().unwrap();
        for relative in ["sub/b.txt", "./sub/./b.txt", "sub//b.txt", "sub/b.txt/."] {
            assert_eq!(resolve_under(&f.root, relative).unwrap(), b, "{relative}");
        }
        let a = resolve_under(&f.root, "a.txt").unwrap();
        assert_eq!(std::fs::read_to_string(a).unwrap(), "a");
        assert!(resolve_under(&f.root, "sub").unwrap().is_dir());
    }

    /// Finding 6, R-03: every way out of the root is refused before the file system is asked.
    #[test]
    fn traversal_absolute_backslash_control_and_drive_paths_are_refused() {
        let f = Fixture::new("refused");
        let cases = [
            ("", "empty"),
            ("../secret.txt", "parent"),
            ("sub/../a.txt", "parent"),
            ("sub/../../secret.txt", "parent"),
            ("..", "parent"),
            ("/etc/passwd", "absolute"),
            ("//server/share", "absolute"),
            ("..\\secret.txt", "backslash"),
            ("sub\\b.txt", "backslash"),
            ("a.txt\0", "control"),
            ("sub/\nb.txt", "control"),
            ("C:/Windows/win.ini", "drive"),
            ("c:secret.txt", "drive"),
            ("sub/D:x", "drive"),
        ];
        for (relative, expected) in cases {
            let got = resolve_under(&f.root, relative);
            let kind = match &got {
                Err(PathError::Empty) => "empty",
                Err(PathError::ParentSegment) => "parent",
                Err(PathError::Absolute) => "absolute",
                Err(PathError::Backslash) => "backslash",
                Err(PathError::ControlCharacter) => "control",
                Err(PathError::DrivePrefix) => "drive",
                _ => "other",
            };
            assert_eq!(kind, expected, "{relative:?} gave {got:?}");
        }
    }

    #[test]
    fn a_missing_file_or_root_is_an_io_error() {
        let f = Fixture::new("missing");
        let got = resolve_under(&f.root, "nope.txt");
        assert!(
            matches!(&got, Err(PathError::Io(e)) if e.kind() == io::ErrorKind::NotFound),
            "{got:?}"
        );
        let got = resolve_under(&f.base.join("no-root"), "a.txt");
        assert!(matches!(got, Err(PathError::Io(_))), "{got:?}");
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_may_stay_inside_but_never_lead_out() {
        let f = Fixture::new("links");
        std::os::unix::fs::symlink(f.base.join("secret.txt"), f.root.join("escape")).unwrap();
        std::os::unix::fs::symlink(&f.base, f.root.join("up")).unwrap();
        std::os::unix::fs::symlink(f.root.join("sub"), f.root.join("inner")).unwrap();
        for relative in ["escape", "up/secret.txt"] {
            let got = resolve_under(&f.root, relative);
            assert!(
                matches!(got, Err(PathError::OutsideRoot)),
                "{relative}: {got:?}"
            );
        }
        // Out and back in through a link: the canonical path is inside, so it is allowed.
        let back = resolve_under(&f.root, "up/root/a.txt").unwrap();
        assert_eq!(back, f.root.join("a.txt").canonicalize().unwrap());
        let inner = resolve_under(&f.root, "inner/b.txt").unwrap();
        assert_eq!(inner, f.root.join("sub/b.txt").canonicalize().unwrap());
    }

    /// A root given through a symbolic link still confines: the check compares canonical paths.
    #[cfg(unix)]
    #[test]
    fn a_root_behind_a_symbolic_link_confines_as_well() {
        let f = Fixture::new("linked-root");
        let alias = f.base.join("alias");
        std::os::unix::fs::symlink(&f.root, &alias).unwrap();
        assert!(resolve_under(&alias, "a.txt").is_ok());
        std::os::unix::fs::symlink(f.base.join("secret.txt"), f.root.join("escape")).unwrap();
        assert!(matches!(
            resolve_under(&alias, "escape"),
            Err(PathError::OutsideRoot)
        ));
    }
}

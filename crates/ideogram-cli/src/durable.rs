//! What makes a file survive a crash: its bytes synced, and its name too.
//! A name is in a folder's entries, so the folder holding it is synced
//! (POSIX `fsync` of a directory), and each folder made for it in the
//! folder holding that one: else a crash could lose a record of paid
//! images (a journal, a sidecar) whose bytes were on disk.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Creates `dir` and the folders above it that are missing, each synced
/// into the folder holding it; returns those made, outermost first.
pub(crate) fn create_folders(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut made: Vec<PathBuf> = (dir.ancestors())
        .filter(|folder| !folder.as_os_str().is_empty())
        .take_while(|folder| std::fs::symlink_metadata(folder).is_err())
        .map(Path::to_path_buf)
        .collect();
    made.reverse();
    std::fs::create_dir_all(dir)?;
    for holder in holders(&made) {
        sync_folder(&holder)?;
    }
    Ok(made)
}

/// The folders holding the names of the folders `made`, once each.
fn holders(made: &[PathBuf]) -> Vec<PathBuf> {
    let mut holders: Vec<PathBuf> = Vec::new();
    for folder in made {
        let holder = holder_of(folder);
        if !holders.iter().any(|h| h == holder) {
            holders.push(holder.to_path_buf());
        }
    }
    holders
}

/// The folder holding `path`'s name (`.` for a bare name).
pub(crate) fn holder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Syncs a folder's entries (the names in it) to disk. Where a folder
/// cannot be opened as a file (Windows), its entries are the file system's
/// to keep, and this does nothing.
pub(crate) fn sync_folder(dir: &Path) -> io::Result<()> {
    if cfg!(unix) {
        sync_opened(File::open(dir))?;
    }
    Ok(())
}

/// Syncs a folder as [`sync_folder`] opened it. One this user may write in
/// but not read (a drop folder) cannot be opened to sync: its entries are
/// left to the system rather than refusing to write there.
fn sync_opened(opened: io::Result<File>) -> io::Result<()> {
    match opened {
        Ok(folder) => folder.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every folder made is synced in the folder holding it, however deep:
    /// a crash could otherwise lose the name of any one of them, and with
    /// it the records below.
    #[test]
    fn each_folder_made_is_synced_in_the_folder_holding_it() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("a/b/c");
        let [a, b] = [base.path().join("a"), base.path().join("a/b")];
        let made = create_folders(&dir).unwrap();
        assert!(dir.is_dir());
        assert_eq!(made, [a.clone(), b.clone(), dir.clone()]);
        assert_eq!(holders(&made), [base.path().to_path_buf(), a, b]);
        // Nothing made: nothing to sync.
        assert!(create_folders(&dir).unwrap().is_empty());
        // A bare name is held by the current folder.
        assert_eq!(holders(&[PathBuf::from("new")]), [PathBuf::from(".")]);
    }

    /// A folder is synced, a missing one is an error; one this user may
    /// write in but not list (a drop folder) takes files, as it did before
    /// folders were synced: its refusal to open is no error. (Shown end to
    /// end only as a user other than root, who lists any folder: the
    /// decision is shown here.)
    #[test]
    fn a_folder_is_synced_unless_it_cannot_be_opened_for_it() {
        use std::io::{Error, ErrorKind};
        let dir = tempfile::tempdir().unwrap();
        sync_folder(dir.path()).unwrap();
        if cfg!(unix) {
            assert!(sync_folder(&dir.path().join("missing")).is_err());
        }
        sync_opened(Err(Error::from(ErrorKind::PermissionDenied))).unwrap();
        let missing = sync_opened(Err(Error::from(ErrorKind::NotFound)));
        assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
    }
}

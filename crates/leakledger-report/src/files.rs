//! The report folder: created owner-only, never silently overwritten, and
//! written without following links that someone else may have planted in it.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::{Error, io_err, write_all};

/// An open report folder.
#[derive(Debug)]
pub(crate) struct Folder {
    dir: PathBuf,
}

impl Folder {
    /// Creates `dir` (and its parents) with mode 0700, or takes an existing empty
    /// one (or, with `force`, a non-empty one), tightening it to 0700.
    pub(crate) fn create(dir: &Path, force: bool) -> Result<Folder, Error> {
        match fs::symlink_metadata(dir) {
            Ok(m) if m.is_dir() => {
                let mut entries = fs::read_dir(dir).map_err(io_err(dir))?;
                if entries.next().is_some() && !force {
                    return Err(Error::Exists(dir.to_path_buf()));
                }
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
            }
            Ok(_) => {
                let e = io::Error::new(io::ErrorKind::AlreadyExists, "it exists and is not a folder");
                return Err(Error::Io { path: dir.to_path_buf(), source: e });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io_err(dir))?;
            }
            Err(e) => return Err(Error::Io { path: dir.to_path_buf(), source: e }),
        }
        Ok(Folder { dir: dir.to_path_buf() })
    }

    /// The path of `name` inside the folder.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the sub-folder `name` with mode 0700 (an existing one is kept).
    pub(crate) fn mkdir(&self, name: &str) -> Result<(), Error> {
        let p = self.path(name);
        match fs::DirBuilder::new().mode(0o700).create(&p) {
            Ok(()) => Ok(()),
            Err(e)
                if e.kind() == io::ErrorKind::AlreadyExists && fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) =>
            {
                fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).map_err(io_err(&p))
            }
            Err(e) => Err(Error::Io { path: p, source: e }),
        }
    }

    /// Writes `bytes` to `name` (mode 0600, replacing an older file, never through
    /// a symbolic link); returns `name` as a path relative to the folder.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
        let p = self.path(name);
        let file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&p)
            .map_err(io_err(&p))?;
        file.set_permissions(fs::Permissions::from_mode(0o600)).map_err(io_err(&p))?;
        write_all(io::BufWriter::new(file), bytes).map_err(io_err(&p))?;
        Ok(PathBuf::from(name))
    }
}

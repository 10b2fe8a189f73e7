//! Finding the sources of a dump: walking paths, opening files safely, telling
//! compression and format apart.

use std::collections::HashSet;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::format::{Format, Layout, sniff};
use crate::options::Options;

/// A source's index in [`crate::Dump::sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SourceId(pub u32);

/// How a source is compressed, told by its magic bytes (not its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip, possibly several members.
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// One input file of the dump.
#[derive(Clone, Debug, Serialize)]
pub struct Source {
    /// Its index.
    pub id: SourceId,
    /// The path it was found at.
    pub path: PathBuf,
    /// Size on disk when opened.
    pub size: u64,
    /// Compression, by magic bytes.
    pub compression: Compression,
    /// Format, sniffed or forced.
    pub format: Format,
    /// How it is cut for parsing.
    pub layout: Layout,
    #[serde(skip)]
    pub(crate) identity: (u64, u64),
}

/// An input that was passed over, and why: not a regular file, a symlink loop,
/// unreadable, a duplicate of another source, an unsupported compression.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// The path.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
    /// The path may hold data that was not read: it could not be opened or
    /// walked, or its compression is not supported. False for a choice: the
    /// same file as another source, a FIFO, socket or device, a symlink loop.
    /// (A gate must not pass what it could not read.)
    pub unread: bool,
}

/// Opens `path` for reading without blocking on FIFOs and without taking a
/// controlling terminal, then checks (on the open descriptor, so that a file
/// swapped in between cannot fool it) that it is a regular file.
pub(crate) fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
    let file =
        OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC).open(path)?;
    let md = file.metadata()?;
    if !md.is_file() {
        return Err(io::Error::other(format!("not a regular file ({})", kind_of(&md))));
    }
    Ok((file, md))
}

fn kind_of(md: &Metadata) -> &'static str {
    let t = md.file_type();
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_symlink() {
        "symlink"
    } else {
        "special file"
    }
}

/// Tells compression from the first bytes; names the unsupported ones.
fn compression_of(head: &[u8]) -> Result<Compression, &'static str> {
    match head {
        [0x1f, 0x8b, ..] => Ok(Compression::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Ok(Compression::Zstd),
        [b'B', b'Z', b'h', ..] => Err("bzip2 compression is not supported"),
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Err("xz compression is not supported"),
        [b'P', b'K', 3, 4, ..] => Err("zip archives are not supported; extract them first"),
        _ => Ok(Compression::None),
    }
}

/// Reads up to `n` bytes, stopping early only at the end or on an error.
pub(crate) fn read_up_to(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n.min(1 << 20));
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The decompressed head of a file, for sniffing. A corrupt stream gives what
/// could be read.
fn head_of(file: &mut File, compression: Compression) -> io::Result<Vec<u8>> {
    use crate::format::SNIFF;
    match compression {
        Compression::None => read_up_to(file, SNIFF),
        Compression::Gzip => Ok(read_lossy(flate2::read::MultiGzDecoder::new(file), SNIFF)),
        Compression::Zstd => match zstd::stream::read::Decoder::new(file) {
            Ok(d) => Ok(read_lossy(d, SNIFF)),
            Err(_) => Ok(Vec::new()),
        },
    }
}

fn read_lossy(mut r: impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        match r.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => filled += k,
        }
    }
    buf.truncate(filled);
    buf
}

/// Walks `paths` (files and directories, in name order) into sources. When one
/// file is reached by several paths, the path that is not a symlink wins.
pub(crate) fn discover<P: AsRef<Path>>(paths: &[P], options: &Options) -> (Vec<Source>, Vec<Skipped>) {
    let mut skipped = Vec::new();
    // (walk order, path, reached through a symlink)
    let mut candidates: Vec<(usize, PathBuf, bool)> = Vec::new();
    for root in paths {
        let root = root.as_ref();
        for entry in walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().unwrap_or(root).to_path_buf();
                    let looped = e.loop_ancestor().is_some();
                    let reason = if looped {
                        "symlink loop".to_string()
                    } else {
                        match e.io_error() {
                            Some(io) => io.to_string(),
                            None => e.to_string(),
                        }
                    };
                    skipped.push(Skipped { path, reason, unread: !looped });
                    continue;
                }
            };
            let ft = entry.file_type();
            if ft.is_dir() {
                continue;
            }
            let path = entry.path().to_path_buf();
            if !ft.is_file() {
                let (reason, unread) = match entry.metadata() {
                    Ok(md) => (format!("not a regular file ({})", kind_of(&md)), false),
                    Err(e) => (e.to_string(), true),
                };
                skipped.push(Skipped { path, reason, unread });
                continue;
            }
            candidates.push((candidates.len(), path, entry.path_is_symlink()));
        }
    }
    let mut by_preference: Vec<&(usize, PathBuf, bool)> = candidates.iter().collect();
    by_preference.sort_by_key(|(order, _, link)| (*link, *order));
    let mut seen: HashSet<(u64, u64)> = HashSet::new();
    let mut kept: Vec<(usize, Source)> = Vec::new();
    for (order, path, _) in by_preference {
        match open_source(path, options, &mut seen) {
            Ok(Some(s)) => kept.push((*order, s)),
            Ok(None) => skipped.push(Skipped {
                path: path.clone(),
                reason: "the same file as another source".into(),
                unread: false,
            }),
            Err(reason) => skipped.push(Skipped { path: path.clone(), reason, unread: true }),
        }
    }
    kept.sort_by_key(|(order, _)| *order);
    let mut sources = Vec::with_capacity(kept.len());
    for (i, (_, mut s)) in kept.into_iter().enumerate() {
        match u32::try_from(i) {
            Ok(id) => {
                s.id = SourceId(id);
                sources.push(s);
            }
            Err(_) => {
                skipped.push(Skipped { path: s.path, reason: "too many sources (more than 2^32)".into(), unread: true })
            }
        }
    }
    (sources, skipped)
}

/// Opens one candidate; `None` when it is a file already seen.
fn open_source(path: &Path, options: &Options, seen: &mut HashSet<(u64, u64)>) -> Result<Option<Source>, String> {
    let (mut file, md) = open_regular(path).map_err(|e| e.to_string())?;
    let identity = (md.dev(), md.ino());
    if !seen.insert(identity) {
        return Ok(None);
    }
    let mut magic = [0u8; 6];
    let n = read_up_to(&mut file, magic.len()).map_err(|e| e.to_string())?;
    magic[..n.len()].copy_from_slice(&n);
    let compression = compression_of(&magic[..n.len()]).map_err(str::to_string)?;
    // Re-read from the start through the decoder, for sniffing.
    let mut file = {
        use std::io::Seek;
        file.rewind().map_err(|e| e.to_string())?;
        file
    };
    let head = head_of(&mut file, compression).map_err(|e| e.to_string())?;
    let (format, layout) = sniff(&head, options.format);
    Ok(Some(Source {
        id: SourceId(0),
        path: path.to_path_buf(),
        size: md.len(),
        compression,
        format,
        layout,
        identity,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_by_magic() {
        assert_eq!(compression_of(&[0x1f, 0x8b, 8, 0]), Ok(Compression::Gzip));
        assert_eq!(compression_of(&[0x28, 0xb5, 0x2f, 0xfd]), Ok(Compression::Zstd));
        assert_eq!(compression_of(b"{\"a\""), Ok(Compression::None));
        assert!(compression_of(b"BZh91AY").is_err());
        assert_eq!(compression_of(b""), Ok(Compression::None));
    }
}

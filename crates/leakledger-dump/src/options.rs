//! Options for opening and scanning a dump, as a builder.

use crate::format::Format;

/// How a dump is opened and read. Build with [`Options::new`] and the setters;
/// defaults suit a multi-GB dump on a small machine.
///
/// ```
/// use leakledger_dump::{Format, Options};
/// let options = Options::new().format(Some(Format::Jsonl)).mmap(false).threads(Some(2));
/// assert_eq!(options.get_threads(), Some(2));
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) format: Option<Format>,
    pub(crate) mmap: bool,
    pub(crate) hash: bool,
    pub(crate) chunk_size: usize,
    pub(crate) max_record_bytes: usize,
    pub(crate) max_decompressed_bytes: u64,
    pub(crate) max_ratio: u64,
    pub(crate) malformed_samples: usize,
    pub(crate) threads: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            format: None,
            mmap: true,
            hash: true,
            chunk_size: 4 << 20,
            max_record_bytes: 512 << 20,
            max_decompressed_bytes: 64 << 30,
            max_ratio: 1_000,
            malformed_samples: 20,
            threads: None,
        }
    }
}

impl Options {
    /// The defaults: sniff formats, map plain files, hash every source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Force one format for every source instead of sniffing each.
    pub fn format(mut self, format: Option<Format>) -> Self {
        self.format = format;
        self
    }

    /// Map uncompressed files into memory (default) or read them in chunks.
    pub fn mmap(mut self, on: bool) -> Self {
        self.mmap = on;
        self
    }

    /// Compute each source's SHA-256 for the manifest (default on).
    pub fn hash(mut self, on: bool) -> Self {
        self.hash = on;
        self
    }

    /// Target size of the chunks handed to workers (default 4 MiB). Tiny sizes
    /// work (tests use them to put chunk boundaries everywhere) but are slow.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// Longest record held in memory when reading a stream (default 512 MiB); a
    /// longer one is counted as malformed and skipped. Mapped files have no limit.
    pub fn max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record_bytes = bytes.max(1);
        self
    }

    /// Stop decompressing a source after this many bytes (default 64 GiB).
    pub fn max_decompressed_bytes(mut self, bytes: u64) -> Self {
        self.max_decompressed_bytes = bytes;
        self
    }

    /// Stop decompressing a source whose output exceeds this many times its input,
    /// once past 16 MiB of output (default 1000; a decompression bomb's mark).
    pub fn max_ratio(mut self, ratio: u64) -> Self {
        self.max_ratio = ratio.max(1);
        self
    }

    /// How many malformed records to keep as samples per source (default 20).
    pub fn malformed_samples(mut self, n: usize) -> Self {
        self.malformed_samples = n;
        self
    }

    /// Worker threads (default: rayon's global pool, one per core).
    pub fn threads(mut self, n: Option<usize>) -> Self {
        self.threads = n.filter(|&n| n > 0);
        self
    }

    /// The worker threads asked for, if any.
    pub fn get_threads(&self) -> Option<usize> {
        self.threads
    }
}

//! The mmap hazard: a plain file is read through a memory map, and if another
//! process truncates it meanwhile, touching the lost pages raises `SIGBUS`,
//! which by default kills the process with no word about why.
//!
//! [`install_sigbus_guard`] turns that into a clear error: every mapping the
//! scan makes is registered here with its (escaped) file name, and the handler,
//! when the faulting address lies in one of them, writes
//! `leakledger: FILE changed size while it was being read ...` to standard error
//! and exits with status 2 (input error). A `SIGBUS` at any other address goes
//! to the handler that was there before (Rust's own, or the default), as if the
//! guard were not installed. No result is written after such a fault: a report
//! from half a file that someone is rewriting is not evidence.
//!
//! The guard is opt-in because a library should not take over a signal of its
//! host process; the `leakledger` binary installs it first thing. The other
//! defences are `--no-mmap` (read instead of map, for files that may still be
//! written) and the size check between the walk and the read
//! ([`crate::Problem::Changed`]). See docs/security.md.

#![allow(unsafe_code)]

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// How many mappings can be live and named at once. More are still read, but a
/// fault in them is reported without the file's name.
const SLOTS: usize = 64;

struct Slot {
    used: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    name: AtomicPtr<u8>,
    name_len: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    used: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    name: AtomicPtr::new(std::ptr::null_mut()),
    name_len: AtomicUsize::new(0),
};

static MAPS: [Slot; SLOTS] = [EMPTY; SLOTS];
/// Set once the handler is in place; mappings register only then.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The `SIGBUS` action before ours, restored for faults that are not ours.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// Installs the `SIGBUS` handler described in the module documentation. Calling
/// it again does nothing. Unix only in effect; the call is harmless elsewhere.
///
/// # Errors
/// The operating system refused the handler (`sigaction` failed).
pub fn install_sigbus_guard() -> io::Result<()> {
    static ONCE: OnceLock<io::Result<()>> = OnceLock::new();
    match ONCE.get_or_init(install) {
        Ok(()) => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

fn install() -> io::Result<()> {
    // SAFETY: a zeroed sigaction is a valid value (empty mask, no flags), filled
    // in below before use; `on_sigbus` has the three-argument signature that
    // SA_SIGINFO asks for.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&raw mut action.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGBUS, &raw const action, &raw mut previous) != 0 {
            return Err(io::Error::last_os_error());
        }
        let _ = PREVIOUS.set(previous);
    }
    INSTALLED.store(true, Ordering::Release);
    Ok(())
}

/// A mapping registered with the guard, cleared when dropped. Keep it alive at
/// least as long as the mapping (declare it before the map in a struct, so that
/// it is dropped first: a freed range must leave the table before it can be
/// reused by another mapping).
#[derive(Debug)]
pub(crate) struct Registration {
    slot: Option<usize>,
    _name: Box<[u8]>,
}

impl Registration {
    /// Registers `bytes` (a live mapping) under `name` (escaped here, since it
    /// will be written to a terminal).
    pub(crate) fn new(bytes: &[u8], name: &str) -> Registration {
        if !INSTALLED.load(Ordering::Acquire) || bytes.is_empty() {
            return Registration { slot: None, _name: Box::default() };
        }
        let mut escaped: Vec<u8> = name.chars().flat_map(char::escape_debug).collect::<String>().into_bytes();
        escaped.truncate(4096);
        let name: Box<[u8]> = escaped.into_boxed_slice();
        let slot = MAPS.iter().position(|s| !s.used.swap(true, Ordering::AcqRel));
        if let Some(i) = slot {
            let s = &MAPS[i];
            s.name.store(name.as_ptr().cast_mut(), Ordering::Relaxed);
            s.name_len.store(name.len(), Ordering::Relaxed);
            s.end.store(bytes.as_ptr() as usize + bytes.len(), Ordering::Relaxed);
            // Published last: the handler reads `start` first, with Acquire.
            s.start.store(bytes.as_ptr() as usize, Ordering::Release);
        }
        Registration { slot, _name: name }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            let s = &MAPS[i];
            s.start.store(0, Ordering::Release);
            s.end.store(0, Ordering::Release);
            s.used.store(false, Ordering::Release);
        }
    }
}

/// A plain file mapped for reading and named to the guard (when installed) for
/// as long as it lives: the one way this workspace maps a file, so that every
/// mapping is covered. Dereferences to the file's bytes.
#[derive(Debug)]
pub struct Mapped {
    // Dropped before the map (fields drop in order): a freed range leaves the
    // guard's table before another mapping can reuse it.
    _named: Registration,
    map: memmap2::Mmap,
}

impl Mapped {
    /// Maps `file`, which a fault report will call `name`.
    ///
    /// # Errors
    /// When the system refuses the mapping (not a regular file, no memory).
    #[allow(unsafe_code)]
    pub fn new(file: &std::fs::File, name: &str) -> io::Result<Mapped> {
        // SAFETY: the mapping is read-only and private to this process; the
        // contract is that nobody truncates or rewrites the file while it is
        // mapped. A file truncated by another process raises SIGBUS on access
        // to the lost pages: responders work on evidence copies that nothing
        // writes, `--no-mmap` reads instead of mapping for files that may still
        // be written, and the binary installs `install_sigbus_guard`, which
        // turns the signal into a clear error naming the file (docs/security.md).
        let map = unsafe { memmap2::Mmap::map(file) }?;
        let _named = Registration::new(&map, name);
        Ok(Mapped { _named, map })
    }

    /// Tells the kernel the bytes will be read once, front to back (read-ahead).
    pub fn advise_sequential(&self) {
        let _ = self.map.advise(memmap2::Advice::Sequential);
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

/// Writes all of `bytes` to standard error, async-signal-safely.
fn write_err(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: write(2) on a valid buffer; async-signal-safe.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// Writes `n` in decimal without allocating.
fn write_number(mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    write_err(&digits[i..]);
}

extern "C" fn on_sigbus(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SIGBUS under SA_SIGINFO.
    let addr = unsafe { (*info).si_addr() } as usize;
    for s in &MAPS {
        let start = s.start.load(Ordering::Acquire);
        let end = s.end.load(Ordering::Acquire);
        if start == 0 || addr < start || addr >= end {
            continue;
        }
        let name = s.name.load(Ordering::Relaxed);
        let len = s.name_len.load(Ordering::Relaxed);
        write_err(b"leakledger: ");
        if !name.is_null() {
            // SAFETY: the faulting thread is reading this mapping, so it is
            // live, and so is its registration and the name it owns.
            write_err(unsafe { std::slice::from_raw_parts(name, len) });
        } else {
            write_err(b"an input file");
        }
        write_err(b" changed size while it was being read (SIGBUS at byte ");
        write_number(addr - start);
        write_err(
            b"); nothing was written. Scan a copy that nothing writes to, \
              or use --no-mmap for files that may still be growing or shrinking.\n",
        );
        // SAFETY: _exit is async-signal-safe and ends the process at once.
        unsafe { libc::_exit(2) };
    }
    // Not ours: hand the signal to whoever had it before.
    match PREVIOUS.get() {
        Some(prev) if prev.sa_flags & libc::SA_SIGINFO != 0 && prev.sa_sigaction > libc::SIG_IGN => {
            // SAFETY: the previous handler was installed with SA_SIGINFO, so it
            // has this signature.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(prev.sa_sigaction) };
            f(signal, info, context);
        }
        previous => {
            // SAFETY: restore the old action (or the default) and return: the
            // faulting access runs again and meets it.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                if let Some(p) = previous {
                    action = *p;
                } else {
                    action.sa_sigaction = libc::SIG_DFL;
                }
                libc::sigaction(libc::SIGBUS, &raw const action, std::ptr::null_mut());
            }
        }
    }
}

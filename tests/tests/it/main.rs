//! End-to-end tests of the public API: every format, every read path, hostile
//! bytes, the walk, and the repository's own rules (tidy).

mod chains;
mod chunking;
mod exposure;
mod formats;
mod hostile;
mod streams;
mod synth;
mod tidy;
mod walk;

//! Errors of the cost model.

/// Why a model cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model is not valid TOML, has a wrong type, or a value out of range.
    #[error("cost model{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Model {
        /// The line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

//! Detectors over text, knowing nothing of dumps or JSON: given the segments of
//! a coding assistant's conversation (system prompt, texts, tool calls and their
//! results), find what they expose: the working directory, the repository
//! (origin remote, go.mod module), files with their contents (tool reads, `File:`
//! markers, fenced blocks with paths, unified diffs), paths mentioned, and the
//! languages of it all. Paths and repository URLs are normalised here.
//!
//! ```
//! use leakledger_detect::exposure::{Segment, extract};
//!
//! let segments = [
//!     Segment::System("You are a coding agent.\nWorking directory: /home/dana/src/payments"),
//!     Segment::ToolCall { id: "t1", name: "Read", path: Some("/home/dana/src/payments/src/App.java"), command: None },
//!     Segment::ToolResult { id: "t1", content: "class App {}\n", error: false },
//!     Segment::Text("```python tools/fix.py\nprint('hi')\n```"),
//! ];
//! let found = extract(&segments);
//! assert_eq!(found.cwd.as_deref(), Some("/home/dana/src/payments"));
//! let paths: Vec<&str> = found.files.iter().map(|f| f.path.as_str()).collect();
//! assert_eq!(paths, ["src/App.java", "tools/fix.py"]);
//! ```

#![warn(missing_docs)]

pub mod exposure;
pub mod identifiers;
pub mod lang;
pub mod path;
pub mod repo;
pub mod secrets;
pub mod text;

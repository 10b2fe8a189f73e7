//! What a leak will cost: a remediation cost model driven by the evidence.
//!
//! A [`Model`] lists components (forensics, patching, legal, secret rotation by
//! severity, notification, fines, lost revenue), each with a driver read from the
//! inventory ([`Drivers`]: organisations, repositories, files, code, chains,
//! secrets by severity), a cost distribution per unit (fixed, uniform, PERT,
//! lognormal from a 90% interval; with a probability and a cap), a timing, and
//! whether it is cash from the burst-budget pool or an economic loss. [`run`]
//! draws it many times with counter-based random streams (bit-identical for any
//! thread count) and reports percentiles, the daily cumulative spend band, the
//! probability of exceeding the ceiling and the day the median crosses it,
//! variance shares and a tornado ranking. This crate knows nothing of dumps.
//!
//! ```
//! use leakledger_cost::{Drivers, Model, run};
//! let mut model = Model::default_model();
//! model.iterations = 2_000;
//! let drivers = Drivers { organizations: 3.0, secrets_critical: 40.0, ..Drivers::default() };
//! let out = run(&model, &drivers);
//! assert!(out.total.p10 <= out.total.p50 && out.total.p50 <= out.total.p90);
//! assert!((0.0..=1.0).contains(&out.p_exceed));
//! ```

#![warn(missing_docs)]

mod dist;
mod error;
mod model;
mod rng;
mod sim;

pub use dist::{Dist, Z95};
pub use error::Error;
pub use model::{Component, DEFAULT_MODEL, Drivers, Model, Timing};
pub use sim::{ComponentResult, Day, Deadline, GroupResult, Outcome, Stats, Swing, deadlines, run, run_by_group};

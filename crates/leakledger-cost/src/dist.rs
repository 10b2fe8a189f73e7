//! The distributions a cost component can take, with their closed forms.

use serde::{Deserialize, Serialize};

use crate::rng::Stream;

/// z of the 95th percentile: a 90% interval spans ±1.6448536269514722 σ.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// A distribution of a cost (per driver unit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    /// Always `value`.
    Fixed {
        /// The value.
        value: f64,
    },
    /// Uniform on `[low, high]`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// PERT: a Beta on `[low, high]` with mode `mode` and shape `shape` (4 by
    /// default): α = 1 + γ(m−a)/(b−a), β = 1 + γ(b−m)/(b−a).
    Pert {
        /// Minimum.
        low: f64,
        /// Most likely.
        mode: f64,
        /// Maximum.
        high: f64,
        /// γ (default 4).
        #[serde(default = "four")]
        shape: f64,
    },
    /// Lognormal from a 90% interval: μ = (ln L + ln H)/2, σ = (ln H − ln L)/(2·1.645).
    Lognormal90 {
        /// 5th percentile.
        low: f64,
        /// 95th percentile.
        high: f64,
    },
}

fn four() -> f64 {
    4.0
}

impl Dist {
    /// Checks the parameters; returns what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let finite = |v: f64, n: &str| if v.is_finite() { Ok(()) } else { Err(format!("{n} is not a finite number")) };
        match *self {
            Dist::Fixed { value } => {
                finite(value, "value")?;
                if value < 0.0 {
                    return Err("value is negative".into());
                }
            }
            Dist::Uniform { low, high } => {
                finite(low, "low")?;
                finite(high, "high")?;
                if low < 0.0 || high < low {
                    return Err(format!("uniform needs 0 <= low <= high (got {low}, {high})"));
                }
            }
            Dist::Pert { low, mode, high, shape } => {
                for (v, n) in [(low, "low"), (mode, "mode"), (high, "high"), (shape, "shape")] {
                    finite(v, n)?;
                }
                if low < 0.0 || high <= low || mode < low || mode > high {
                    return Err(format!(
                        "pert needs 0 <= low <= mode <= high and low < high (got {low}, {mode}, {high})"
                    ));
                }
                if shape <= 0.0 {
                    return Err("pert shape must be positive".into());
                }
            }
            Dist::Lognormal90 { low, high } => {
                finite(low, "low")?;
                finite(high, "high")?;
                if low <= 0.0 || high <= low {
                    return Err(format!("lognormal90 needs 0 < low < high (got {low}, {high})"));
                }
            }
        }
        Ok(())
    }

    /// A warning worth showing: a lognormal whose high/low exceeds 100 has a mean
    /// driven by its tail.
    pub fn warning(&self) -> Option<String> {
        match *self {
            Dist::Lognormal90 { low, high } if high / low > 100.0 => Some(format!(
                "lognormal90 high/low = {:.0} > 100: the mean ({:.0}) is driven by the tail",
                high / low,
                self.mean()
            )),
            _ => None,
        }
    }

    fn pert_ab(low: f64, mode: f64, high: f64, shape: f64) -> (f64, f64) {
        let r = high - low;
        (1.0 + shape * (mode - low) / r, 1.0 + shape * (high - mode) / r)
    }

    fn lognormal_params(low: f64, high: f64) -> (f64, f64) {
        ((low.ln() + high.ln()) / 2.0, (high.ln() - low.ln()) / (2.0 * Z95))
    }

    /// The analytic mean.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { low, high } => (low + high) / 2.0,
            Dist::Pert { low, mode, high, shape } => (low + shape * mode + high) / (shape + 2.0),
            Dist::Lognormal90 { low, high } => {
                let (mu, sigma) = Self::lognormal_params(low, high);
                (mu + sigma * sigma / 2.0).exp()
            }
        }
    }

    /// The analytic variance.
    pub fn variance(&self) -> f64 {
        match *self {
            Dist::Fixed { .. } => 0.0,
            Dist::Uniform { low, high } => (high - low).powi(2) / 12.0,
            Dist::Pert { low, mode, high, shape } => {
                let (a, b) = Self::pert_ab(low, mode, high, shape);
                (high - low).powi(2) * a * b / ((a + b).powi(2) * (a + b + 1.0))
            }
            Dist::Lognormal90 { low, high } => {
                let (mu, sigma) = Self::lognormal_params(low, high);
                ((sigma * sigma).exp() - 1.0) * (2.0 * mu + sigma * sigma).exp()
            }
        }
    }

    /// One draw.
    pub(crate) fn sample(&self, s: &mut Stream) -> f64 {
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { low, high } => low + (high - low) * s.uniform(),
            Dist::Pert { low, mode, high, shape } => {
                let (a, b) = Self::pert_ab(low, mode, high, shape);
                low + (high - low) * s.beta(a, b)
            }
            Dist::Lognormal90 { low, high } => {
                let (mu, sigma) = Self::lognormal_params(low, high);
                (mu + sigma * s.normal()).exp()
            }
        }
    }
}

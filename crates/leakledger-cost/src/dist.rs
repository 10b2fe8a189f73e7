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

    /// The quantile function (inverse CDF) at `p` in (0, 1): closed form for the
    /// lognormal, uniform and fixed; the regularised incomplete beta inverted by
    /// bisection for PERT (to 1e-12 of the range).
    pub fn quantile(&self, p: f64) -> f64 {
        let p = p.clamp(1e-15, 1.0 - 1e-15);
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { low, high } => low + (high - low) * p,
            Dist::Lognormal90 { low, high } => {
                let (mu, sigma) = Self::lognormal_params(low, high);
                (mu + sigma * inverse_normal(p)).exp()
            }
            Dist::Pert { low, mode, high, shape } => {
                let (a, b) = Self::pert_ab(low, mode, high, shape);
                let (mut lo, mut hi) = (0.0f64, 1.0f64);
                for _ in 0..200 {
                    let mid = 0.5 * (lo + hi);
                    if beta_cdf(mid, a, b) < p {
                        lo = mid
                    } else {
                        hi = mid
                    }
                    if hi - lo < 1e-13 {
                        break;
                    }
                }
                low + (high - low) * 0.5 * (lo + hi)
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

/// ln Γ(x) (Lanczos, g = 7, n = 9; about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The continued fraction of the incomplete beta (modified Lentz).
fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let floor = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / floor(1.0 - qab * x / qap);
    let mut h = d;
    // One Lentz step with coefficient `aa`; returns the factor applied to `h`.
    let step = |aa: f64, c: &mut f64, d: &mut f64| {
        *d = 1.0 / floor(1.0 + aa * *d);
        *c = floor(1.0 + aa / *c);
        *d * *c
    };
    for m in 1..500 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)), &mut c, &mut d);
        let del = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &mut c, &mut d);
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta I_x(a, b).
fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(1.0 - x, b, a) / b
    }
}

/// The standard normal quantile (Acklam's rational approximation, refined by two
/// Halley steps on an accurate error function).
pub(crate) fn inverse_normal(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let plow = 0.02425;
    let x = if p < plow {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - plow {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // Halley steps: e = Φ(x) − p with Φ from erfc.
    let mut x = x;
    for _ in 0..2 {
        let e = 0.5 * erfc(-x / std::f64::consts::SQRT_2) - p;
        let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
        x -= u / (1.0 + x * u / 2.0);
    }
    x
}

/// The complementary error function to about 1e-15: the non-alternating series
/// erf(z) = 2/√π · e^(−z²) · Σ 2ⁿ z^(2n+1) / (1·3·…·(2n+1)) below 2.5, the continued
/// fraction erfc(z) = e^(−z²)/√π · 1/(z + ½/(z + 1/(z + 3/2/(z + …)))) above.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let r = if z < 2.5 {
        let mut term = z;
        let mut sum = z;
        for n in 1..200 {
            term *= 2.0 * z * z / (2 * n + 1) as f64;
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        1.0 - 2.0 / std::f64::consts::PI.sqrt() * (-z * z).exp() * sum
    } else {
        // Modified Lentz on b0 + a1/(b1 + a2/(b2 + ...)) with b = z, a_k = k/2.
        let tiny = 1e-300;
        let mut f = z;
        let mut c = z;
        let mut d = 0.0;
        for k in 1..500 {
            let a = k as f64 / 2.0;
            d = z + a * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = z + a / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (-z * z).exp() / (f * std::f64::consts::PI.sqrt())
    };
    if x >= 0.0 { r } else { 2.0 - r }
}

//! Counter-based random streams: iteration `i` of a run draws from a generator
//! seeded by `(seed, i)` alone, so results are bit-identical whatever the thread
//! count or the order iterations run in.

/// SplitMix64 over a per-iteration state.
#[derive(Clone, Debug)]
pub(crate) struct Stream {
    state: u64,
    spare: Option<f64>,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Stream {
    /// The stream of iteration `i` under `seed`, for draw slot `slot` (one slot per
    /// component, so fixing one input leaves the others' draws unchanged: common
    /// random numbers).
    pub(crate) fn new(seed: u64, i: u64, slot: u64) -> Self {
        Stream {
            state: mix(seed
                ^ mix(i.wrapping_add(0x9E37_79B9_7F4A_7C15))
                ^ mix(slot.wrapping_mul(0xD1B5_4A32_D192_ED03))),
            spare: None,
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in (0, 1), never 0.
    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller, both values used).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let (u1, u2) = (self.uniform(), self.uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * t.sin());
        r * t.cos()
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang (with the boost for shape < 1).
    pub(crate) fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let u = self.uniform();
            return self.gamma(shape + 1.0) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta(a, b) from two gammas.
    pub(crate) fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        x / (x + y)
    }
}

//! The cost model: components with a driver from the inventory, a distribution,
//! a timing and whether they draw on the burst-budget pool. Read from TOML; a
//! documented default is built in (`leakledger cost --print-model`).

use serde::{Deserialize, Serialize};

use crate::dist::Dist;
use crate::error::Error;

/// The built-in model (docs/cost-model.md gives every figure's source and status).
pub const DEFAULT_MODEL: &str = include_str!("default-model.toml");

/// When a component's money goes out, in days from awareness (day 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// First day of spend.
    #[serde(default)]
    pub start: f64,
    /// Days over which it is spread evenly (0: all on the start day).
    #[serde(default)]
    pub spread: f64,
    /// Paid in monthly instalments (every 30 days from `start` over `spread`)
    /// instead of evenly day by day.
    #[serde(default)]
    pub monthly: bool,
}

/// One cost component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Its name.
    pub name: String,
    /// What it scales with: `incident`, `organizations`, `repositories`, `files`,
    /// `code_gb`, `chains`, `secrets`, `secrets.critical`, `secrets.high`,
    /// `secrets.medium`, `secrets.low`, `secrets.kind.NAME` (e.g.
    /// `secrets.kind.aws-access-key-id`), or a sum such as `secrets.medium+secrets.low`.
    pub driver: String,
    /// Cost per driver unit. One draw per run is applied to every unit: the
    /// uncertainty is in the price, which all units share.
    pub cost: Dist,
    /// Probability that the component happens at all (a fine, say).
    #[serde(default = "one")]
    pub probability: f64,
    /// Upper bound on the component's total in a run (a statutory cap).
    #[serde(default)]
    pub cap: Option<f64>,
    /// When it is paid.
    pub timing: Timing,
    /// Cash drawn from the burst-budget pool (true), or an economic loss reported
    /// beside it (false).
    #[serde(default = "yes")]
    pub pool: bool,
    /// Where the figure comes from, shown in reports.
    pub source: String,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// The model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Currency of every figure.
    pub currency: String,
    /// Days projected.
    pub horizon_days: u32,
    /// The burst-budget ceiling.
    pub budget: f64,
    /// Monte Carlo iterations.
    pub iterations: u64,
    /// Seed.
    pub seed: u64,
    /// Components.
    #[serde(rename = "component")]
    pub components: Vec<Component>,
}

/// The inventory figures drivers read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Drivers {
    /// Affected organisations.
    pub organizations: f64,
    /// Repositories exposed.
    pub repositories: f64,
    /// Files exposed.
    pub files: f64,
    /// Exposed code in GB.
    pub code_gb: f64,
    /// Request chains.
    pub chains: f64,
    /// Distinct secrets by severity.
    pub secrets_critical: f64,
    /// High.
    pub secrets_high: f64,
    /// Medium.
    pub secrets_medium: f64,
    /// Low.
    pub secrets_low: f64,
    /// Distinct secrets by kind (`secrets.kind.NAME` drivers).
    #[serde(default)]
    pub kinds: std::collections::BTreeMap<String, f64>,
}

impl Drivers {
    /// The value of one driver name (not a sum).
    fn one(&self, name: &str) -> Option<f64> {
        Some(match name.trim() {
            "incident" => 1.0,
            "organizations" => self.organizations,
            "repositories" => self.repositories,
            "files" => self.files,
            "code_gb" => self.code_gb,
            "chains" => self.chains,
            "secrets" => self.secrets_critical + self.secrets_high + self.secrets_medium + self.secrets_low,
            "secrets.critical" => self.secrets_critical,
            "secrets.high" => self.secrets_high,
            "secrets.medium" => self.secrets_medium,
            "secrets.low" => self.secrets_low,
            other => {
                let kind = other.strip_prefix("secrets.kind.")?;
                if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                    return None;
                }
                self.kinds.get(kind).copied().unwrap_or(0.0)
            }
        })
    }

    /// The value of a driver expression (`a+b`).
    pub fn value(&self, expr: &str) -> Option<f64> {
        expr.split('+').map(|p| self.one(p)).sum()
    }
}

impl Model {
    /// The built-in model.
    pub fn default_model() -> Model {
        Model::from_toml(DEFAULT_MODEL).unwrap_or_else(|e| panic!("the built-in cost model is broken: {e}"))
    }

    /// Reads and checks a model. Errors name the line (syntax, types) or the
    /// component (values).
    pub fn from_toml(text: &str) -> Result<Model, Error> {
        let model: Model = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            Error::Model { line, message: e.message().to_string() }
        })?;
        model.check(text)?;
        Ok(model)
    }

    fn check(&self, text: &str) -> Result<(), Error> {
        let line_of = |name: &str| {
            let needle = format!("name = \"{name}\"");
            text.find(&needle).map(|at| text[..at].matches('\n').count() + 1)
        };
        let bad = |line, message: String| Err(Error::Model { line, message });
        if !(self.budget.is_finite() && self.budget > 0.0) {
            return bad(None, "budget must be a positive number".into());
        }
        if self.horizon_days == 0 || self.horizon_days > 3650 {
            return bad(None, "horizon_days must be 1 to 3650".into());
        }
        if self.iterations == 0 {
            return bad(None, "iterations must be at least 1".into());
        }
        let probe = Drivers::default();
        for c in &self.components {
            let line = line_of(&c.name);
            let at = |m: String| Error::Model { line, message: format!("component {:?}: {m}", c.name) };
            c.cost.check().map_err(at)?;
            if probe.value(&c.driver).is_none() {
                return Err(at(format!("unknown driver {:?}", c.driver)));
            }
            if !(0.0..=1.0).contains(&c.probability) {
                return Err(at(format!("probability {} is not within 0..1", c.probability)));
            }
            if c.cap.is_some_and(|cap| !(cap.is_finite() && cap >= 0.0)) {
                return Err(at("cap must be a non-negative number".into()));
            }
            if !(c.timing.start.is_finite()
                && c.timing.start >= 0.0
                && c.timing.spread.is_finite()
                && c.timing.spread >= 0.0)
            {
                return Err(at("timing start and spread must be non-negative".into()));
            }
        }
        Ok(())
    }

    /// Warnings worth showing (tail-driven lognormals).
    pub fn warnings(&self) -> Vec<String> {
        self.components.iter().filter_map(|c| c.cost.warning().map(|w| format!("{}: {w}", c.name))).collect()
    }

    /// Sets one parameter, `component.param=value` (what-if runs): `param` is
    /// `probability`, `cap`, `start`, `spread`, or a distribution parameter
    /// (`low`, `mode`, `high`, `value`, `shape`).
    pub fn set(&mut self, assignment: &str) -> Result<(), Error> {
        let bad = |m: &str| Error::Model { line: None, message: format!("--set {assignment:?}: {m}") };
        let (lhs, value) = assignment.split_once('=').ok_or_else(|| bad("expected component.param=value"))?;
        let (name, param) = lhs.rsplit_once('.').ok_or_else(|| bad("expected component.param"))?;
        let v: f64 = value.trim().parse().map_err(|_| bad("the value is not a number"))?;
        // Change a copy; keep it only if the model stays valid.
        let mut next = self.clone();
        let c = next.components.iter_mut().find(|c| c.name == name).ok_or_else(|| bad("no such component"))?;
        match (param, &mut c.cost) {
            ("probability", _) => c.probability = v,
            ("cap", _) => c.cap = Some(v),
            ("start", _) => c.timing.start = v,
            ("spread", _) => c.timing.spread = v,
            ("value", Dist::Fixed { value }) => *value = v,
            ("low", Dist::Uniform { low, .. } | Dist::Pert { low, .. } | Dist::Lognormal90 { low, .. }) => *low = v,
            ("high", Dist::Uniform { high, .. } | Dist::Pert { high, .. } | Dist::Lognormal90 { high, .. }) => {
                *high = v
            }
            ("mode", Dist::Pert { mode, .. }) => *mode = v,
            ("shape", Dist::Pert { shape, .. }) => *shape = v,
            _ => return Err(bad("no such parameter for this component")),
        }
        next.check("")?;
        *self = next;
        Ok(())
    }
}

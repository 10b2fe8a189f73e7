//! The cost model run against a summary's figures: the drivers a `summary.json`
//! gives, the run, and its JSON form (`cost.json`, `leakledger cost --json`).

use chrono::{DateTime, Datelike, FixedOffset};
use leakledger_cost::{Deadline, Drivers, GroupResult, Model, Outcome, deadlines, run_by_group};
use serde_json::{Value, json};

/// The drivers of the whole dump, from a summary in its JSON form.
pub fn drivers(summary: &Value) -> Drivers {
    let n = |v: &Value| v.as_f64().unwrap_or(0.0);
    let e = &summary["exposure"];
    let s = &summary["secrets"]["by_severity"];
    Drivers {
        organizations: n(&e["organizations"]),
        repositories: n(&e["repositories"]),
        files: n(&e["files"]),
        code_gb: n(&e["code_bytes"]) / 1e9,
        chains: n(&summary["chains"]["total"]),
        secrets_critical: n(&s["critical"]),
        secrets_high: n(&s["high"]),
        secrets_medium: n(&s["medium"]),
        secrets_low: n(&s["low"]),
        kinds: summary["secrets"]["by_kind"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), n(v))).collect())
            .unwrap_or_default(),
    }
}

/// Per-organisation drivers, when the summary has them (`by_organization`).
pub fn org_drivers(summary: &Value) -> Vec<(String, Drivers)> {
    let Some(orgs) = summary["by_organization"].as_object() else { return Vec::new() };
    let n = |v: &Value| v.as_f64().unwrap_or(0.0);
    orgs.iter()
        .map(|(name, o)| {
            let s = &o["secrets"];
            (
                name.clone(),
                Drivers {
                    organizations: 1.0,
                    repositories: n(&o["repositories"]),
                    files: n(&o["files"]),
                    code_gb: 0.0,
                    chains: 0.0,
                    secrets_critical: n(&s["critical"]),
                    secrets_high: n(&s["high"]),
                    secrets_medium: n(&s["medium"]),
                    secrets_low: n(&s["low"]),
                    kinds: Default::default(),
                },
            )
        })
        .collect()
}

/// A cost run: the model's outcome for the dump and for each organisation.
#[derive(Debug)]
pub struct CostRun {
    /// The drivers the run used.
    pub drivers: Drivers,
    /// The whole dump's outcome.
    pub outcome: Outcome,
    /// Each organisation's share.
    pub by_org: Vec<GroupResult>,
    /// Day 0 of the schedule: given, else the end of the leak window.
    pub awareness: Option<DateTime<FixedOffset>>,
    /// Notification deadlines from day 0.
    pub deadlines: Vec<Deadline>,
    /// The model's warnings (settings outside their sources' ranges).
    pub warnings: Vec<String>,
}

/// Runs `model` on a summary (in its JSON form). Day 0 is `awareness` when
/// given, else the summary's `window.last`.
pub fn run(model: &Model, summary: &Value, awareness: Option<DateTime<FixedOffset>>) -> CostRun {
    let d = drivers(summary);
    let awareness =
        awareness.or_else(|| summary["window"]["last"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()));
    let (outcome, by_org) = run_by_group(model, &d, &org_drivers(summary));
    let due = deadlines(awareness.map(|a| a.weekday().num_days_from_monday()));
    CostRun { drivers: d, outcome, by_org, awareness, deadlines: due, warnings: model.warnings() }
}

impl CostRun {
    /// The summary's `cost` part (design.md §4).
    pub fn cost(&self) -> Value {
        let t = &self.outcome.total;
        json!({"mean": t.mean, "p10": t.p10, "p50": t.p50, "p90": t.p90, "p99": t.p99, "currency": self.outcome.currency})
    }

    /// The summary's `budget` part (design.md §4).
    pub fn budget(&self) -> Value {
        let o = &self.outcome;
        json!({"ceiling": o.budget, "p_exceed": o.p_exceed, "day_p50_crosses": o.day_p50_crosses})
    }

    /// `cost.json`: the summary's parts, the drivers, the schedule's day 0 and
    /// deadlines, warnings, every component and day, and the organisations.
    pub fn to_json(&self) -> Value {
        json!({
            "cost": self.cost(),
            "budget": self.budget(),
            "drivers": self.drivers,
            "awareness": self.awareness.map(|a| a.to_rfc3339()),
            "deadlines": self.deadlines,
            "warnings": self.warnings,
            "detail": self.outcome,
            "by_organization": self.by_org,
        })
    }
}

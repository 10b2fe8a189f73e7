//! The cost model against closed forms, and its invariants.

use leakledger_cost::{Dist, Drivers, Model, Z95, run};
use statrs::distribution::{Beta, ContinuousCDF, LogNormal};
use statrs::statistics::Distribution;

fn drivers() -> Drivers {
    Drivers {
        organizations: 4.0,
        repositories: 9.0,
        files: 300.0,
        code_gb: 0.02,
        chains: 50.0,
        secrets_critical: 30.0,
        secrets_high: 12.0,
        secrets_medium: 5.0,
        secrets_low: 1.0,
        kinds: Default::default(),
    }
}

fn small(iterations: u64, seed: u64) -> Model {
    let mut m = Model::default_model();
    m.iterations = iterations;
    m.seed = seed;
    m
}

#[test]
fn lognormal90_puts_low_and_high_at_the_5th_and_95th_percentiles() {
    let (low, high) = (20_000.0f64, 400_000.0f64);
    let mu = (low.ln() + high.ln()) / 2.0;
    let sigma = (high.ln() - low.ln()) / (2.0 * Z95);
    let d = LogNormal::new(mu, sigma).unwrap();
    assert!((d.inverse_cdf(0.05) - low).abs() / low < 1e-9);
    assert!((d.inverse_cdf(0.95) - high).abs() / high < 1e-9);
    let mine = Dist::Lognormal90 { low, high };
    assert!((mine.mean() - d.mean().unwrap()).abs() / mine.mean() < 1e-9);
    assert!((mine.variance() - d.variance().unwrap()).abs() / mine.variance() < 1e-9);
}

#[test]
fn quantiles_match_statrs() {
    let (low, high) = (20_000.0f64, 400_000.0f64);
    let mu = (low.ln() + high.ln()) / 2.0;
    let sigma = (high.ln() - low.ln()) / (2.0 * Z95);
    let ln = LogNormal::new(mu, sigma).unwrap();
    let mine = Dist::Lognormal90 { low, high };
    let (a, m, b, g) = (250_000.0, 450_000.0, 900_000.0, 4.0);
    let beta = Beta::new(1.0 + g * (m - a) / (b - a), 1.0 + g * (b - m) / (b - a)).unwrap();
    let pert = Dist::Pert { low: a, mode: m, high: b, shape: g };
    for p in [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999] {
        let want = ln.inverse_cdf(p);
        assert!((mine.quantile(p) - want).abs() / want < 1e-9, "lognormal p={p}: {} vs {want}", mine.quantile(p));
        let want = a + (b - a) * beta.inverse_cdf(p);
        assert!((pert.quantile(p) - want).abs() / want < 1e-9, "pert p={p}: {} vs {want}", pert.quantile(p));
    }
}

#[test]
fn pert_is_the_standard_beta() {
    let (a, m, b, g) = (250_000.0, 450_000.0, 900_000.0, 4.0);
    let alpha = 1.0 + g * (m - a) / (b - a);
    let beta = 1.0 + g * (b - m) / (b - a);
    let d = Beta::new(alpha, beta).unwrap();
    let mine = Dist::Pert { low: a, mode: m, high: b, shape: g };
    let mean = a + (b - a) * d.mean().unwrap();
    let var = (b - a).powi(2) * d.variance().unwrap();
    assert!((mine.mean() - mean).abs() / mean < 1e-9);
    assert!((mine.variance() - var).abs() / var < 1e-9);
    // The median of the scaled Beta, as a check of the parameters' orientation.
    assert!(a + (b - a) * d.inverse_cdf(0.5) < m + (b - m) / 2.0);
}

#[test]
fn monte_carlo_means_agree_with_the_analytic_means() {
    let model = small(40_000, 3);
    let d = drivers();
    let out = run(&model, &d);
    for (c, r) in model.components.iter().zip(&out.components) {
        let units = d.value(&c.driver).unwrap();
        if c.cap.is_some() {
            continue; // a cap has no simple closed form
        }
        let mean = c.probability * c.cost.mean() * units;
        let var = units
            * units
            * (c.probability * (c.cost.variance() + c.cost.mean().powi(2)) - (c.probability * c.cost.mean()).powi(2));
        let se = (var / model.iterations as f64).sqrt();
        assert!((r.stats.mean - mean).abs() <= 4.0 * se + 1e-9, "{}: {} vs {} (se {se})", c.name, r.stats.mean, mean);
    }
}

#[test]
fn variance_shares_sum_to_one() {
    let out = run(&small(10_000, 5), &drivers());
    let sum: f64 = out.components.iter().map(|c| c.variance_share).sum();
    assert!((sum - 1.0).abs() < 1e-9, "{sum}");
}

#[test]
fn the_median_crossing_day_is_where_the_p50_curve_crosses() {
    for (seed, orgs, budget) in
        [(1, 4.0, 5e6), (2, 9.0, 5e6), (3, 2.0, 1e6), (4, 30.0, 2e7), (5, 1.0, 5e7), (6, 5.0, 3e6)]
    {
        let mut model = small(3_001 + seed, seed);
        model.budget = budget;
        let d = Drivers { organizations: orgs, ..drivers() };
        let out = run(&model, &d);
        let curve = out.daily.iter().find(|day| day.p50 > budget).map(|day| day.day);
        assert_eq!(out.day_p50_crosses, curve, "seed {seed}: p_exceed {}", out.p_exceed);
    }
}

#[test]
fn the_same_seed_gives_the_same_answer_on_any_thread_count() {
    let on = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run(&small(5_000, 9), &drivers()))
    };
    assert_eq!(on(1), on(2));
    assert_ne!(run(&small(5_000, 9), &drivers()), run(&small(5_000, 10), &drivers()));
}

#[test]
fn more_secrets_cost_more_and_the_pool_excludes_economic_loss() {
    let base = run(&small(5_000, 2), &drivers());
    let more = run(&small(5_000, 2), &Drivers { secrets_critical: 3_000.0, ..drivers() });
    assert!(more.pool.mean > base.pool.mean);
    assert!(base.total.mean > base.pool.mean);
    assert!((base.total.mean - base.pool.mean - base.economic.mean).abs() < 1e-6 * base.total.mean);
}

#[test]
fn bad_models_are_rejected_with_their_line() {
    let with = |find: &str, replace: &str| leakledger_cost::DEFAULT_MODEL.replacen(find, replace, 1);
    let cases = [
        with("mode = 450000", "mode = 950000"),
        with("low = 250000", "low = -5"),
        with("high = 900000", "high = nan"),
        with("driver = \"organizations\"", "driver = \"planets\""),
        with("probability = 0.1", "probability = 1.5"),
        with("budget = 5000000", "budget = \"lots\""),
    ];
    for text in cases {
        let err = Model::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("line "), "{err}");
    }
}

#[test]
fn what_if_settings_change_one_parameter() {
    let mut m = small(4_000, 1);
    m.set("rotation-critical.spread=3").unwrap();
    assert_eq!(m.components.iter().find(|c| c.name == "rotation-critical").unwrap().timing.spread, 3.0);
    assert!(m.set("forensics.mode=99999999").is_err());
    assert!(m.set("nothing.mode=1").is_err());
    // Rotating critical secrets in 72 h instead of 24 h spends later, not more.
    let fast = run(&small(4_000, 1), &drivers());
    let slow = run(&m, &drivers());
    assert_eq!(fast.total, slow.total);
    assert!(slow.daily[0].p50 <= fast.daily[0].p50);
}

#[test]
fn lognormal_warnings() {
    assert!(Dist::Lognormal90 { low: 1.0, high: 1000.0 }.warning().is_some());
    assert!(Dist::Lognormal90 { low: 10.0, high: 100.0 }.warning().is_none());
}

#[test]
fn per_group_costs_add_up_to_the_total() {
    let model = small(8_000, 4);
    let a = Drivers { organizations: 1.0, secrets_critical: 20.0, ..Drivers::default() };
    let b = Drivers { organizations: 1.0, secrets_critical: 10.0, secrets_high: 12.0, ..Drivers::default() };
    let total = Drivers { organizations: 2.0, secrets_critical: 30.0, secrets_high: 12.0, ..Drivers::default() };
    let (out, groups) = leakledger_cost::run_by_group(&model, &total, &[("a".into(), a), ("b".into(), b)]);
    let sum = groups[0].total.mean + groups[1].total.mean;
    assert!((sum - out.total.mean).abs() < 1e-6 * out.total.mean, "{sum} vs {}", out.total.mean);
    assert_eq!(out, run(&model, &total));
    assert!(groups[0].pool.mean > 0.0 && groups[1].pool.mean > 0.0);
}

#[test]
fn kind_drivers_and_monthly_instalments() {
    let toml = r#"
currency = "USD"
horizon_days = 120
budget = 1000000
iterations = 2000
seed = 1

[[component]]
name = "aws-rotation"
driver = "secrets.kind.aws-access-key-id"
cost = { fixed = { value = 1000 } }
timing = { start = 0, spread = 1 }
source = "test"

[[component]]
name = "monitoring"
driver = "incident"
cost = { fixed = { value = 90000 } }
timing = { start = 0, spread = 90, monthly = true }
source = "test"
"#;
    let model = Model::from_toml(toml).unwrap();
    let mut d = Drivers::default();
    d.kinds.insert("aws-access-key-id".into(), 7.0);
    let out = run(&model, &d);
    assert_eq!(out.components[0].stats.mean, 7_000.0);
    // Three instalments of 30,000 on days 0, 30 and 60.
    let at = |day: usize| out.daily[day].p50;
    assert_eq!(
        (at(0), at(29), at(30), at(59), at(60), at(119)),
        (37_000.0, 37_000.0, 67_000.0, 67_000.0, 97_000.0, 97_000.0)
    );
    assert!(Model::from_toml(&toml.replace("secrets.kind.aws-access-key-id", "secrets.kind.")).is_err());
}

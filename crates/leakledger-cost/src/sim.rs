//! The Monte Carlo run and what it reports.

use rayon::prelude::*;
use serde::Serialize;

use crate::model::{Component, Drivers, Model};
use crate::rng::Stream;

/// Mean and percentiles of a quantity over the runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Mean.
    pub mean: f64,
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// One component's results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentResult {
    /// Name.
    pub name: String,
    /// Driver expression and its value.
    pub driver: String,
    /// Units the driver counted.
    pub units: f64,
    /// Cash from the pool (true) or economic loss (false).
    pub pool: bool,
    /// Where the figure comes from.
    pub source: String,
    /// Its cost over the runs.
    pub stats: Stats,
    /// Its share of the total's variance (shares sum to 1).
    pub variance_share: f64,
}

/// The cumulative pool spend at the end of one day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Day {
    /// Day (0 = awareness).
    pub day: u32,
    /// 10th percentile.
    pub p10: f64,
    /// Median (the lower median of the runs).
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// One bar of the sensitivity (tornado) ranking: the component's cost fixed at its
/// 10th and 90th percentile while every other draw stays the same.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Swing {
    /// Component.
    pub name: String,
    /// Mean total cost with it at its P10.
    pub mean_at_p10: f64,
    /// Mean total cost with it at its P90.
    pub mean_at_p90: f64,
    /// P(pool spend > ceiling) with it at its P10.
    pub p_exceed_at_p10: f64,
    /// With it at its P90.
    pub p_exceed_at_p90: f64,
}

/// Everything a run reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// Currency.
    pub currency: String,
    /// Runs.
    pub iterations: u64,
    /// Seed.
    pub seed: u64,
    /// Days projected.
    pub horizon_days: u32,
    /// The burst-budget ceiling.
    pub budget: f64,
    /// Total cost (cash and economic loss).
    pub total: Stats,
    /// Cash drawn from the pool over the horizon.
    pub pool: Stats,
    /// Economic loss reported beside it.
    pub economic: Stats,
    /// P(pool spend over the horizon > ceiling).
    pub p_exceed: f64,
    /// The day the median pool spend crosses the ceiling (the order-statistic
    /// median of each run's crossing day), if it does within the horizon.
    pub day_p50_crosses: Option<u32>,
    /// Per component.
    pub components: Vec<ComponentResult>,
    /// Cumulative pool spend band, day by day.
    pub daily: Vec<Day>,
    /// Loss-exceedance curve of the total: (threshold, P(total > threshold)).
    pub loss_exceedance: Vec<(f64, f64)>,
    /// Sensitivity ranking, widest swing of the mean first.
    pub tornado: Vec<Swing>,
}

/// Fraction of a component paid by the end of day `day`.
fn paid_by(c: &Component, day: u32) -> f64 {
    let end = day as f64 + 1.0;
    if c.timing.monthly {
        let instalments = (c.timing.spread / 30.0).ceil().max(1.0);
        let paid = ((end - c.timing.start) / 30.0).ceil().clamp(0.0, instalments);
        return paid / instalments;
    }
    if c.timing.spread <= 0.0 {
        return if end > c.timing.start { 1.0 } else { 0.0 };
    }
    ((end - c.timing.start) / c.timing.spread).clamp(0.0, 1.0)
}

/// The `q` quantile (0..1) of `v` by the nearest-rank order statistic, reordering `v`.
fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    *v.select_nth_unstable_by(k, f64::total_cmp).1
}

/// The lower median's index, shared by the P50 curve and the crossing day.
fn median_index(n: usize) -> usize {
    (n.max(1) - 1) / 2
}

fn stats(values: &[f64]) -> Stats {
    let mut v = values.to_vec();
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    Stats {
        mean,
        p10: quantile(&mut v, 0.10),
        p50: quantile(&mut v, 0.50),
        p90: quantile(&mut v, 0.90),
        p99: quantile(&mut v, 0.99),
    }
}

/// Draws every component of every run: `amounts[i * n + c]`.
fn draw(model: &Model, units: &[f64]) -> Vec<f64> {
    let n = model.components.len();
    let runs = model.iterations as usize;
    let mut amounts = vec![0.0; runs * n];
    if n == 0 {
        return amounts;
    }
    amounts.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for (c, comp) in model.components.iter().enumerate() {
            let mut s = Stream::new(model.seed, i as u64, c as u64);
            let happens = comp.probability >= 1.0 || s.uniform() < comp.probability;
            let mut x = if happens { comp.cost.sample(&mut s) * units[c] } else { 0.0 };
            if let Some(cap) = comp.cap {
                x = x.min(cap);
            }
            row[c] = x;
        }
    });
    amounts
}

/// One group's share of the cost (an organisation, say).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupResult {
    /// The group's name.
    pub name: String,
    /// Its total cost (cash and economic loss).
    pub total: Stats,
    /// Its pool cash.
    pub pool: Stats,
}

/// Runs the model and splits every run's cost over `groups`: each component's
/// amount goes to the groups in proportion to their units of its driver (so the
/// groups' costs add up to the total; a component whose driver no group has is
/// split evenly).
pub fn run_by_group(model: &Model, drivers: &Drivers, groups: &[(String, Drivers)]) -> (Outcome, Vec<GroupResult>) {
    let n = model.components.len();
    let runs = model.iterations as usize;
    let units: Vec<f64> = model.components.iter().map(|c| drivers.value(&c.driver).unwrap_or(0.0)).collect();
    let amounts = draw(model, &units);
    let outcome = summarise(model, &units, &amounts);
    // shares[g][c]
    let group_units: Vec<Vec<f64>> = groups
        .iter()
        .map(|(_, d)| model.components.iter().map(|c| d.value(&c.driver).unwrap_or(0.0)).collect())
        .collect();
    let sums: Vec<f64> = (0..n).map(|c| group_units.iter().map(|g| g[c]).sum()).collect();
    let results = groups
        .par_iter()
        .enumerate()
        .map(|(g, (name, _))| {
            let share: Vec<f64> = (0..n)
                .map(|c| if sums[c] > 0.0 { group_units[g][c] / sums[c] } else { 1.0 / groups.len() as f64 })
                .collect();
            let mut total = Vec::with_capacity(runs);
            let mut pool = Vec::with_capacity(runs);
            for i in 0..runs {
                let row = &amounts[i * n..(i + 1) * n];
                let (mut t, mut p) = (0.0, 0.0);
                for c in 0..n {
                    let x = row[c] * share[c];
                    t += x;
                    if model.components[c].pool {
                        p += x;
                    }
                }
                total.push(t);
                pool.push(p);
            }
            GroupResult { name: name.clone(), total: stats(&total), pool: stats(&pool) }
        })
        .collect();
    (outcome, results)
}

/// Runs the model against the inventory's drivers.
pub fn run(model: &Model, drivers: &Drivers) -> Outcome {
    let units: Vec<f64> = model.components.iter().map(|c| drivers.value(&c.driver).unwrap_or(0.0)).collect();
    let amounts = draw(model, &units);
    summarise(model, &units, &amounts)
}

/// Everything reported from the drawn amounts.
fn summarise(model: &Model, units: &[f64], amounts: &[f64]) -> Outcome {
    let n = model.components.len();
    let runs = model.iterations as usize;
    let row = |i: usize| &amounts[i * n..(i + 1) * n];
    let pool_idx: Vec<usize> = (0..n).filter(|&c| model.components[c].pool).collect();
    let total: Vec<f64> = (0..runs).map(|i| row(i).iter().sum()).collect();
    let pool_total: Vec<f64> = (0..runs).map(|i| pool_idx.iter().map(|&c| row(i)[c]).sum()).collect();
    let economic: Vec<f64> = total.iter().zip(&pool_total).map(|(t, p)| t - p).collect();

    // Pool spend paid within the horizon, and each run's crossing day.
    let days = model.horizon_days;
    let fractions: Vec<Vec<f64>> =
        (0..days).map(|d| pool_idx.iter().map(|&c| paid_by(&model.components[c], d)).collect()).collect();
    let cum = |i: usize, d: usize| -> f64 { pool_idx.iter().zip(&fractions[d]).map(|(&c, f)| row(i)[c] * f).sum() };
    let last = days as usize - 1;
    let exceed = (0..runs).into_par_iter().filter(|&i| cum(i, last) > model.budget).count();
    let crossing: Vec<u32> = (0..runs)
        .into_par_iter()
        .map(|i| {
            if cum(i, last) <= model.budget {
                return u32::MAX;
            }
            // Spend only grows: the first day over the ceiling by bisection.
            let (mut lo, mut hi) = (0usize, last);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if cum(i, mid) > model.budget { hi = mid } else { lo = mid + 1 }
            }
            lo as u32
        })
        .collect();
    let daily: Vec<Day> = (0..days as usize)
        .into_par_iter()
        .map(|d| {
            let mut v: Vec<f64> = (0..runs).map(|i| cum(i, d)).collect();
            let k = median_index(runs);
            let p50 = *v.select_nth_unstable_by(k, f64::total_cmp).1;
            Day { day: d as u32, p10: quantile(&mut v, 0.10), p50, p90: quantile(&mut v, 0.90) }
        })
        .collect();
    let mut sorted_crossing = crossing.clone();
    sorted_crossing.sort_unstable();
    let day_p50_crosses =
        sorted_crossing.get(runs.saturating_sub(1) - median_index(runs)).copied().filter(|&d| d != u32::MAX);

    // Variance shares: Cov(component, total) / Var(total).
    let mean_total = total.iter().sum::<f64>() / runs as f64;
    let var_total = total.iter().map(|t| (t - mean_total).powi(2)).sum::<f64>() / runs as f64;
    let components: Vec<ComponentResult> = model
        .components
        .iter()
        .enumerate()
        .map(|(c, comp)| {
            let col: Vec<f64> = (0..runs).map(|i| row(i)[c]).collect();
            let mean = col.iter().sum::<f64>() / runs as f64;
            let cov = col.iter().zip(&total).map(|(x, t)| (x - mean) * (t - mean_total)).sum::<f64>() / runs as f64;
            ComponentResult {
                name: comp.name.clone(),
                driver: comp.driver.clone(),
                units: units[c],
                pool: comp.pool,
                source: comp.source.clone(),
                stats: stats(&col),
                variance_share: if var_total > 0.0 { cov / var_total } else { 0.0 },
            }
        })
        .collect();

    // Loss-exceedance curve over log-spaced thresholds.
    let mut sorted_total = total.clone();
    sorted_total.sort_unstable_by(f64::total_cmp);
    let (lo, hi) = (sorted_total.iter().copied().find(|&x| x > 0.0).unwrap_or(1.0), sorted_total[runs - 1].max(1.0));
    let steps = 40;
    let loss_exceedance = (0..=steps)
        .map(|k| {
            let x = if hi > lo { lo * (hi / lo).powf(k as f64 / steps as f64) } else { lo };
            let above = runs - sorted_total.partition_point(|&t| t <= x);
            (x, above as f64 / runs as f64)
        })
        .collect();

    // Tornado: each component at its P10 and P90, every other draw unchanged.
    let mut tornado: Vec<Swing> = components
        .iter()
        .enumerate()
        .map(|(c, r)| {
            let at = |q: f64| {
                let mut mean = 0.0;
                let mut over = 0usize;
                for i in 0..runs {
                    let t = total[i] - row(i)[c] + q;
                    mean += t;
                    let p = pool_total[i] - if model.components[c].pool { row(i)[c] - q } else { 0.0 };
                    over += usize::from(p > model.budget);
                }
                (mean / runs as f64, over as f64 / runs as f64)
            };
            let (m10, e10) = at(r.stats.p10);
            let (m90, e90) = at(r.stats.p90);
            Swing {
                name: r.name.clone(),
                mean_at_p10: m10,
                mean_at_p90: m90,
                p_exceed_at_p10: e10,
                p_exceed_at_p90: e90,
            }
        })
        .collect();
    tornado.sort_by(|a, b| (b.mean_at_p90 - b.mean_at_p10).total_cmp(&(a.mean_at_p90 - a.mean_at_p10)));

    Outcome {
        currency: model.currency.clone(),
        iterations: model.iterations,
        seed: model.seed,
        horizon_days: days,
        budget: model.budget,
        total: stats(&total),
        pool: stats(&pool_total),
        economic: stats(&economic),
        p_exceed: exceed as f64 / runs as f64,
        day_p50_crosses,
        components,
        daily,
        loss_exceedance,
        tornado,
    }
}

/// A notification or reporting deadline, in days from awareness.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// What is due.
    pub name: &'static str,
    /// Day it is due (0 = awareness).
    pub day: u32,
}

/// The deadlines tracked: GDPR Art. 33 (72 h), NIS2 Art. 23 (early warning 24 h,
/// notification 72 h, final report one month), SEC Form 8-K Item 1.05 (four
/// business days after materiality, taken as awareness; `weekday_of_day0` is 0 for
/// Monday ... 6 for Sunday, and without it business days are counted from a Monday).
pub fn deadlines(weekday_of_day0: Option<u32>) -> Vec<Deadline> {
    let mut wd = weekday_of_day0.unwrap_or(0) % 7;
    let (mut day, mut business) = (0u32, 0u32);
    while business < 4 {
        day += 1;
        wd = (wd + 1) % 7;
        if wd < 5 {
            business += 1;
        }
    }
    vec![
        Deadline { name: "NIS2 early warning (24 h)", day: 1 },
        Deadline { name: "GDPR notification to the authority (72 h)", day: 3 },
        Deadline { name: "NIS2 incident notification (72 h)", day: 3 },
        Deadline { name: "SEC 8-K, 4 business days after materiality", day },
        Deadline { name: "NIS2 final report (1 month)", day: 30 },
    ]
}

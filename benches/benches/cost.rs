//! The cost model: 100,000 runs x 365 days on the built-in model (design.md §9:
//! about a second on 2 cores).

use criterion::{Criterion, criterion_group, criterion_main};
use leakledger_cost::{Drivers, Model, run};

fn bench(c: &mut Criterion) {
    let model = Model::default_model();
    let drivers = Drivers {
        organizations: 87.0,
        repositories: 174.0,
        files: 3330.0,
        code_gb: 0.02,
        chains: 36_912.0,
        secrets_critical: 5_600.0,
        secrets_high: 2_400.0,
        secrets_medium: 1_100.0,
        secrets_low: 0.0,
        kinds: Default::default(),
    };
    let mut g = c.benchmark_group("cost");
    g.sample_size(10);
    g.bench_function("100k-runs-365-days", |b| b.iter(|| run(&model, &drivers).p_exceed));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

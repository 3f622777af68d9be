//! Cost of one replication of the default scenario at 1x, 10x and 100x its populations (start-up
//! rates and policy budgets scaled alike). Run with `cargo bench --bench replication`.

use std::sync::Arc;

use biocluster::Scenario;
use biocluster::simulation::run_replication;

fn main() {
    divan::main();
}

#[divan::bench(args = [1, 10, 100], sample_count = 5, sample_size = 1)]
fn replication(bencher: divan::Bencher, scale: u32) {
    let scenario = Arc::new(Scenario::default_scenario().scaled(f64::from(scale)).expect("scaled default is valid"));
    bencher.bench(|| run_replication(Arc::clone(&scenario), 0, |_| {}));
}

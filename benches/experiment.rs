//! Replications per second of the default scenario at 1 and 2 worker threads, through the
//! experiment runner (units written to a temporary folder, then aggregated).
//! Run with `cargo bench --bench experiment`.

use biocluster::Scenario;
use biocluster::experiment::Experiment;
use biocluster::experiment::run::{Options, run};

const REPLICATIONS: u32 = 64;

fn main() {
    divan::main();
}

#[divan::bench(args = [1, 2], sample_count = 5, sample_size = 1)]
fn replications(bencher: divan::Bencher, threads: usize) {
    let text = format!("[experiment]\nreplications = {REPLICATIONS}\n");
    let scenario = Scenario::from_toml_str(&text, "bench").expect("valid");
    let experiment = Experiment::from_scenario(&scenario, "bench").expect("valid").expect("has an experiment");
    let dir = tempfile::tempdir().expect("temporary folder");
    let options = Options { threads: Some(threads), resume: false, quiet: true };
    bencher
        .counter(divan::counter::ItemsCount::new(REPLICATIONS))
        .bench(|| run(&experiment, dir.path(), &options).expect("experiment runs"));
}

//! Time to draw every chart and write the report, for an experiment folder and a single-run folder.
//! The report reads only aggregated files, whose size does not grow with the number of replications
//! (aggregate.csv has one row per variant x year x cluster x metric), so this time holds for 1,000
//! replications as for the 20 prepared here. Run with `cargo bench --bench report`.

use std::path::PathBuf;
use std::sync::OnceLock;

use biocluster::Scenario;
use biocluster::experiment::Experiment;
use biocluster::experiment::run::{Options, run};

fn main() {
    divan::main();
}

/// An experiment like scenarios/whatif/korea_policy_levers.toml (5 variants), 20 replications.
fn experiment_dir() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let text = std::fs::read_to_string("scenarios/whatif/korea_policy_levers.toml")
            .expect("shipped scenario")
            .replace("replications = 100", "replications = 20");
        let scenario = Scenario::from_toml_str(&text, "bench").expect("valid");
        let experiment = Experiment::from_scenario(&scenario, "bench").expect("valid").expect("has an experiment");
        let tmp = tempfile::tempdir().expect("temporary folder");
        let dir = tmp.path().join("levers");
        run(&experiment, &dir, &Options { threads: None, resume: false, quiet: true }).expect("runs");
        (tmp, dir)
    })
    .1
}

fn run_dir() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let scenario = std::sync::Arc::new(Scenario::default_scenario());
        let record = biocluster::simulation::run_replication(scenario.clone(), 0, |_| {});
        let tmp = tempfile::tempdir().expect("temporary folder");
        let dir = tmp.path().join("run");
        biocluster::run_output::write_run(&dir, &scenario, 0, &record, &biocluster::facts::Facts::embedded())
            .expect("writes");
        (tmp, dir)
    })
    .1
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn experiment_report(bencher: divan::Bencher) {
    let dir = experiment_dir();
    bencher.bench(|| biocluster::report::build(dir, &Default::default()).expect("report"));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn single_run_report(bencher: divan::Bencher) {
    let dir = run_dir();
    bencher.bench(|| biocluster::report::build(dir, &Default::default()).expect("report"));
}

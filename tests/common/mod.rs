//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use biocluster::Scenario;
use biocluster::experiment::Experiment;
use biocluster::observe::RunRecord;
use biocluster::scenario::raw::RawScenario;
use biocluster::simulation::run_replication;

pub fn default_scenario() -> Scenario {
    Scenario::default_scenario()
}

/// Runs one replication quietly.
pub fn run(scenario: &Scenario, replication: u64) -> RunRecord {
    run_replication(Arc::new(scenario.clone()), replication, |_| {})
}

/// The default scenario with its raw form edited by `edit`, validated again.
pub fn edited(edit: impl FnOnce(&mut RawScenario)) -> Scenario {
    let mut raw = default_scenario().raw;
    edit(&mut raw);
    Scenario::from_raw(raw, "test edit").expect("edited scenario is valid")
}

/// Sum of a metric over all years for one cluster ("all" for the ecosystem).
pub fn total(record: &RunRecord, cluster: &str, metric: &str) -> f64 {
    record.timeseries.iter().filter(|r| r.cluster == cluster).map(|r| r.get(metric).expect("known metric")).sum()
}

/// Sum of a metric over `replications` replications (common random numbers across scenarios).
pub fn total_over(scenario: &Scenario, replications: u64, cluster: &str, metric: &str) -> f64 {
    (0..replications).map(|r| total(&run(scenario, r), cluster, metric)).sum()
}

/// The experiment a scenario text defines (it must have an [experiment] section).
pub fn experiment(text: &str) -> Experiment {
    let scenario = Scenario::from_toml_str(text, "test").unwrap();
    Experiment::from_scenario(&scenario, "test").unwrap().expect("has an [experiment]")
}

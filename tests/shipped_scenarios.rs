//! Every scenario shipped under scenarios/ loads, validates and runs a short horizon (targets and
//! facts files are not scenarios; tests/calibration.rs and tests/facts.rs load those).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use biocluster::Scenario;
use biocluster::experiment::Experiment;

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            toml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml")
            && !path.starts_with("scenarios/targets")
            && !path.starts_with("scenarios/facts")
        {
            out.push(path);
        }
    }
}

#[test]
fn every_shipped_scenario_loads_and_runs_two_years() {
    let mut files = Vec::new();
    toml_files(Path::new("scenarios"), &mut files);
    files.sort();
    assert!(files.len() >= 4, "expected the shipped scenarios, found {files:?}");
    for path in files {
        let mut scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Experiment::from_scenario(&scenario, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        scenario.years = 2;
        let record = biocluster::simulation::run_replication(Arc::new(scenario), 0, |_| {});
        assert_eq!(record.timeseries.last().map(|r| r.year), Some(record.timeseries[0].year + 1), "{}", path.display());
    }
}

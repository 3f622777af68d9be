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

/// Every key of `base` (tables compared key by key, arrays of tables entry by entry) has the same
/// value in `other`; `other` may hold more. Returns the paths where they differ.
fn differences(base: &toml::Value, other: Option<&toml::Value>, path: &str, out: &mut Vec<String>) {
    match (base, other) {
        (toml::Value::Table(b), Some(toml::Value::Table(o))) => {
            for (k, v) in b {
                differences(v, o.get(k), &format!("{path}.{k}"), out);
            }
        }
        (toml::Value::Array(b), Some(toml::Value::Array(o))) if b.iter().all(|v| v.is_table()) => {
            for (i, v) in b.iter().enumerate() {
                differences(v, o.get(i), &format!("{path}[{i}]"), out);
            }
        }
        (b, Some(o)) if b == o => {}
        _ => out.push(path.to_string()),
    }
}

/// A what-if file restates its scenario in full (there is no include mechanism), so the two must be
/// kept in step: every setting of `<place>/<place>.toml` but its `[scenario]` header appears unchanged
/// in `<place>/whatif.toml`, whose extra instruments come after the scenario's own. (Korea's what-if once
/// kept an older calibration's values for a whole release.)
#[test]
fn every_what_if_restates_its_scenario() {
    for place in ["belgium", "beijing", "korea"] {
        let read = |file: &str| -> toml::Value {
            let path = format!("scenarios/{place}/{file}.toml");
            toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{path}: {e}"))
        };
        let (mut base, whatif) = (read(place), read("whatif"));
        base.as_table_mut().unwrap().remove("scenario");
        let mut diffs = Vec::new();
        differences(&base, Some(&whatif), "", &mut diffs);
        assert!(diffs.is_empty(), "scenarios/{place}/whatif.toml differs from {place}.toml at {diffs:?}");
    }
}

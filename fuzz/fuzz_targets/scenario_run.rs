//! Fuzz target: any bytes as a scenario file through parse -> validate -> expand experiment -> a
//! two-year run of up to three of its variants -> the writers' and the survey's formatting. Anything
//! may be refused with an error; nothing may panic, overflow (debug assertions are on) or hang.
//!
//!   cargo +nightly fuzz run scenario_run CORPUS -s none   (see .ci/fuzz, which seeds CORPUS with the
//!   shipped scenarios)

#![no_main]

use std::sync::Arc;

use biocluster::Scenario;
use biocluster::experiment::Experiment;
use libfuzzer_sys::fuzz_target;

/// Runs larger than this are validated but not simulated, to keep each input well under a second.
const MAX_AGENTS_RUN: u64 = 5_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(scenario) = Scenario::from_toml_str(text, "fuzz.toml") else { return };
    let scenarios: Vec<Arc<Scenario>> = match Experiment::from_scenario(&scenario, "fuzz.toml") {
        Err(_) => return,
        Ok(None) => vec![Arc::new(scenario)],
        Ok(Some(exp)) => exp.variants.iter().take(3).map(|v| Arc::clone(&v.scenario)).collect(),
    };
    for scenario in scenarios {
        let mut raw = scenario.raw.clone();
        raw.scenario.years = raw.scenario.years.min(2);
        if raw.initial_agents() > MAX_AGENTS_RUN || raw.entry.startups_per_year > MAX_AGENTS_RUN as f64 {
            continue;
        }
        let Ok(short) = Scenario::from_raw(raw, "fuzz.toml (2 years)") else { continue };
        let short = Arc::new(short);
        let record = biocluster::simulation::run_replication(Arc::clone(&short), 0, |_| {});
        if record.check_finite("fuzz.toml").is_err() {
            continue;
        }
        let _ = biocluster::observe::write::timeseries_csv(&record);
        let _ = biocluster::observe::write::panel_csv(&record);
        let _ = biocluster::observe::write::summary_json(&short, 0, &record);
        let responses = biocluster::survey::sample(&short, 0, &record.panel);
        let _ = biocluster::survey::regressions(&responses, short.survey.standard_errors);
    }
});

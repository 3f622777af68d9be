//! One run's output folder: the record's files (`observe::write`), the survey drawn from its panel
//! and the stylized facts measured on it. It sits above `survey` and `facts`, which read the record,
//! so that `observe` never imports them.

use std::path::{Path, PathBuf};

use crate::Result;
use crate::facts::Facts;
use crate::observe::RunRecord;
use crate::observe::write::{
    instruments_csv, network_edges_csv, network_nodes_csv, resolved_text, summary_json, timeseries_csv,
    write_atomic_with, write_files, write_panel_csv,
};
use crate::scenario::Scenario;
use crate::survey;

/// Writes one run's outputs into `dir`, with its stylized facts measured against `facts`; returns
/// the paths written.
pub fn write_run(
    dir: &Path,
    scenario: &Scenario,
    replication: u64,
    record: &RunRecord,
    facts: &Facts,
) -> Result<Vec<PathBuf>> {
    let resolved = resolved_text(scenario, replication);
    let responses = survey::sample(scenario, replication, &record.panel);
    let regressions = survey::regressions(&responses, scenario.survey.standard_errors);
    let panel = dir.join("panel.csv");
    write_atomic_with(&panel, |file| write_panel_csv(record, file))?;
    let files: [(&str, String); 9] = [
        ("scenario.resolved.toml", resolved),
        ("timeseries.csv", timeseries_csv(record)),
        ("summary.json", summary_json(scenario, replication, record)),
        ("survey.csv", survey::survey_csv(&responses)),
        ("regressions.csv", survey::regressions_csv(&regressions)),
        ("network_nodes.csv", network_nodes_csv(scenario, record)),
        ("network_edges.csv", network_edges_csv(record)),
        ("facts.csv", facts.csv(&facts.evaluate(record))),
        ("instruments.csv", instruments_csv(scenario, record)),
    ];
    let mut written = write_files(dir, &files)?;
    written.insert(2, panel);
    Ok(written)
}

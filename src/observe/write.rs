//! Writers: the only code that writes run outputs. Every file is written to a temporary name in
//! the same folder and renamed into place, so an interrupted run never leaves a half-written file.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{RunRecord, TS_COLUMNS};
use crate::error::{Error, Result};
use crate::kinds::Stage;
use crate::scenario::Scenario;

/// Writes `contents` to `path` atomically (temporary file + rename).
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(contents))
}

/// [`write_atomic`] for contents produced piece by piece by `fill` (a large file need not be held
/// whole in memory first).
pub fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>) -> Result<()> {
    let err = |source| Error::WriteOutput { path: path.to_path_buf(), source };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // A fresh temporary file: an unpredictable name, created exclusively (never through a symlink
    // planted in a shared folder, never shared by two processes writing there), removed if anything
    // fails (a full disk leaves no stray file), renamed into place when complete.
    let mut tmp = temporary_in(dir, &file_name).map_err(err)?;
    fill(tmp.as_file_mut()).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// An exclusive temporary file in `dir` beside `file_name`, readable like any output (0644 on Unix).
pub fn temporary_in(dir: &Path, file_name: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let prefix = format!(".{file_name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder.tempfile_in(dir)
}

/// Removes the temporary files (`.NAME.XXXXXX.tmp`) a killed writer left in `dir`; only for a folder
/// no other process is writing into.
pub fn remove_stray_temporaries(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file() || t.is_symlink());
        if is_file && name.starts_with('.') && name.ends_with(".tmp") {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|source| Error::WriteOutput { path, source })?;
        }
    }
    Ok(())
}

/// Writes each (file name, contents) into `dir` atomically; returns the paths written.
pub fn write_files(dir: &Path, files: &[(&str, String)]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (name, contents) in files {
        let path = dir.join(name);
        write_atomic(&path, contents.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

pub use crate::format::{num, push_int, push_num};
use crate::format::{push_int_bytes, push_num_bytes};

pub fn timeseries_csv(record: &RunRecord) -> String {
    let mut out = format!("year,cluster,cluster_type,{}\n", TS_COLUMNS.join(","));
    for row in &record.timeseries {
        let _ = write!(out, "{},{},{}", row.year, row.cluster, row.cluster_type);
        for v in &row.values {
            out.push(',');
            push_num(&mut out, *v);
        }
        out.push('\n');
    }
    out
}

pub const PANEL_COLUMNS: &[&str] = &[
    "year",
    "firm_id",
    "cluster",
    "cluster_type",
    "business_model",
    "origin",
    "focus_field",
    "age_years",
    "employees",
    "rd_musd",
    "sales_musd",
    "sales_product_musd",
    "sales_services_musd",
    "sales_licensing_musd",
    "alliances_tech",
    "alliances_nontech",
    "alliances_pharma",
    "alliances_financing",
    "costs_musd",
    "vc_musd",
    "public_support_musd",
    "cash_musd",
    "projects",
    "max_stage",
    "products",
    "listed",
    "first_sales_year",
    "status",
];

pub fn panel_csv(record: &RunRecord) -> String {
    let mut out = Vec::with_capacity(160 * (record.panel.len() + 1));
    write_panel_csv(record, &mut out).expect("writing into memory does not fail");
    String::from_utf8(out).expect("the panel is text")
}

/// Writes [`panel_csv`]'s text to `file` in pieces of about 128 kB: a large world's panel is
/// hundreds of megabytes of text, which need not exist in memory at once (nor fault in fresh pages
/// for a buffer larger than the cache).
pub fn write_panel_csv(record: &RunRecord, file: &mut impl std::io::Write) -> std::io::Result<()> {
    const PIECE: usize = 1 << 17;
    let mut out = Vec::with_capacity(PIECE + 4096);
    out.extend_from_slice(PANEL_COLUMNS.join(",").as_bytes());
    out.push(b'\n');
    for r in &record.panel {
        push_panel_row(&mut out, r);
        if out.len() >= PIECE {
            file.write_all(&out)?;
            out.clear();
        }
    }
    file.write_all(&out)
}

/// Appends one firm-year as a `panel.csv` line (columns as in [`PANEL_COLUMNS`]), as bytes: the row
/// is numbers and fixed labels, ASCII but for a cluster's name, which is a `str`.
pub fn push_panel_row(out: &mut Vec<u8>, r: &super::PanelRow) {
    let int = |out: &mut Vec<u8>, v: i64| {
        push_int_bytes(out, v);
        out.push(b',');
    };
    let text = |out: &mut Vec<u8>, v: &str| {
        out.extend_from_slice(v.as_bytes());
        out.push(b',');
    };
    let number = |out: &mut Vec<u8>, v: f64| {
        push_num_bytes(out, v);
        out.push(b',');
    };
    int(out, i64::from(r.year));
    int(out, i64::from(r.firm_id));
    text(out, &r.cluster);
    text(out, r.cluster_type.name());
    text(out, r.business_model.name());
    text(out, r.origin.name());
    text(out, crate::kinds::FIELDS[usize::from(r.focus_field)]);
    number(out, r.age_years);
    number(out, r.employees);
    number(out, r.rd_musd);
    number(out, r.sales_musd);
    number(out, r.sales_product_musd);
    number(out, r.sales_services_musd);
    number(out, r.sales_licensing_musd);
    int(out, i64::from(r.alliances_tech));
    int(out, i64::from(r.alliances_nontech));
    int(out, i64::from(r.alliances_pharma));
    int(out, i64::from(r.alliances_financing));
    number(out, r.costs_musd);
    number(out, r.vc_musd);
    number(out, r.public_support_musd);
    number(out, r.cash_musd);
    int(out, i64::from(r.projects));
    text(out, r.max_stage.map_or("none", Stage::name));
    int(out, i64::from(r.products));
    int(out, i64::from(u8::from(r.listed)));
    if let Some(y) = r.first_sales_year {
        push_int_bytes(out, i64::from(y));
    }
    out.push(b',');
    out.extend_from_slice(r.status.name().as_bytes());
    out.push(b'\n');
}

/// The run summary: what ran, the final year per cluster, pipeline rates against their inputs,
/// and the ledger audit.
pub fn summary_json(scenario: &Scenario, replication: u64, record: &RunRecord) -> String {
    let last_year = record.timeseries.last().map(|r| r.year);
    let final_rows: Vec<_> = record
        .timeseries
        .iter()
        .filter(|r| Some(r.year) == last_year)
        .map(|r| {
            let metrics: serde_json::Map<String, serde_json::Value> =
                TS_COLUMNS.iter().zip(&r.values).map(|(k, v)| (k.to_string(), json!(round6(*v)))).collect();
            json!({ "cluster": r.cluster, "cluster_type": r.cluster_type, "metrics": metrics })
        })
        .collect();
    let stages: Vec<_> = Stage::ALL
        .iter()
        .map(|s| {
            let i = s.index();
            let p = &record.pipeline;
            let rate = |succ: u64, n: u64| if n == 0 { serde_json::Value::Null } else { json!(round6(succ as f64 / n as f64)) };
            let n = p.attempts[i] + p.partnered_attempts[i];
            json!({
                "stage": s.name(),
                "input_success_rate": scenario.pipeline.stages[i].success_rate,
                "unpartnered_attempts": p.attempts[i],
                "unpartnered_success_rate": rate(p.successes[i], p.attempts[i]),
                "partnered_attempts": p.partnered_attempts[i],
                "partnered_success_rate": rate(p.partnered_successes[i], p.partnered_attempts[i]),
                "input_duration_years": scenario.pipeline.stages[i].duration_years,
                "mean_duration_years": if n == 0 { serde_json::Value::Null } else { json!(round6(p.months_in_stage[i] as f64 / n as f64 / 12.0)) },
            })
        })
        .collect();
    let summary = json!({
        "biocluster_version": env!("CARGO_PKG_VERSION"),
        "scenario": scenario.name,
        "description": scenario.description,
        "seed": scenario.seed,
        "replication": replication,
        "start_year": scenario.start_year,
        "years": scenario.years,
        "final_year": last_year,
        "final_year_by_cluster": final_rows,
        "pipeline_stages": stages,
        "instruments": instruments_json(scenario, record),
        "firm_years_in_panel": record.panel.len(),
        "exits": record.exits.len(),
        "ledger": {
            "net_total_musd": round6(record.ledger_net_total),
            "max_reconciliation_gap_musd": round6(record.ledger_reconciliation_gap),
        },
    });
    let mut text = serde_json::to_string_pretty(&summary).expect("summary serialises");
    text.push('\n');
    text
}

/// Whether an instrument's budget bound in a year: it paid less than was asked of it.
pub fn budget_bound(demand_musd: f64, paid_musd: f64) -> bool {
    paid_musd < demand_musd * (1.0 - 1e-9)
}

/// Each policy instrument's years: budget, what firms claimed or applied for, what was paid, and the
/// share of demand served (empty when nothing was asked).
pub fn instruments_csv(scenario: &Scenario, record: &RunRecord) -> String {
    let mut out = String::from("year,instrument,kind,budget_musd,demand_musd,paid_musd,share_served,budget_bound\n");
    for row in &record.instruments {
        let policy = &scenario.policies[row.policy];
        push_int(&mut out, i64::from(row.year));
        out.push(',');
        out.push_str(&policy.name);
        out.push(',');
        out.push_str(policy.instrument.kind());
        for v in [policy.budget_musd_per_year, row.demand_musd, row.paid_musd] {
            out.push(',');
            push_num(&mut out, v);
        }
        out.push(',');
        if row.demand_musd > 0.0 {
            push_num(&mut out, row.paid_musd / row.demand_musd);
        }
        out.push_str(if budget_bound(row.demand_musd, row.paid_musd) { ",true\n" } else { ",false\n" });
    }
    out
}

/// Per instrument over the run: money asked and paid, and the years its budget bound.
fn instruments_json(scenario: &Scenario, record: &RunRecord) -> Vec<serde_json::Value> {
    scenario
        .policies
        .iter()
        .enumerate()
        .map(|(p, policy)| {
            let rows: Vec<_> = record.instruments.iter().filter(|r| r.policy == p).collect();
            let demand: f64 = rows.iter().map(|r| r.demand_musd).sum();
            let paid: f64 = rows.iter().map(|r| r.paid_musd).sum();
            let bound: Vec<i32> =
                rows.iter().filter(|r| budget_bound(r.demand_musd, r.paid_musd)).map(|r| r.year).collect();
            json!({
                "name": policy.name,
                "kind": policy.instrument.kind(),
                "enabled": policy.enabled,
                "budget_musd_per_year": policy.budget_musd_per_year,
                "years_run": rows.len(),
                "demand_musd": round6(demand),
                "paid_musd": round6(paid),
                "share_of_demand_served": if demand > 0.0 { json!(round6(paid / demand)) } else { serde_json::Value::Null },
                "budget_bound_years": bound,
            })
        })
        .collect()
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The alliance network's actors at each year end: id, kind, cluster and active alliances.
pub fn network_nodes_csv(scenario: &Scenario, record: &RunRecord) -> String {
    let mut out = String::from("year,id,kind,cluster,degree\n");
    for net in &record.network {
        for &(id, kind, cluster, degree) in &net.nodes {
            push_int(&mut out, i64::from(net.year));
            out.push(',');
            push_int(&mut out, i64::from(id));
            out.push(',');
            out.push_str(kind.name());
            out.push(',');
            out.push_str(&scenario.clusters[cluster].name);
            out.push(',');
            push_int(&mut out, i64::from(degree));
            out.push('\n');
        }
    }
    out
}

/// The alliance network's active ties at each year end (firm, partner, survey category).
pub fn network_edges_csv(record: &RunRecord) -> String {
    let mut out = String::from("year,firm,partner,category\n");
    for net in &record.network {
        for &(firm, partner, tech) in &net.edges {
            push_int(&mut out, i64::from(net.year));
            out.push(',');
            push_int(&mut out, i64::from(firm));
            out.push(',');
            push_int(&mut out, i64::from(partner));
            out.push_str(if tech { ",tech\n" } else { ",nontech\n" });
        }
    }
    out
}

/// A run's `scenario.resolved.toml`: the scenario as it ran, its replication, the program version.
pub fn resolved_text(scenario: &Scenario, replication: u64) -> String {
    format!(
        "# Resolved scenario, replication {replication}, as run by biocluster {}.\n# Run it again with: biocluster run scenario.resolved.toml\n{}",
        env!("CARGO_PKG_VERSION"),
        scenario.resolved_toml()
    )
}

/// Whether two `scenario.resolved.toml` texts describe the same run (same scenario and replication;
/// the program version aside).
pub fn same_run(old: &str, new: &str) -> bool {
    let key = |text: &str| {
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        let first = first.split(", as run by").next().unwrap_or_default().to_string();
        (first, lines.filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n"))
    };
    key(old) == key(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A symlink planted in an output folder under any name a writer used to pick (the process id
    /// was the only unknown) does not get its target overwritten, and nothing temporary is left.
    #[cfg(unix)]
    #[test]
    fn writes_never_follow_a_planted_symlink_nor_leave_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious.txt");
        std::fs::write(&target, "keep me").unwrap();
        let planted = dir.path().join(format!(".timeseries.csv.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        write_atomic(&dir.path().join("timeseries.csv"), b"year\n").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(dir.path().join("timeseries.csv")).unwrap(), "year\n");
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let planted_name = planted.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(left, [planted_name, "precious.txt".to_string(), "timeseries.csv".to_string()]);
    }
}

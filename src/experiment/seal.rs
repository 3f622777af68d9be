//! Integrity of finished work units: each unit's three files are sealed by a fourth, written last, that
//! names the unit (experiment and facts fingerprints, variant, replication) and holds the sha256 of
//! each file. `--resume`, `merge` and aggregation read a unit only through its seal, so an edited
//! value, a truncated file, or a file of another variant, seed or experiment is refused with its name
//! instead of being averaged in. The seal is the unit's done marker: files without one are an
//! unfinished unit and run again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Experiment;
use crate::error::{Error, Result};
use crate::observe::TS_COLUMNS;
use crate::observe::write::write_atomic;

/// The seal of one unit, as written beside its files (`rep-NNNNNN.sha256.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// `Experiment::fingerprint` in hex: scenario (seed included) and program version.
    pub experiment: String,
    /// The facts file's fingerprint in hex.
    pub facts: String,
    pub variant: String,
    pub replication: u32,
    /// File name (within the variant's folder) -> sha256 in lowercase hex.
    pub sha256: BTreeMap<String, String>,
}

/// A unit's contents: its stylized facts, its time series and its survey regressions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitBytes {
    pub facts: Vec<u8>,
    pub series: Vec<u8>,
    pub survey: Vec<u8>,
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A unit's time series (a single run's `timeseries.csv`).
pub fn unit_path(dir: &Path, exp: &Experiment, variant: usize, replication: u32) -> PathBuf {
    dir.join("replications").join(&exp.variants[variant].name).join(format!("rep-{replication:06}.csv"))
}

/// A unit's stylized facts (a single run's `facts.csv`), beside its time series.
pub fn unit_facts_path(dir: &Path, exp: &Experiment, variant: usize, replication: u32) -> PathBuf {
    dir.join("replications").join(&exp.variants[variant].name).join(format!("rep-{replication:06}.facts.csv"))
}

/// A unit's survey regressions (a single run's `regressions.csv`), beside its time series.
pub fn unit_survey_path(dir: &Path, exp: &Experiment, variant: usize, replication: u32) -> PathBuf {
    dir.join("replications").join(&exp.variants[variant].name).join(format!("rep-{replication:06}.survey.csv"))
}

/// A unit's files in `UnitBytes` order.
fn unit_files(dir: &Path, exp: &Experiment, variant: usize, replication: u32) -> [PathBuf; 3] {
    [
        unit_facts_path(dir, exp, variant, replication),
        unit_path(dir, exp, variant, replication),
        unit_survey_path(dir, exp, variant, replication),
    ]
}

/// A unit's seal, written last.
pub fn seal_path(dir: &Path, exp: &Experiment, variant: usize, replication: u32) -> PathBuf {
    dir.join("replications").join(&exp.variants[variant].name).join(format!("rep-{replication:06}.sha256.json"))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

impl Seal {
    /// The seal a unit's files must carry.
    pub fn new(exp: &Experiment, variant: usize, replication: u32, unit: &UnitBytes) -> Seal {
        let files = unit_files(Path::new(""), exp, variant, replication);
        let contents = [&unit.facts, &unit.series, &unit.survey];
        let sha256 = files.iter().zip(contents).map(|(path, bytes)| (file_name(path), sha256_hex(bytes))).collect();
        Seal {
            experiment: format!("{:016x}", exp.fingerprint),
            facts: format!("{:016x}", exp.facts.fingerprint()),
            variant: exp.variants[variant].name.clone(),
            replication,
            sha256,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a seal serialises") + "\n"
    }
}

/// Writes a unit's seal (after its files are in place).
pub fn write_seal(dir: &Path, exp: &Experiment, variant: usize, replication: u32, seal: &Seal) -> Result<()> {
    write_atomic(&seal_path(dir, exp, variant, replication), seal.to_json().as_bytes())
}

/// Reads a unit through its seal. `Ok(None)`: the unit is unfinished (its seal or one of its files is
/// missing), so it may run again. An error: the files are there but are not what this unit wrote.
pub fn read_unit(dir: &Path, exp: &Experiment, variant: usize, replication: u32) -> Result<Option<UnitBytes>> {
    let seal_file = seal_path(dir, exp, variant, replication);
    let files = unit_files(dir, exp, variant, replication);
    if !seal_file.exists() || files.iter().any(|f| !f.exists()) {
        return Ok(None);
    }
    let damaged = |path: &Path, what: String| {
        Error::Usage(format!("`{}` is damaged ({what}); rerun without --resume", path.display()))
    };
    let text = std::fs::read_to_string(&seal_file).map_err(|e| damaged(&seal_file, e.to_string()))?;
    let seal: Seal = serde_json::from_str(&text).map_err(|e| damaged(&seal_file, e.to_string()))?;
    let expected = Seal::new(exp, variant, replication, &UnitBytes::default());
    if (&seal.experiment, &seal.facts, &seal.variant, seal.replication)
        != (&expected.experiment, &expected.facts, &expected.variant, expected.replication)
    {
        return Err(damaged(
            &seal_file,
            format!(
                "it seals variant `{}` replication {} of experiment {} with facts {}, not variant `{}` replication {} of experiment {} with facts {}",
                seal.variant,
                seal.replication,
                seal.experiment,
                seal.facts,
                expected.variant,
                expected.replication,
                expected.experiment,
                expected.facts
            ),
        ));
    }
    let mut contents = Vec::with_capacity(files.len());
    for path in &files {
        let bytes = std::fs::read(path).map_err(|e| damaged(path, e.to_string()))?;
        let name = file_name(path);
        if seal.sha256.get(&name) != Some(&sha256_hex(&bytes)) {
            return Err(damaged(
                path,
                format!("its sha256 differs from the one recorded in `{}` when it was written", file_name(&seal_file)),
            ));
        }
        contents.push(bytes);
    }
    if seal.sha256.len() != files.len() {
        return Err(damaged(&seal_file, "it lists other files".into()));
    }
    let [facts, series, survey]: [Vec<u8>; 3] = contents.try_into().expect("three files");
    Ok(Some(UnitBytes { facts, series, survey }))
}

/// Writes a unit's files, then its seal; returns the seal.
pub fn write_unit(dir: &Path, exp: &Experiment, variant: usize, replication: u32, unit: &UnitBytes) -> Result<Seal> {
    for (path, bytes) in
        unit_files(dir, exp, variant, replication).iter().zip([&unit.facts, &unit.series, &unit.survey])
    {
        write_atomic(path, bytes)?;
    }
    let seal = Seal::new(exp, variant, replication, unit);
    write_seal(dir, exp, variant, replication, &seal)?;
    Ok(seal)
}

/// The manifest identifying an experiment's results (fingerprint, variants, replications). Written
/// first; once aggregated, the same text plus the seal of every unit (`units`, each with the sha256
/// of its files).
pub fn manifest(exp: &Experiment) -> String {
    let variants: Vec<_> = exp.variants.iter().map(|v| json!({"name": v.name, "description": v.description})).collect();
    let text = json!({
        "experiment": exp.name,
        "fingerprint": format!("{:016x}", exp.fingerprint),
        "facts": format!("{:016x}", exp.facts.fingerprint()),
        "biocluster_version": env!("CARGO_PKG_VERSION"),
        "replications": exp.replications,
        "variants": variants,
        "outcomes": exp.outcomes,
        "window": [exp.window.0, exp.window.1],
    });
    serde_json::to_string_pretty(&text).expect("manifest serialises") + "\n"
}

/// Whether two manifests name the same experiment (the `units` list of a finished one aside).
pub fn same_experiment(old: &str, new: &str) -> bool {
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
    match (parse(old), parse(new)) {
        (Some(serde_json::Value::Object(mut old)), Some(new)) => {
            old.remove("units");
            serde_json::Value::Object(old) == new
        }
        _ => false,
    }
}

/// One unit file, parsed: (year, cluster, values) rows.
pub fn parse_series(path: &Path, bytes: &[u8]) -> Result<Vec<(i32, String, Vec<f64>)>> {
    let bad = |what: &str| Error::Usage(format!("`{}` is damaged ({what}); rerun without --resume", path.display()));
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not text"))?;
    let mut rows = Vec::new();
    for line in text.lines().skip(1) {
        let mut cells = line.split(',');
        let year = cells.next().and_then(|y| y.parse().ok()).ok_or_else(|| bad("year"))?;
        let cluster = cells.next().ok_or_else(|| bad("cluster"))?.to_string();
        let _type = cells.next();
        let values: Vec<f64> = cells.map(|c| c.parse().map_err(|_| bad("value"))).collect::<Result<_>>()?;
        if values.len() != TS_COLUMNS.len() {
            return Err(bad("columns"));
        }
        rows.push((year, cluster, values));
    }
    Ok(rows)
}

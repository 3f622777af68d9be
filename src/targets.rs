//! Calibration targets: the survey study's findings, as a TOML file the user can edit. Each target
//! is a sample x specification x regressor with a sign and a significance, and optionally the
//! estimate and standard error for users who have the paper's full table.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Problem, Result};
use crate::survey::{SAMPLES, SPECIFICATIONS};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    study: RawStudy,
    targets: Vec<RawTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStudy {
    reference: String,
    #[serde(default)]
    notes: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    id: String,
    sample: String,
    specification: String,
    regressor: String,
    sign: String,
    significant: bool,
    implied: bool,
    #[serde(default)]
    estimate: Option<f64>,
    #[serde(default)]
    se: Option<f64>,
    source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub id: String,
    pub sample: &'static str,
    pub specification: &'static str,
    pub regressor: String,
    /// +1, -1, or 0 (no sign claimed).
    pub sign: i8,
    pub significant: bool,
    pub implied: bool,
    /// (estimate, standard error), when the user has them.
    pub estimate: Option<(f64, f64)>,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct Targets {
    pub reference: String,
    pub notes: String,
    pub targets: Vec<Target>,
}

/// The study behind the model (Lee et al.'s Korean survey findings), embedded: what an experiment's
/// replications and a run's survey chart are checked against.
pub const DEFAULT_TARGETS_TOML: &str = include_str!("../scenarios/targets/lee_korea_bioclusters.toml");

impl Targets {
    /// The embedded study's findings (`scenarios/targets/lee_korea_bioclusters.toml`).
    pub fn embedded() -> Targets {
        Self::parse(DEFAULT_TARGETS_TOML, "scenarios/targets/lee_korea_bioclusters.toml (embedded)")
            .expect("the embedded targets file is valid (tested)")
    }

    /// Whether every target carries an estimate and a standard error (then the loss is the
    /// 1/SE^2-weighted distance; otherwise sign and significance).
    pub fn has_estimates(&self) -> bool {
        self.targets.iter().all(|t| t.estimate.is_some())
    }

    pub fn load(path: &Path) -> Result<Targets> {
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::ReadTargets { path: path.to_path_buf(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, file: &str) -> Result<Targets> {
        let value: toml::Value = text.parse::<toml::Table>().map(toml::Value::Table).map_err(|e| {
            Error::MalformedToml { file: file.to_string(), message: e.to_string().trim_end().to_string() }
        })?;
        let raw: RawTargets = serde_path_to_error::deserialize(value).map_err(|e| Error::InvalidTargets {
            file: file.to_string(),
            problems: vec![Problem {
                key: e.path().to_string(),
                message: e.into_inner().to_string().lines().next().unwrap_or_default().to_string(),
            }],
        })?;
        let mut problems = Vec::new();
        let mut targets = Vec::new();
        for (i, t) in raw.targets.iter().enumerate() {
            let mut fail = |k: &str, m: String| problems.push(Problem { key: format!("targets[{i}].{k}"), message: m });
            let sample = SAMPLES.iter().find(|s| **s == t.sample).copied();
            if sample.is_none() {
                fail("sample", format!("must be one of {} (got \"{}\")", SAMPLES.join(", "), t.sample));
            }
            let specification = SPECIFICATIONS.iter().find(|s| **s == t.specification).copied();
            if specification.is_none() {
                fail(
                    "specification",
                    format!("must be one of {} (got \"{}\")", SPECIFICATIONS.join(", "), t.specification),
                );
            }
            let allowed: &[&str] = match t.specification.as_str() {
                "open_innovation" => &["oi"],
                "cooperation" => &["tech", "nontech"],
                _ => &[],
            };
            if specification.is_some() && !allowed.contains(&t.regressor.as_str()) {
                fail(
                    "regressor",
                    format!("must be one of {} for this specification (got \"{}\")", allowed.join(", "), t.regressor),
                );
            }
            let sign = match t.sign.as_str() {
                "positive" => 1,
                "negative" => -1,
                "none" => 0,
                other => {
                    fail("sign", format!("must be positive, negative or none (got \"{other}\")"));
                    0
                }
            };
            if t.significant && sign == 0 {
                fail("sign", "a significant finding needs a sign (positive or negative)".into());
            }
            let estimate = match (t.estimate, t.se) {
                (Some(e), Some(se)) if e.is_finite() && se.is_finite() && se > 0.0 => Some((e, se)),
                (None, None) => None,
                _ => {
                    fail("se", "give both estimate and se (se > 0), or neither".into());
                    None
                }
            };
            if raw.targets[..i].iter().any(|o| o.id == t.id) {
                fail("id", format!("duplicate target id \"{}\"", t.id));
            }
            if let (Some(sample), Some(specification)) = (sample, specification) {
                targets.push(Target {
                    id: t.id.clone(),
                    sample,
                    specification,
                    regressor: t.regressor.clone(),
                    sign,
                    significant: t.significant,
                    implied: t.implied,
                    estimate,
                    source: t.source.clone(),
                });
            }
        }
        if raw.targets.is_empty() {
            problems.push(Problem { key: "targets".into(), message: "must list at least one target".into() });
        }
        if !problems.is_empty() {
            return Err(Error::InvalidTargets { file: file.to_string(), problems });
        }
        Ok(Targets { reference: raw.study.reference, notes: raw.study.notes, targets })
    }
}

/// Whether one replication reproduces a target's sign and significance.
pub fn matches(target: &Target, stat: Option<(f64, f64, f64, f64)>, significance: f64) -> bool {
    match stat {
        None => false,
        Some((coef, _, _, p)) if target.significant => p < significance && coef.signum() == f64::from(target.sign),
        Some((_, _, _, p)) => p >= significance,
    }
}

/// A target's statistic (coef, se, t, p) in a `regressions.csv` text; `None` when its regression was
/// not estimable or the regressor is absent.
pub fn stat_in_csv(regressions_csv: &str, target: &Target) -> Option<(f64, f64, f64, f64)> {
    regressions_csv.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 7 || f[0] != target.sample || f[1] != target.specification || f[2] != target.regressor {
            return None;
        }
        let n = |i: usize| f[i].parse::<f64>().ok();
        Some((n(3)?, n(4)?, n(5)?, n(6)?))
    })
}

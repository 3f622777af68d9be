//! The calibration report: fit table over fresh replications, the stylized facts of a facts file
//! (those the calibration names fitted, the others shown and never scored), pipeline checks, and the
//! files `biocluster calibrate` writes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Calibration, Targets, matches, simulate, simulate_surveyed, target_stats};
use crate::error::Result;
use crate::facts::Facts;
use crate::kinds::Stage;
use crate::model::resources::PipelineStats;
use crate::observe::write::{num, write_files};
use crate::scenario::SurveyErrors;

/// One target's simulated statistics over the validation replications.
#[derive(Debug, Clone)]
pub struct FitRow {
    pub target: super::Target,
    pub estimable: usize,
    pub coef_mean: f64,
    pub se_mean: f64,
    pub t_mean: f64,
    pub match_rate: f64,
    /// The sign-match rate with the other kind of standard errors (see `Validation::other_errors`).
    pub match_rate_other: f64,
}

/// Fit of the calibrated scenario on replications the optimiser never saw.
#[derive(Debug, Clone)]
pub struct Validation {
    pub replications: u64,
    pub rows: Vec<FitRow>,
    /// Share of replications reproducing every stated (not implied) finding at once.
    pub joint_stated_rate: f64,
    /// Same, over all targets including implied ones.
    pub joint_all_rate: f64,
    /// The survey's other kind of standard errors (cluster-by-firm when the scenario's are HC1, and
    /// the reverse), and the joint stated rate with them on the same replications.
    pub other_errors: crate::scenario::SurveyErrors,
    pub joint_stated_rate_other: f64,
    /// Each fact of the facts file over the validation replications.
    pub facts: Vec<crate::facts::Summary>,
    /// Simulated stage success rates beside their inputs: (check, simulated, input).
    pub pipeline: Vec<(String, String, String)>,
    /// The fit with each calibrated parameter and environment level moved by +-10 %.
    pub robustness: Option<Robustness>,
}

/// The joint rate of the stated findings with one value moved at a time, on the same replications.
#[derive(Debug, Clone)]
pub struct Robustness {
    pub replications: u64,
    /// The joint stated rate with nothing moved, on these replications.
    pub unmoved: f64,
    pub rows: Vec<RobustnessRow>,
}

#[derive(Debug, Clone)]
pub struct RobustnessRow {
    pub path: String,
    /// "calibrated" or "environment".
    pub kind: &'static str,
    pub base: f64,
    pub factor: f64,
    /// The joint stated rate, or why it was not run.
    pub joint_stated_rate: std::result::Result<f64, String>,
}

/// Share of runs in which every stated (with `stated_only`) or every target matches.
fn joint_rate<'a>(
    runs: impl ExactSizeIterator<Item = &'a super::TargetStats>,
    targets: &Targets,
    alpha: f64,
    stated_only: bool,
) -> f64 {
    let n = runs.len().max(1) as f64;
    runs.filter(|s| {
        targets
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| !(stated_only && t.implied))
            .all(|(i, t)| matches(t, s[i], alpha))
    })
    .count() as f64
        / n
}

/// Moves each calibrated parameter and each cluster's environment level by -10 % and +10 %, one at a
/// time, and measures the joint rate of the stated findings on replications `reps`.
pub fn robustness(cal: &Calibration, targets: &Targets, reps: std::ops::Range<u64>) -> Robustness {
    let alpha = cal.scenario.survey.significance;
    let mut raw = cal.scenario.raw.clone();
    raw.experiment = None;
    raw.calibration = None;
    let base = toml::Value::try_from(&raw).expect("a raw scenario serialises");
    let mut moved: Vec<(String, &'static str, f64)> =
        cal.params.iter().zip(&cal.best.values).map(|(p, v)| (p.path.clone(), "calibrated", *v)).collect();
    // A cluster's environment as it is given: levels, or the measurements they are computed from.
    for cluster in &raw.clusters {
        let given = [
            ("environment", cluster.environment.as_ref().map(toml::Value::try_from)),
            ("measurements", cluster.measurements.as_ref().map(toml::Value::try_from)),
        ];
        for (section, table) in given {
            let Some(table) = table else { continue };
            let table = table.expect("an environment serialises");
            for (key, value) in table.as_table().into_iter().flatten() {
                if let Some(x) = value.as_float().or(value.as_integer().map(|i| i as f64)) {
                    moved.push((format!("clusters.{}.{section}.{key}", cluster.name), "environment", x));
                }
            }
        }
    }
    // The stated findings' joint rate of a scenario over `reps`.
    let rate = |scenario: &crate::scenario::Scenario| {
        joint_rate(simulate(scenario, targets, reps.clone(), |_| ()).iter().map(|(s, _)| s), targets, alpha, true)
    };
    let unmoved = rate(&cal.scenario);
    let mut rows = Vec::new();
    for (path, kind, x) in moved {
        for factor in [0.9, 1.1] {
            let scenario = crate::experiment::path::number(&base, &path, x * factor)
                .and_then(|v| crate::experiment::variant_scenario(&base, &[(path.clone(), v)], "robustness check"));
            let joint_stated_rate = scenario.map(|scenario| rate(&scenario));
            rows.push(RobustnessRow { path: path.clone(), kind, base: x, factor, joint_stated_rate });
        }
    }
    Robustness { replications: reps.end - reps.start, unmoved, rows }
}

pub fn validate(cal: &Calibration, targets: &Targets, facts: &Facts, replications: u64) -> Validation {
    let first = cal.replications;
    // The same surveys also regressed with the other kind of standard errors: coefficients are the
    // same, significance is not (a firm answers in several survey years).
    let other_errors = match cal.scenario.survey.standard_errors {
        SurveyErrors::Hc1 => SurveyErrors::ClusterFirm,
        SurveyErrors::ClusterFirm => SurveyErrors::Hc1,
    };
    // Each replication keeps only its facts, pipeline tallies and the other errors' statistics.
    let last_year = cal.scenario.survey.last_year;
    let runs =
        simulate_surveyed(&cal.scenario, targets, first..first + replications, last_year, |record, responses| {
            let other = target_stats(targets, &crate::survey::regressions(responses, other_errors));
            (facts.evaluate(record), record.pipeline.clone(), other)
        });
    // The other errors' statistics of each replication, beside `runs`' own.
    let other = || runs.iter().map(|(_, (_, _, other))| other);
    let alpha = cal.scenario.survey.significance;
    let n = runs.len().max(1) as f64;
    let rows = targets
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let stats: Vec<(f64, f64, f64, f64)> = runs.iter().filter_map(|(s, _)| s[i]).collect();
            let k = stats.len().max(1) as f64;
            FitRow {
                target: t.clone(),
                estimable: stats.len(),
                coef_mean: stats.iter().map(|s| s.0).sum::<f64>() / k,
                se_mean: stats.iter().map(|s| s.1).sum::<f64>() / k,
                t_mean: stats.iter().map(|s| s.2).sum::<f64>() / k,
                match_rate: runs.iter().filter(|(s, _)| matches(t, s[i], alpha)).count() as f64 / n,
                match_rate_other: other().filter(|s| matches(t, s[i], alpha)).count() as f64 / n,
            }
        })
        .collect();
    let joint = |stated_only: bool| joint_rate(runs.iter().map(|(s, _)| s), targets, alpha, stated_only);
    // Replications in index order (simulate keeps it), so the streaming quantiles are reproducible.
    let mut summaries = vec![crate::facts::Summary::default(); facts.facts.len()];
    for (_, (values, _, _)) in &runs {
        for ((summary, fact), value) in summaries.iter_mut().zip(&facts.facts).zip(values) {
            summary.push(value.map(|v| (v, fact.in_band(v))));
        }
    }
    let pipelines: Vec<&PipelineStats> = runs.iter().map(|(_, (_, p, _))| p).collect();
    Validation {
        replications,
        rows,
        joint_stated_rate: joint(true),
        joint_all_rate: joint(false),
        other_errors,
        joint_stated_rate_other: joint_rate(other(), targets, alpha, true),
        facts: summaries,
        pipeline: pipeline_checks(&pipelines, cal),
        robustness: None,
    }
}

/// Each stage's simulated success rate (unpartnered projects) beside its input, pooled over
/// replications: a check that the pipeline does what its parameters say.
fn pipeline_checks(pipelines: &[&PipelineStats], cal: &Calibration) -> Vec<(String, String, String)> {
    let mut checks = Vec::new();
    for stage in Stage::ALL {
        let i = stage.index();
        let (a, s) = pipelines.iter().fold((0u64, 0u64), |(a, s), p| (a + p.attempts[i], s + p.successes[i]));
        let rate = if a > 0 { format!("{:.3} (n = {a})", s as f64 / a as f64) } else { "no projects".into() };
        checks.push((
            format!("{} success rate (unpartnered)", stage.name()),
            rate,
            format!("{}", cal.scenario.pipeline.stages[i].success_rate),
        ));
    }
    checks
}

fn sign_name(sign: i8) -> &'static str {
    match sign {
        1 => "+",
        -1 => "-",
        _ => "0",
    }
}

/// Writes calibrated.toml, fit.csv, history.csv, facts.csv and report.md into `dir`.
pub fn write(
    dir: &Path,
    cal: &Calibration,
    targets: &Targets,
    facts: &Facts,
    validation: &Validation,
    seconds: f64,
) -> Result<Vec<PathBuf>> {
    let mut fit = String::from(
        "id,sample,specification,regressor,implied,target_sign,target_significant,target_estimate,target_se,sim_coef_mean,sim_se_mean,sim_t_mean,sign_match_rate,estimable_replications,other_errors,other_errors_sign_match_rate\n",
    );
    for r in &validation.rows {
        let t = &r.target;
        let (e, se) = t.estimate.map_or((String::new(), String::new()), |(e, s)| (num(e), num(s)));
        let _ = writeln!(
            fit,
            "{},{},{},{},{},{},{},{e},{se},{},{},{},{},{},{},{}",
            t.id,
            t.sample,
            t.specification,
            t.regressor,
            t.implied,
            sign_name(t.sign),
            t.significant,
            num(r.coef_mean),
            num(r.se_mean),
            num(r.t_mean),
            num(r.match_rate),
            r.estimable,
            validation.other_errors.name(),
            num(r.match_rate_other)
        );
    }
    let mut history = String::from("evaluation,loss,findings_loss,facts_loss");
    for p in &cal.params {
        let _ = write!(history, ",{}", p.path);
    }
    history.push('\n');
    for (i, e) in cal.history.iter().enumerate() {
        let _ = write!(history, "{},{},{},{}", i + 1, num(e.loss), num(e.findings), num(e.facts));
        for v in &e.values {
            let _ = write!(history, ",{}", num(*v));
        }
        history.push('\n');
    }

    let mut md = String::new();
    let _ = writeln!(md, "# Calibration of `{}`\n", cal.scenario.name);
    let _ = writeln!(md, "Targets: {}\n", targets.reference);
    let loss_kind = if targets.has_estimates() {
        "1/SE^2-weighted distance of mean coefficients"
    } else {
        "smooth sign-and-significance loss on simulated t-values"
    };
    let settings =
        cal.scenario.raw.calibration.clone().unwrap_or_else(|| unreachable!("a calibrated scenario keeps its section"));
    let fitted = &settings.facts;
    let objective = if fitted.is_empty() {
        format!("the findings' {loss_kind}")
    } else {
        format!(
            "{} x the findings' {loss_kind} + {} x the facts' loss (mean squared distance of each fitted fact's mean from its band, in band widths; 0 inside) for {} facts: {}",
            settings.findings_weight,
            settings.facts_weight,
            fitted.len(),
            fitted.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        )
    };
    let optimiser = match settings.optimiser {
        _ if !cal.searched => "none (`--validate-only`: the scenario's own values, scored and validated)",
        crate::scenario::raw::RawOptimiser::Cmaes => "CMA-ES from the scenario's values",
        crate::scenario::raw::RawOptimiser::NelderMead => "a Latin hypercube, then Nelder-Mead",
    };
    let _ = writeln!(
        md,
        "Loss: {objective}, over replications 0 to {} (common random numbers). Optimiser: {optimiser}; {} free parameters. {} evaluations ({} simulations) in {seconds:.0} s. Loss at the start {:.4}, best {:.4} (findings {:.4}, facts {:.4}).\n",
        cal.replications - 1,
        cal.params.len(),
        cal.history.len(),
        cal.history.len() as u64 * cal.replications,
        cal.start_loss,
        cal.best.loss,
        cal.best.findings,
        cal.best.facts
    );
    let _ = writeln!(md, "## Parameters\n\n| parameter | bounds | start | calibrated |\n|---|---|---|---|");
    for (p, v) in cal.params.iter().zip(&cal.best.values) {
        let _ = writeln!(md, "| `{}` | [{}, {}] | {} | {:.4} |", p.path, p.min, p.max, p.start, v);
    }
    let _ = writeln!(
        md,
        "\n## Fit on {} fresh replications (replications {} to {})\n\nStandard errors `{}` (the scenario's `survey.standard_errors`); the last column regresses the same surveys with `{}`.\n\n| target | sample | regressor | target | simulated coef (mean) | SE (mean) | t (mean) | sign-match rate | with {} |\n|---|---|---|---|---|---|---|---|---|",
        validation.replications,
        cal.replications,
        cal.replications + validation.replications - 1,
        cal.scenario.survey.standard_errors.name(),
        validation.other_errors.name(),
        validation.other_errors.name()
    );
    for r in &validation.rows {
        let t = &r.target;
        let target = format!(
            "{}{}{}",
            sign_name(t.sign),
            if t.significant { ", significant" } else { ", not significant" },
            if t.implied { " (implied)" } else { "" }
        );
        let _ = writeln!(
            md,
            "| {} | {} | {} ({}) | {target} | {:.3} | {:.3} | {:.2} | {:.0} % | {:.0} % |",
            t.id,
            t.sample,
            t.regressor,
            t.specification,
            r.coef_mean,
            r.se_mean,
            r.t_mean,
            100.0 * r.match_rate,
            100.0 * r.match_rate_other
        );
    }
    let _ = writeln!(
        md,
        "\nAll stated findings (not implied) reproduced together in {:.0} % of replications; all targets together in {:.0} %. With `{}` standard errors, the stated findings together in {:.0} %.\n",
        100.0 * validation.joint_stated_rate,
        100.0 * validation.joint_all_rate,
        validation.other_errors.name(),
        100.0 * validation.joint_stated_rate_other
    );
    let _ = writeln!(
        md,
        "## Stylized facts (validation replications)\n\nFrom {}; {}. Mean, 5-95 % range and share of replications within the band, over the replications where the fact is computable (facts.csv).\n\n| fact | data (year) | band | simulated mean | 5-95 % | in band |\n|---|---|---|---|---|---|",
        facts.file,
        if fitted.is_empty() {
            "none is part of the loss".to_string()
        } else {
            "those marked *fitted* are part of the loss, the others are untargeted".to_string()
        }
    );
    for (fact, s) in facts.facts.iter().zip(&validation.facts) {
        let simulated = if s.moments.n == 0 {
            ("not computable".to_string(), String::new(), String::new())
        } else {
            (
                format!("{:.3}", s.moments.mean()),
                format!("{:.3}-{:.3}", s.p5(), s.p95()),
                format!("{:.0} %", 100.0 * s.share_in_band()),
            )
        };
        let _ = writeln!(
            md,
            "| {}{} | {} ({}) | {} | {} | {} | {} |",
            fact.name,
            if fitted.contains(&fact.name) { " (*fitted*)" } else { "" },
            fact.data_value,
            fact.data_year,
            band_text(fact.band),
            simulated.0,
            simulated.1,
            simulated.2
        );
    }
    let _ =
        writeln!(md, "\n## Pipeline checks (validation replications)\n\n| check | simulated | input |\n|---|---|---|");
    for (check, sim, input) in &validation.pipeline {
        let _ = writeln!(md, "| {check} | {sim} | {input} |");
    }
    let mut robust = String::from("parameter,kind,base,factor,value,joint_stated_rate,note\n");
    if let Some(r) = &validation.robustness {
        let _ = writeln!(
            md,
            "\n## Robustness of the fit (one value at a time, -10 % and +10 %)\n\nJoint rate of the stated findings on replications {} to {} ({} with nothing moved).\n\n| parameter | kind | value | x 0.9 | x 1.1 |\n|---|---|---|---|---|",
            cal.replications,
            cal.replications + r.replications - 1,
            pct(r.unmoved)
        );
        for pair in r.rows.chunks(2) {
            let cell = |row: &RobustnessRow| match &row.joint_stated_rate {
                Ok(rate) => pct(*rate),
                Err(_) => "outside its range".into(),
            };
            let _ = writeln!(
                md,
                "| `{}` | {} | {:.4} | {} | {} |",
                pair[0].path,
                pair[0].kind,
                pair[0].base,
                cell(&pair[0]),
                pair.get(1).map(cell).unwrap_or_default()
            );
        }
        for row in &r.rows {
            let (rate, note) = match &row.joint_stated_rate {
                Ok(rate) => (num(*rate), String::new()),
                Err(e) => (String::new(), crate::format::csv_field(e)),
            };
            let _ = writeln!(
                robust,
                "{},{},{},{},{},{rate},{note}",
                row.path,
                row.kind,
                num(row.base),
                row.factor,
                num(row.base * row.factor)
            );
        }
    }
    let calibrated = format!(
        "# Calibrated by `biocluster calibrate` against {}.\n# Best loss {:.4}; the calibration's report.md gives the fit.\n{}",
        targets.reference,
        cal.best.loss,
        cal.scenario.resolved_toml()
    );
    let facts_csv =
        format!("{}\n{}", crate::facts::SUMMARY_HEADER, facts.summary_rows("calibrated", &validation.facts));
    let files = [
        ("calibrated.toml", calibrated),
        ("fit.csv", fit),
        ("history.csv", history),
        ("facts.csv", facts_csv),
        ("report.md", md),
    ];
    let mut written = write_files(dir, &files)?;
    if validation.robustness.is_some() {
        written.extend(write_files(dir, &[("robustness.csv", robust)])?);
    }
    Ok(written)
}

fn pct(rate: f64) -> String {
    format!("{:.0} %", 100.0 * rate)
}

/// A band for people: "0.2-0.33", ">= 1.2", "<= 3".
pub fn band_text(band: (f64, f64)) -> String {
    match band {
        (low, high) if high.is_infinite() && low.is_infinite() => "any".into(),
        (low, high) if high.is_infinite() => format!(">= {low}"),
        (low, high) if low.is_infinite() => format!("<= {high}"),
        (low, high) => format!("{low}-{high}"),
    }
}

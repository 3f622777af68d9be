//! The calibration report: fit table over fresh replications, untargeted stylized facts, and the
//! files `biocluster calibrate` writes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Calibration, Targets, matches, simulate};
use crate::error::Result;
use crate::kinds::Stage;
use crate::model::components::AgentKind;
use crate::observe::RunRecord;
use crate::observe::write::{num, write_files};

/// One target's simulated statistics over the validation replications.
#[derive(Debug, Clone)]
pub struct FitRow {
    pub target: super::Target,
    pub estimable: usize,
    pub coef_mean: f64,
    pub se_mean: f64,
    pub t_mean: f64,
    pub match_rate: f64,
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
    pub facts: Vec<(String, String, String)>,
}

pub fn validate(cal: &Calibration, targets: &Targets, replications: u64) -> Validation {
    let first = cal.replications;
    let runs = simulate(&cal.scenario, targets, first..first + replications);
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
            }
        })
        .collect();
    let joint = |stated_only: bool| {
        runs.iter()
            .filter(|(s, _)| {
                targets
                    .targets
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| !(stated_only && t.implied))
                    .all(|(i, t)| matches(t, s[i], alpha))
            })
            .count() as f64
            / n
    };
    let records: Vec<&RunRecord> = runs.iter().map(|(_, r)| r).collect();
    Validation {
        replications,
        rows,
        joint_stated_rate: joint(true),
        joint_all_rate: joint(false),
        facts: stylized_facts(&records, cal),
    }
}

/// Untargeted facts (MODEL.md "Stylized facts"; survey descriptives), averaged over replications.
fn stylized_facts(records: &[&RunRecord], cal: &Calibration) -> Vec<(String, String, String)> {
    let year = cal.scenario.survey.last_year;
    let mut facts = Vec::new();
    let share = |pred: &dyn Fn(&crate::observe::PanelRow) -> bool| {
        let rows: Vec<_> =
            records.iter().flat_map(|r| r.panel.iter()).filter(|p| p.year == year && p.status == "alive").collect();
        rows.iter().filter(|p| pred(p)).count() as f64 / rows.len().max(1) as f64
    };
    facts.push((
        format!("pre-revenue firms, {year}"),
        format!("{:.1} %", 100.0 * share(&|p| p.sales_musd == 0.0)),
        "26.7 % (survey 2021)".into(),
    ));
    facts.push((
        format!("firms with any collaboration, {year}"),
        format!("{:.1} %", 100.0 * share(&|p| p.alliances_tech + crate::survey::cooperation_nontech(p) > 0)),
        "37.9 % (survey 2021)".into(),
    ));
    facts.push((
        format!("firms under 50 employees, {year}"),
        format!("{:.1} %", 100.0 * share(&|p| p.employees < 50.0)),
        "63.5 % (survey 2021)".into(),
    ));
    let degrees = |firms: bool| -> Vec<f64> {
        records
            .iter()
            .flat_map(|r| r.final_degrees.iter())
            .filter(|(k, _)| (*k == AgentKind::Firm) == firms)
            .map(|(_, d)| f64::from(*d))
            .collect()
    };
    for (label, firms, expect) in [
        ("firms' alliance degree", true, "roughly exponential: CV near 1 (Powell et al. 2005)"),
        (
            "partners' alliance degree (universities, pharma, investors)",
            false,
            "heavy-tailed: CV above 1, max far above mean",
        ),
    ] {
        let d = degrees(firms);
        let m = d.iter().sum::<f64>() / d.len().max(1) as f64;
        let sd = (d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / d.len().max(1) as f64).sqrt();
        let max = d.iter().copied().fold(0.0, f64::max);
        facts.push((
            label.into(),
            format!("mean {m:.2}, CV {:.2}, max {max}", if m > 0.0 { sd / m } else { 0.0 }),
            expect.into(),
        ));
    }
    for stage in Stage::ALL {
        let i = stage.index();
        let (a, s) =
            records.iter().fold((0u64, 0u64), |(a, s), r| (a + r.pipeline.attempts[i], s + r.pipeline.successes[i]));
        let rate = if a > 0 { format!("{:.3} (n = {a})", s as f64 / a as f64) } else { "no projects".into() };
        facts.push((
            format!("{} success rate (unpartnered)", stage.name()),
            rate,
            format!("{} (input)", cal.scenario.pipeline.stages[i].success_rate),
        ));
    }
    facts
}

fn sign_name(sign: i8) -> &'static str {
    match sign {
        1 => "+",
        -1 => "-",
        _ => "0",
    }
}

/// Writes calibrated.toml, fit.csv, history.csv and report.md into `dir`.
pub fn write(
    dir: &Path,
    cal: &Calibration,
    targets: &Targets,
    validation: &Validation,
    seconds: f64,
) -> Result<Vec<PathBuf>> {
    let mut fit = String::from(
        "id,sample,specification,regressor,implied,target_sign,target_significant,target_estimate,target_se,sim_coef_mean,sim_se_mean,sim_t_mean,sign_match_rate,estimable_replications\n",
    );
    for r in &validation.rows {
        let t = &r.target;
        let (e, se) = t.estimate.map_or((String::new(), String::new()), |(e, s)| (num(e), num(s)));
        let _ = writeln!(
            fit,
            "{},{},{},{},{},{},{},{e},{se},{},{},{},{},{}",
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
            r.estimable
        );
    }
    let mut history = String::from("evaluation,loss");
    for p in &cal.params {
        let _ = write!(history, ",{}", p.path);
    }
    history.push('\n');
    for (i, e) in cal.history.iter().enumerate() {
        let _ = write!(history, "{},{}", i + 1, num(e.loss));
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
    let _ = writeln!(
        md,
        "Loss: {loss_kind}, over replications 0 to {} (common random numbers). {} evaluations ({} simulations) in {seconds:.0} s. Loss at the start {:.4}, best {:.4}.\n",
        cal.replications - 1,
        cal.history.len(),
        cal.history.len() as u64 * cal.replications,
        cal.start_loss,
        cal.best.loss
    );
    let _ = writeln!(md, "## Parameters\n\n| parameter | bounds | start | calibrated |\n|---|---|---|---|");
    for (p, v) in cal.params.iter().zip(&cal.best.values) {
        let _ = writeln!(md, "| `{}` | [{}, {}] | {} | {:.4} |", p.path, p.min, p.max, p.start, v);
    }
    let _ = writeln!(
        md,
        "\n## Fit on {} fresh replications (replications {} to {})\n\n| target | sample | regressor | target | simulated coef (mean) | SE (mean) | t (mean) | sign-match rate |\n|---|---|---|---|---|---|---|---|",
        validation.replications,
        cal.replications,
        cal.replications + validation.replications - 1
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
            "| {} | {} | {} ({}) | {target} | {:.3} | {:.3} | {:.2} | {:.0} % |",
            t.id,
            t.sample,
            t.regressor,
            t.specification,
            r.coef_mean,
            r.se_mean,
            r.t_mean,
            100.0 * r.match_rate
        );
    }
    let _ = writeln!(
        md,
        "\nAll stated findings (not implied) reproduced together in {:.0} % of replications; all targets together in {:.0} %.\n",
        100.0 * validation.joint_stated_rate,
        100.0 * validation.joint_all_rate
    );
    let _ = writeln!(
        md,
        "## Untargeted stylized facts (validation replications)\n\n| fact | simulated | reference |\n|---|---|---|"
    );
    for (fact, sim, reference) in &validation.facts {
        let _ = writeln!(md, "| {fact} | {sim} | {reference} |");
    }
    let calibrated = format!(
        "# Calibrated by `biocluster calibrate` against {}.\n# Best loss {:.4}; the calibration's report.md gives the fit.\n{}",
        targets.reference,
        cal.best.loss,
        cal.scenario.resolved_toml()
    );
    let files = [("calibrated.toml", calibrated), ("fit.csv", fit), ("history.csv", history), ("report.md", md)];
    write_files(dir, &files)
}

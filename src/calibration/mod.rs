//! Calibration by indirect inference: move the parameters a scenario's `[calibration]` section names
//! until the synthetic survey's regressions look like the study's.
//!
//! - Each evaluation runs the scenario with the candidate parameters for replications 0..n (common
//!   random numbers: the same streams at every candidate), surveys each replication, and runs the
//!   study's regressions. The horizon stops at the last survey year (later years cannot matter).
//! - Loss with estimates and SEs: sum over targets of ((mean simulated coefficient - estimate) / se)^2.
//!   Loss with signs only: the mean over replications and targets of a smooth sign-and-significance
//!   penalty on the simulated t-value t at the survey's sample size, with c the two-sided critical
//!   value: softplus((c - s t) / tau) for a significant finding of sign s, softplus((|t| - c) / tau)
//!   for a non-significant one (tau = 0.5).
//! - Optimiser: a Latin hypercube over the bounds (the loss is noisy and has flat regions), then
//!   Nelder-Mead (argmin) from the best point, over the parameters scaled to [0, 1]; candidates
//!   outside the bounds are clamped and penalised. The budget counts simulations.
//! - Report: the best parameters, a calibrated scenario file, and a fit table (each target beside its
//!   simulated coefficient, SE, t and sign-match rate) over fresh validation replications, with the
//!   untargeted stylized facts.
//!
//! The model never sees the targets: only this module reads them, to score simulated output.

pub mod cmaes;
pub mod report;

use std::sync::{Arc, Mutex};

use argmin::core::{CostFunction, Executor};
use argmin::solver::neldermead::NelderMead;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{Error, Result};
use crate::experiment::path;
use crate::observe::RunRecord;
use crate::scenario::Scenario;
use crate::scenario::raw::RawOptimiser;
use crate::simulation::run_replication;
use crate::survey;
pub use crate::targets::{Target, Targets, matches};

/// Smoothing of the sign-and-significance loss, in t units.
const TAU: f64 = 0.5;
/// Loss of a target whose coefficient could not be estimated in a replication.
const NOT_ESTIMABLE: f64 = 5.0;

/// Cost returned once the simulation budget is spent.
const SPENT: f64 = 1e12;

/// A calibrated parameter with its bounds.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub path: String,
    pub min: f64,
    pub max: f64,
    /// The scenario's own value, the starting point.
    pub start: f64,
}

/// Simulated regression statistics of each target in one replication: (coef, se, t, p).
pub type TargetStats = Vec<Option<(f64, f64, f64, f64)>>;

/// The scenario with parameters set (by path), its horizon cut at the last survey year.
pub fn scenario_with(base: &Scenario, params: &[Parameter], values: &[f64]) -> Result<Scenario> {
    let mut raw = base.raw.clone();
    raw.experiment = None;
    raw.calibration = None;
    let value = toml::Value::try_from(&raw).expect("a raw scenario serialises");
    let overrides = params
        .iter()
        .zip(values)
        .map(|(p, v)| Ok((p.path.clone(), path::number(&value, &p.path, *v)?)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(Error::Usage)?;
    crate::experiment::variant_scenario(&value, &overrides, "calibration candidate").map_err(Error::Usage)
}

/// Runs replications `reps` of a scenario and returns each one's target statistics and what
/// `reduce` keeps of its record. Each record is reduced and dropped as its replication ends, so
/// memory does not grow with the number of replications.
pub fn simulate<T: Send>(
    scenario: &Scenario,
    targets: &Targets,
    reps: std::ops::Range<u64>,
    reduce: impl Fn(&RunRecord) -> T + Sync,
) -> Vec<(TargetStats, T)> {
    simulate_until(scenario, targets, reps, scenario.survey.last_year, reduce)
}

/// As [`simulate`], with the horizon cut at `last_year` (at least the survey's last year).
pub fn simulate_until<T: Send>(
    scenario: &Scenario,
    targets: &Targets,
    reps: std::ops::Range<u64>,
    last_year: i32,
    reduce: impl Fn(&RunRecord) -> T + Sync,
) -> Vec<(TargetStats, T)> {
    simulate_surveyed(scenario, targets, reps, last_year, |record, _| reduce(record))
}

/// As [`simulate_until`], `reduce` also seeing the replication's survey responses (to regress them
/// another way without simulating again).
pub fn simulate_surveyed<T: Send>(
    scenario: &Scenario,
    targets: &Targets,
    reps: std::ops::Range<u64>,
    last_year: i32,
    reduce: impl Fn(&RunRecord, &[survey::Response]) -> T + Sync,
) -> Vec<(TargetStats, T)> {
    let mut short = scenario.clone();
    let last_year = last_year.max(scenario.survey.last_year);
    short.years = short.years.min((last_year - scenario.start_year + 1).max(1) as u32);
    let short = Arc::new(short);
    let reps: Vec<u64> = reps.collect();
    reps.par_iter()
        .map(|&r| {
            let record = run_replication(Arc::clone(&short), r, |_| {});
            let responses = survey::sample(&short, r, &record.panel);
            let stats = target_stats(targets, &survey::regressions(&responses, short.survey.standard_errors));
            (stats, reduce(&record, &responses))
        })
        .collect()
}

/// Each target's (coefficient, SE, t, p) in one survey's regressions; `None` where not estimable.
pub fn target_stats(targets: &Targets, regressions: &[survey::SurveyRegression]) -> TargetStats {
    targets
        .targets
        .iter()
        .map(|t| {
            regressions
                .iter()
                .find(|g| g.sample == t.sample && g.specification == t.specification)
                .and_then(|g| g.fit.as_ref())
                .and_then(|f| f.get(&t.regressor))
        })
        .collect()
}

/// Two-sided critical value of the survey's significance level (normal approximation).
pub fn critical_value(significance: f64) -> f64 {
    Normal::new(0.0, 1.0).map_or(1.96, |n| n.inverse_cdf(1.0 - significance / 2.0))
}

fn softplus(x: f64) -> f64 {
    if x > 30.0 { x } else { x.exp().ln_1p() }
}

/// The loss of simulated statistics against the targets (lower is better). An implied finding
/// (read from the study's silence) counts `implied_weight` times a stated one.
pub fn loss(targets: &Targets, stats: &[TargetStats], critical: f64, implied_weight: f64) -> f64 {
    let weight = |t: &crate::targets::Target| if t.implied { implied_weight } else { 1.0 };
    let total_weight: f64 = targets.targets.iter().map(weight).sum();
    if total_weight == 0.0 {
        return 0.0;
    }
    if targets.has_estimates() {
        targets
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (estimate, se) = t.estimate.expect("has_estimates");
                let coefs: Vec<f64> = stats.iter().filter_map(|s| s[i].map(|x| x.0)).collect();
                if coefs.is_empty() {
                    return weight(t) * NOT_ESTIMABLE * NOT_ESTIMABLE;
                }
                let mean = coefs.iter().sum::<f64>() / coefs.len() as f64;
                weight(t) * ((mean - estimate) / se).powi(2)
            })
            .sum::<f64>()
            * targets.targets.len() as f64
            / total_weight
    } else {
        let mut total = 0.0;
        for s in stats {
            for (i, t) in targets.targets.iter().enumerate() {
                total += weight(t)
                    * match s[i] {
                        None => NOT_ESTIMABLE,
                        Some((_, _, tv, _)) if t.significant => softplus((critical - f64::from(t.sign) * tv) / TAU),
                        Some((_, _, tv, _)) => softplus((tv.abs() - critical) / TAU),
                    };
            }
        }
        total / (stats.len().max(1) as f64 * total_weight)
    }
}

/// The facts' part of the objective: the mean over fitted facts of the squared distance of their
/// mean simulated value from the band, in band widths (0 inside the band).
pub fn facts_loss(fitted: &[crate::facts::Fact], values: &[Vec<Option<f64>>]) -> f64 {
    if fitted.is_empty() {
        return 0.0;
    }
    let total: f64 = fitted
        .iter()
        .enumerate()
        .map(|(k, fact)| {
            let v: Vec<f64> = values.iter().filter_map(|row| row[k]).collect();
            if v.is_empty() {
                return NOT_ESTIMABLE * NOT_ESTIMABLE;
            }
            fact.distance_outside(v.iter().sum::<f64>() / v.len() as f64).powi(2)
        })
        .sum();
    total / fitted.len() as f64
}

/// One evaluation of the objective.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub values: Vec<f64>,
    /// The weighted total: findings_weight x findings + facts_weight x facts.
    pub loss: f64,
    /// The findings' loss and the facts' loss, unweighted.
    pub findings: f64,
    pub facts: f64,
}

/// The facts a calibration fits jointly with the findings (`calibration.facts`), from the facts
/// file; an unknown name is an error naming its key and the facts there are.
pub fn fitted_facts(scenario: &Scenario, facts: &crate::facts::Facts) -> Result<crate::facts::Facts> {
    let names = scenario.raw.calibration.as_ref().map(|c| c.facts.clone()).unwrap_or_default();
    let mut fitted = facts.clone();
    fitted.facts = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            facts.facts.iter().find(|f| &f.name == name).cloned().ok_or_else(|| {
                Error::invalid_scenario(
                    &scenario.name,
                    format!("calibration.facts[{i}]"),
                    format!(
                        "\"{name}\" is not a fact of {}; its facts are {}",
                        facts.file,
                        facts.facts.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(fitted)
}

struct Objective<'a> {
    base: &'a Scenario,
    params: &'a [Parameter],
    targets: &'a Targets,
    /// The facts fitted (a facts file holding only them) and the horizon they need.
    facts: &'a crate::facts::Facts,
    last_year: i32,
    findings_weight: f64,
    implied_weight: f64,
    facts_weight: f64,
    replications: u64,
    critical: f64,
    history: Arc<Mutex<Vec<Evaluation>>>,
    max_evaluations: usize,
}

impl Objective<'_> {
    fn values_of(&self, unit: &[f64]) -> Vec<f64> {
        self.params.iter().zip(unit).map(|(p, u)| p.min + u.clamp(0.0, 1.0) * (p.max - p.min)).collect()
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, unit: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        let outside: f64 = unit.iter().map(|u| (u - u.clamp(0.0, 1.0)).abs()).sum();
        let values = self.values_of(unit);
        if self.history.lock().expect("history lock").len() >= self.max_evaluations {
            // Budget spent: no more simulations. A flat, huge cost lets the solver wind down to
            // its iteration limit without moving (argmin does not accept errors here).
            return Ok(SPENT);
        }
        let scenario =
            scenario_with(self.base, self.params, &values).map_err(|e| argmin::core::Error::msg(e.to_string()))?;
        let facts = self.facts;
        let (stats, fact_values): (Vec<TargetStats>, Vec<Vec<Option<f64>>>) =
            simulate_until(&scenario, self.targets, 0..self.replications, self.last_year, |record| {
                if facts.facts.is_empty() { Vec::new() } else { facts.evaluate(record) }
            })
            .into_iter()
            .unzip();
        let findings = loss(self.targets, &stats, self.critical, self.implied_weight);
        let facts = facts_loss(&self.facts.facts, &fact_values);
        let value = self.findings_weight * findings + self.facts_weight * facts + 100.0 * outside;
        self.history.lock().expect("history lock").push(Evaluation { values, loss: value, findings, facts });
        Ok(value)
    }
}

/// The outcome of a calibration.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub params: Vec<Parameter>,
    pub history: Vec<Evaluation>,
    pub best: Evaluation,
    pub start_loss: f64,
    /// The calibrated scenario (full horizon).
    pub scenario: Scenario,
    pub replications: u64,
    /// False when the scenario's own values were only scored (`calibrate --validate-only`).
    pub searched: bool,
}

/// The parameters a scenario's `[calibration]` section names, with their starting values.
pub fn parameters(scenario: &Scenario) -> Result<Vec<Parameter>> {
    let cal = scenario.raw.calibration.as_ref().ok_or_else(|| {
        Error::Usage(format!(
            "scenario `{}` has no [calibration] section naming parameters to calibrate",
            scenario.name
        ))
    })?;
    let value = toml::Value::try_from(&scenario.raw).expect("a raw scenario serialises");
    cal.parameters
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let current = path::get(&value, &p.path)
                .map_err(|m| Error::invalid_scenario(&scenario.name, format!("calibration.parameters[{i}].path"), m))?;
            let start = current.as_float().or(current.as_integer().map(|x| x as f64)).ok_or_else(|| {
                Error::Usage(format!("calibration.parameters[{i}].path `{}` is not a number", p.path))
            })?;
            Ok(Parameter { path: p.path.clone(), min: p.min, max: p.max, start: start.clamp(p.min, p.max) })
        })
        .collect::<Result<Vec<Parameter>>>()
        .and_then(|params| {
            // Every candidate lies between the bounds: both ends must make a valid scenario.
            for (i, p) in params.iter().enumerate() {
                for (end, x) in [("min", p.min), ("max", p.max)] {
                    let mut values: Vec<f64> = params.iter().map(|q| q.start).collect();
                    values[i] = x;
                    scenario_with(scenario, &params, &values).map_err(|e| {
                        Error::Usage(format!(
                            "calibration.parameters[{i}].{end} = {x} for `{}` gives an invalid scenario: {e}",
                            p.path
                        ))
                    })?;
                }
            }
            Ok(params)
        })
}

/// Runs the optimiser within the scenario's budget: the findings of `targets` and the facts the
/// calibration names (from `facts`), weighted as it says.
pub fn calibrate(scenario: &Scenario, targets: &Targets, facts: &crate::facts::Facts) -> Result<Calibration> {
    calibrate_or_check(scenario, targets, facts, true)
}

/// With `search` false, no optimiser: the scenario's own values are scored once (the calibration of
/// a file already calibrated, to be validated on fresh replications).
pub fn calibrate_or_check(
    scenario: &Scenario,
    targets: &Targets,
    facts: &crate::facts::Facts,
    search: bool,
) -> Result<Calibration> {
    let cal = scenario.raw.calibration.clone().expect("checked by parameters()");
    let params = parameters(scenario)?;
    let fitted = fitted_facts(scenario, facts)?;
    let last_year = fitted.facts.iter().map(|f| f.needed_years().1).max().unwrap_or(scenario.survey.last_year);
    let horizon_end = scenario.start_year + scenario.years as i32 - 1;
    if scenario.survey.last_year > horizon_end {
        return Err(Error::Usage(format!(
            "the survey ends in {} but the scenario stops in {horizon_end}: lengthen scenario.years or move survey.last_year",
            scenario.survey.last_year
        )));
    }
    let replications = u64::from(cal.replications);
    let max_evaluations = (cal.budget / cal.replications).max(params.len() as u32 + 2) as usize;
    let objective = Objective {
        base: scenario,
        params: &params,
        targets,
        facts: &fitted,
        last_year,
        findings_weight: cal.findings_weight,
        implied_weight: cal.implied_weight,
        facts_weight: cal.facts_weight,
        replications,
        critical: critical_value(scenario.survey.significance),
        history: Arc::new(Mutex::new(Vec::new())),
        max_evaluations,
    };
    let history = Arc::clone(&objective.history);
    let mut start: Vec<f64> = params.iter().map(|p| (p.start - p.min) / (p.max - p.min)).collect();
    match cal.optimiser {
        _ if !search => {
            let _ = objective.cost(&start);
        }
        RawOptimiser::Cmaes => {
            // From the scenario's values, a quarter of each range as the first step; CMA-ES ranks
            // candidates, so the loss's jaggedness moves it less than a simplex.
            let mut rng =
                ChaCha8Rng::seed_from_u64(crate::model::rng::stream_seed(scenario.seed, 0, "calibration-cmaes"));
            // The scenario's own values first: the report's starting loss.
            let _ = objective.cost(&start);
            cmaes::minimise(
                |unit| {
                    // The count is read and its lock released before the objective locks the history.
                    let evaluated = history.lock().expect("history lock").len();
                    (evaluated < max_evaluations).then(|| objective.cost(&unit.to_vec()).unwrap_or(f64::INFINITY))
                },
                &start,
                0.25,
                max_evaluations,
                1e-4,
                &mut rng,
            );
        }
        RawOptimiser::NelderMead => nelder_mead(objective, &mut start, max_evaluations, scenario.seed)?,
    }
    let history = history.lock().expect("history lock").clone();
    let best = history
        .iter()
        .min_by(|a, b| a.loss.total_cmp(&b.loss))
        .cloned()
        .ok_or_else(|| Error::Usage("the calibration evaluated nothing".into()))?;
    let calibrated = scenario_with(scenario, &params, &best.values)?;
    let mut full = calibrated.raw.clone();
    full.calibration = scenario.raw.calibration.clone();
    let scenario_out = Scenario::from_raw(full, "calibrated")?;
    Ok(Calibration {
        start_loss: history[0].loss,
        params,
        history,
        best,
        scenario: scenario_out,
        replications,
        searched: search,
    })
}

/// A Latin hypercube over the bounds, then Nelder-Mead from its best point.
fn nelder_mead(objective: Objective, start: &mut Vec<f64>, max_evaluations: usize, seed: u64) -> Result<()> {
    let params = objective.params;
    // Global phase: the scenario's own values plus a Latin hypercube over the bounds (half the
    // budget at most, 8 points per parameter and at least 16); then Nelder-Mead from the best point.
    let n_design = (8 * params.len()).max(16).min(max_evaluations / 2);
    let mut rng = ChaCha8Rng::seed_from_u64(crate::model::rng::stream_seed(seed, 0, "calibration"));
    let columns: Vec<Vec<f64>> = params
        .iter()
        .map(|_| {
            let mut strata: Vec<usize> = (0..n_design).collect();
            for i in (1..n_design).rev() {
                strata.swap(i, rng.random_range(0..=i));
            }
            strata.into_iter().map(|s| (s as f64 + rng.random::<f64>()) / n_design as f64).collect()
        })
        .collect();
    let mut best_unit = start.clone();
    let mut best_loss = objective.cost(start).unwrap_or(f64::INFINITY);
    for k in 0..n_design {
        let point: Vec<f64> = columns.iter().map(|c| c[k]).collect();
        if let Ok(l) = objective.cost(&point)
            && l < best_loss
        {
            best_loss = l;
            best_unit = point;
        }
    }
    *start = best_unit;
    let mut simplex = vec![start.clone()];
    for i in 0..start.len() {
        let mut vertex = start.clone();
        vertex[i] = if vertex[i] <= 0.5 { vertex[i] + 0.15 } else { vertex[i] - 0.15 };
        simplex.push(vertex);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-4).map_err(|e| Error::Usage(e.to_string()))?;
    // The run ends when the budget is spent (the objective refuses further evaluations) or the
    // simplex converges; both are normal ends, the best evaluation is in the history either way.
    let _ = Executor::new(objective, solver).configure(|state| state.max_iters(max_evaluations as u64)).run();
    Ok(())
}

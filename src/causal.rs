//! The model's causal truth beside the survey's regressions.
//!
//! A survey coefficient on a cooperation dummy mixes what cooperation does to sales with who
//! cooperates (firms with more sales find more partners). The simulator can measure the first alone.
//! For every firm with a surveyed firm-year in which the dummy is 1, it runs the same scenario, seed
//! and replication again with that one firm's alliances of the dummy's kinds blocked from the start
//! (`model::resources::Counterfactual`: its searches and partners' acceptances are still drawn, the
//! alliance is just never formed, so the random streams stay in step until its absence changes
//! something), and compares the firm's ln sales in each of those firm-years with the same firm-year
//! without them. The firm keeps its id: everything before its founding is the same in both runs.
//!
//! - Effect on the treated (ATT): the mean of ln sales (as run) - ln sales (without), over treated
//!   firm-years whose firm still has sales without its alliances (`matched`); firm-years of firms
//!   that exited, or sell nothing, without them are counted apart (ln undefined), so the ATT is
//!   conditional on survival and is set beside those counts.
//! - One firm's alliances are removed at a time, the rest of the world as it was (but for what that
//!   firm's absence as a partner changes): a firm-level effect, not a world without cooperation.
//!
//! Blocked kinds per dummy follow the survey's definitions: `tech`, every technological kind;
//! `nontech`, the non-technological kinds but equity financing; `oi`, per `survey.open_innovation`.
//! Cost: one run per treated firm and dummy (about 3 x 100 runs for the survey-sized scenarios).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use rayon::prelude::*;

use crate::format::num;
use crate::kinds::AllianceKind;
use crate::model::resources::Counterfactual;
use crate::scenario::{OpenInnovation, Scenario};
use crate::simulation::run_counterfactual;
use crate::stats::Moments;
use crate::survey::{Response, SurveyRegression, ln_sales};

/// The survey's cooperation dummies, each with the alliance kinds that set it.
pub fn treatments(scenario: &Scenario) -> Vec<(&'static str, Vec<AllianceKind>)> {
    let tech: Vec<AllianceKind> = AllianceKind::ALL.into_iter().filter(|k| k.is_tech()).collect();
    let nontech: Vec<AllianceKind> =
        AllianceKind::ALL.into_iter().filter(|k| !k.is_tech() && *k != AllianceKind::Financing).collect();
    let oi: Vec<AllianceKind> = match scenario.survey.open_innovation {
        OpenInnovation::TechnologyAndInvestment => {
            tech.iter().copied().chain(std::iter::once(AllianceKind::Financing)).collect()
        }
        OpenInnovation::AnyCooperation => tech.iter().chain(&nontech).copied().collect(),
    };
    vec![("oi", oi), ("tech", tech), ("nontech", nontech)]
}

/// One dummy's causal effect on its treated firm-years in one sample (cluster type), beside the
/// survey coefficient.
#[derive(Debug, Clone)]
pub struct CausalEffect {
    pub sample: String,
    pub regressor: &'static str,
    pub blocked: Vec<AllianceKind>,
    /// The survey regression's coefficient and standard error (as `survey.standard_errors` says).
    pub survey: Option<(f64, f64)>,
    /// Surveyed firm-years with the dummy at 1, and the firms they belong to.
    pub firm_years: usize,
    pub firms: usize,
    /// ln sales (as run) - ln sales (the firm's alliances of these kinds blocked).
    pub effect: Moments,
    /// Treated firm-years whose firm sells nothing, or is gone, without its alliances.
    pub no_sales_without: usize,
    pub gone_without: usize,
}

impl CausalEffect {
    /// The mean effect and its standard error (`None` without enough firm-years).
    pub fn mean_se(&self) -> (Option<f64>, Option<f64>) {
        let n = self.effect.n;
        ((n > 0).then(|| self.effect.mean()), (n > 1).then(|| self.effect.sd() / (n as f64).sqrt()))
    }
}

fn dummy(r: &Response, regressor: &str) -> bool {
    match regressor {
        "oi" => r.oi > 0.0,
        "tech" => r.tech > 0.0,
        _ => r.nontech > 0.0,
    }
}

/// Measures each dummy's effect on its treated firm-years among `responses` (the survey drawn from the
/// run as it was), per cluster type: one counterfactual run per treated firm and dummy, in parallel
/// (the results do not depend on the thread count).
pub fn effects(
    scenario: &Arc<Scenario>,
    replication: u64,
    responses: &[Response],
    regressions: &[SurveyRegression],
) -> Vec<CausalEffect> {
    effects_of(scenario, replication, responses, regressions, &["oi", "tech", "nontech"])
}

/// [`effects`] for some of the dummies only (`oi`, `tech`, `nontech`).
pub fn effects_of(
    scenario: &Arc<Scenario>,
    replication: u64,
    responses: &[Response],
    regressions: &[SurveyRegression],
    regressors: &[&str],
) -> Vec<CausalEffect> {
    let mut samples: Vec<String> = responses.iter().map(|r| r.cluster_type.clone()).collect();
    samples.sort();
    samples.dedup();
    let mut out = Vec::new();
    for (regressor, blocked) in treatments(scenario).into_iter().filter(|(r, _)| regressors.contains(r)) {
        let treated: Vec<&Response> = responses.iter().filter(|r| dummy(r, regressor)).collect();
        let firms: BTreeSet<u32> = treated.iter().map(|r| r.firm_id).collect();
        let firms: Vec<u32> = firms.into_iter().collect();
        // Each treated firm's sales by year without its alliances of these kinds.
        let without: Vec<BTreeMap<i32, f64>> = firms
            .par_iter()
            .map(|&firm| {
                let counterfactual = Counterfactual::blocking(blocked.iter().copied(), Some(firm));
                let record = run_counterfactual(Arc::clone(scenario), replication, counterfactual, |_| {});
                record.panel.iter().filter(|row| row.firm_id == firm).map(|row| (row.year, row.sales_musd)).collect()
            })
            .collect();
        for sample in &samples {
            let mut effect = CausalEffect {
                sample: sample.clone(),
                regressor,
                blocked: blocked.clone(),
                survey: regressions
                    .iter()
                    .filter(|g| g.sample == sample)
                    .find_map(|g| g.fit.as_ref()?.get(regressor))
                    .map(|(coef, se, _, _)| (coef, se)),
                firm_years: 0,
                firms: 0,
                effect: Moments::default(),
                no_sales_without: 0,
                gone_without: 0,
            };
            let mut seen = BTreeSet::new();
            for r in treated.iter().filter(|r| &r.cluster_type == sample) {
                effect.firm_years += 1;
                seen.insert(r.firm_id);
                let k = firms.binary_search(&r.firm_id).expect("every treated firm ran");
                match without[k].get(&r.year) {
                    None => effect.gone_without += 1,
                    Some(&s) => match ln_sales(scenario.survey.zero_sales, s) {
                        None => effect.no_sales_without += 1,
                        Some(ln_without) => effect.effect.push(r.ln_sales - ln_without),
                    },
                }
            }
            effect.firms = seen.len();
            out.push(effect);
        }
    }
    out
}

/// `causal_effects.csv`: one row per (sample, dummy). Empty cells where nothing was measured.
pub fn csv(effects: &[CausalEffect]) -> String {
    let mut out = String::from(
        "sample,regressor,blocked_kinds,survey_coef,survey_se,treated_firm_years,treated_firms,matched,effect_on_treated,effect_on_treated_se,no_sales_without,gone_without\n",
    );
    let opt = |x: Option<f64>| x.filter(|v| v.is_finite()).map(num).unwrap_or_default();
    for e in effects {
        let kinds: Vec<&str> = e.blocked.iter().map(|k| k.name()).collect();
        let (mean, se) = e.mean_se();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            e.sample,
            e.regressor,
            kinds.join(" "),
            opt(e.survey.map(|s| s.0)),
            opt(e.survey.map(|s| s.1)),
            e.firm_years,
            e.firms,
            e.effect.n,
            opt(mean),
            opt(se),
            e.no_sales_without,
            e.gone_without
        );
    }
    out
}

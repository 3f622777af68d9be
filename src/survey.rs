//! The synthetic Bio industry Status Survey (MODEL.md; seed 000: Lee et al., 400 responses
//! 2015-2021, ln sales on open-innovation variables by cluster type).
//!
//! Each replication's firm panel is sampled like the survey: firm-years of alive biopharmaceutical
//! firms (`survey.fields`) in `survey.first_year..=survey.last_year`, `survey.responses` of them drawn
//! without replacement from the replication's own "survey" stream. Recorded per response: ln sales,
//! an open-innovation dummy (see [`open_innovation`]), technological- and non-technological-cooperation
//! dummies (financing ties with investors are not cooperation, see [`cooperation_nontech`]), cluster
//! type, and controls: age, ln employees, R&D
//! intensity, listing, year. R&D intensity is R&D spend per employee (M$): R&D / sales would put
//! the outcome, sales, on both sides of the regression and absorb every other effect.
//!
//! Zero sales: with `survey.zero_sales = "drop"` firm-years without sales are not eligible (ln 0 is
//! undefined, so the analysed responses have sales); with "log1p" they are, at ln(1 + sales in k$).
//!
//! Regressions: OLS with HC1 errors per cluster type, for the study's two specifications:
//! `open_innovation` (oi + controls + year dummies) and `cooperation` (tech + nontech + controls +
//! year dummies).

use std::fmt::Write as _;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::format::num;
use crate::model::components::Status;
use crate::model::rng::stream_seed;
use crate::observe::PanelRow;
use crate::regression::{Fit, StandardErrors, ols};
use crate::scenario::{OpenInnovation, Scenario, SurveyErrors, ZeroSales};

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub year: i32,
    pub firm_id: u32,
    pub cluster: String,
    pub cluster_type: String,
    pub sales_musd: f64,
    pub ln_sales: f64,
    pub oi: f64,
    pub tech: f64,
    pub nontech: f64,
    pub age: f64,
    pub ln_employees: f64,
    pub rd_intensity: f64,
    pub listed: f64,
}

pub const SAMPLES: [&str; 2] = ["government_led", "private_led"];
pub const SPECIFICATIONS: [&str; 2] = ["open_innovation", "cooperation"];

/// Draws the survey from one replication's panel.
pub fn sample(scenario: &Scenario, replication: u64, panel: &[PanelRow]) -> Vec<Response> {
    let sv = &scenario.survey;
    let mut eligible: Vec<&PanelRow> = panel
        .iter()
        .filter(|r| {
            (sv.first_year..=sv.last_year).contains(&r.year)
                && r.status == Status::Alive
                && sv.fields.contains(&usize::from(r.focus_field))
                && ln_sales(sv.zero_sales, r.sales_musd).is_some()
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(scenario.seed, replication, "survey"));
    let n = (sv.responses as usize).min(eligible.len());
    for i in 0..n {
        let j = rng.random_range(i..eligible.len());
        eligible.swap(i, j);
    }
    let mut chosen: Vec<&PanelRow> = eligible[..n].to_vec();
    chosen.sort_by_key(|r| (r.year, r.firm_id));
    chosen
        .into_iter()
        .map(|r| Response {
            year: r.year,
            firm_id: r.firm_id,
            cluster: r.cluster.to_string(),
            cluster_type: r.cluster_type.name().to_string(),
            sales_musd: r.sales_musd,
            ln_sales: ln_sales(sv.zero_sales, r.sales_musd).expect("sampled firm-years have an ln sales"),
            oi: f64::from(u8::from(open_innovation(sv.open_innovation, r))),
            tech: f64::from(u8::from(r.alliances_tech > 0)),
            nontech: f64::from(u8::from(cooperation_nontech(r) > 0)),
            age: r.age_years,
            ln_employees: r.employees.max(1.0).ln(),
            rd_intensity: r.rd_musd / r.employees.max(1.0),
            listed: f64::from(u8::from(r.listed)),
        })
        .collect()
}

/// A firm-year's ln sales as the survey records it: ln of sales in M$, undefined without sales under
/// `zero_sales = "drop"`; ln(1 + sales in k$) under "log1p".
pub fn ln_sales(zero_sales: ZeroSales, sales_musd: f64) -> Option<f64> {
    match zero_sales {
        ZeroSales::Drop => (sales_musd > 0.0).then(|| sales_musd.ln()),
        ZeroSales::Log1p => Some((1.0 + sales_musd * 1000.0).ln()),
    }
}

/// One regression of the study's design.
#[derive(Debug, Clone)]
pub struct SurveyRegression {
    pub sample: &'static str,
    pub specification: &'static str,
    pub fit: Option<Fit>,
    pub standard_errors: SurveyErrors,
}

/// The study's regressions on a survey sample: both specifications, per cluster type, with the
/// standard errors `errors` asks for (`survey.standard_errors`).
pub fn regressions(responses: &[Response], errors: SurveyErrors) -> Vec<SurveyRegression> {
    let mut out = Vec::new();
    for sample in SAMPLES {
        let rows: Vec<&Response> = responses.iter().filter(|r| r.cluster_type == sample).collect();
        let mut years: Vec<i32> = rows.iter().map(|r| r.year).collect();
        years.sort_unstable();
        years.dedup();
        for specification in SPECIFICATIONS {
            let mut columns: Vec<(String, Vec<f64>)> = match specification {
                "open_innovation" => vec![("oi".into(), rows.iter().map(|r| r.oi).collect())],
                _ => vec![
                    ("tech".into(), rows.iter().map(|r| r.tech).collect()),
                    ("nontech".into(), rows.iter().map(|r| r.nontech).collect()),
                ],
            };
            columns.push(("age".into(), rows.iter().map(|r| r.age).collect()));
            columns.push(("ln_employees".into(), rows.iter().map(|r| r.ln_employees).collect()));
            columns.push(("rd_intensity".into(), rows.iter().map(|r| r.rd_intensity).collect()));
            columns.push(("listed".into(), rows.iter().map(|r| r.listed).collect()));
            for &year in years.iter().skip(1) {
                columns
                    .push((format!("year_{year}"), rows.iter().map(|r| f64::from(u8::from(r.year == year))).collect()));
            }
            let y: Vec<f64> = rows.iter().map(|r| r.ln_sales).collect();
            let firms: Vec<u32> = rows.iter().map(|r| r.firm_id).collect();
            let se = match errors {
                SurveyErrors::Hc1 => StandardErrors::Hc1,
                SurveyErrors::ClusterFirm => StandardErrors::Clustered(&firms),
            };
            out.push(SurveyRegression { sample, specification, fit: ols(&y, &columns, se), standard_errors: errors });
        }
    }
    out
}

pub fn survey_csv(responses: &[Response]) -> String {
    let mut out = String::from(
        "year,firm_id,cluster,cluster_type,sales_musd,ln_sales,oi,tech,nontech,age,ln_employees,rd_intensity,listed\n",
    );
    for r in responses {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.year,
            r.firm_id,
            r.cluster,
            r.cluster_type,
            num(r.sales_musd),
            num(r.ln_sales),
            r.oi,
            r.tech,
            r.nontech,
            num(r.age),
            num(r.ln_employees),
            num(r.rd_intensity),
            r.listed
        );
    }
    out
}

pub fn regressions_csv(regressions: &[SurveyRegression]) -> String {
    let mut out = String::from("sample,specification,regressor,coef,se,t,p,r2,n,standard_errors\n");
    for reg in regressions {
        let Some(fit) = &reg.fit else {
            let _ = writeln!(
                out,
                "{},{},(not estimable),,,,,,,{}",
                reg.sample,
                reg.specification,
                reg.standard_errors.name()
            );
            continue;
        };
        for i in 0..fit.names.len() {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{}",
                reg.sample,
                reg.specification,
                fit.names[i],
                num(fit.coef[i]),
                num(fit.se[i]),
                num(fit.t[i]),
                num(fit.p[i]),
                num(fit.r2),
                fit.n,
                reg.standard_errors.name()
            );
        }
    }
    out
}

/// The open-innovation dummy (`survey.open_innovation`). By default the survey's open-innovation
/// activity types: technological alliances (joint, contract and university research, licensing,
/// co-development) and equity investment ties, but not marketing, distribution, manufacturing or
/// regulatory partnerships, which the survey asks about as non-technological cooperation.
pub fn open_innovation(definition: OpenInnovation, r: &crate::observe::PanelRow) -> bool {
    match definition {
        OpenInnovation::TechnologyAndInvestment => r.alliances_tech + r.alliances_financing > 0,
        OpenInnovation::AnyCooperation => r.alliances_tech + cooperation_nontech(r) > 0,
    }
}

/// Non-technological cooperation as the survey asks it: marketing, distribution, manufacturing and
/// regulatory partnerships. A venture investor's stake is financing, not cooperation, so financing
/// ties are left out (they count as open innovation only as equity investment, see [`open_innovation`]).
pub fn cooperation_nontech(r: &crate::observe::PanelRow) -> u32 {
    r.alliances_nontech - r.alliances_financing
}

//! Stylized facts: descriptive figures of a real industry (a TOML file, `scenarios/facts/korea.toml`
//! by default) beside the same figures computed on a simulated run, each with a tolerance band.
//!
//! - A fact names a statistic from a fixed vocabulary ([`Statistic`]), so a facts file can only ask
//!   for what this module knows how to compute, and a typo is refused rather than silently ignored.
//! - Model values come from one replication's in-memory [`RunRecord`] (panel, time series, network),
//!   counted as the output files write them: a comparison that falls within a rounding step of a
//!   threshold uses the value panel.csv shows (six decimals), so a recount from the files agrees.
//! - Facts are observed, never fitted: nothing in the model or in the calibration's objective reads
//!   them. Single runs write `facts.csv`; experiments and calibrations aggregate over replications
//!   with the streaming statistics of `stats` (memory does not grow with replications).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::error::{Error, Problem, Result};
use crate::format::{csv_field, num};
use crate::model::components::{AgentKind, Origin, Status};
use crate::observe::{PanelRow, RunRecord, TS_COLUMNS};
use crate::stats::{Moments, P2, exact_quantile};

/// The default facts file, compiled in so every run has facts without any file at hand.
pub const DEFAULT_FACTS_TOML: &str = include_str!("../scenarios/facts/korea.toml");
/// How errors and outputs name the embedded file.
pub const DEFAULT_FACTS_FILE: &str = "<embedded facts: scenarios/facts/korea.toml>";

/// Header of a single run's `facts.csv` (also each experiment unit's facts file).
pub const FACTS_HEADER: &str = "fact,statistic,source,data_year,data_value,band_low,band_high,years,model_value,hit";
/// Header of the facts table aggregated over replications (experiments, calibrations).
pub const SUMMARY_HEADER: &str =
    "variant,fact,statistic,source,data_year,data_value,band_low,band_high,years,n,mean,p5,p95,share_in_band";

/// How a statistic is parameterised in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parameter {
    None,
    /// `threshold = x`, in the unit named.
    Threshold(&'static str),
    /// `metrics = [...]`, time-series columns; `true` when exactly one is allowed.
    Metrics(bool),
}

/// The statistics a fact can ask for. Panel shares count alive firm-years (status alive at year
/// end) whose year lies in the fact's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    PreRevenueShare,
    EmployeesBelowShare,
    EmployeesAtLeastShare,
    ListedShare,
    BreakEvenShare,
    CollaborationShare,
    SalesBelowShare,
    SalesAtLeastShare,
    RevenueYearsAtLeastShare,
    SurvivalShare,
    Per1000Firms,
    PerFirm,
    GrowthRatio,
    FirmDegreeCv,
    PartnerDegreeCv,
    DegreeCvRatio,
}

impl Statistic {
    pub const ALL: [Statistic; 16] = [
        Statistic::PreRevenueShare,
        Statistic::EmployeesBelowShare,
        Statistic::EmployeesAtLeastShare,
        Statistic::ListedShare,
        Statistic::BreakEvenShare,
        Statistic::CollaborationShare,
        Statistic::SalesBelowShare,
        Statistic::SalesAtLeastShare,
        Statistic::RevenueYearsAtLeastShare,
        Statistic::SurvivalShare,
        Statistic::Per1000Firms,
        Statistic::PerFirm,
        Statistic::GrowthRatio,
        Statistic::FirmDegreeCv,
        Statistic::PartnerDegreeCv,
        Statistic::DegreeCvRatio,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Statistic::PreRevenueShare => "pre_revenue_share",
            Statistic::EmployeesBelowShare => "employees_below_share",
            Statistic::EmployeesAtLeastShare => "employees_at_least_share",
            Statistic::ListedShare => "listed_share",
            Statistic::BreakEvenShare => "break_even_share",
            Statistic::CollaborationShare => "collaboration_share",
            Statistic::SalesBelowShare => "sales_below_share",
            Statistic::SalesAtLeastShare => "sales_at_least_share",
            Statistic::RevenueYearsAtLeastShare => "revenue_years_at_least_share",
            Statistic::SurvivalShare => "survival_share",
            Statistic::Per1000Firms => "per_1000_firms",
            Statistic::PerFirm => "per_firm",
            Statistic::GrowthRatio => "growth_ratio",
            Statistic::FirmDegreeCv => "firm_degree_cv",
            Statistic::PartnerDegreeCv => "partner_degree_cv",
            Statistic::DegreeCvRatio => "degree_cv_ratio",
        }
    }

    fn parameter(self) -> Parameter {
        match self {
            Statistic::EmployeesBelowShare | Statistic::EmployeesAtLeastShare => Parameter::Threshold("employees"),
            Statistic::SalesBelowShare | Statistic::SalesAtLeastShare => Parameter::Threshold("M$"),
            Statistic::RevenueYearsAtLeastShare | Statistic::SurvivalShare => Parameter::Threshold("years"),
            Statistic::Per1000Firms => Parameter::Metrics(false),
            Statistic::GrowthRatio | Statistic::PerFirm => Parameter::Metrics(true),
            _ => Parameter::None,
        }
    }

    fn parse(name: &str) -> Option<Statistic> {
        Statistic::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One stylized fact, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub name: String,
    pub statistic: Statistic,
    pub description: String,
    pub source: String,
    pub data_year: i32,
    pub data_value: f64,
    /// (low, high); either may be infinite.
    pub band: (f64, f64),
    /// (first, last) simulated year of the window.
    pub years: (i32, i32),
    pub threshold: Option<f64>,
    pub metrics: Vec<String>,
}

impl Fact {
    pub fn in_band(&self, value: f64) -> bool {
        self.band.0 <= value && value <= self.band.1
    }

    /// How far `value` lies outside the band, in band widths (0 inside); a band open on one side
    /// is measured in units of the data value.
    pub fn distance_outside(&self, value: f64) -> f64 {
        let (lo, hi) = self.band;
        let scale = if (hi - lo).is_finite() && hi > lo { hi - lo } else { self.data_value.abs().max(1e-6) };
        (lo - value).max(value - hi).max(0.0) / scale
    }

    /// The simulated years the value needs: the window, and for survival the years its cohorts
    /// are followed into.
    pub fn needed_years(&self) -> (i32, i32) {
        match self.statistic {
            Statistic::SurvivalShare => (self.years.0, self.years.1 + self.threshold.unwrap_or(0.0) as i32),
            _ => self.years,
        }
    }

    /// The fact's definition as the first eight fields of its `facts.csv` row.
    fn definition_fields(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{}-{}",
            self.name,
            self.statistic.name(),
            csv_field(&self.source),
            self.data_year,
            num(self.data_value),
            num(self.band.0),
            num(self.band.1),
            self.years.0,
            self.years.1
        )
    }
}

/// A facts file, parsed and validated.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Where it came from (a path, or the embedded default's name), for messages.
    pub file: String,
    pub description: String,
    pub facts: Vec<Fact>,
    /// The file's text: shards carry it to `merge`, and it fingerprints an experiment's facts.
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFacts {
    #[serde(default)]
    description: String,
    facts: Vec<RawFact>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFact {
    name: String,
    statistic: String,
    description: String,
    source: String,
    data_year: i32,
    data_value: f64,
    band: Vec<f64>,
    years: Vec<i32>,
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    metrics: Option<Vec<String>>,
}

static EMBEDDED: LazyLock<Facts> = LazyLock::new(|| {
    Facts::parse(DEFAULT_FACTS_TOML, DEFAULT_FACTS_FILE).expect("the embedded facts file is valid (a unit test checks)")
});

impl Facts {
    /// The embedded Korea facts.
    pub fn embedded() -> Facts {
        EMBEDDED.clone()
    }

    /// `path`, or the embedded facts when `None`.
    pub fn load_or_default(path: Option<&Path>) -> Result<Facts> {
        path.map_or_else(|| Ok(Facts::embedded()), Facts::load)
    }

    pub fn load(path: &Path) -> Result<Facts> {
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::ReadFacts { path: path.to_path_buf(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, file: &str) -> Result<Facts> {
        let invalid = |problems| Error::InvalidFacts { file: file.to_string(), problems };
        let value: toml::Value = text.parse::<toml::Table>().map(toml::Value::Table).map_err(|e| {
            Error::MalformedToml { file: file.to_string(), message: e.to_string().trim_end().to_string() }
        })?;
        let raw: RawFacts = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string().lines().next().unwrap_or_default().trim().to_string();
            // A missing field is named by its own key, as the scenario parser does.
            let problem = match message.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
                Some(field) if path == "." => Problem { key: field.to_string(), message: "is missing".into() },
                Some(field) => Problem { key: format!("{path}.{field}"), message: "is missing".into() },
                None => Problem { key: if path == "." { "(top level)".into() } else { path }, message },
            };
            invalid(vec![problem])
        })?;
        let mut problems = Vec::new();
        let mut facts = Vec::new();
        for (i, f) in raw.facts.iter().enumerate() {
            let mut fail = |k: &str, m: String| problems.push(Problem { key: format!("facts[{i}].{k}"), message: m });
            if f.name.is_empty() || !f.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                fail("name", format!("must be letters, digits and underscores (got \"{}\")", f.name));
            }
            if raw.facts[..i].iter().any(|o| o.name == f.name) {
                fail("name", format!("duplicate fact name \"{}\"", f.name));
            }
            let statistic = Statistic::parse(&f.statistic);
            if statistic.is_none() {
                let names: Vec<&str> = Statistic::ALL.iter().map(|s| s.name()).collect();
                fail("statistic", format!("must be one of {} (got \"{}\")", names.join(", "), f.statistic));
            }
            if !f.data_value.is_finite() {
                fail("data_value", format!("must be a finite number (got {})", f.data_value));
            }
            let band = match f.band[..] {
                [low, high] if low.is_nan() || high.is_nan() => {
                    fail("band", "must be two numbers [low, high], not nan".into());
                    None
                }
                [low, high] if low > high => {
                    fail("band", format!("low must not exceed high (got [{low}, {high}])"));
                    None
                }
                [low, high] => Some((low, high)),
                _ => {
                    fail("band", format!("must be [low, high] (got {} numbers)", f.band.len()));
                    None
                }
            };
            let years = match f.years[..] {
                [first, last] if first > last => {
                    fail("years", format!("first must not exceed last (got [{first}, {last}])"));
                    None
                }
                [first, last] => Some((first, last)),
                _ => {
                    fail("years", format!("must be [first, last] (got {} years)", f.years.len()));
                    None
                }
            };
            let parameter = statistic.map_or(Parameter::None, Statistic::parameter);
            let stat_name = &f.statistic;
            match (parameter, f.threshold) {
                (Parameter::Threshold(unit), None) => {
                    fail("threshold", format!("is missing; `{stat_name}` needs a threshold ({unit})"))
                }
                (Parameter::Threshold(_), Some(t)) if !t.is_finite() => {
                    fail("threshold", format!("must be a finite number (got {t})"))
                }
                (Parameter::Threshold(_), Some(t))
                    if statistic == Some(Statistic::SurvivalShare) && !(t >= 1.0 && t.fract() == 0.0 && t <= 100.0) =>
                {
                    fail("threshold", format!("must be a whole number of years, 1 to 100 (got {t})"))
                }
                (Parameter::Threshold(_), Some(_)) => {}
                (_, Some(_)) if statistic.is_some() => {
                    fail("threshold", format!("does not apply to `{stat_name}`; remove it"))
                }
                _ => {}
            }
            match (parameter, &f.metrics) {
                (Parameter::Metrics(_), None) => {
                    fail("metrics", format!("is missing; `{stat_name}` needs a list of timeseries.csv columns"))
                }
                (Parameter::Metrics(one), Some(m)) => {
                    if m.is_empty() || (one && m.len() != 1) {
                        let want = if one { "exactly one column" } else { "at least one column" };
                        fail("metrics", format!("`{stat_name}` needs {want} (got {})", m.len()));
                    }
                    for (k, metric) in m.iter().enumerate() {
                        if !TS_COLUMNS.contains(&metric.as_str()) {
                            problems.push(Problem {
                                key: format!("facts[{i}].metrics[{k}]"),
                                message: format!(
                                    "`{metric}` is not a timeseries.csv column (allowed: {})",
                                    TS_COLUMNS.join(", ")
                                ),
                            });
                        }
                    }
                }
                (_, Some(_)) if statistic.is_some() => problems.push(Problem {
                    key: format!("facts[{i}].metrics"),
                    message: format!("does not apply to `{stat_name}`; remove it"),
                }),
                _ => {}
            }
            if let (Some(statistic), Some(band), Some(years)) = (statistic, band, years) {
                facts.push(Fact {
                    name: f.name.clone(),
                    statistic,
                    description: f.description.clone(),
                    source: f.source.clone(),
                    data_year: f.data_year,
                    data_value: f.data_value,
                    band,
                    years,
                    threshold: f.threshold,
                    metrics: f.metrics.clone().unwrap_or_default(),
                });
            }
        }
        if raw.facts.is_empty() {
            problems.push(Problem { key: "facts".into(), message: "must list at least one fact".into() });
        }
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(Facts { file: file.to_string(), description: raw.description, facts, text: text.to_string() })
    }

    /// Stable fingerprint of the file's text (experiments refuse to resume or merge across files).
    pub fn fingerprint(&self) -> u64 {
        crate::format::fnv1a(self.text.as_bytes())
    }

    /// Each fact's model value in one replication; `None` when not computable (a window the run
    /// did not simulate entirely, or nothing to count in it).
    pub fn evaluate(&self, record: &RunRecord) -> Vec<Option<f64>> {
        let years = record.timeseries.iter().map(|r| r.year);
        let simulated = years.clone().min().zip(years.max());
        self.facts
            .iter()
            .map(|fact| {
                let (first, last) = simulated?;
                let (a, b) = fact.needed_years();
                if a < first || b > last {
                    return None;
                }
                value(fact, record)
            })
            .collect()
    }

    /// A single run's `facts.csv`.
    pub fn csv(&self, values: &[Option<f64>]) -> String {
        let mut out = format!("{FACTS_HEADER}\n");
        for (fact, value) in self.facts.iter().zip(values) {
            let (v, hit) = match value {
                Some(v) => (num(*v), if fact.in_band(*v) { "1" } else { "0" }),
                None => ("NA".to_string(), "NA"),
            };
            let _ = writeln!(out, "{},{v},{hit}", fact.definition_fields());
        }
        out
    }

    /// Facts in band and facts computable, for a one-line terminal summary.
    pub fn hits(&self, values: &[Option<f64>]) -> (usize, usize) {
        let computed: Vec<(&Fact, f64)> = self.facts.iter().zip(values).filter_map(|(f, v)| Some((f, (*v)?))).collect();
        (computed.iter().filter(|(f, v)| f.in_band(*v)).count(), computed.len())
    }

    /// Reads one experiment unit's facts file (a single run's `facts.csv`), checking that it holds
    /// exactly these facts; returns each fact's (value, in band) as written.
    pub fn read_unit(&self, path: &Path, bytes: &[u8]) -> Result<Vec<Option<(f64, bool)>>> {
        let bad = |what: &str| {
            Error::Usage(format!(
                "`{}` is damaged or comes from another facts file ({what}); rerun without --resume",
                path.display()
            ))
        };
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not text"))?;
        let mut lines = text.lines();
        if lines.next() != Some(FACTS_HEADER) {
            return Err(bad("header"));
        }
        let mut out = Vec::with_capacity(self.facts.len());
        for fact in &self.facts {
            let line = lines.next().ok_or_else(|| bad("too few facts"))?;
            let rest = line
                .strip_prefix(&fact.definition_fields())
                .and_then(|r| r.strip_prefix(','))
                .ok_or_else(|| bad(&format!("fact `{}` differs", fact.name)))?;
            out.push(match rest.split_once(',') {
                Some(("NA", "NA")) => None,
                Some((v, hit @ ("0" | "1"))) => Some((v.parse().map_err(|_| bad("value"))?, hit == "1")),
                _ => return Err(bad("value")),
            });
        }
        if lines.next().is_some() {
            return Err(bad("too many facts"));
        }
        Ok(out)
    }

    /// Rows of the aggregated facts table for one variant (no header: [`SUMMARY_HEADER`]).
    pub fn summary_rows(&self, variant: &str, summaries: &[Summary]) -> String {
        let mut out = String::new();
        for (fact, s) in self.facts.iter().zip(summaries) {
            let (mean, p5, p95, share) = if s.moments.n == 0 {
                ("NA".to_string(), "NA".to_string(), "NA".to_string(), "NA".to_string())
            } else {
                (num(s.moments.mean()), num(s.p5()), num(s.p95()), num(s.share_in_band()))
            };
            let _ = writeln!(
                out,
                "{},{},{},{mean},{p5},{p95},{share}",
                csv_field(variant),
                fact.definition_fields(),
                s.moments.n
            );
        }
        out
    }
}

/// Replications up to which a fact's 5 % and 95 % quantiles are exact. P-squared is crude for
/// extreme quantiles of a few dozen values (its 95 % estimate can fall below the mean), and
/// calibrations validate on about a hundred; a hundred values per fact keep memory bounded.
pub const EXACT_QUANTILES_UP_TO: usize = 100;

/// One fact over replications: mean (exact), 5 % and 95 % quantiles (exact up to
/// [`EXACT_QUANTILES_UP_TO`] replications, P-squared estimates beyond) and the share of replications
/// in band, all over the replications where the fact is computable; bounded size, whatever their
/// number.
#[derive(Debug, Clone)]
pub struct Summary {
    pub moments: Moments,
    p5: P2,
    p95: P2,
    /// The first values, while there are at most EXACT_QUANTILES_UP_TO of them.
    first: Vec<f64>,
    pub hits: u64,
}

impl Default for Summary {
    fn default() -> Self {
        Summary { moments: Moments::default(), p5: P2::new(0.05), p95: P2::new(0.95), first: Vec::new(), hits: 0 }
    }
}

impl Summary {
    /// Adds one replication's value (`None`: not computable there, not counted).
    pub fn push(&mut self, value: Option<(f64, bool)>) {
        if let Some((v, hit)) = value {
            self.moments.push(v);
            self.p5.push(v);
            self.p95.push(v);
            self.hits += u64::from(hit);
            if self.moments.n as usize <= EXACT_QUANTILES_UP_TO {
                self.first.push(v);
            } else if !self.first.is_empty() {
                self.first = Vec::new();
            }
        }
    }

    fn quantile(&self, p: f64, streaming: &P2) -> f64 {
        if self.moments.n as usize <= EXACT_QUANTILES_UP_TO {
            let mut sorted = self.first.clone();
            sorted.sort_by(f64::total_cmp);
            exact_quantile(&sorted, p)
        } else {
            streaming.value()
        }
    }

    /// 5 % quantile (R's type 7 while exact); NaN without values.
    pub fn p5(&self) -> f64 {
        self.quantile(0.05, &self.p5)
    }

    /// 95 % quantile (R's type 7 while exact); NaN without values.
    pub fn p95(&self) -> f64 {
        self.quantile(0.95, &self.p95)
    }

    pub fn share_in_band(&self) -> f64 {
        self.hits as f64 / self.moments.n.max(1) as f64
    }
}

/// Below this distance from a threshold a value is compared as panel.csv writes it.
const NEAR: f64 = 1e-5;

/// A number as the output files hold it (six decimals).
fn written(x: f64) -> f64 {
    num(x).parse().unwrap_or(x)
}

/// `x < t`, with x as written when it is within a rounding step of t.
fn below(x: f64, t: f64) -> bool {
    if (x - t).abs() > NEAR { x < t } else { written(x) < t }
}

/// Sales > 0 as written.
fn earns(p: &PanelRow) -> bool {
    let s = p.sales_musd;
    if s.abs() > NEAR { s > 0.0 } else { written(s) > 0.0 }
}

/// Sales cover operating costs (sales >= costs), as written.
fn covers_costs(p: &PanelRow) -> bool {
    let (s, c) = (p.sales_musd, p.costs_musd);
    if (s - c).abs() > NEAR { s >= c } else { written(s) >= written(c) }
}

/// Share of the window's alive firm-years passing `among` that also pass `count`.
fn panel_share(
    record: &RunRecord,
    years: (i32, i32),
    among: impl Fn(&PanelRow) -> bool,
    count: impl Fn(&PanelRow) -> bool,
) -> Option<f64> {
    let (mut n, mut k) = (0u64, 0u64);
    for p in window(&record.panel, years) {
        if p.status == Status::Alive && among(p) {
            n += 1;
            k += u64::from(count(p));
        }
    }
    (n > 0).then(|| k as f64 / n as f64)
}

/// The panel's rows of the years `years.0..=years.1`: a slice, as the panel is in year order (a
/// large world's panel is hundreds of megabytes, and each fact reads a few years of it).
fn window(panel: &[PanelRow], years: (i32, i32)) -> &[PanelRow] {
    debug_assert!(panel.is_sorted_by_key(|p| p.year), "the panel is in year order");
    let start = panel.partition_point(|p| p.year < years.0);
    let end = start + panel[start..].partition_point(|p| p.year <= years.1);
    &panel[start..end]
}

/// Population coefficient of variation (sd with divisor n, over the mean); `None` without values
/// or with a zero mean.
fn cv(values: &[f64]) -> Option<f64> {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.is_empty() || mean <= 0.0 {
        return None;
    }
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    Some(var.sqrt() / mean)
}

/// Degrees of alive firms (`firms`) or alive partners at the window's year ends, pooled.
fn degrees(record: &RunRecord, years: (i32, i32), firms: bool) -> Vec<f64> {
    record
        .network
        .iter()
        .filter(|net| net.year >= years.0 && net.year <= years.1)
        .flat_map(|net| net.nodes.iter())
        .filter(|(_, kind, _, _)| (*kind == AgentKind::Firm) == firms)
        .map(|(_, _, _, d)| f64::from(*d))
        .collect()
}

/// The whole ecosystem's value of `metric` in `year`.
fn ecosystem(record: &RunRecord, year: i32, metric: &str) -> Option<f64> {
    record.timeseries.iter().find(|r| r.year == year && r.cluster == "all").and_then(|r| r.get(metric))
}

fn value(fact: &Fact, record: &RunRecord) -> Option<f64> {
    let w = fact.years;
    let t = fact.threshold.unwrap_or(0.0);
    let all = |_: &PanelRow| true;
    match fact.statistic {
        Statistic::PreRevenueShare => panel_share(record, w, all, |p| !earns(p)),
        Statistic::EmployeesBelowShare => panel_share(record, w, all, |p| below(p.employees, t)),
        Statistic::EmployeesAtLeastShare => panel_share(record, w, all, |p| !below(p.employees, t)),
        Statistic::ListedShare => panel_share(record, w, all, |p| p.listed),
        Statistic::BreakEvenShare => panel_share(record, w, earns, covers_costs),
        Statistic::CollaborationShare => panel_share(record, w, all, |p| {
            u64::from(p.alliances_tech) + u64::from(p.alliances_nontech) > u64::from(p.alliances_financing)
        }),
        Statistic::SalesBelowShare => panel_share(record, w, earns, |p| below(p.sales_musd, t)),
        Statistic::SalesAtLeastShare => panel_share(record, w, earns, |p| !below(p.sales_musd, t)),
        Statistic::RevenueYearsAtLeastShare => panel_share(
            record,
            w,
            |p| earns(p) && p.first_sales_year.is_some(),
            |p| p.first_sales_year.is_some_and(|y| f64::from(p.year - y) >= t),
        ),
        Statistic::SurvivalShare => survival(record, w, t as i32),
        Statistic::Per1000Firms => {
            let (mut events, mut firms) = (0.0, 0.0);
            for r in record.timeseries.iter().filter(|r| r.cluster == "all" && r.year >= w.0 && r.year <= w.1) {
                events += fact.metrics.iter().filter_map(|m| r.get(m)).sum::<f64>();
                firms += r.get("firms_alive").unwrap_or(0.0);
            }
            (firms > 0.0).then(|| events / firms * 1000.0)
        }
        Statistic::PerFirm => {
            let metric = fact.metrics.first()?;
            let (mut total, mut firms) = (0.0, 0.0);
            for r in record.timeseries.iter().filter(|r| r.cluster == "all" && r.year >= w.0 && r.year <= w.1) {
                total += r.get(metric).unwrap_or(0.0);
                firms += r.get("firms_alive").unwrap_or(0.0);
            }
            (firms > 0.0).then(|| total / firms)
        }
        Statistic::GrowthRatio => {
            let metric = fact.metrics.first()?;
            let (from, to) = (ecosystem(record, w.0, metric)?, ecosystem(record, w.1, metric)?);
            (from != 0.0).then(|| to / from)
        }
        Statistic::FirmDegreeCv => cv(&degrees(record, w, true)),
        Statistic::PartnerDegreeCv => cv(&degrees(record, w, false)),
        Statistic::DegreeCvRatio => {
            let firms = cv(&degrees(record, w, true))?;
            (firms > 0.0).then_some(cv(&degrees(record, w, false))? / firms)
        }
    }
}

/// Of the firms founded in the cohort years (origin not "initial"; founding year = the year of the
/// firm's first panel row, the year it entered), the share with a panel row `after` years later
/// whose status is alive, i.e. alive at the end of that year.
fn survival(record: &RunRecord, cohorts: (i32, i32), after: i32) -> Option<f64> {
    // A firm of a cohort has its first row by the cohort's last year, and is counted in the years
    // `after` later: two windows of the panel, not all of it.
    let until_cohorts = window(&record.panel, (i32::MIN, cohorts.1));
    let n_ids = until_cohorts.iter().map(|p| p.firm_id as usize + 1).max().unwrap_or(0);
    let mut founded: Vec<Option<i32>> = vec![None; n_ids];
    for p in until_cohorts.iter().filter(|p| p.origin != Origin::Initial) {
        let slot = &mut founded[p.firm_id as usize];
        *slot = Some(slot.map_or(p.year, |y| y.min(p.year)));
    }
    let in_cohort = |y: &i32| *y >= cohorts.0 && *y <= cohorts.1;
    let n = founded.iter().flatten().filter(|y| in_cohort(y)).count();
    let alive = window(&record.panel, (cohorts.0.saturating_add(after), cohorts.1.saturating_add(after)))
        .iter()
        .filter(|p| p.status == Status::Alive)
        .filter(|p| {
            founded.get(p.firm_id as usize).copied().flatten().is_some_and(|y| in_cohort(&y) && p.year == y + after)
        })
        .count();
    (n > 0).then(|| alive as f64 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_file_is_valid_and_uses_every_statistic() {
        let facts = Facts::parse(DEFAULT_FACTS_TOML, DEFAULT_FACTS_FILE).unwrap();
        for s in Statistic::ALL {
            assert!(facts.facts.iter().any(|f| f.statistic == s), "{} unused", s.name());
        }
        // Outputs carry sources as text; the report must not reference the network.
        assert!(facts.facts.iter().all(|f| !f.source.contains("http") && !f.description.contains("http")));
    }

    #[test]
    fn cv_of_an_exponential_like_sample_and_of_nothing() {
        assert_eq!(cv(&[]), None);
        assert_eq!(cv(&[0.0, 0.0]), None);
        assert!((cv(&[1.0, 3.0]).unwrap() - 0.5).abs() < 1e-12);
    }

    fn row(year: i32, firm_id: u32, sales: f64, first_sales_year: Option<i32>, status: Status) -> PanelRow {
        PanelRow {
            year,
            firm_id,
            cluster: "c".into(),
            cluster_type: crate::kinds::ClusterType::GovernmentLed,
            business_model: crate::kinds::BusinessModel::Platform,
            origin: Origin::Startup,
            focus_field: 0,
            age_years: 1.0,
            employees: 10.0,
            rd_musd: 0.0,
            sales_musd: sales,
            sales_product_musd: 0.0,
            sales_services_musd: sales,
            sales_licensing_musd: 0.0,
            alliances_tech: 0,
            alliances_nontech: 0,
            alliances_pharma: 0,
            alliances_financing: 0,
            costs_musd: 1.0,
            vc_musd: 0.0,
            public_support_musd: 0.0,
            cash_musd: 0.0,
            projects: 0,
            max_stage: None,
            products: 0,
            listed: false,
            first_sales_year,
            status,
        }
    }

    /// The model does not fill first_sales_year yet; count on a hand-made panel meanwhile.
    #[test]
    fn revenue_years_count_revenue_earning_firm_years_with_a_first_sales_year() {
        let text = DEFAULT_FACTS_TOML;
        let facts = Facts::parse(text, "t").unwrap();
        let fact = facts.facts.iter().find(|f| f.statistic == Statistic::RevenueYearsAtLeastShare).unwrap().clone();
        let record = RunRecord {
            panel: vec![
                row(2014, 6, 2.0, Some(1990), Status::Alive),  // before the window
                row(2021, 1, 2.0, Some(2011), Status::Alive),  // 10 years: counted
                row(2021, 2, 2.0, Some(2012), Status::Alive),  // 9 years
                row(2021, 3, 0.0, Some(2000), Status::Alive),  // no sales now: not among
                row(2021, 4, 2.0, None, Status::Alive),        // unknown: not among
                row(2021, 5, 2.0, Some(1990), Status::Failed), // not alive at year end
            ],
            ..RunRecord::default()
        };
        assert_eq!(value(&fact, &record), Some(0.5));
        let empty = RunRecord { panel: vec![row(2021, 4, 2.0, None, Status::Alive)], ..RunRecord::default() };
        assert_eq!(value(&fact, &empty), None);
    }

    /// A window is exactly the rows of its years, in order, for any window (empty, reversed, outside).
    #[test]
    fn a_window_holds_exactly_its_years_rows() {
        let panel: Vec<PanelRow> = (2000..2010)
            .flat_map(|y| (0..(y % 3) as u32).map(move |id| row(y, id, 1.0, None, Status::Alive)))
            .collect();
        for from in 1998..2012 {
            for to in 1998..2012 {
                let expected: Vec<(i32, u32)> =
                    panel.iter().filter(|p| p.year >= from && p.year <= to).map(|p| (p.year, p.firm_id)).collect();
                let got: Vec<(i32, u32)> = window(&panel, (from, to)).iter().map(|p| (p.year, p.firm_id)).collect();
                assert_eq!(got, expected, "window ({from}, {to})");
            }
        }
    }

    #[test]
    fn survival_follows_each_cohort_to_its_fifth_year_end() {
        let fact = Fact {
            name: "s".into(),
            statistic: Statistic::SurvivalShare,
            description: String::new(),
            source: String::new(),
            data_year: 2013,
            data_value: 0.5,
            band: (0.0, 1.0),
            years: (2005, 2006),
            threshold: Some(5.0),
            metrics: Vec::new(),
        };
        let mut panel = Vec::new();
        // Firm 1 founded 2005, alive through 2010; firm 2 founded 2006, fails in 2011; firm 3
        // founded 2004 (outside the cohorts).
        panel.extend((2005..=2010).map(|y| row(y, 1, 0.0, None, Status::Alive)));
        panel.extend((2006..=2010).map(|y| row(y, 2, 0.0, None, Status::Alive)));
        panel.push(row(2011, 2, 0.0, None, Status::Failed));
        panel.extend((2004..=2012).map(|y| row(y, 3, 0.0, None, Status::Alive)));
        // In year order, as the model records it.
        panel.sort_by_key(|p| p.year);
        let record = RunRecord { panel, ..RunRecord::default() };
        assert_eq!(value(&fact, &record), Some(0.5));
    }

    #[test]
    fn summary_quantiles_are_exact_up_to_the_bound_then_streaming() {
        let mut s = Summary::default();
        // 0..=99 in a scrambled fixed order, then 100 more.
        for i in 0..100u64 {
            s.push(Some((((i * 37) % 100) as f64, i % 2 == 0)));
        }
        assert!((s.p5() - 4.95).abs() < 1e-12 && (s.p95() - 94.05).abs() < 1e-12);
        assert!((s.share_in_band() - 0.5).abs() < 1e-12);
        for i in 100..200u64 {
            s.push(Some((((i * 37) % 100) as f64, false)));
        }
        assert!(s.first.is_empty(), "the exact buffer is dropped beyond the bound");
        assert_eq!(s.moments.n, 200);
        assert!((s.p95() - 95.0).abs() < 3.0 && (s.p5() - 4.0).abs() < 3.0, "{} {}", s.p5(), s.p95());
        s.push(None);
        assert_eq!(s.moments.n, 200, "a value not computable is not counted");
    }

    #[test]
    fn values_near_a_threshold_compare_as_written() {
        assert!(!below(0.8620004, 0.862)); // written 0.862000
        assert!(below(0.8619994, 0.862)); // written 0.861999
        assert!(below(5e-7 * 0.5, 1e-9)); // written 0
    }
}

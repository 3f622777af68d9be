//! From output files to chart data. Every builder reads the CSV files a run, an experiment or a
//! calibration wrote, so `biocluster report` works on any output folder, and tests can compare a
//! chart's data with the files it came from.

use std::path::Path;

use super::charts::{
    BandChart, BandPoint, BarColour, BarPanel, Bars, Degrees, Forest, ForestPanel, ForestRow, Panel, Reference,
    Scatter, Series, Style,
};
use crate::error::{Error, Result};

/// Metrics shown over time: (timeseries column, title, unit).
pub const KEY_METRICS: &[(&str, &str, &str)] = &[
    ("firms_alive", "Firms alive", "firms at year end"),
    ("alliances_active_tech", "Technological alliances", "active at year end"),
    ("alliances_active_nontech", "Non-technological alliances", "active at year end"),
    ("revenue_total_musd", "Firms' revenue", "M$ per year"),
    ("approvals", "Drug approvals", "approvals per year"),
    ("entries_spinoff", "University spin-offs", "new firms per year"),
    ("failures", "Failures", "firms per year"),
    ("acquisitions", "Acquisitions", "firms per year"),
    ("public_total_musd", "Public money to firms", "M$ per year"),
];

/// Metrics of the effect and sweep charts.
pub const OUTCOME_METRICS: &[&str] = &[
    "firms_alive",
    "revenue_total_musd",
    "alliances_active_tech",
    "alliances_active_nontech",
    "employment",
    "public_total_musd",
];

/// Most variants drawn in one fan chart; beyond, a chart would be unreadable.
pub const MAX_FAN_VARIANTS: usize = 6;

pub fn metric_title(metric: &str) -> (String, String) {
    match KEY_METRICS.iter().find(|m| m.0 == metric) {
        Some(&(_, title, unit)) => (title.to_string(), unit.to_string()),
        None => match metric {
            "employment" => ("Employment in firms".into(), "staff at year end".into()),
            "licensing_deals" => ("Licensing deals".into(), "deals per year".into()),
            "public_spend_musd" => ("Public money spent".into(), "M$ per year".into()),
            m => (m.replace('_', " "), String::new()),
        },
    }
}

/// A CSV file read whole: header and rows of fields.
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub path: String,
}

impl Table {
    pub fn read(path: &Path) -> Result<Table> {
        let shown = path.display().to_string();
        let bad = |e: String| Error::Usage(format!("cannot read `{shown}`: {e}"));
        let mut reader = csv::ReaderBuilder::new().from_path(path).map_err(|e| bad(e.to_string()))?;
        let header = reader.headers().map_err(|e| bad(e.to_string()))?.iter().map(str::to_string).collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            rows.push(record.map_err(|e| bad(e.to_string()))?.iter().map(str::to_string).collect());
        }
        Ok(Table { header, rows, path: shown })
    }

    pub fn col(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            Error::Usage(format!("`{}` has no column `{name}` (not an output of this biocluster version?)", self.path))
        })
    }

    /// Column indices of several names at once.
    pub fn cols<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N]> {
        let mut out = [0; N];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = self.col(name)?;
        }
        Ok(out)
    }

    /// The field as a number (empty or non-numeric: NaN).
    pub fn num(row: &[String], i: usize) -> f64 {
        row.get(i).and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
    }

    /// Distinct values of a column, in first-seen order.
    pub fn distinct(&self, i: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r[i]) {
                out.push(r[i].clone());
            }
        }
        out
    }
}

/// Whether a time-series metric counts things (firms, approvals, alliances): whole-number ticks.
pub fn is_count(metric: &str) -> bool {
    !metric.ends_with("_musd") && !matches!(metric, "network_density" | "largest_component_share" | "knowledge_stock")
}

/// A cluster's type as charts write it ("government-led"), from timeseries.csv.
pub fn cluster_type(ts: &Table, cluster: &str) -> Option<String> {
    let (c, k) = (ts.col("cluster").ok()?, ts.col("cluster_type").ok()?);
    let kind = &ts.rows.iter().find(|r| r[c] == cluster)?[k];
    (kind != "all" && !kind.is_empty()).then(|| kind.replace('_', "-"))
}

/// A cluster as legends name it: its name and its type ("osong_daegu (government-led)").
pub fn cluster_label(ts: &Table, cluster: &str) -> String {
    cluster_type(ts, cluster).map_or(cluster.to_string(), |k| format!("{cluster} ({k})"))
}

/// Every cluster of a run in palette order (its order in timeseries.csv): a cluster has the same
/// colour in every chart of the run's report, whether or not it has firms.
pub fn cluster_palette(ts: &Table) -> Result<Vec<String>> {
    Ok(ts.distinct(ts.col("cluster")?).into_iter().filter(|c| c != "all").collect())
}

/// Single run: key metrics over time, one line per cluster.
pub fn run_timeseries(ts: &Table) -> Result<BandChart> {
    let (year, cluster) = (ts.col("year")?, ts.col("cluster")?);
    let mut clusters = clusters_with_firms(ts)?;
    if clusters.is_empty() {
        clusters.push("all".into());
    }
    let palette = cluster_palette(ts)?;
    let mut panels = Vec::new();
    for &(metric, title, unit) in KEY_METRICS {
        let m = ts.col(metric)?;
        let series = clusters
            .iter()
            .map(|c| Series {
                label: cluster_label(ts, c),
                points: ts
                    .rows
                    .iter()
                    .filter(|r| &r[cluster] == c)
                    .map(|r| BandPoint { x: Table::num(r, year), mid: Table::num(r, m), band50: None, band90: None })
                    .collect(),
                colour: palette.iter().position(|p| p == c),
            })
            .collect();
        panels.push(Panel { title: title.into(), y_label: unit.into(), series, integer: is_count(metric) });
    }
    Ok(BandChart {
        title: "Key metrics by cluster (one replication)".into(),
        x_label: "year".into(),
        panels,
        x_is_year: true,
        style: Style::Bands,
    })
}

/// Experiment: one metric over time, medians with 50 % and 90 % bands. With one variant beside the
/// baseline: a panel per cluster ("all" first), both in each. With more: one panel per variant (at
/// most [`MAX_FAN_VARIANTS`]) for the whole ecosystem, the variant in its colour over the baseline in
/// grey, so bands never pile up.
pub fn fan(agg: &Table, metric: &str) -> Result<BandChart> {
    let [v, year, cluster, m, q05, q25, q50, q75, q95] =
        agg.cols(["variant", "year", "cluster", "metric", "q05", "q25", "q50", "q75", "q95"])?;
    let variants: Vec<String> = agg.distinct(v);
    let (title, unit) = metric_title(metric);
    let series = |name: &str, c: &str, colour: Option<usize>| Series {
        label: name.to_string(),
        points: agg
            .rows
            .iter()
            .filter(|r| r[v] == name && r[cluster] == c && r[m] == metric)
            .map(|r| BandPoint {
                x: Table::num(r, year),
                mid: Table::num(r, q50),
                band50: Some((Table::num(r, q25), Table::num(r, q75))),
                band90: Some((Table::num(r, q05), Table::num(r, q95))),
            })
            .collect(),
        colour,
    };
    let colour_of = |k: usize| if k == 0 { None } else { Some(k - 1) };
    let panels: Vec<Panel> = if variants.len() <= 2 {
        let mut clusters = agg.distinct(cluster);
        clusters.sort_by_key(|c| c != "all");
        clusters
            .iter()
            .map(|c| Panel {
                title: if c == "all" { "whole ecosystem".into() } else { c.clone() },
                y_label: unit.clone(),
                series: variants.iter().enumerate().map(|(k, name)| series(name, c, colour_of(k))).collect(),
                integer: is_count(metric),
            })
            .collect()
    } else {
        variants
            .iter()
            .enumerate()
            .skip(1)
            .take(MAX_FAN_VARIANTS)
            .map(|(k, name)| Panel {
                title: format!("{name} (whole ecosystem)"),
                y_label: unit.clone(),
                series: vec![series(&variants[0], "all", None), series(name, "all", colour_of(k))],
                integer: is_count(metric),
            })
            .collect()
    };
    let shown = if variants.len() - 1 > MAX_FAN_VARIANTS {
        format!(" (first {MAX_FAN_VARIANTS} of {} variants)", variants.len() - 1)
    } else {
        String::new()
    };
    Ok(BandChart {
        title: format!("{title}: median, 50 % and 90 % of replications{shown}"),
        x_label: "year".into(),
        panels,
        x_is_year: true,
        style: Style::Bands,
    })
}

/// The outcomes an experiment's answers report, from its experiment.json (the default list for
/// folders written before outcomes were recorded).
pub fn experiment_outcomes(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("experiment.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| {
            v.get("outcomes")?.as_array()?.iter().map(|o| o.as_str().map(str::to_string)).collect::<Option<Vec<_>>>()
        })
        .unwrap_or_else(|| crate::experiment::DEFAULT_OUTCOMES.iter().map(|s| s.to_string()).collect())
}

/// Experiment: each variant's paired effect on each outcome (whole ecosystem) with its 95 %
/// interval, as the answers read it: stocks at the window's last year, flows summed over the window.
pub fn effects(eff: &Table, cluster: &str, outcomes: &[String]) -> Result<Forest> {
    let [v, c, m, year, first] = eff.cols(["variant", "cluster", "metric", "year", "window_first"])?;
    let horizon = eff.rows.first().map(|r| r[year].clone()).unwrap_or_default();
    let from = eff.rows.first().map(|r| r[first].clone()).unwrap_or_default();
    let mut panels = Vec::new();
    for metric in outcomes {
        let stock = crate::experiment::answers::is_stock(metric);
        let [e, lo, hi, base] = if stock {
            eff.cols(["effect", "ci95_low", "ci95_high", "baseline_mean"])?
        } else {
            eff.cols(["cumulative_effect", "cumulative_ci95_low", "cumulative_ci95_high", "baseline_cumulative"])?
        };
        let rows: Vec<ForestRow> = eff
            .rows
            .iter()
            .filter(|r| r[c] == cluster && &r[m] == metric)
            .map(|r| ForestRow {
                label: r[v].clone(),
                estimate: Table::num(r, e),
                low: Table::num(r, lo),
                high: Table::num(r, hi),
                note: String::new(),
                reference: None,
                finding: None,
            })
            .collect();
        let (title, unit) = metric_title(metric);
        let when = if stock { format!("in {horizon}") } else { format!("summed over {from}-{horizon}") };
        let unit = if stock { unit } else { unit.replace(" per year", "") };
        let baseline = eff.rows.iter().find(|r| r[c] == cluster && &r[m] == metric).map(|r| Table::num(r, base));
        panels.push(ForestPanel {
            title: match baseline {
                Some(b) => format!("{title} ({unit}, {when}; baseline {})", super::render::tick(b)),
                None => format!("{title} ({when})"),
            },
            rows,
        });
    }
    Ok(Forest {
        title: "Effect of each variant versus the baseline (mean paired difference, 95 % interval)".into(),
        x_label: "difference from baseline".into(),
        panels,
        max_cols: 2,
        shared_x: false,
    })
}

/// A parameter a grid or Latin-hypercube experiment sweeps (three or more values): its column in
/// variants.csv, its path, and the swept variants grouped by the values of the other parameters.
struct SweepAxis<'a> {
    column: usize,
    path: String,
    /// (label, variants) per group; one group when the others do not vary.
    groups: Vec<(String, Vec<&'a Vec<String>>)>,
    /// Few enough groups to draw one connected line each.
    connect: bool,
}

fn sweep_axes(variants: &Table) -> Result<Vec<SweepAxis<'_>>> {
    let vname = variants.col("variant")?;
    let params: Vec<usize> = (0..variants.header.len()).filter(|&i| variants.header[i].starts_with("set.")).collect();
    // Only the points of a sweep (a grid or a Latin hypercube) make a sweep chart: hand-made
    // variants change several things at once and are compared in the effects chart.
    let swept: Vec<&Vec<String>> =
        variants.rows.iter().filter(|r| r[vname].starts_with("grid-") || r[vname].starts_with("lhs-")).collect();
    let mut out = Vec::new();
    for &p in &params {
        let mut distinct: Vec<f64> = swept.iter().map(|r| Table::num(r, p)).filter(|x| x.is_finite()).collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        if distinct.len() < 3 {
            continue;
        }
        let others: Vec<usize> = params.iter().copied().filter(|&q| q != p).collect();
        let key = |r: &Vec<String>| {
            others.iter().map(|&q| format!("{}={}", &variants.header[q][4..], r[q])).collect::<Vec<_>>().join(", ")
        };
        let mut groups: Vec<(String, Vec<&Vec<String>>)> = Vec::new();
        for r in swept.iter().copied().filter(|r| Table::num(r, p).is_finite()) {
            match groups.iter_mut().find(|g| g.0 == key(r)) {
                Some(g) => g.1.push(r),
                None => groups.push((key(r), vec![r])),
            }
        }
        let connect = groups.len() <= 6;
        if !connect {
            groups =
                vec![("variants".into(), swept.iter().copied().filter(|r| Table::num(r, p).is_finite()).collect())];
        }
        out.push(SweepAxis { column: p, path: variants.header[p][4..].to_string(), groups, connect });
    }
    Ok(out)
}

impl SweepAxis<'_> {
    /// The chart of `panels` against this parameter, keyed by its path.
    fn chart(&self, title: String, panels: Vec<Panel>) -> (String, BandChart) {
        let chart = BandChart {
            title,
            x_label: self.path.clone(),
            panels,
            x_is_year: false,
            style: Style::Markers { connect: self.connect },
        };
        (self.path.clone(), chart)
    }

    /// One series per group, each point from `point(variant name)` at the variant's value.
    fn series(&self, vname: usize, point: impl Fn(&str) -> Option<(f64, (f64, f64), (f64, f64))>) -> Vec<Series> {
        self.groups
            .iter()
            .enumerate()
            .map(|(i, (label, members))| {
                let mut points: Vec<BandPoint> = members
                    .iter()
                    .filter_map(|vr| {
                        let (mid, band50, band90) = point(&vr[vname])?;
                        Some(BandPoint {
                            x: Table::num(vr, self.column),
                            mid,
                            band50: Some(band50),
                            band90: Some(band90),
                        })
                    })
                    .collect();
                points.sort_by(|a, b| a.x.total_cmp(&b.x));
                let label = if label.is_empty() { "median".into() } else { label.clone() };
                Series { label, points, colour: Some(i) }
            })
            .collect()
    }
}

/// Experiment: for each parameter that takes three or more values across variants, the final-year
/// outcomes (whole ecosystem) against it: medians with 50 % and 90 % bars.
pub fn sweeps(agg: &Table, variants: &Table) -> Result<Vec<(String, BandChart)>> {
    let [v, year, cluster, m, q05, q25, q50, q75, q95] =
        agg.cols(["variant", "year", "cluster", "metric", "q05", "q25", "q50", "q75", "q95"])?;
    let horizon = agg.rows.iter().map(|r| Table::num(r, year)).fold(f64::NEG_INFINITY, f64::max);
    let vname = variants.col("variant")?;
    let mut out = Vec::new();
    for axis in sweep_axes(variants)? {
        let panels = OUTCOME_METRICS[..4]
            .iter()
            .map(|&metric| {
                let (title, unit) = metric_title(metric);
                let series = axis.series(vname, |variant| {
                    let r = agg.rows.iter().find(|r| {
                        r[v] == variant && r[cluster] == "all" && r[m] == metric && Table::num(r, year) == horizon
                    })?;
                    let q = |i: usize| Table::num(r, i);
                    Some((q(q50), (q(q25), q(q75)), (q(q05), q(q95))))
                });
                Panel { title, y_label: unit, series, integer: is_count(metric) }
            })
            .collect();
        out.push(axis.chart(format!("Outcomes in {horizon} against {}", axis.path), panels));
    }
    Ok(out)
}

/// Experiment: for each swept parameter, each stated finding's coefficient in the survey of every
/// replication (survey_findings.csv) against it: medians with 50 % and 90 % bars, the study's
/// finding in the panel title. Shows where a coefficient responds to the parameter and where it is
/// flat.
pub fn coefficient_sweeps(findings: &Table, variants: &Table) -> Result<Vec<(String, BandChart)>> {
    let [v, finding, implied, sample, regressor, sign, significant, coef] = findings.cols([
        "variant",
        "finding",
        "implied",
        "sample",
        "regressor",
        "study_sign",
        "study_significant",
        "coef",
    ])?;
    let vname = variants.col("variant")?;
    let mut stated: Vec<&Vec<String>> = Vec::new();
    // The study's stated findings, in file order (not the implied ones, nor the "all_stated" row).
    for r in findings.rows.iter().filter(|r| r[implied] == "false" && !r[sample].is_empty()) {
        if !stated.iter().any(|s| s[finding] == r[finding]) {
            stated.push(r);
        }
    }
    let mut out = Vec::new();
    for axis in sweep_axes(variants)? {
        let panels = stated
            .iter()
            .map(|first| {
                let series = axis.series(vname, |variant| {
                    let mut values: Vec<f64> = findings
                        .rows
                        .iter()
                        .filter(|r| r[v] == variant && r[finding] == first[finding])
                        .map(|r| Table::num(r, coef))
                        .filter(|x| x.is_finite())
                        .collect();
                    values.sort_by(f64::total_cmp);
                    if values.is_empty() {
                        return None;
                    }
                    let q = |p: f64| crate::sensitivity::quantile_sorted(&values, p);
                    Some((q(0.5), (q(0.25), q(0.75)), (q(0.05), q(0.95))))
                });
                let study = match (first[sign].as_str(), first[significant].as_str()) {
                    (_, "false") => "study: not significant",
                    ("1", _) => "study: +, significant",
                    _ => "study: -, significant",
                };
                Panel {
                    title: format!(
                        "{}: {}, {} ({study})",
                        first[finding],
                        first[sample].replace('_', "-"),
                        first[regressor]
                    ),
                    y_label: "coefficient on ln sales".into(),
                    series,
                    integer: false,
                }
            })
            .collect();
        out.push(axis.chart(format!("Survey coefficients against {}", axis.path), panels));
    }
    Ok(out)
}

/// Single run: the survey regressions' coefficients with 95 % intervals, per cluster type; with
/// `causal` (a run's causal_effects.csv), each dummy's effect on the treated beside it.
pub fn survey_coefficients(reg: &Table, causal: Option<&Table>) -> Result<Forest> {
    let mut truth: Vec<(String, String, f64, f64, String)> = Vec::new();
    if let Some(c) = causal {
        let [sample, regressor, effect, se, matched, firm_years] = c.cols([
            "sample",
            "regressor",
            "effect_on_treated",
            "effect_on_treated_se",
            "matched",
            "treated_firm_years",
        ])?;
        for r in &c.rows {
            if r[effect].is_empty() {
                continue;
            }
            let se = if r[se].is_empty() { 0.0 } else { Table::num(r, se) };
            let x = Table::num(r, effect);
            let text = format!("causal {x:.2} ({} of {} firm-years)", r[matched], r[firm_years]);
            truth.push((r[sample].clone(), r[regressor].clone(), x, se, text));
        }
    }
    let [sample, regressor, coef, se, t, n, kind] =
        reg.cols(["sample", "regressor", "coef", "se", "t", "n", "standard_errors"])?;
    let errors = match reg.rows.first().map(|r| r[kind].as_str()) {
        Some("cluster_firm") => "standard errors clustered by firm",
        _ => "HC1",
    };
    let study = crate::targets::Targets::embedded();
    let panels =
        reg.distinct(sample)
            .into_iter()
            .map(|s| ForestPanel {
                title: s.replace('_', "-"),
                rows: reg
                    .rows
                    .iter()
                    .filter(|r| r[sample] == s && ["oi", "tech", "nontech"].contains(&r[regressor].as_str()))
                    .map(|r| {
                        let (c, e) = (Table::num(r, coef), Table::num(r, se));
                        let reference = truth.iter().find(|x| x.0 == r[sample] && x.1 == r[regressor]).map(|x| {
                            Reference { interval: Some((x.2, x.2 - 1.96 * x.3, x.2 + 1.96 * x.3)), text: x.4.clone() }
                        });
                        let finding = study
                            .targets
                            .iter()
                            .find(|x| x.sample == r[sample] && x.regressor == r[regressor])
                            .map(|x| finding_text(x.sign, x.significant, x.implied));
                        ForestRow {
                            label: regressor_label(&r[regressor]).to_string(),
                            estimate: c,
                            low: c - 1.96 * e,
                            high: c + 1.96 * e,
                            note: format!("t = {:.2}, n = {}", Table::num(r, t), r[n]),
                            reference,
                            finding,
                        }
                    })
                    .collect(),
            })
            .collect();
    Ok(Forest {
        title: format!("Synthetic survey: effect on ln sales (OLS, 95 % intervals, {errors})"),
        x_label: "coefficient on ln sales".into(),
        panels,
        max_cols: 2,
        shared_x: true,
    })
}

/// What a study found for a coefficient, in a few words ("study: +, significant").
fn finding_text(sign: i8, significant: bool, implied: bool) -> String {
    let sign = match sign {
        1 => "+, ",
        -1 => "-, ",
        _ => "",
    };
    let significance = if significant { "significant" } else { "not significant" };
    format!("study: {sign}{significance}{}", if implied { " (implied)" } else { "" })
}

fn regressor_label(r: &str) -> &str {
    match r {
        "oi" => "open innovation",
        "tech" => "tech. cooperation",
        "nontech" => "non-tech. cooperation",
        other => other,
    }
}

/// Calibration: simulated coefficients (mean over fresh replications, +- 1.96 mean SE) beside the
/// targets, per cluster type.
pub fn calibration_fit(fit: &Table) -> Result<Forest> {
    let [id, sample, regressor, implied, sign, sig, te, tse, coef, se, rate] = fit.cols([
        "id",
        "sample",
        "regressor",
        "implied",
        "target_sign",
        "target_significant",
        "target_estimate",
        "target_se",
        "sim_coef_mean",
        "sim_se_mean",
        "sign_match_rate",
    ])?;
    let panels = fit
        .distinct(sample)
        .into_iter()
        .map(|s| ForestPanel {
            title: s.replace('_', "-"),
            rows: fit
                .rows
                .iter()
                .filter(|r| r[sample] == s)
                .map(|r| {
                    let (c, e) = (Table::num(r, coef), Table::num(r, se));
                    let (est, est_se) = (Table::num(r, te), Table::num(r, tse));
                    let significance = if r[sig] == "true" { "significant" } else { "n.s." };
                    let implied = if r[implied] == "true" { ", implied" } else { "" };
                    ForestRow {
                        label: format!("{} {}", r[id], regressor_label(&r[regressor])),
                        estimate: c,
                        low: c - 1.96 * e,
                        high: c + 1.96 * e,
                        note: format!("match {:.0} %", 100.0 * Table::num(r, rate)),
                        reference: Some(Reference {
                            interval: (est.is_finite() && est_se.is_finite()).then_some((
                                est,
                                est - 1.96 * est_se,
                                est + 1.96 * est_se,
                            )),
                            text: String::new(),
                        }),
                        finding: Some(format!("target {} {significance}{implied}", r[sign])),
                    }
                })
                .collect(),
        })
        .collect();
    Ok(Forest {
        title: "Calibration fit: simulated coefficients (mean, ±1.96 mean SE) and targets".into(),
        x_label: "coefficient on ln sales".into(),
        panels,
        max_cols: 2,
        shared_x: true,
    })
}

/// The degree distributions of firms and of partners in `year`, from network_nodes.csv.
pub fn degrees(nodes: &Table, year: &str) -> Result<Degrees> {
    let (y, kind, degree) = (nodes.col("year")?, nodes.col("kind")?, nodes.col("degree")?);
    let mut series = Vec::new();
    for (label, firms) in [("firms", true), ("partners (universities, pharma, investors)", false)] {
        let ds: Vec<u32> = nodes
            .rows
            .iter()
            .filter(|r| r[y] == year && (r[kind] == "firm") == firms)
            .filter_map(|r| r[degree].parse().ok())
            .collect();
        if ds.is_empty() {
            continue;
        }
        let n = ds.len() as f64;
        let max = ds.iter().copied().max().unwrap_or(0);
        let points: Vec<(f64, f64)> = (1..=max)
            .filter_map(|k| {
                let at_least = ds.iter().filter(|&&d| d >= k).count();
                (ds.contains(&k)).then(|| (f64::from(k), at_least as f64 / n))
            })
            .collect();
        let zero = ds.iter().filter(|&&d| d == 0).count() as f64 / n;
        series.push((format!("{label}: n = {}, {:.0} % without ties", ds.len(), 100.0 * zero), points));
    }
    Ok(Degrees { title: format!("Alliance degree distribution, {year} (complementary CDF)"), series })
}

/// The fates of firms founded during a run, as shares of them.
pub const FATES: [&str; 5] = ["acquired", "failed", "self-sustaining", "pharma-dependent", "funded"];

/// Single run: what became of the firms founded during the run (origin other than "initial"), by
/// cluster: acquired, failed, or alive at the end and then self-sustaining (final-year sales cover
/// operating costs), pharma-dependent (not self-sustaining, with an alliance with a pharma partner
/// or half its sales from licensing in its last three years) or "funded": living on investors',
/// public or its own money.
pub fn firm_fates(panel: &Table, palette: &[String]) -> Result<Bars> {
    let [id, cluster, origin, status, sales, costs, pharma, licensing] = panel.cols([
        "firm_id",
        "cluster",
        "origin",
        "status",
        "sales_musd",
        "costs_musd",
        "alliances_pharma",
        "sales_licensing_musd",
    ])?;
    // Each new firm's rows (the panel is in year order, so the last row is the final status).
    let mut by_firm: std::collections::BTreeMap<&str, Vec<&Vec<String>>> = std::collections::BTreeMap::new();
    for r in panel.rows.iter().filter(|r| r[origin] != "initial") {
        by_firm.entry(&r[id]).or_default().push(r);
    }
    let fate = |rows: &Vec<&Vec<String>>| -> usize {
        let r = rows[rows.len() - 1];
        match r[status].as_str() {
            "acquired" => 0,
            "failed" => 1,
            _ => {
                let (s, c) = (Table::num(r, sales), Table::num(r, costs));
                // Dependence is a relationship over time: the last three years the firm was in.
                let recent = &rows[rows.len().saturating_sub(3)..];
                let pharma_tie = recent.iter().any(|r| Table::num(r, pharma) > 0.0);
                let (lic, all): (f64, f64) = recent
                    .iter()
                    .fold((0.0, 0.0), |(l, a), r| (l + Table::num(r, licensing), a + Table::num(r, sales)));
                if s > 0.0 && s >= c {
                    2
                } else if pharma_tie || (all > 0.0 && lic >= 0.5 * all) {
                    3
                } else {
                    4
                }
            }
        }
    };
    let mut clusters: Vec<String> = panel.distinct(cluster);
    clusters.push("all".into());
    let panels = clusters
        .iter()
        .map(|c| {
            let mut counts = [0usize; 5];
            for rows in by_firm.values().filter(|rows| c == "all" || &rows[0][cluster] == c) {
                counts[fate(rows)] += 1;
            }
            let n: usize = counts.iter().sum();
            BarPanel {
                title: format!("{} ({n} new firms)", if c == "all" { "all clusters" } else { c }),
                y_label: "% of firms founded in the run".into(),
                bars: FATES
                    .iter()
                    .zip(counts)
                    .map(|(f, k)| (f.to_string(), if n > 0 { 100.0 * k as f64 / n as f64 } else { 0.0 }))
                    .collect(),
                // The cluster's colour, as in the other charts; the total in grey.
                colour: palette.iter().position(|p| p == c).map_or(BarColour::Grey, BarColour::Palette),
            }
        })
        .collect();
    Ok(Bars {
        title: "What became of the firms founded during the run (status at the end)".into(),
        panels,
        palette: palette.to_vec(),
    })
}

/// Single run: clusters side by side over the whole run: firms founded, knowledge, revenue by
/// source, employment.
pub fn cluster_comparison(ts: &Table) -> Result<Bars> {
    let (year, cluster) = (ts.col("year")?, ts.col("cluster")?);
    let clusters = clusters_with_firms(ts)?;
    let last = ts.rows.iter().map(|r| Table::num(r, year)).fold(f64::NEG_INFINITY, f64::max);
    let sum = |c: &str, metrics: &[&str]| -> Result<f64> {
        let cols: Vec<usize> = metrics.iter().map(|m| ts.col(m)).collect::<Result<_>>()?;
        Ok(ts
            .rows
            .iter()
            .filter(|r| r[cluster] == c)
            .map(|r| cols.iter().map(|&i| Table::num(r, i)).sum::<f64>())
            .sum())
    };
    let at_end = |c: &str, metric: &str| -> Result<f64> {
        let i = ts.col(metric)?;
        Ok(ts.rows.iter().find(|r| r[cluster] == c && Table::num(r, year) == last).map_or(0.0, |r| Table::num(r, i)))
    };
    // Sum over the first (or last) five years.
    let years: Vec<f64> = {
        let mut y: Vec<f64> = ts.rows.iter().map(|r| Table::num(r, year)).collect();
        y.sort_by(f64::total_cmp);
        y.dedup();
        y
    };
    let window = |c: &str, metric: &str, first: bool| -> Result<f64> {
        let i = ts.col(metric)?;
        let span: &[f64] = if first { &years[..years.len().min(5)] } else { &years[years.len().saturating_sub(5)..] };
        Ok(ts
            .rows
            .iter()
            .filter(|r| r[cluster] == c && span.contains(&Table::num(r, year)))
            .map(|r| Table::num(r, i))
            .sum())
    };
    type Measure<'a> = (&'a str, &'a str, Box<dyn Fn(&str) -> Result<f64> + 'a>);
    let measures: Vec<Measure> = vec![
        (
            "Firms founded (spin-offs, spin-outs, start-ups)",
            "firms, whole run",
            Box::new(|c| sum(c, &["entries_spinoff", "entries_spinout", "entries_startup"])),
        ),
        ("Knowledge stock at the end", "model units", Box::new(|c| at_end(c, "knowledge_stock"))),
        ("Product sales", "M$, whole run", Box::new(|c| sum(c, &["revenue_product_musd"]))),
        ("Services and manufacturing revenue", "M$, whole run", Box::new(|c| sum(c, &["revenue_services_musd"]))),
        ("Licensing income", "M$, whole run", Box::new(|c| sum(c, &["revenue_licensing_musd"]))),
        ("Employment at the end", "staff", Box::new(|c| at_end(c, "employment"))),
        (
            "Services and manufacturing revenue growth",
            "last 5 years / first 5 years",
            Box::new(|c| Ok(window(c, "revenue_services_musd", false)? / window(c, "revenue_services_musd", true)?)),
        ),
        (
            "Services and manufacturing revenue per firm",
            "M$ per firm-year, last 5 years",
            Box::new(|c| Ok(window(c, "revenue_services_musd", false)? / window(c, "firms_alive", false)?)),
        ),
    ];
    let mut panels = Vec::new();
    for (title, unit, f) in &measures {
        let bars = clusters.iter().map(|c| Ok((c.clone(), f(c)?))).collect::<Result<Vec<_>>>()?;
        panels.push(BarPanel { title: title.to_string(), y_label: unit.to_string(), bars, colour: BarColour::ByLabel });
    }
    Ok(Bars { title: "Clusters compared over the whole run".into(), panels, palette: cluster_palette(ts)? })
}

/// Clusters (not "all") that ever hold a firm: a partners-only node (e.g. international pharma) has
/// nothing to show in firm metrics.
fn clusters_with_firms(ts: &Table) -> Result<Vec<String>> {
    let (cluster, firms) = (ts.col("cluster")?, ts.col("firms_alive")?);
    Ok(ts
        .distinct(cluster)
        .into_iter()
        .filter(|c| c != "all" && ts.rows.iter().any(|r| &r[cluster] == c && Table::num(r, firms) > 0.0))
        .collect())
}

/// The lever a sensitivity chart shows: a policy's effect (`<lever>-minus-<baseline>`) when there is
/// one (it is the answer's question), else the first lever.
fn analysed_lever(t: &Table, lever: usize) -> String {
    t.rows
        .iter()
        .find(|r| r[lever].contains("-minus-"))
        .or(t.rows.first())
        .map(|r| r[lever].clone())
        .unwrap_or_default()
}

/// Sensitivity: per outcome (a panel), each parameter's first-order index with the total index as a
/// grey bar (Sobol), or mu* with sigma in the note (Morris), for the first lever.
pub fn sensitivity(t: &Table) -> Result<Forest> {
    let [lever, parameter, outcome, index, estimate, low, high] =
        t.cols(["lever", "parameter", "outcome", "index", "estimate", "ci_low", "ci_high"])?;
    let first_lever = analysed_lever(t, lever);
    let mine: Vec<&Vec<String>> = t.rows.iter().filter(|r| r[lever] == first_lever).collect();
    let morris = mine.iter().any(|r| r[index] == "mu_star");
    let value = |o: &str, p: &str, i: &str| {
        mine.iter().find(|r| r[outcome] == o && r[parameter] == p && r[index] == i).map(|r| {
            let n = |c: usize| r[c].parse::<f64>().unwrap_or(f64::NAN);
            (n(estimate), n(low), n(high))
        })
    };
    let mut outcomes: Vec<String> = Vec::new();
    let mut parameters: Vec<String> = Vec::new();
    for r in &mine {
        if !outcomes.contains(&r[outcome]) {
            outcomes.push(r[outcome].clone());
        }
        if r[index] == if morris { "mu_star" } else { "S1" } && !parameters.contains(&r[parameter]) {
            parameters.push(r[parameter].clone());
        }
    }
    let panels = outcomes
        .iter()
        .map(|o| {
            let noise = value(o, "(replications)", "noise_share").map(|v| v.0);
            ForestPanel {
                title: format!(
                    "{}{}",
                    metric_title(o).0,
                    noise
                        .filter(|n| n.is_finite())
                        .map_or(String::new(), |n| format!(" (replication noise {:.0} %)", 100.0 * n))
                ),
                rows: parameters
                    .iter()
                    .filter_map(|p| {
                        let (e, lo, hi) = value(o, p, if morris { "mu_star" } else { "S1" })?;
                        let reference = (!morris).then(|| value(o, p, "ST")).flatten().map(|(t, tl, th)| Reference {
                            interval: Some((t, tl, th)),
                            text: format!("total {t:.2}"),
                        });
                        let note = if morris {
                            value(o, p, "sigma")
                                .map_or(String::new(), |s| format!("sigma {}", super::render::tick(s.0)))
                        } else {
                            String::new()
                        };
                        Some(ForestRow {
                            label: p.clone(),
                            estimate: e,
                            low: lo,
                            high: hi,
                            note,
                            reference,
                            finding: None,
                        })
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Forest {
        title: if morris {
            format!("Morris screen, lever `{first_lever}`: mu* with 95 % intervals")
        } else {
            format!("Sobol indices, lever `{first_lever}`: first order (dot) and total (grey bar), 95 % intervals")
        },
        x_label: if morris { "mu* (outcome units per whole range)".into() } else { "index".into() },
        panels,
        max_cols: 2,
        shared_x: !morris,
    })
}

/// Sensitivity with several levers: each lever's mean regret across the sampled worlds, a panel per
/// outcome (robustness.csv).
pub fn regret(t: &Table) -> Result<Bars> {
    let [lever, outcome, better, mean_regret] = t.cols(["lever", "outcome", "better", "mean_regret"])?;
    let panels = t
        .distinct(outcome)
        .iter()
        .map(|o| {
            let rows: Vec<&Vec<String>> = t.rows.iter().filter(|r| &r[outcome] == o).collect();
            let unit = metric_title(o).1.replace(" per year", "");
            BarPanel {
                title: format!(
                    "{} ({} is better)",
                    metric_title(o).0,
                    rows.first().map_or("more", |r| r[better].as_str())
                ),
                y_label: format!("mean regret, {unit}"),
                bars: rows.iter().map(|r| (r[lever].clone(), Table::num(r, mean_regret))).collect(),
                colour: BarColour::ByLabel,
            }
        })
        .collect();
    // The scenario as written in grey, the other levers in their colours, as in the fan charts.
    let palette: Vec<String> = t.distinct(lever).into_iter().skip(1).collect();
    Ok(Bars { title: "Regret of each lever across the sampled worlds (lower is more robust)".into(), panels, palette })
}

/// Morris: mu* against sigma per parameter, a panel per outcome, for the same lever as [`sensitivity`].
pub fn morris_scatter(t: &Table) -> Result<Option<Scatter>> {
    let [lever, parameter, outcome, index, estimate] =
        t.cols(["lever", "parameter", "outcome", "index", "estimate"])?;
    if !t.rows.iter().any(|r| r[index] == "mu_star") {
        return Ok(None);
    }
    let chosen = analysed_lever(t, lever);
    let mine: Vec<&Vec<String>> = t.rows.iter().filter(|r| r[lever] == chosen).collect();
    let outcomes = t.distinct(outcome);
    let panels = outcomes
        .iter()
        .map(|o| {
            let get = |p: &str, i: &str| {
                mine.iter()
                    .find(|r| &r[outcome] == o && r[parameter] == p && r[index] == i)
                    .map(|r| Table::num(r, estimate))
            };
            let points = mine
                .iter()
                .filter(|r| &r[outcome] == o && r[index] == "mu_star")
                .filter_map(|r| {
                    Some((r[parameter].clone(), get(&r[parameter], "mu_star")?, get(&r[parameter], "sigma")?))
                })
                .collect();
            (metric_title(o).0, points)
        })
        .collect();
    Ok(Some(Scatter {
        title: format!("Morris screen, lever `{chosen}`: mu* (importance) against sigma (interactions, non-linearity)"),
        x_label: "mu*".into(),
        y_label: "sigma".into(),
        panels,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficient_sweeps_draw_each_stated_finding_against_the_swept_parameter() {
        let table = |header: &str, rows: &[&str]| Table {
            header: header.split(',').map(String::from).collect(),
            rows: rows.iter().map(|r| r.split(',').map(String::from).collect()).collect(),
            path: "test".into(),
        };
        let variants = table(
            "variant,description,set.x",
            &["baseline,as written,", "grid-0001,x = 0,0", "grid-0002,x = 0.5,0.5", "grid-0003,x = 1,1"],
        );
        let header = "variant,replication,finding,implied,sample,specification,regressor,study_sign,study_significant,coef,se,t,p,holds";
        let mut rows = Vec::new();
        for (v, base) in [("grid-0001", 0.0), ("grid-0002", 0.1), ("grid-0003", 0.2), ("baseline", 9.0)] {
            for rep in 0..3 {
                let c = base + 0.01 * f64::from(rep);
                rows.push(format!("{v},{rep},L1,false,government_led,open_innovation,oi,1,true,{c},0.1,1,0.3,false"));
                rows.push(format!("{v},{rep},L5,true,private_led,cooperation,tech,0,false,{c},0.1,1,0.3,true"));
                rows.push(format!("{v},{rep},all_stated,false,,,,,,,,,,false"));
            }
        }
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let charts = coefficient_sweeps(&table(header, &rows), &variants).unwrap();
        assert_eq!(charts.len(), 1);
        let (path, chart) = &charts[0];
        assert_eq!(path, "x");
        assert_eq!(chart.panels.len(), 1, "only the stated finding L1");
        assert!(chart.panels[0].title.starts_with("L1: government-led, oi (study: +, significant)"));
        let points = &chart.panels[0].series[0].points;
        let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
        assert_eq!(xs, [0.0, 0.5, 1.0], "the baseline is not a sweep point");
        let mids: Vec<f64> = points.iter().map(|p| p.mid).collect();
        assert!(mids.iter().zip([0.01, 0.11, 0.21]).all(|(m, e)| (m - e).abs() < 1e-12), "{mids:?}");
    }
}

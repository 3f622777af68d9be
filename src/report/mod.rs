//! Charts and the self-contained HTML report of an output folder.
//!
//! `build` looks at what the folder holds (a single run, an experiment or a calibration), builds
//! the chart data from those files (`data`), draws each chart as PNG and SVG with its data as CSV
//! (`render`, into `charts/`) and writes `report.html` with every PNG inlined (`html`), so the report
//! opens offline in any browser and can be mailed as one file.

pub mod charts;
pub mod data;
pub mod discover;
pub mod html;
pub mod network;
pub mod render;

use std::path::{Path, PathBuf};
use std::time::Instant;

use data::Table;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Years of the network pictures (single runs); empty: a third in, two thirds in, the last year.
    pub network_years: Vec<i32>,
    /// Also write every chart as 16:9 single-panel pictures with large fonts into `slides/`.
    pub slides: bool,
}

/// What an output folder holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Run,
    Experiment,
    /// An experiment with a sensitivity design (sensitivity.csv).
    Sensitivity,
    Calibration,
}

/// One chart of the report.
#[derive(Debug, Clone)]
pub struct Figure {
    pub stem: String,
    pub title: String,
    /// One line on how to read it.
    pub guide: String,
    pub png: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Built {
    pub kind: Kind,
    pub html: PathBuf,
    pub figures: Vec<Figure>,
    pub seconds: f64,
}

pub fn kind_of(dir: &Path) -> Result<Kind> {
    if dir.join("aggregate.csv").is_file() {
        Ok(Kind::Experiment)
    } else if dir.join("sensitivity.csv").is_file() {
        Ok(Kind::Sensitivity)
    } else if dir.join("fit.csv").is_file() {
        Ok(Kind::Calibration)
    } else if dir.join("timeseries.csv").is_file() {
        Ok(Kind::Run)
    } else {
        Err(Error::Usage(format!(
            "`{}` holds no biocluster outputs to report on (expected timeseries.csv from a run, aggregate.csv or sensitivity.csv from an experiment, or fit.csv from a calibration)",
            dir.display()
        )))
    }
}

/// Draws every chart of `dir` into `dir/charts/` and writes `dir/report.html`.
pub fn build(dir: &Path, options: &Options) -> Result<Built> {
    let started = Instant::now();
    let kind = kind_of(dir)?;
    let charts_dir = dir.join("charts");
    let slides_dir = dir.join("slides");
    if options.slides {
        // A fresh set: slides of an earlier report (other panels, other years) would mislead.
        if slides_dir.is_dir() {
            std::fs::remove_dir_all(&slides_dir)
                .map_err(|source| Error::WriteOutput { path: slides_dir.clone(), source })?;
        }
        render::set_slides(Some(slides_dir.clone()));
    }
    let result = build_charts(dir, kind, &charts_dir, options);
    render::set_slides(None);
    let (figures, tables) = result?;
    remove_stale_charts(&charts_dir, &figures);
    let html_path = dir.join("report.html");
    let facts = html::facts_block(dir)?;
    let answers = std::fs::read_to_string(dir.join("answers.txt")).ok().map(|text| html::answers_block(&text));
    let page = html::page(dir, kind, &figures, answers.as_ref(), facts.as_ref(), &tables)?;
    crate::observe::write::write_atomic(&html_path, page.as_bytes())?;
    Ok(Built { kind, html: html_path, figures, seconds: started.elapsed().as_secs_f64() })
}

/// Draws the charts of `dir` and gathers its tables.
fn build_charts(
    dir: &Path,
    kind: Kind,
    charts_dir: &Path,
    options: &Options,
) -> Result<(Vec<Figure>, Vec<html::Block>)> {
    let charts_dir = charts_dir.to_path_buf();
    let mut figures = Vec::new();
    let mut tables = Vec::new();
    let mut add = |stem: String, title: &str, guide: &str, chart: &dyn Fn(&Path, &str) -> Result<PathBuf>| {
        let png = chart(&charts_dir, &stem)?;
        figures.push(Figure { stem, title: title.to_string(), guide: guide.to_string(), png });
        Ok::<(), Error>(())
    };
    match kind {
        Kind::Run => {
            let ts = Table::read(&dir.join("timeseries.csv"))?;
            let chart = data::run_timeseries(&ts)?;
            add(
                "timeseries".into(),
                "Key metrics over time, by cluster",
                "One replication: each line is a cluster; run an experiment (replications) for bands of uncertainty.",
                &|d, s| render::render(&chart, d, s),
            )?;
            // Two clusters or more (plus "all").
            if ts.distinct(ts.col("cluster")?).len() > 2 {
                let chart = data::cluster_comparison(&ts)?;
                add(
                    "clusters".into(),
                    "Clusters compared",
                    "One bar per cluster: firms founded, the knowledge stock, revenue by source over the whole run, final employment, and how services and manufacturing revenue grew (last five years over the first five) and what it is per firm; compare which cluster makes knowledge and firms and which makes things.",
                    &|d, s| render::render(&chart, d, s),
                )?;
            }
            let panel_path = dir.join("panel.csv");
            if panel_path.is_file() {
                let panel = Table::read(&panel_path)?;
                let chart = data::firm_fates(&panel, &data::cluster_palette(&ts)?)?;
                add(
                    "fates".into(),
                    "What became of the new firms",
                    "Of the firms founded during the run: the share acquired, failed, or alive at the end and self-sustaining (sales cover operating costs), dependent on pharma partners (a pharma alliance or mostly licensing income in its last three years), or 'funded': living on investors', public or their own money.",
                    &|d, s| render::render(&chart, d, s),
                )?;
            }
            let nodes_path = dir.join("network_nodes.csv");
            if nodes_path.is_file() {
                let nodes = Table::read(&nodes_path)?;
                let edges = Table::read(&dir.join("network_edges.csv"))?;
                let years = network_years(&nodes, &options.network_years)?;
                let clusters: Vec<String> =
                    ts.distinct(ts.col("cluster")?).into_iter().filter(|c| c != "all").collect();
                let types: Vec<String> =
                    clusters.iter().map(|c| data::cluster_type(&ts, c).unwrap_or_default()).collect();
                for year in &years {
                    let picture = network_picture(&nodes, &edges, &clusters, &types, *year)?;
                    add(
                        format!("network_{year}"),
                        &format!("Alliance network at the end of {year}"),
                        "Each marker is an actor (shape: kind; colour: its cluster, as in the other charts; size: active alliances), grouped by cluster; lines are active alliances (solid dark: technological, dashed grey: non-technological), all drawn alike.",
                        &|d, s| render::render(&picture, d, s),
                    )?;
                }
                let last = years.iter().max().copied().unwrap_or_default().to_string();
                let chart = data::degrees(&nodes, &last)?;
                add(
                    "degrees".into(),
                    "Degree distribution of the alliance network",
                    "Share of actors with at least k active alliances, on log scales: a straight falling line means a heavy tail (a few hubs), a curve bending down fast means capped, even degrees.",
                    &|d, s| render::render(&chart, d, s),
                )?;
            }
            let reg_path = dir.join("regressions.csv");
            if reg_path.is_file() {
                let reg = Table::read(&reg_path)?;
                let causal_path = dir.join("causal_effects.csv");
                let causal = if causal_path.is_file() { Some(Table::read(&causal_path)?) } else { None };
                let chart = data::survey_coefficients(&reg, causal.as_ref())?;
                add(
                    "survey".into(),
                    "Synthetic survey regressions",
                    "Each dot is the OLS coefficient of a cooperation dummy on ln sales (controls included) with its 95 % interval; an interval clear of the zero line is significant at 5 %. With `--causal`, the grey bar behind it is the model's causal truth: the mean effect of the firms' own alliances of those kinds on their ln sales, measured by running each cooperating firm again without them (causal_effects.csv); where the dot and the bar differ, the regression is biased by who cooperates.",
                    &|d, s| render::render(&chart, d, s),
                )?;
                tables.push(html::table_from_csv("Survey regressions (regressions.csv)", &reg));
                if let Some(causal) = &causal {
                    tables.push(html::table_from_csv(
                        "The model's causal truth: each cooperation dummy's effect on the treated firm-years' ln sales, the firm's alliances of those kinds blocked (causal_effects.csv)",
                        causal,
                    ));
                }
            }
            let instruments_path = dir.join("instruments.csv");
            if instruments_path.is_file() {
                tables.push(html::instruments_table(&Table::read(&instruments_path)?)?);
            }
            tables.insert(0, html::final_year_table(&ts)?);
        }
        Kind::Experiment => {
            let agg = Table::read(&dir.join("aggregate.csv"))?;
            let eff = Table::read(&dir.join("effects.csv"))?;
            let variants = Table::read(&dir.join("variants.csv"))?;
            let n_variants = variants.rows.len();
            if n_variants > 1 {
                let chart = data::effects(&eff, "all", &data::experiment_outcomes(dir))?;
                add(
                    "effects".into(),
                    "Effects of the variants",
                    "Each dot is a variant's mean difference from the baseline over paired replications, with its 95 % interval: stocks (firms, jobs) in the window's last year, flows (revenue, approvals, deals, public money) summed over the window, as in the answers; an interval that crosses the zero line is not a clear effect.",
                    &|d, s| render::render(&chart, d, s),
                )?;
            }
            for &(metric, title, _) in data::KEY_METRICS {
                let chart = data::fan(&agg, metric)?;
                let shown = if n_variants > data::MAX_FAN_VARIANTS {
                    format!(" (first {} of {n_variants} variants)", data::MAX_FAN_VARIANTS)
                } else {
                    String::new()
                };
                add(
                    format!("fan_{metric}"),
                    &format!("{title} over time{shown}"),
                    if n_variants > 2 {
                        "Lines are medians across replications; the darker band holds the middle 50 % of replications, the lighter one 90 %; one panel per variant (whole ecosystem), the variant in its colour over the baseline in grey; effects.csv has each cluster."
                    } else {
                        "Lines are medians across replications; the darker band holds the middle 50 % of replications, the lighter one 90 %; one colour per variant (the baseline in grey), one panel per cluster."
                    },
                    &|d, s| render::render(&chart, d, s),
                )?;
            }
            for (path, chart) in data::sweeps(&agg, &variants)? {
                add(
                    sweep_stem("sweep", &path),
                    &format!("Outcomes against {path}"),
                    "Dots are medians across replications at the horizon; thick bars hold 50 % of replications, thin bars 90 %.",
                    &|d, s| render::render(&chart, d, s),
                )?;
            }
            let findings = dir.join("survey_findings.csv");
            if findings.is_file() {
                for (path, chart) in data::coefficient_sweeps(&Table::read(&findings)?, &variants)? {
                    add(
                        sweep_stem("sweep_coef", &path),
                        &format!("Survey coefficients against {path}"),
                        "One panel per stated finding of the study: dots are the median coefficient across replications, thick bars hold 50 % of replications, thin bars 90 % (survey_findings.csv). A flat stretch means the coefficient does not respond to the parameter there.",
                        &|d, s| render::render(&chart, d, s),
                    )?;
                }
            }
            tables.push(html::table_from_csv("Variants (variants.csv)", &variants));
            tables.push(html::effects_table(&eff)?);
            let shares = dir.join("survey_shares.csv");
            if shares.is_file() {
                tables.push(html::table_from_csv(
                    "The study's findings: in how many replications each holds (survey_shares.csv; every replication's coefficients and verdicts are in survey_findings.csv)",
                    &Table::read(&shares)?,
                ));
            }
        }
        Kind::Sensitivity => {
            let table = Table::read(&dir.join("sensitivity.csv"))?;
            let chart = data::sensitivity(&table)?;
            add(
                "sensitivity".into(),
                "What drives each outcome",
                "For each outcome (a panel) and uncertain parameter (a row), for the first policy's effect (its paired difference from the scenario as written) when there is a policy lever: the dot is the first-order Sobol index (the share of the outcome's variance the parameter explains alone) and the grey bar the total index (alone and through interactions), each with its 95 % bootstrap interval; for a Morris screen, the dot is mu* (the mean absolute elementary effect over the parameter's whole range) and the note gives sigma. A parameter whose total index is near zero can be fixed anywhere in its range.",
                &|d, s| render::render(&chart, d, s),
            )?;
            if let Some(chart) = data::morris_scatter(&table)? {
                add(
                    "morris".into(),
                    "Morris screen: importance against interactions",
                    "Each dot is a parameter: mu* (right: the outcome moves a lot over the parameter's range) against sigma (up: its effect changes with the other parameters or is not linear); the grey diagonal is sigma = mu*. Parameters near the origin can be fixed anywhere in their range.",
                    &|d, s| render::render(&chart, d, s),
                )?;
            }
            tables.push(html::table_from_csv("Sensitivity indices (sensitivity.csv)", &table));
            let robustness = dir.join("robustness.csv");
            if robustness.is_file() {
                let table = Table::read(&robustness)?;
                if table.distinct(table.col("lever")?).len() > 1 {
                    let chart = data::regret(&table)?;
                    add(
                        "regret".into(),
                        "Regret of each lever",
                        "For each outcome, each lever's mean regret over the sampled worlds: in each world, how much worse it does than the best lever in that world (for public money: how much more it spends). The most robust lever has the lowest bar; robustness.csv also gives the worst regret and the share of worlds in which each lever is best.",
                        &|d, s| render::render(&chart, d, s),
                    )?;
                }
                tables.push(html::table_from_csv("Robustness across the sampled worlds (robustness.csv)", &table));
            }
        }
        Kind::Calibration => {
            let fit = Table::read(&dir.join("fit.csv"))?;
            let chart = data::calibration_fit(&fit)?;
            add(
                "fit".into(),
                "Calibration fit",
                "Blue: the calibrated model's mean coefficient with ±1.96 mean SE; grey bars: the target's estimate and 95 % interval when the targets file gives one; the note gives the target and the share of replications that reproduce its sign and significance.",
                &|d, s| render::render(&chart, d, s),
            )?;
            tables.push(html::table_from_csv("Fit (fit.csv)", &fit));
            let robustness = dir.join("robustness.csv");
            if robustness.is_file() {
                let table = Table::read(&robustness)?;
                tables.push(html::table_from_csv(
                    "Robustness: joint rate of the stated findings with one value moved by -10 % or +10 % (robustness.csv)",
                    &table,
                ));
            }
            if let Ok(md) = std::fs::read_to_string(dir.join("report.md")) {
                tables.push(html::preformatted("Calibration report (report.md)", &md));
            }
        }
    }
    Ok((figures, tables))
}

/// The years to picture: the ones asked for (each must be in the file), else three spread out.
fn network_years(nodes: &Table, asked: &[i32]) -> Result<Vec<i32>> {
    let col = nodes.col("year")?;
    let available: Vec<i32> = nodes.distinct(col).iter().filter_map(|y| y.parse().ok()).collect();
    let (Some(&first), Some(&last)) = (available.first(), available.last()) else {
        return Err(Error::Usage(format!("`{}` is empty", nodes.path)));
    };
    if asked.is_empty() {
        let n = available.len();
        let mut years = vec![available[n / 3], available[2 * n / 3], last];
        years.dedup();
        return Ok(years);
    }
    for y in asked {
        if !available.contains(y) {
            return Err(Error::Usage(format!(
                "--network-years: {y} is not a simulated year (allowed: {first} to {last})"
            )));
        }
    }
    Ok(asked.to_vec())
}

fn network_picture(
    nodes: &Table,
    edges: &Table,
    clusters: &[String],
    types: &[String],
    year: i32,
) -> Result<network::NetworkPicture> {
    let [y, id, kind, cluster, degree] = nodes.cols(["year", "id", "kind", "cluster", "degree"])?;
    let [ey, firm, partner, category] = edges.cols(["year", "firm", "partner", "category"])?;
    let year_s = year.to_string();
    let mut ns: Vec<(u32, String, String, u32)> = nodes
        .rows
        .iter()
        .filter(|r| r[y] == year_s)
        .filter_map(|r| Some((r[id].parse().ok()?, r[kind].clone(), r[cluster].clone(), r[degree].parse().ok()?)))
        .collect();
    ns.sort_by_key(|n| n.0);
    let es: Vec<(u32, u32, bool)> = edges
        .rows
        .iter()
        .filter(|r| r[ey] == year_s)
        .filter_map(|r| Some((r[firm].parse().ok()?, r[partner].parse().ok()?, r[category] == "tech")))
        .collect();
    let tech = es.iter().filter(|e| e.2).count();
    let title = format!(
        "Alliance network, end of {year}: {} actors, {tech} technological and {} non-technological alliances",
        ns.len(),
        es.len() - tech
    );
    Ok(network::NetworkPicture::layout(title, clusters, types, &ns, &es))
}

/// Removes charts a previous report drew that this one did not (e.g. network pictures of other
/// years), so `charts/` always matches `report.html`. Only chart files (PNG, SVG, CSV) are touched.
fn remove_stale_charts(charts_dir: &Path, figures: &[Figure]) {
    let Ok(entries) = std::fs::read_dir(charts_dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_chart = path.extension().is_some_and(|e| e == "png" || e == "svg" || e == "csv");
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if is_chart && !figures.iter().any(|f| f.stem == stem) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A sweep chart's file stem: `prefix_` and the swept parameter's path with every character that is
/// not a letter or digit made `_`.
fn sweep_stem(prefix: &str, path: &str) -> String {
    format!("{prefix}_{}", path.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
}

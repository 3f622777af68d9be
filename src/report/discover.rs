//! `biocluster discover`: scenario discovery (PRIM) on the sampled worlds of a sensitivity experiment.
//! Reads `samples.csv`, marks the worlds whose outcome falls below (or above) a value, and writes the
//! peeling trajectory (`discovery.csv`), the chosen box (`discovery_box.csv`), two charts and a summary.

use std::path::{Path, PathBuf};

use super::charts::{BandChart, BandPoint, Forest, ForestPanel, ForestRow, Panel, Series, Style};
use super::data::Table;
use super::render;
use crate::error::{Error, Result};
use crate::format::{csv_field, num};
use crate::sensitivity::prim;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Below(f64),
    Above(f64),
}

#[derive(Debug, Clone)]
pub struct Options {
    pub outcome: String,
    pub threshold: Threshold,
    pub lever: Option<String>,
    pub peel: f64,
    pub min_mass: f64,
}

#[derive(Debug, Clone)]
pub struct Found {
    pub discovery: prim::Discovery,
    pub parameters: Vec<String>,
    pub summary: String,
    pub files: Vec<PathBuf>,
}

/// Runs PRIM on `dir`'s sampled worlds.
pub fn run(dir: &Path, options: &Options) -> Result<Found> {
    let usage = |m: String| Error::Usage(m);
    if !(options.peel > 0.0 && options.peel < 0.5) {
        return Err(usage(format!("--peel must be in (0, 0.5) (got {})", options.peel)));
    }
    if !(options.min_mass > 0.0 && options.min_mass < 1.0) {
        return Err(usage(format!("--min-mass must be in (0, 1) (got {})", options.min_mass)));
    }
    if let Threshold::Below(v) | Threshold::Above(v) = options.threshold
        && !v.is_finite()
    {
        return Err(usage("--below/--above must be a finite number".into()));
    }
    let path = dir.join("samples.csv");
    if !path.is_file() {
        return Err(usage(format!(
            "`{}` has no samples.csv: scenario discovery needs the sampled worlds of an experiment with a sensitivity design ([experiment] method and uncertainties)",
            dir.display()
        )));
    }
    let t = Table::read(&path)?;
    let lever_col = t.col("lever")?;
    let levers = t.distinct(lever_col);
    let lever = match &options.lever {
        Some(l) if levers.contains(l) => l.clone(),
        Some(l) => {
            return Err(usage(format!(
                "--lever: no lever `{l}` in `{}`; levers are {}",
                path.display(),
                levers.join(", ")
            )));
        }
        None => levers.first().cloned().ok_or_else(|| usage(format!("`{}` is empty", path.display())))?,
    };
    let y_col = t.col(&format!("y.{}", options.outcome)).map_err(|_| {
        let outcomes: Vec<&str> = t.header.iter().filter_map(|h| h.strip_prefix("y.")).collect();
        usage(format!(
            "--outcome: `{}` is not an outcome of this experiment; outcomes are {}",
            options.outcome,
            outcomes.join(", ")
        ))
    })?;
    let x_cols: Vec<usize> = (0..t.header.len()).filter(|&i| t.header[i].starts_with("x.")).collect();
    let parameters: Vec<String> = x_cols.iter().map(|&i| t.header[i][2..].to_string()).collect();
    let rows: Vec<&Vec<String>> = t.rows.iter().filter(|r| r[lever_col] == lever).collect();
    let x: Vec<Vec<f64>> = rows.iter().map(|r| x_cols.iter().map(|&i| Table::num(r, i)).collect()).collect();
    let y: Vec<bool> = rows
        .iter()
        .map(|r| {
            let v = Table::num(r, y_col);
            match options.threshold {
                Threshold::Below(t) => v < t,
                Threshold::Above(t) => v > t,
            }
        })
        .collect();
    let cases = y.iter().filter(|c| **c).count();
    if cases == 0 || cases == y.len() {
        return Err(usage(format!(
            "{} of {} sampled worlds meet the condition: nothing to discover; choose another value",
            cases,
            y.len()
        )));
    }
    let found = prim::discover(&x, &y, options.peel, options.min_mass);

    let mut trajectory = String::from("step,coverage,density,mass,restricted,chosen\n");
    for (i, b) in found.trajectory.iter().enumerate() {
        let restricted = (0..parameters.len()).filter(|&d| b.limits[d] != found.trajectory[0].limits[d]).count();
        trajectory.push_str(&format!(
            "{i},{},{},{},{restricted},{}\n",
            num(b.coverage),
            num(b.density),
            num(b.mass),
            i == found.peeled
        ));
    }
    let full = &found.trajectory[0].limits;
    let mut boxes = String::from("parameter,box_min,box_max,sampled_min,sampled_max,restricted,quasi_p\n");
    for (d, p) in parameters.iter().enumerate() {
        let qp = found.restricted.iter().find(|r| r.0 == d).map(|r| r.1);
        boxes.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            csv_field(p),
            num(found.chosen.limits[d].0),
            num(found.chosen.limits[d].1),
            num(full[d].0),
            num(full[d].1),
            qp.is_some(),
            qp.map_or(String::new(), num)
        ));
    }
    let condition = match options.threshold {
        Threshold::Below(v) => format!("below {}", num(v)),
        Threshold::Above(v) => format!("above {}", num(v)),
    };
    let limits: Vec<String> = found
        .restricted
        .iter()
        .map(|&(d, p)| {
            let (lo, hi) = found.chosen.limits[d];
            let range = match (lo > full[d].0, hi < full[d].1) {
                (true, true) => format!("{} <= `{}` <= {}", short(lo), parameters[d], short(hi)),
                (true, false) => format!("`{}` >= {}", parameters[d], short(lo)),
                _ => format!("`{}` <= {}", parameters[d], short(hi)),
            };
            format!("{range} (quasi-p {p:.1e})")
        })
        .collect();
    let summary = format!(
        "{} {condition} in {cases} of {} sampled worlds (lever `{lever}`). PRIM box: {}; it holds {:.0} % of those worlds (coverage) and {:.0} % of the worlds inside it are such worlds (density).",
        options.outcome,
        y.len(),
        if limits.is_empty() { "no restriction found".to_string() } else { limits.join(" and ") },
        100.0 * found.chosen.coverage,
        100.0 * found.chosen.density
    );
    let mut files = crate::observe::write::write_files(
        dir,
        &[("discovery.csv", trajectory), ("discovery_box.csv", boxes), ("discovery.txt", format!("{summary}\n"))],
    )?;
    let charts = dir.join("charts");
    std::fs::create_dir_all(&charts).map_err(|source| Error::WriteOutput { path: charts.clone(), source })?;
    files.push(render::render(&tradeoff(&found, &options.outcome, &condition), &charts, "discovery_tradeoff")?);
    files.push(render::render(&box_chart(&found, &parameters), &charts, "discovery_box")?);
    Ok(Found { discovery: found, parameters, summary, files })
}

fn short(x: f64) -> String {
    super::render::tick(x)
}

/// Coverage against density along the peeling trajectory, the chosen box marked.
fn tradeoff(found: &prim::Discovery, outcome: &str, condition: &str) -> BandChart {
    let point = |b: &prim::PrimBox| BandPoint { x: b.coverage, mid: b.density, band50: None, band90: None };
    BandChart {
        title: format!("PRIM: coverage against density, {outcome} {condition}"),
        x_label: "coverage (share of the worlds of interest inside the box)".into(),
        panels: vec![Panel {
            title: "peeling trajectory".into(),
            y_label: "density (share of the box's worlds of interest)".into(),
            series: vec![
                Series {
                    label: "peeled boxes".into(),
                    points: found.trajectory.iter().map(point).collect(),
                    colour: None,
                },
                Series { label: "chosen box (pasted)".into(), points: vec![point(&found.chosen)], colour: Some(0) },
            ],
            integer: false,
        }],
        x_is_year: false,
        style: Style::Markers { connect: true },
    }
}

/// The chosen box: each restricted parameter's kept range as a share of its sampled range.
fn box_chart(found: &prim::Discovery, parameters: &[String]) -> Forest {
    let full = &found.trajectory[0].limits;
    let rows = found
        .restricted
        .iter()
        .map(|&(d, p)| {
            let share = |v: f64| if full[d].1 > full[d].0 { (v - full[d].0) / (full[d].1 - full[d].0) } else { 0.0 };
            let (lo, hi) = (share(found.chosen.limits[d].0), share(found.chosen.limits[d].1));
            ForestRow {
                label: parameters[d].clone(),
                estimate: (lo + hi) / 2.0,
                low: lo,
                high: hi,
                note: format!("quasi-p {p:.1e}"),
                reference: None,
                finding: Some(format!("{} to {}", short(found.chosen.limits[d].0), short(found.chosen.limits[d].1))),
            }
        })
        .collect();
    Forest {
        title: format!(
            "PRIM box: coverage {:.2}, density {:.2}, restricted parameters",
            found.chosen.coverage, found.chosen.density
        ),
        x_label: "share of the sampled range kept".into(),
        panels: vec![ForestPanel { title: "kept range of each restricted parameter".into(), rows }],
        max_cols: 1,
        shared_x: true,
    }
}

//! The HTML report: one file, charts inlined as base64 PNG, no scripts, no external resources.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;

use super::data::{OUTCOME_METRICS, Table, metric_title};
use super::{Figure, Kind};
use crate::error::{Error, Result};

/// An HTML table (or block) with its heading.
pub struct Block {
    pub title: String,
    pub body: String,
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for f in r {
            let numeric = f.parse::<f64>().is_ok();
            let _ = write!(out, "<td{}>{}</td>", if numeric { " class=\"n\"" } else { "" }, escape(f));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

pub fn table_from_csv(title: &str, t: &Table) -> Block {
    Block { title: title.to_string(), body: table(&t.header, &t.rows) }
}

pub fn preformatted(title: &str, text: &str) -> Block {
    Block { title: title.to_string(), body: format!("<pre>{}</pre>", escape(text)) }
}

/// Final year of a single run, key metrics by cluster.
pub fn final_year_table(ts: &Table) -> Result<Block> {
    let (year, cluster) = (ts.col("year")?, ts.col("cluster")?);
    let last = ts.rows.iter().map(|r| Table::num(r, year)).fold(f64::NEG_INFINITY, f64::max);
    let metrics = [
        "firms_alive",
        "entries_spinoff",
        "failures",
        "acquisitions",
        "alliances_active_tech",
        "alliances_active_nontech",
        "products_marketed",
        "revenue_product_musd",
        "revenue_services_musd",
        "revenue_licensing_musd",
        "public_total_musd",
        "employment",
        "knowledge_stock",
    ];
    let mut header = vec!["cluster".to_string()];
    header.extend(metrics.iter().map(|m| m.to_string()));
    let mut rows = Vec::new();
    for r in ts.rows.iter().filter(|r| Table::num(r, year) == last) {
        let mut row = vec![r[cluster].clone()];
        for m in metrics {
            row.push(r[ts.col(m)?].clone());
        }
        rows.push(row);
    }
    Ok(Block { title: format!("Final year ({last}), by cluster (timeseries.csv)"), body: table(&header, &rows) })
}

/// Each policy instrument's money over the run (instruments.csv): what was paid against what firms
/// claimed or applied for, and the years its budget bound (it paid less than was asked).
pub fn instruments_table(t: &Table) -> Result<Block> {
    let [year, name, kind, budget, demand, paid, bound] =
        t.cols(["year", "instrument", "kind", "budget_musd", "demand_musd", "paid_musd", "budget_bound"])?;
    let names = t.distinct(name);
    let header: Vec<String> = [
        "instrument",
        "kind",
        "budget (M$/yr)",
        "years run",
        "asked (M$)",
        "paid (M$)",
        "share of demand served",
        "years the budget bound",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = Vec::new();
    for n in names {
        let mine: Vec<&Vec<String>> = t.rows.iter().filter(|r| r[name] == n).collect();
        let asked: f64 = mine.iter().map(|r| Table::num(r, demand)).sum();
        let spent: f64 = mine.iter().map(|r| Table::num(r, paid)).sum();
        let bound_years: Vec<i64> =
            mine.iter().filter(|r| r[bound] == "true").map(|r| Table::num(r, year) as i64).collect();
        let bound_text = match (bound_years.first(), bound_years.last()) {
            (None, _) | (_, None) => "none".to_string(),
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{} of {} ({a}-{b})", bound_years.len(), mine.len()),
        };
        rows.push(vec![
            n.to_string(),
            mine[0][kind].clone(),
            mine[0][budget].clone(),
            mine.len().to_string(),
            format!("{asked:.1}"),
            format!("{spent:.1}"),
            if asked > 0.0 { format!("{:.0} %", 100.0 * spent / asked) } else { "nothing asked".into() },
            bound_text,
        ]);
    }
    Ok(Block {
        title: "Policy instruments: money asked and paid; where a budget binds, every claimant of the month gets the same share of its claim, grants go to the best-scored applicants (instruments.csv)".into(),
        body: table(&header, &rows),
    })
}

/// Effects at the horizon on the whole ecosystem.
pub fn effects_table(eff: &Table) -> Result<Block> {
    let cols = [
        "variant",
        "metric",
        "baseline_mean",
        "variant_mean",
        "effect",
        "ci95_low",
        "ci95_high",
        "cumulative_effect",
        "cumulative_ci95_low",
        "cumulative_ci95_high",
        "extra_public_musd",
        "effect_per_musd",
        "cumulative_per_musd",
        "n",
    ];
    let idx: Vec<usize> = cols.iter().map(|c| eff.col(c)).collect::<Result<_>>()?;
    let (c, m) = (eff.col("cluster")?, eff.col("metric")?);
    let rows: Vec<Vec<String>> = eff
        .rows
        .iter()
        .filter(|r| r[c] == "all" && OUTCOME_METRICS.contains(&r[m].as_str()))
        .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
        .collect();
    let header: Vec<String> = cols.iter().map(|s| s.to_string()).collect();
    Ok(Block {
        title: "Effects at the window's last year and cumulated over the window, whole ecosystem, with the extra public money and the effects per M$ of it (effects.csv has every cluster and metric)".into(),
        body: table(&header, &rows),
    })
}

/// Most variants shown in the report's facts table; facts.csv has them all.
pub const MAX_FACT_VARIANTS: usize = 6;

/// The stylized-facts table of an output folder's `facts.csv`, if it has one: a single run's model
/// values, or an experiment's or calibration's values over replications. Hits are marked in words
/// and in colour (blue: in band, orange: outside, grey: not computable), so the table reads in
/// black and white and for colour-blind readers.
pub fn facts_block(dir: &Path) -> Result<Option<Block>> {
    let path = dir.join("facts.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let t = Table::read(&path)?;
    let [fact, source, year, value, low, high, years] =
        t.cols(["fact", "source", "data_year", "data_value", "band_low", "band_high", "years"])?;
    let band = |r: &Vec<String>| {
        let (lo, hi) = (r[low].parse::<f64>().unwrap_or(f64::NAN), r[high].parse::<f64>().unwrap_or(f64::NAN));
        crate::calibration::report::band_text((lo, hi))
    };
    let mut body = String::new();
    if t.header.iter().any(|h| h == "model_value") {
        let [model, hit] = t.cols(["model_value", "hit"])?;
        let hits = t.rows.iter().filter(|r| r[hit] == "1").count();
        let computed = t.rows.iter().filter(|r| r[hit] != "NA").count();
        let _ = write!(
            body,
            "<p class=\"facts-summary\"><b>{hits} of {computed}</b> computable facts lie within their band{}. Data: published figures (secondary sources); band: the tolerance the facts file sets; model value: this replication over the simulated years shown. Facts are observed, never fitted.</p>",
            if computed < t.rows.len() {
                format!(" ({} not computable)", t.rows.len() - computed)
            } else {
                String::new()
            }
        );
        body.push_str("<table class=\"facts\"><thead><tr><th>fact</th><th>data (year)</th><th>band</th><th>model</th><th>in band</th><th>years simulated</th><th>source</th></tr></thead><tbody>");
        for r in &t.rows {
            let (class, mark) = match r[hit].as_str() {
                "1" => ("hit", "&#10003; yes"),
                "0" => ("miss", "&#10007; no"),
                _ => ("na", "not computable"),
            };
            let _ = write!(
                body,
                "<tr class=\"{class}\"><td>{}</td><td class=\"n\">{} ({})</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{mark}</td><td>{}</td><td class=\"src\">{}</td></tr>",
                escape(&r[fact]),
                escape(&short_number(&r[value])),
                escape(&r[year]),
                escape(&band(r)),
                escape(&short_number(&r[model])),
                escape(&r[years]),
                escape(&r[source])
            );
        }
    } else {
        let [variant, n, mean, p5, p95, share] = t.cols(["variant", "n", "mean", "p5", "p95", "share_in_band"])?;
        let mut variants: Vec<&str> = Vec::new();
        for r in &t.rows {
            if !variants.contains(&r[variant].as_str()) {
                variants.push(&r[variant]);
            }
        }
        let shown = &variants[..variants.len().min(MAX_FACT_VARIANTS)];
        let _ = write!(
            body,
            "<p class=\"facts-summary\">Each fact over replications: mean, 5-95 % range and the share of replications whose value lies within the band (over the replications where it is computable; n of them). Marked <span class=\"hit\">&#10003; in band</span> when at least half of them are, <span class=\"miss\">&#10007;</span> otherwise. Facts are observed, never fitted.{}</p>",
            if shown.len() < variants.len() {
                format!(" First {} of {} variants; facts.csv has them all.", shown.len(), variants.len())
            } else {
                String::new()
            }
        );
        let multi = variants.len() > 1;
        body.push_str("<table class=\"facts\"><thead><tr><th>fact</th><th>data (year)</th><th>band</th>");
        if multi {
            body.push_str("<th>variant</th>");
        }
        body.push_str("<th>mean</th><th>5-95 %</th><th>share in band</th><th>n</th><th>years simulated</th><th>source</th></tr></thead><tbody>");
        let facts: Vec<&str> = t.rows.iter().filter(|r| r[variant] == variants[0]).map(|r| r[fact].as_str()).collect();
        for f in facts {
            let rows: Vec<&Vec<String>> =
                shown.iter().filter_map(|v| t.rows.iter().find(|r| r[fact] == f && r[variant] == *v)).collect();
            for (k, r) in rows.iter().enumerate() {
                let share_value = r[share].parse::<f64>().ok();
                let (class, mark) = match share_value {
                    Some(x) if x >= 0.5 => ("hit", "&#10003; "),
                    Some(_) => ("miss", "&#10007; "),
                    None => ("na", ""),
                };
                let _ = write!(body, "<tr class=\"{class}\">");
                if k == 0 {
                    let span = rows.len();
                    let _ = write!(
                        body,
                        "<td rowspan=\"{span}\" class=\"fact\">{}</td><td rowspan=\"{span}\" class=\"n fact\">{} ({})</td><td rowspan=\"{span}\" class=\"n fact\">{}</td>",
                        escape(f),
                        escape(&short_number(&r[value])),
                        escape(&r[year]),
                        escape(&band(r))
                    );
                }
                if multi {
                    let _ = write!(body, "<td>{}</td>", escape(&r[variant]));
                }
                let range = if r[p5] == "NA" {
                    "NA".to_string()
                } else {
                    format!("{} to {}", short_number(&r[p5]), short_number(&r[p95]))
                };
                let share_text = share_value.map_or("not computable".to_string(), |x| format!("{:.0} %", 100.0 * x));
                let _ = write!(
                    body,
                    "<td class=\"n\">{}</td><td class=\"n\">{}</td><td>{mark}{}</td><td class=\"n\">{}</td>",
                    escape(&short_number(&r[mean])),
                    escape(&range),
                    escape(&share_text),
                    escape(&r[n])
                );
                if k == 0 {
                    let span = rows.len();
                    let _ = write!(
                        body,
                        "<td rowspan=\"{span}\" class=\"fact\">{}</td><td rowspan=\"{span}\" class=\"src fact\">{}</td>",
                        escape(&r[years]),
                        escape(&r[source])
                    );
                }
                body.push_str("</tr>");
            }
        }
    }
    body.push_str("</tbody></table>");
    Ok(Some(Block { title: "Stylized facts (facts.csv)".into(), body }))
}

/// A number from a CSV cell, short: one decimal from 10 up, three below, four below 0.01, trailing
/// zeros dropped ("NA" and text as they are).
fn short_number(s: &str) -> String {
    let trim = |t: String| if t.contains('.') { t.trim_end_matches('0').trim_end_matches('.').to_string() } else { t };
    match s.parse::<f64>() {
        Ok(x) if x.is_infinite() || x.is_nan() => s.to_string(),
        Ok(x) if x == x.trunc() => format!("{x}"),
        Ok(x) if x.abs() >= 10.0 => trim(format!("{x:.1}")),
        Ok(x) if x.abs() >= 0.01 => trim(format!("{x:.3}")),
        Ok(x) if x.abs() >= 0.0001 => trim(format!("{x:.4}")),
        Ok(x) => format!("{x:.1e}"),
        Err(_) => s.to_string(),
    }
}

/// Scenario summary from the resolved (or calibrated) scenario file.
fn scenario_summary(dir: &Path, kind: Kind) -> Result<(String, String, String)> {
    let file = if kind == Kind::Calibration { "calibrated.toml" } else { "scenario.resolved.toml" };
    let path = dir.join(file);
    let text =
        std::fs::read_to_string(&path).map_err(|e| Error::Usage(format!("cannot read `{}`: {e}", path.display())))?;
    let value: toml::Table = toml::from_str(&text)
        .map_err(|e| Error::MalformedToml { file: path.display().to_string(), message: e.to_string() })?;
    let get = |section: &str, key: &str| -> String {
        value.get(section).and_then(|s| s.get(key)).map_or(String::new(), |v| match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    let name = get("scenario", "name");
    let description = get("scenario", "description");
    let mut body = String::new();
    let _ = write!(
        body,
        "<p>Seed {}, {} years from {} (monthly steps). Money in millions of US dollars (M$). Inputs: <code>{file}</code>.</p>",
        escape(&get("scenario", "seed")),
        escape(&get("scenario", "years")),
        escape(&get("scenario", "start_year"))
    );
    let mut rows = Vec::new();
    for c in value.get("clusters").and_then(|c| c.as_array()).into_iter().flatten() {
        let s = |k: &str| c.get(k).map_or(String::new(), |v| v.as_str().map_or(v.to_string(), str::to_string));
        let pop = |k: &str| c.get("population").and_then(|p| p.get(k)).map_or(String::new(), |v| v.to_string());
        // Levels as written, or computed from the measurements a cluster gives instead.
        let measured = c
            .get("measurements")
            .and_then(|m| m.clone().try_into::<crate::scenario::measurements::RawMeasurements>().ok())
            .map(|m| crate::scenario::measurements::environment(&m));
        let env = |k: &str| match &measured {
            Some(e) => {
                let v = match k {
                    "public_research" => e.public_research,
                    "pharma_presence" => e.pharma_presence,
                    _ => e.vc_presence,
                };
                format!("{v:.3} (measured)")
            }
            None => c.get("environment").and_then(|p| p.get(k)).map_or(String::new(), |v| v.to_string()),
        };
        rows.push(vec![
            s("name"),
            s("type"),
            pop("firms"),
            pop("established_firms"),
            pop("universities"),
            pop("pharma_partners"),
            pop("investors"),
            env("public_research"),
            env("pharma_presence"),
            env("vc_presence"),
        ]);
    }
    let header: Vec<String> = [
        "cluster",
        "type",
        "firms",
        "established makers",
        "universities",
        "pharma partners",
        "investors",
        "public research",
        "pharma presence",
        "VC presence",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    body.push_str(&table(&header, &rows));
    let mut prows = Vec::new();
    for p in value.get("policies").and_then(|c| c.as_array()).into_iter().flatten() {
        let s = |k: &str| p.get(k).map_or(String::new(), |v| v.as_str().map_or(v.to_string(), str::to_string));
        prows.push(vec![s("name"), s("kind"), s("clusters"), s("start_year"), s("budget_musd_per_year")]);
    }
    if !prows.is_empty() {
        let header: Vec<String> =
            ["policy", "kind", "clusters", "from", "budget (M$/yr)"].iter().map(|s| s.to_string()).collect();
        body.push_str(&table(&header, &prows));
    }
    Ok((name, description, body))
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;max-width:1320px;margin:2em auto;padding:0 1.2em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:2px solid #0072B2;padding-bottom:.2em}
figure{margin:1.5em 0 2.5em}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{margin-top:.4em;color:#333}figcaption b{color:#000}
table{border-collapse:collapse;margin:.8em 0;font-size:.86em;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f4f8}pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:.85em}
nav ol{columns:2}footer{margin-top:3em;color:#666;font-size:.85em}
table.facts td{white-space:normal}table.facts td.n{white-space:nowrap}td.src{font-size:.85em;color:#444;min-width:18em}
tr.hit td,span.hit{background:#d9ebf7}tr.miss td,span.miss{background:#fbe3c4}tr.na td{background:#eee;color:#555}
tr td.fact{background:#fff;color:#222}.facts-summary{max-width:60em}
@media print{figure{break-inside:avoid}}";

/// The answers of an experiment (answers.txt) as the report's opening section: the intro line, then
/// each variant's cost and its outcomes as a list.
pub fn answers_block(text: &str) -> Block {
    let mut lines = text.lines();
    let intro = lines.next().unwrap_or_default();
    let mut body = format!("<p class=\"answers-intro\">{}</p>\n", escape(intro));
    let mut open = false;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        if let Some(item) = line.strip_prefix("  - ") {
            if !open {
                body.push_str("<ul>");
                open = true;
            }
            let _ = write!(body, "<li>{}</li>", escape(item));
        } else {
            if open {
                body.push_str("</ul>\n");
                open = false;
            }
            let _ = write!(body, "<p class=\"answer\"><b>{}</b></p>", escape(line));
        }
    }
    if open {
        body.push_str("</ul>\n");
    }
    Block { title: "Answers".into(), body }
}

pub fn page(
    dir: &Path,
    kind: Kind,
    figures: &[Figure],
    lead: Option<&Block>,
    facts: Option<&Block>,
    blocks: &[Block],
) -> Result<String> {
    let (name, description, summary) = scenario_summary(dir, kind)?;
    let what = match kind {
        Kind::Run => "single run",
        Kind::Experiment => "experiment",
        Kind::Sensitivity => "sensitivity analysis",
        Kind::Calibration => "calibration",
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>biocluster report: {}</title><style>{STYLE}</style></head><body>\n",
        escape(&name)
    );
    let _ = write!(out, "<h1>biocluster report: {} ({what})</h1>\n<p>{}</p>\n", escape(&name), escape(&description));
    if let Some(lead) = lead {
        let _ = write!(out, "<h2 id=\"answers\">{}</h2>\n{}\n", escape(&lead.title), lead.body);
    }
    if let Some(facts) = facts {
        let _ = write!(out, "<h2 id=\"facts\">{}</h2>\n{}\n", escape(&facts.title), facts.body);
    }
    out.push_str("<nav><ol>");
    for (i, f) in figures.iter().enumerate() {
        let _ = write!(out, "<li><a href=\"#fig{}\">{}</a></li>", i + 1, escape(&f.title));
    }
    out.push_str("</ol></nav>\n<h2>Scenario</h2>\n");
    out.push_str(&summary);
    out.push_str("\n<h2>Charts</h2>\n");
    for (i, f) in figures.iter().enumerate() {
        let bytes =
            std::fs::read(&f.png).map_err(|e| Error::Usage(format!("cannot read chart `{}`: {e}", f.png.display())))?;
        let _ = writeln!(
            out,
            "<figure id=\"fig{}\"><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption><b>Figure {}: {}.</b> How to read it: {} <span class=\"files\">(charts/{}.png, .svg, .csv)</span></figcaption></figure>",
            i + 1,
            escape(&f.title),
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            i + 1,
            escape(&f.title),
            escape(&f.guide),
            escape(&f.stem)
        );
    }
    out.push_str("<h2>Tables</h2>\n");
    for b in blocks {
        let _ = write!(out, "<h3>{}</h3>\n{}\n", escape(&b.title), b.body);
    }
    let _ = write!(
        out,
        "<footer>Written by biocluster {} from the files in this folder; metric names and units are explained in biocluster's docs/outputs.md. {}</footer>\n</body></html>\n",
        env!("CARGO_PKG_VERSION"),
        metric_note()
    );
    Ok(out)
}

fn metric_note() -> String {
    let names: Vec<String> = OUTCOME_METRICS.iter().map(|m| format!("{m}: {}", metric_title(m).0)).collect();
    format!("Metrics: {}.", escape(&names.join("; ")))
}

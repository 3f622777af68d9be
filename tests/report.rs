//! Charts check their data, not their pixels: every chart writes the values it plots as CSV beside
//! the PNG and SVG, and these tests compare those values with the output files they come from.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use biocluster::experiment::run::{Options, run};
use biocluster::report::{self, Kind};
use common::experiment;

/// Rows of a CSV file as maps from column to field.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(str::to_string)).collect()).collect()
}

fn f(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col].parse().unwrap_or_else(|_| panic!("`{col}` = `{}` is not a number", row[col]))
}

fn close(a: f64, b: f64) -> bool {
    // Output files carry six decimals.
    (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
}

const EXPERIMENT: &str = r#"
[scenario]
name = "report-experiment"
years = 6

[experiment]
replications = 5

[[experiment.variants]]
name = "rich_grants"
[experiment.variants.set]
"policies.national_rd_grants.budget_musd_per_year" = 60.0

[[experiment.sweeps]]
parameter = "alliances.searches_per_year"
values = [0.2, 0.5, 0.8]
"#;

#[test]
fn experiment_charts_plot_the_aggregated_quantiles_and_effects() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(EXPERIMENT);
    run(&exp, dir.path(), &Options { threads: Some(2), resume: false, quiet: true }).unwrap();
    let built = report::build(dir.path(), &report::Options::default()).unwrap();
    assert_eq!(built.kind, Kind::Experiment);

    // Fan charts: every plotted median and band equals aggregate.csv's quantiles.
    let mut agg = BTreeMap::new();
    for r in rows(&dir.path().join("aggregate.csv")) {
        let key = (r["variant"].clone(), r["cluster"].clone(), r["metric"].clone(), r["year"].clone());
        agg.insert(key, r);
    }
    for &(metric, _, _) in report::data::KEY_METRICS {
        let plotted = rows(&dir.path().join(format!("charts/fan_{metric}.csv")));
        // Five variants (baseline, rich_grants, three sweep points): one panel per variant over the
        // baseline, whole ecosystem: 4 panels x 2 series x the years.
        let years = agg.keys().filter(|k| k.0 == "baseline" && k.1 == "all" && k.2 == metric).count();
        assert_eq!(plotted.len(), 4 * 2 * years, "fan_{metric}: the variant and the baseline in each panel");
        for p in &plotted {
            let variant = p["panel"].strip_suffix(" (whole ecosystem)").expect("a variant's panel");
            assert!(p["series"] == "baseline" || p["series"] == variant, "{p:?}");
            let a = &agg[&(p["series"].clone(), "all".to_string(), metric.to_string(), p["year"].clone())];
            for (plot_col, agg_col) in [("mid", "q50"), ("q25", "q25"), ("q75", "q75"), ("q05", "q05"), ("q95", "q95")]
            {
                assert!(close(f(p, plot_col), f(a, agg_col)), "fan_{metric} {p:?}: {plot_col} vs {agg_col} {a:?}");
            }
        }
    }

    // Effect chart: estimates and intervals equal effects.csv (whole ecosystem).
    let effects: Vec<_> = rows(&dir.path().join("effects.csv")).into_iter().filter(|r| r["cluster"] == "all").collect();
    let plotted = rows(&dir.path().join("charts/effects.csv"));
    let outcomes = biocluster::experiment::DEFAULT_OUTCOMES;
    assert_eq!(plotted.len(), outcomes.len() * 4, "4 variants x outcomes");
    for p in &plotted {
        let e = effects
            .iter()
            .find(|e| {
                e["variant"] == p["row"]
                    && outcomes.contains(&e["metric"].as_str())
                    && p["panel"].starts_with(&format!("{} (", report::data::metric_title(&e["metric"]).0))
            })
            .unwrap_or_else(|| panic!("no effects.csv row for {p:?}"));
        // Stocks at the window's end, flows summed over the window, as the answers read them.
        let prefix = if biocluster::experiment::answers::is_stock(&e["metric"]) { "" } else { "cumulative_" };
        let col = |c: &str| if prefix.is_empty() { c.to_string() } else { format!("{prefix}{c}") };
        assert!(close(f(p, "estimate"), f(e, &if prefix.is_empty() { "effect".into() } else { col("effect") })));
        assert!(close(f(p, "low"), f(e, &col("ci95_low"))));
        assert!(close(f(p, "high"), f(e, &col("ci95_high"))));
    }

    // Sweep chart: x is the swept value, y the final-year quantiles of that variant.
    let variants = rows(&dir.path().join("variants.csv"));
    let plotted = rows(&dir.path().join("charts/sweep_alliances_searches_per_year.csv"));
    assert!(!plotted.is_empty());
    let horizon = (2000 + 6 - 1).to_string();
    for p in plotted.iter().filter(|p| p["panel"] == "Firms alive") {
        let candidates: Vec<_> =
            variants.iter().filter(|v| close(f(v, "set.alliances.searches_per_year"), f(p, "x"))).collect();
        assert!(
            candidates.iter().any(|v| {
                let a = &agg[&(v["variant"].clone(), "all".into(), "firms_alive".into(), horizon.clone())];
                close(f(a, "q50"), f(p, "mid")) && close(f(a, "q05"), f(p, "q05")) && close(f(a, "q95"), f(p, "q95"))
            }),
            "sweep point {p:?} matches no variant's final-year quantiles"
        );
    }
    let html = std::fs::read_to_string(&built.html).unwrap();
    assert_eq!(html.matches("<img ").count(), built.figures.len());
}

#[test]
fn single_run_charts_plot_the_run_network_and_survey() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_biocluster"))
        .args(["run", "--quiet", "--network-years", "2005,2029", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let dir = out.path().join("korea-default");
    let charts = dir.join("charts");
    for stem in ["timeseries", "clusters", "fates", "network_2005", "network_2029", "degrees", "survey"] {
        for ext in ["png", "svg", "csv"] {
            let path = charts.join(format!("{stem}.{ext}"));
            assert!(path.metadata().is_ok_and(|m| m.len() > 0), "{} missing", path.display());
        }
    }

    // Network picture: the year's actors and ties, and each degree is the number of its ties.
    let nodes = rows(&dir.join("network_nodes.csv"));
    let edges = rows(&dir.join("network_edges.csv"));
    let picture = rows(&charts.join("network_2029.csv"));
    let year_nodes: Vec<_> = nodes.iter().filter(|n| n["year"] == "2029").collect();
    let year_edges: Vec<_> = edges.iter().filter(|e| e["year"] == "2029").collect();
    assert_eq!(picture.iter().filter(|p| p["element"] == "node").count(), year_nodes.len());
    assert_eq!(picture.iter().filter(|p| p["element"] == "edge").count(), year_edges.len());
    for n in &year_nodes {
        let ties = year_edges.iter().filter(|e| e["firm"] == n["id"] || e["partner"] == n["id"]).count();
        assert_eq!(f(n, "degree") as usize, ties, "degree of actor {} in 2029", n["id"]);
    }

    // Degree distribution: share of firms with at least k ties, recomputed from the nodes.
    let firms: Vec<f64> = year_nodes.iter().filter(|n| n["kind"] == "firm").map(|n| f(n, "degree")).collect();
    let plotted = rows(&charts.join("degrees.csv"));
    let firm_points: Vec<_> = plotted.iter().filter(|p| p["series"].starts_with("firms")).collect();
    assert!(!firm_points.is_empty());
    for p in firm_points {
        let k = f(p, "k");
        let share = firms.iter().filter(|&&d| d >= k).count() as f64 / firms.len() as f64;
        assert!(close(share, f(p, "share_at_least_k")), "P(K >= {k})");
    }

    // Survey chart: coefficient and 95 % interval of each cooperation regressor.
    let regressions = rows(&dir.join("regressions.csv"));
    let plotted = rows(&charts.join("survey.csv"));
    assert_eq!(plotted.len(), 6, "oi, tech, nontech for two cluster types");
    for p in &plotted {
        let r = regressions
            .iter()
            .find(|r| {
                r["sample"].replace('_', "-") == p["panel"]
                    && ["oi", "tech", "nontech"].contains(&r["regressor"].as_str())
                    && p["row"].starts_with(match r["regressor"].as_str() {
                        "oi" => "open",
                        "tech" => "tech",
                        _ => "non-tech",
                    })
            })
            .unwrap();
        assert!(close(f(p, "estimate"), f(r, "coef")));
        assert!(close(f(p, "low"), f(r, "coef") - 1.96 * f(r, "se")));
        assert_eq!(p["reference"], "", "no causal effects measured without --causal");
    }
    // With a causal_effects.csv beside it, each row carries its causal effect as the reference.
    std::fs::write(
        dir.join("causal_effects.csv"),
        "sample,regressor,blocked_kinds,survey_coef,survey_se,treated_firm_years,treated_firms,matched,effect_on_treated,effect_on_treated_se,no_sales_without,gone_without\n\
         government_led,tech,joint_rd,0.1,0.05,40,20,30,0.8,0.1,0,10\n",
    )
    .unwrap();
    report::build(&dir, &report::Options::default()).unwrap();
    let plotted = rows(&charts.join("survey.csv"));
    let tech = plotted.iter().find(|p| p["panel"] == "government-led" && p["row"].starts_with("tech")).unwrap();
    assert!(close(f(tech, "reference_estimate"), 0.8) && close(f(tech, "reference_low"), 0.8 - 1.96 * 0.1));
    assert!(tech["reference"].contains("causal 0.80 (30 of 40 firm-years)"), "{}", tech["reference"]);
    assert_eq!(plotted.iter().filter(|p| !p["reference"].is_empty()).count(), 1);

    // Firm fates: shares of the firms founded in the run, recounted from the panel.
    let panel = rows(&dir.join("panel.csv"));
    let mut last: BTreeMap<String, &BTreeMap<String, String>> = BTreeMap::new();
    for r in panel.iter().filter(|r| r["origin"] != "initial") {
        last.insert(r["firm_id"].clone(), r); // rows are in year order: the last one wins
    }
    let n = last.len() as f64;
    let share =
        |pred: &dyn Fn(&BTreeMap<String, String>) -> bool| 100.0 * last.values().filter(|r| pred(r)).count() as f64 / n;
    let plotted = rows(&charts.join("fates.csv"));
    let all: BTreeMap<String, f64> = plotted
        .iter()
        .filter(|p| p["panel"].starts_with("all clusters"))
        .map(|p| (p["bar"].clone(), f(p, "value")))
        .collect();
    assert!(close(all.values().sum::<f64>(), 100.0));
    assert!(close(all["acquired"], share(&|r| r["status"] == "acquired")));
    assert!(close(all["failed"], share(&|r| r["status"] == "failed")));
    let mut history: BTreeMap<String, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for r in panel.iter().filter(|r| r["origin"] != "initial") {
        history.entry(r["firm_id"].clone()).or_default().push(r);
    }
    let dependent = history
        .values()
        .filter(|rows| {
            let r = rows[rows.len() - 1];
            let recent = &rows[rows.len().saturating_sub(3)..];
            let lic: f64 = recent.iter().map(|r| f(r, "sales_licensing_musd")).sum();
            let sales: f64 = recent.iter().map(|r| f(r, "sales_musd")).sum();
            r["status"] == "alive"
                && !(f(r, "sales_musd") > 0.0 && f(r, "sales_musd") >= f(r, "costs_musd"))
                && (recent.iter().any(|r| f(r, "alliances_pharma") > 0.0) || (sales > 0.0 && lic >= 0.5 * sales))
        })
        .count();
    assert!(close(all["pharma-dependent"], 100.0 * dependent as f64 / n));
    assert!(close(
        all["self-sustaining"],
        share(&|r| r["status"] == "alive" && f(r, "sales_musd") > 0.0 && f(r, "sales_musd") >= f(r, "costs_musd"))
    ));

    // Time series chart: each plotted value is the run's value for that cluster and year.
    let ts = rows(&dir.join("timeseries.csv"));
    let plotted = rows(&charts.join("timeseries.csv"));
    for p in plotted.iter().filter(|p| p["panel"] == "Firms alive") {
        // Series are named "<cluster> (<type>)".
        let cluster = p["series"].split(" (").next().unwrap();
        let t = ts.iter().find(|t| t["cluster"] == cluster && t["year"] == p["year"]).unwrap();
        assert!(close(f(t, "firms_alive"), f(p, "mid")));
    }
}

#[test]
fn calibration_fit_chart_plots_the_fit_table() {
    let dir = tempfile::tempdir().unwrap();
    let fit = "id,sample,specification,regressor,implied,target_sign,target_significant,target_estimate,target_se,sim_coef_mean,sim_se_mean,sim_t_mean,sign_match_rate,estimable_replications
L1,government_led,open_innovation,oi,false,+,true,0.4,0.1,0.342,0.101,3.47,0.81,100
L2,private_led,open_innovation,oi,false,0,false,,,0.092,0.082,1.14,0.66,100
";
    std::fs::write(dir.path().join("fit.csv"), fit).unwrap();
    std::fs::write(dir.path().join("calibrated.toml"), "[scenario]\nname = \"fixture\"\n").unwrap();
    let built = report::build(dir.path(), &report::Options::default()).unwrap();
    assert_eq!(built.kind, Kind::Calibration);
    let plotted = rows(&dir.path().join("charts/fit.csv"));
    assert_eq!(plotted.len(), 2);
    let l1 = &plotted[0];
    assert!(close(f(l1, "estimate"), 0.342) && close(f(l1, "high"), 0.342 + 1.96 * 0.101));
    assert!(close(f(l1, "reference_estimate"), 0.4) && close(f(l1, "reference_low"), 0.4 - 1.96 * 0.1));
    assert_eq!(l1["note"], "match 81 %");
    assert_eq!(plotted[1]["finding"], "target 0 n.s.");
    assert_eq!(plotted[1]["reference_estimate"], "");
}

#[test]
fn report_on_a_folder_without_outputs_or_with_a_bad_year_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_biocluster")).arg("report").arg(empty.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("holds no biocluster outputs") && msg.contains("timeseries.csv"), "{msg}");

    let run_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_biocluster"))
        .args(["run", "--quiet", "--network-years", "1990", "--out"])
        .arg(run_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("--network-years: 1990") && msg.contains("2000 to 2029"), "{msg}");
}

/// `--slides` writes every panel of every chart as a 16:9 picture, and the survey chart marks the
/// study's finding beside each coefficient.
#[test]
fn slides_are_single_panel_16_by_9_pictures() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_biocluster"))
        .args(["run", "--quiet", "--slides", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let dir = out.path().join("korea-default");
    let panels = rows(&dir.join("charts/timeseries.csv"))
        .iter()
        .map(|r| r["panel"].clone())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    for k in 1..=panels {
        let png = std::fs::read(dir.join(format!("slides/timeseries-{k}.png"))).unwrap();
        // PNG header: width and height, big-endian, at bytes 16..24.
        let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!((size(16), size(20)), (1280, 720));
    }
    assert!(!dir.join(format!("slides/timeseries-{}.png", panels + 1)).exists());
    let survey = rows(&dir.join("charts/survey.csv"));
    let oi = survey.iter().find(|r| r["panel"] == "government-led" && r["row"] == "open innovation").unwrap();
    assert_eq!(oi["finding"], "study: +, significant");
}

//! Stylized facts: every model value in facts.csv equals a recount from the run's own files
//! (panel.csv, timeseries.csv, network_nodes.csv, parsed here by hand, not through src/facts.rs);
//! an experiment's facts.csv aggregates its units; bad facts files are refused naming the key.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use biocluster::experiment::run::{Options, run, unit_facts_path};
use biocluster::experiment::seal::{Seal, write_seal};
use biocluster::facts::Facts;
use biocluster::run_output::write_run;

/// A CSV file without quoted fields (panel, time series, network): header -> column, rows.
fn plain_csv(path: &Path) -> (BTreeMap<String, usize>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').enumerate().map(|(i, h)| (h.to_string(), i)).collect();
    (header, lines.map(|l| l.split(',').map(str::to_string).collect()).collect())
}

/// facts.csv (sources are quoted) as maps from column to field.
fn facts_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(str::to_string)).collect()).collect()
}

/// A fact's parameters, read from the facts file's TOML directly.
struct Def {
    statistic: String,
    years: (i32, i32),
    threshold: f64,
    metrics: Vec<String>,
}

fn definitions(text: &str) -> BTreeMap<String, Def> {
    let table: toml::Table = text.parse().unwrap();
    table["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let years = f["years"].as_array().unwrap();
            let def = Def {
                statistic: f["statistic"].as_str().unwrap().to_string(),
                years: (years[0].as_integer().unwrap() as i32, years[1].as_integer().unwrap() as i32),
                threshold: f
                    .get("threshold")
                    .map_or(0.0, |t| t.as_float().or(t.as_integer().map(|i| i as f64)).unwrap()),
                metrics: f.get("metrics").map_or(Vec::new(), |m| {
                    m.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
                }),
            };
            (f["name"].as_str().unwrap().to_string(), def)
        })
        .collect()
}

/// The files of one run, parsed.
struct Files {
    panel: (BTreeMap<String, usize>, Vec<Vec<String>>),
    ts: (BTreeMap<String, usize>, Vec<Vec<String>>),
    nodes: (BTreeMap<String, usize>, Vec<Vec<String>>),
}

impl Files {
    fn read(dir: &Path) -> Files {
        Files {
            panel: plain_csv(&dir.join("panel.csv")),
            ts: plain_csv(&dir.join("timeseries.csv")),
            nodes: plain_csv(&dir.join("network_nodes.csv")),
        }
    }

    fn panel_num(&self, row: &[String], col: &str) -> f64 {
        row[self.panel.0[col]].parse().unwrap()
    }

    /// Share, among alive firm-years of the window passing `among`, of those passing `count`.
    fn share(
        &self,
        years: (i32, i32),
        among: impl Fn(&[String]) -> bool,
        count: impl Fn(&[String]) -> bool,
    ) -> Option<f64> {
        let (year, status) = (self.panel.0["year"], self.panel.0["status"]);
        let rows: Vec<&Vec<String>> = self
            .panel
            .1
            .iter()
            .filter(|r| {
                let y: i32 = r[year].parse().unwrap();
                y >= years.0 && y <= years.1 && r[status] == "alive" && among(r)
            })
            .collect();
        let k = rows.iter().filter(|r| count(r)).count();
        (!rows.is_empty()).then(|| k as f64 / rows.len() as f64)
    }

    fn ecosystem(&self, year: i32, metric: &str) -> Option<f64> {
        let (y, c, m) = (self.ts.0["year"], self.ts.0["cluster"], self.ts.0[metric]);
        self.ts.1.iter().find(|r| r[y] == year.to_string() && r[c] == "all").map(|r| r[m].parse().unwrap())
    }

    fn cv(&self, years: (i32, i32), firms: bool) -> Option<f64> {
        let (y, kind, degree) = (self.nodes.0["year"], self.nodes.0["kind"], self.nodes.0["degree"]);
        let d: Vec<f64> = self
            .nodes
            .1
            .iter()
            .filter(|r| {
                let year: i32 = r[y].parse().unwrap();
                year >= years.0 && year <= years.1 && (r[kind] == "firm") == firms
            })
            .map(|r| r[degree].parse().unwrap())
            .collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        if d.is_empty() || mean <= 0.0 {
            return None;
        }
        Some((d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / d.len() as f64).sqrt() / mean)
    }

    /// The fact recounted from the files; `None` where the window is not simulated or empty.
    fn recount(&self, def: &Def) -> Option<f64> {
        let year_col = self.ts.0["year"];
        let simulated: Vec<i32> = self.ts.1.iter().map(|r| r[year_col].parse().unwrap()).collect();
        let (first, last) = (*simulated.iter().min()?, *simulated.iter().max()?);
        let extra = if def.statistic == "survival_share" { def.threshold as i32 } else { 0 };
        if def.years.0 < first || def.years.1 + extra > last {
            return None;
        }
        let w = def.years;
        let t = def.threshold;
        let sales = |r: &[String]| self.panel_num(r, "sales_musd");
        let earns = |r: &[String]| sales(r) > 0.0;
        let all = |_: &[String]| true;
        let first_sales = |r: &[String]| r[self.panel.0["first_sales_year"]].parse::<i32>().ok();
        match def.statistic.as_str() {
            "pre_revenue_share" => self.share(w, all, |r| sales(r) == 0.0),
            "employees_below_share" => self.share(w, all, |r| self.panel_num(r, "employees") < t),
            "employees_at_least_share" => self.share(w, all, |r| self.panel_num(r, "employees") >= t),
            "listed_share" => self.share(w, all, |r| r[self.panel.0["listed"]] == "1"),
            "break_even_share" => self.share(w, earns, |r| sales(r) >= self.panel_num(r, "costs_musd")),
            "collaboration_share" => self.share(w, all, |r| {
                self.panel_num(r, "alliances_tech") + self.panel_num(r, "alliances_nontech")
                    - self.panel_num(r, "alliances_financing")
                    > 0.0
            }),
            "sales_below_share" => self.share(w, earns, |r| sales(r) < t),
            "sales_at_least_share" => self.share(w, earns, |r| sales(r) >= t),
            "revenue_years_at_least_share" => self.share(
                w,
                |r| earns(r) && first_sales(r).is_some(),
                |r| {
                    let year: i32 = r[self.panel.0["year"]].parse().unwrap();
                    f64::from(year - first_sales(r).unwrap()) >= t
                },
            ),
            "survival_share" => {
                let (id, year, origin, status) =
                    (self.panel.0["firm_id"], self.panel.0["year"], self.panel.0["origin"], self.panel.0["status"]);
                let mut founded: BTreeMap<&str, i32> = BTreeMap::new();
                for r in self.panel.1.iter().filter(|r| r[origin] != "initial") {
                    let y: i32 = r[year].parse().unwrap();
                    founded.entry(&r[id]).and_modify(|f| *f = (*f).min(y)).or_insert(y);
                }
                let cohort: BTreeMap<&str, i32> = founded.into_iter().filter(|(_, y)| *y >= w.0 && *y <= w.1).collect();
                let alive = self
                    .panel
                    .1
                    .iter()
                    .filter(|r| r[status] == "alive")
                    .filter(|r| cohort.get(r[id].as_str()).is_some_and(|f| r[year] == (f + t as i32).to_string()))
                    .count();
                (!cohort.is_empty()).then(|| alive as f64 / cohort.len() as f64)
            }
            "per_1000_firms" => {
                let (mut events, mut firms) = (0.0, 0.0);
                for year in w.0..=w.1 {
                    events += def.metrics.iter().map(|m| self.ecosystem(year, m).unwrap()).sum::<f64>();
                    firms += self.ecosystem(year, "firms_alive").unwrap();
                }
                (firms > 0.0).then(|| 1000.0 * events / firms)
            }
            "per_firm" => {
                let (mut total, mut firms) = (0.0, 0.0);
                for year in w.0..=w.1 {
                    total += self.ecosystem(year, &def.metrics[0]).unwrap();
                    firms += self.ecosystem(year, "firms_alive").unwrap();
                }
                (firms > 0.0).then(|| total / firms)
            }
            "growth_ratio" => {
                let from = self.ecosystem(w.0, &def.metrics[0])?;
                (from != 0.0).then(|| self.ecosystem(w.1, &def.metrics[0]).unwrap() / from)
            }
            "firm_degree_cv" => self.cv(w, true),
            "partner_degree_cv" => self.cv(w, false),
            "degree_cv_ratio" => {
                let firms = self.cv(w, true)?;
                (firms > 0.0).then_some(self.cv(w, false)? / firms)
            }
            other => panic!("the test does not know statistic {other}"),
        }
    }
}

/// The embedded default cut at 2021 (the last year any Korea fact needs), replication `r`, written
/// to `dir` with `facts`; returns the facts' in-memory values.
fn run_into(dir: &Path, replication: u64, facts: &Facts) -> Vec<Option<f64>> {
    let scenario = common::edited(|raw| raw.scenario.years = 22);
    let record = common::run(&scenario, replication);
    write_run(dir, &scenario, replication, &record, facts).unwrap();
    facts.evaluate(&record)
}

fn check_recount(dir: &Path, facts: &Facts, values: &[Option<f64>]) -> usize {
    let files = Files::read(dir);
    let defs = definitions(&facts.text);
    let written = facts_rows(&dir.join("facts.csv"));
    assert_eq!(written.len(), facts.facts.len());
    let mut computed = 0;
    for ((fact, value), row) in facts.facts.iter().zip(values).zip(&written) {
        assert_eq!(row["fact"], fact.name);
        let recount = files.recount(&defs[&fact.name]);
        match (recount, value) {
            (Some(a), Some(b)) => {
                // The panel rounds to 6 decimals, so a mean of large values can differ in its 10th digit.
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{}: recount {a} vs model {b}", fact.name);
                let shown: f64 = row["model_value"].parse().unwrap();
                assert!((shown - b).abs() <= 5e-7, "{}: facts.csv {shown} vs {b}", fact.name);
                let (low, high): (f64, f64) = (row["band_low"].parse().unwrap(), row["band_high"].parse().unwrap());
                assert_eq!(row["hit"], if low <= *b && *b <= high { "1" } else { "0" }, "{}", fact.name);
                computed += 1;
            }
            (None, None) => assert_eq!((row["model_value"].as_str(), row["hit"].as_str()), ("NA", "NA")),
            (a, b) => panic!("{}: recount {a:?} vs model {b:?}", fact.name),
        }
    }
    computed
}

#[test]
fn facts_csv_equals_a_recount_from_the_run_files() {
    let facts = Facts::embedded();
    let mut computed = 0;
    for replication in [0, 1] {
        let dir = tempfile::tempdir().unwrap();
        let values = run_into(dir.path(), replication, &facts);
        computed += check_recount(dir.path(), &facts, &values);
    }
    // Everything but what the model does not produce yet (first_sales_year is still empty).
    assert!(computed >= 2 * (facts.facts.len() - 1), "only {computed} facts computable in two replications");
}

/// A facts file exercising the edges: a window the run does not reach (NA), one-year windows,
/// thresholds at the edges of the data, a band open above.
const EDGE_FACTS: &str = r#"
description = "test facts"
[[facts]]
name = "future"
statistic = "listed_share"
description = "after the run"
source = "test"
data_year = 2030
data_value = 0.5
band = [0.0, 1.0]
years = [2030, 2031]
[[facts]]
name = "all_small"
statistic = "employees_below_share"
threshold = 1e9
description = "every firm"
source = "test, with a comma"
data_year = 2010
data_value = 1.0
band = [1.0, inf]
years = [2010, 2010]
[[facts]]
name = "any_sales"
statistic = "sales_at_least_share"
threshold = 0.0
description = "every revenue-earning firm"
source = "test \"quoted\""
data_year = 2010
data_value = 1.0
band = [-inf, 0.5]
years = [2001, 2001]
[[facts]]
name = "survival_1y"
statistic = "survival_share"
threshold = 1
description = "one-year survival"
source = "test"
data_year = 2010
data_value = 0.9
band = [0.5, 1.0]
years = [2001, 2020]
[[facts]]
name = "spinoffs"
statistic = "per_1000_firms"
metrics = ["entries_spinoff", "entries_startup"]
description = "entries"
source = "test"
data_year = 2010
data_value = 10
band = [0, 1000]
years = [2000, 2000]
[[facts]]
name = "employment_growth"
statistic = "growth_ratio"
metrics = ["employment"]
description = "employment"
source = "test"
data_year = 2010
data_value = 1
band = [0, 10]
years = [2000, 2021]
"#;

#[test]
fn edge_windows_and_thresholds_recount_too() {
    let facts = Facts::parse(EDGE_FACTS, "edge.toml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let values = run_into(dir.path(), 0, &facts);
    assert_eq!(values[0], None, "a window after the run is not computable");
    assert_eq!(values[1], Some(1.0));
    assert_eq!(values[2], Some(1.0));
    assert_eq!(check_recount(dir.path(), &facts, &values), 5);
    let rows = facts_rows(&dir.path().join("facts.csv"));
    assert_eq!(rows[1]["source"], "test, with a comma");
    assert_eq!(rows[2]["source"], "test \"quoted\"");
    assert_eq!((rows[1]["band_high"].as_str(), rows[1]["hit"].as_str()), ("inf", "1"));
    assert_eq!((rows[2]["band_low"].as_str(), rows[2]["hit"].as_str()), ("-inf", "0"));
}

const EXPERIMENT: &str = r#"
[scenario]
name = "facts-experiment"
years = 22

[experiment]
replications = 7

[[experiment.variants]]
name = "rich_grants"
[experiment.variants.set]
"policies.national_rd_grants.budget_musd_per_year" = 60.0
"#;

#[test]
fn an_experiment_aggregates_its_units_facts() {
    let exp = common::experiment(EXPERIMENT);
    let dir = tempfile::tempdir().unwrap();
    run(&exp, dir.path(), &Options { threads: Some(2), resume: false, quiet: true }).unwrap();
    let summary = facts_rows(&dir.path().join("facts.csv"));
    assert_eq!(summary.len(), 2 * exp.facts.facts.len());
    for (v, variant) in exp.variants.iter().enumerate() {
        for (i, fact) in exp.facts.facts.iter().enumerate() {
            let mut values = Vec::new();
            let mut hits = 0;
            for r in 0..exp.replications {
                let unit = facts_rows(&unit_facts_path(dir.path(), &exp, v, r));
                assert_eq!(unit[i]["fact"], fact.name);
                if unit[i]["model_value"] != "NA" {
                    values.push(unit[i]["model_value"].parse::<f64>().unwrap());
                    hits += usize::from(unit[i]["hit"] == "1");
                }
            }
            let row = summary.iter().find(|r| r["variant"] == variant.name && r["fact"] == fact.name).unwrap();
            assert_eq!(row["n"], values.len().to_string(), "{} {}", variant.name, fact.name);
            if values.is_empty() {
                assert_eq!(row["mean"], "NA");
                continue;
            }
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let f = |c: &str| row[c].parse::<f64>().unwrap();
            assert!((f("mean") - mean).abs() < 1e-6, "{} {}: mean {} vs {mean}", variant.name, fact.name, f("mean"));
            assert!((f("share_in_band") - hits as f64 / values.len() as f64).abs() < 1e-6);
            // Quantiles are exact (R's type 7) for this few replications.
            values.sort_by(f64::total_cmp);
            let quantile = |p: f64| {
                let h = (values.len() - 1) as f64 * p;
                let lo = h.floor() as usize;
                values[lo] + (h - lo as f64) * (values[(lo + 1).min(values.len() - 1)] - values[lo])
            };
            assert!((f("p5") - quantile(0.05)).abs() < 1e-6, "{row:?}");
            assert!((f("p95") - quantile(0.95)).abs() < 1e-6, "{row:?}");
        }
    }
    // A unit's facts are those of the single run of the same scenario and replication.
    let single = tempfile::tempdir().unwrap();
    let scenario = &exp.variants[0].scenario;
    let record = common::run(scenario, 3);
    write_run(single.path(), scenario, 3, &record, &exp.facts).unwrap();
    assert_eq!(
        std::fs::read(single.path().join("facts.csv")).unwrap(),
        std::fs::read(unit_facts_path(dir.path(), &exp, 0, 3)).unwrap()
    );
}

#[test]
fn resume_refuses_another_facts_file_and_reruns_units_without_facts() {
    let exp = common::experiment(&EXPERIMENT.replace("replications = 7", "replications = 2"));
    let dir = tempfile::tempdir().unwrap();
    let options = Options { threads: Some(2), resume: false, quiet: true };
    run(&exp, dir.path(), &options).unwrap();
    let before = std::fs::read(dir.path().join("facts.csv")).unwrap();

    let other = exp.clone().with_facts(Facts::parse(EDGE_FACTS, "edge.toml").unwrap());
    let err = run(&other, dir.path(), &Options { resume: true, ..options.clone() }).unwrap_err().to_string();
    assert!(err.contains("different experiment") && err.contains("facts file"), "{err}");

    // A unit whose facts file is gone (an older run, a crash between the two writes) runs again.
    std::fs::remove_file(unit_facts_path(dir.path(), &exp, 1, 1)).unwrap();
    let report = run(&exp, dir.path(), &Options { resume: true, ..options }).unwrap();
    assert_eq!((report.units_run, report.units_reused), (1, 3));
    assert_eq!(std::fs::read(dir.path().join("facts.csv")).unwrap(), before);
}

#[test]
fn a_damaged_unit_facts_file_is_named() {
    let exp = common::experiment(&EXPERIMENT.replace("replications = 7", "replications = 1"));
    let dir = tempfile::tempdir().unwrap();
    let options = Options { threads: Some(1), resume: false, quiet: true };
    run(&exp, dir.path(), &options).unwrap();
    let path = unit_facts_path(dir.path(), &exp, 1, 0);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("pre_revenue_share", "something_else", 1);
    std::fs::write(&path, &edited).unwrap();
    let err = biocluster::experiment::run::aggregate(&exp, dir.path()).unwrap_err().to_string();
    assert!(err.contains("rep-000000.facts.csv") && err.contains("sha256"), "{err}");
    // Sealed again (as a file of another facts file would be), its contents are still checked.
    let unit = biocluster::experiment::seal::UnitBytes {
        facts: edited.into_bytes(),
        series: std::fs::read(biocluster::experiment::run::unit_path(dir.path(), &exp, 1, 0)).unwrap(),
        survey: std::fs::read(biocluster::experiment::run::unit_survey_path(dir.path(), &exp, 1, 0)).unwrap(),
    };
    let seal = Seal::new(&exp, 1, 0, &unit);
    write_seal(dir.path(), &exp, 1, 0, &seal).unwrap();
    let err = biocluster::experiment::run::aggregate(&exp, dir.path()).unwrap_err().to_string();
    assert!(err.contains("rep-000000.facts.csv") && err.contains("pre_revenue_share"), "{err}");
}

fn biocluster(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_biocluster")).args(args).output().unwrap()
}

/// Each fixture in tests/fixtures/invalid_facts/ starts with `# expect: <text the error must
/// contain>`; the library and both commands taking `--facts` refuse it, naming the file and key.
#[test]
fn bad_facts_files_are_refused_naming_the_file_and_key() {
    let dir = Path::new("tests/fixtures/invalid_facts");
    let mut fixtures: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    fixtures.sort();
    assert!(fixtures.len() >= 8, "fixtures missing");
    let out = tempfile::tempdir().unwrap();
    for path in fixtures {
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).expect("first line names the key");
        let file = path.display().to_string();
        let lib = Facts::load(&path).expect_err("fixture must be invalid").to_string();
        assert!(
            lib.contains(expect) && lib.contains(&file),
            "{file}: error does not name `{expect}` and the file:\n{lib}"
        );

        for args in [
            vec!["run", "--quiet", "--no-report", "--facts", &file, "--out", out.path().to_str().unwrap()],
            vec![
                "calibrate",
                "scenarios/calibration/korea.toml",
                "--targets",
                "scenarios/targets/lee_korea_bioclusters.toml",
                "--facts",
                &file,
                "--quiet",
                "--out",
                out.path().to_str().unwrap(),
            ],
        ] {
            let output = biocluster(&args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{file} ({}): exit code, stderr:\n{stderr}", args[0]);
            assert!(stderr.contains(expect), "{file} ({}): stderr does not name `{expect}`:\n{stderr}", args[0]);
            assert!(!stderr.contains("panicked"), "{file}: panic:\n{stderr}");
        }
    }
    let missing = biocluster(&["run", "--quiet", "--facts", "no/such/facts.toml"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr.contains("cannot read facts file") && stderr.contains("no/such/facts.toml"), "{stderr}");
}

#[test]
fn a_run_with_another_facts_file_writes_its_facts_and_the_report_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("edge.toml");
    std::fs::write(&facts, EDGE_FACTS).unwrap();
    let scenario = dir.path().join("short.toml");
    std::fs::write(&scenario, "[scenario]\nname = \"short\"\nyears = 22\n").unwrap();
    let output = biocluster(&[
        "run",
        scenario.to_str().unwrap(),
        "--facts",
        facts.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("stylized facts: ") && stderr.contains("(1 not computable)"), "{stderr}");
    let run = dir.path().join("short");
    let rows = facts_rows(&run.join("facts.csv"));
    assert_eq!(rows.iter().map(|r| r["fact"].as_str()).collect::<Vec<_>>()[..2], ["future", "all_small"]);
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let facts_at = html.find("Stylized facts").expect("the report has a facts table");
    assert!(facts_at < html.find("<h2>Charts</h2>").unwrap(), "the facts table comes before the charts");
    for name in ["future", "all_small", "any_sales", "survival_1y", "spinoffs", "employment_growth"] {
        assert!(html.contains(&format!("<td>{name}</td>")), "{name} missing from the report");
    }
    assert!(html.contains("not computable") && html.contains("class=\"hit\"") && html.contains("class=\"miss\""));
}

//! The teaching guide's answer key against fresh runs: docs/teaching-answers.md ends with a table of
//! numbers ("Numbers rechecked by tests/teaching.rs", `| `id` | value | where |`); this test reruns the
//! commands they come from through the binary, computes each number as the key says it was measured,
//! rounds it as the table writes it and requires the same text. A number the table lists and the test
//! does not compute, or one the test computes and the table does not list, fails too, so the key and
//! the test cannot drift apart. Outputs are bit-reproducible for a scenario, seed and replication, so
//! the comparisons are exact.
//!
//! Cost: single runs of the default (6), the calibrated scenario and Belgium (3, with charts), and
//! experiments of 100 default replications, the grant sweep (6 x 40) and Beijing with and without the
//! plant effect (40 each; replication 0 is the exercise's single run): about 20 s of CPU in release
//! mode, in five threads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

type Row = BTreeMap<String, String>;
type Numbers = Vec<(String, f64)>;

/// Runs `biocluster run ARGS --quiet --out DIR` into a fresh folder under `tmp` and returns the run's
/// output folder (the only folder the run writes there).
fn run(tmp: &Path, args: &[&str], report: bool) -> PathBuf {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let out = tmp.join(format!("run-{}", RUNS.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir(&out).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_biocluster"));
    cmd.arg("run").args(args).args(["--quiet", "--out"]).arg(&out);
    if !report {
        cmd.arg("--no-report");
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "run {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    let dirs: Vec<PathBuf> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    assert_eq!(dirs.len(), 1, "run {args:?} wrote {dirs:?}");
    dirs.into_iter().next().unwrap()
}

/// A scenario file of the repository, edited: each `(from, to)` must occur exactly once; `append` is
/// added at the end. Written under `tmp`; returns its path.
fn edited(tmp: &Path, name: &str, scenario: &str, edits: &[(&str, &str)], append: &str) -> String {
    let mut text = std::fs::read_to_string(format!("{ROOT}/{scenario}")).unwrap();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "{scenario}: `{from}`");
        text = text.replace(from, to);
    }
    text.push_str(append);
    let path = tmp.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn scenario(path: &str) -> String {
    format!("{ROOT}/{path}")
}

/// Rows of a CSV file without quoted fields, as maps from column to field.
fn rows(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{}: {l}", path.display());
            header.iter().cloned().zip(fields.into_iter().map(str::to_string)).collect()
        })
        .collect()
}

fn num(row: &Row, col: &str) -> f64 {
    row.get(col).unwrap_or_else(|| panic!("no column `{col}`")).parse().unwrap_or_else(|_| panic!("`{col}` in {row:?}"))
}

/// The value of `col` in the time-series row of `year` and `cluster`.
fn at(ts: &[Row], year: u32, cluster: &str, col: &str) -> f64 {
    let year = year.to_string();
    let row =
        ts.iter().find(|r| r["year"] == year && r["cluster"] == cluster).unwrap_or_else(|| panic!("{year} {cluster}"));
    num(row, col)
}

/// `col` of `cluster` summed over the years of `years`.
fn sum(ts: &[Row], years: std::ops::RangeInclusive<u32>, cluster: &str, col: &str) -> f64 {
    years.map(|y| at(ts, y, cluster, col)).sum()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// The per-replication time series of an experiment's variant, in replication order.
fn replication_series(dir: &Path, variant: &str) -> Vec<Vec<Row>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("replications").join(variant))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("rep-")
                && name.ends_with(".csv")
                && !name.contains(".facts.")
                && !name.contains(".survey.")
        })
        .collect();
    files.sort();
    files.iter().map(|f| rows(f)).collect()
}

/// The t statistic of a regressor in `regressions.csv`.
fn t(dir: &Path, sample: &str, regressor: &str) -> f64 {
    let specification = if regressor == "oi" { "open_innovation" } else { "cooperation" };
    let all = rows(&dir.join("regressions.csv"));
    let row = all
        .iter()
        .find(|r| r["sample"] == sample && r["specification"] == specification && r["regressor"] == regressor)
        .unwrap_or_else(|| panic!("{}: {sample} {regressor}", dir.display()));
    num(row, "t")
}

/// Services and manufacturing revenue per firm-year in 2025-2029 over some of Beijing's bases.
fn per_firm(ts: &[Row], bases: &[&str]) -> f64 {
    let revenue: f64 = bases.iter().map(|b| sum(ts, 2025..=2029, b, "revenue_services_musd")).sum();
    let firms: f64 = bases.iter().map(|b| sum(ts, 2025..=2029, b, "firms_alive")).sum();
    revenue / firms
}

const NORTH: [&str; 2] = ["zgc_life_science_park", "haidian_park"];
const SOUTH: [&str; 2] = ["daxing_biomedicine_base", "yizhuang_bda"];

/// The `all clusters` panel of a run's fates chart: the number of new firms and each bar's share.
fn fates(dir: &Path) -> (f64, BTreeMap<String, f64>) {
    let text = std::fs::read_to_string(dir.join("charts/fates.csv")).unwrap();
    let mut founded = f64::NAN;
    let mut bars = BTreeMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if let Some(rest) = fields[0].strip_prefix("all clusters (") {
            founded = rest.split(' ').next().unwrap().parse().unwrap();
            bars.insert(fields[1].to_string(), fields[2].parse().unwrap());
        }
    }
    assert!(founded.is_finite() && bars.len() == 5, "{}: {bars:?}", dir.display());
    (founded, bars)
}

fn put(numbers: &mut Numbers, id: &str, value: f64) {
    numbers.push((id.to_string(), value));
}

/// Exercises 1, 2 and 5: single runs of the default scenario and of the calibrated one.
fn single_runs(tmp: &Path) -> Numbers {
    let mut n = Numbers::new();
    let dir = run(tmp, &[], false);
    let ts = rows(&dir.join("timeseries.csv"));
    for cluster in ["osong_daegu", "songdo_pangyo"] {
        put(&mut n, &format!("ex1.firms_2000.{cluster}"), at(&ts, 2000, cluster, "firms_alive"));
        put(&mut n, &format!("ex1.firms_2029.{cluster}"), at(&ts, 2029, cluster, "firms_alive"));
    }
    put(&mut n, "ex1.firms_2029.all", at(&ts, 2029, "all", "firms_alive"));
    put(&mut n, "ex1.approvals_total", sum(&ts, 2000..=2029, "all", "approvals"));
    put(&mut n, "ex1.revenue_2029.songdo_pangyo", at(&ts, 2029, "songdo_pangyo", "revenue_total_musd"));
    put(&mut n, "ex1.products_marketed_2000", at(&ts, 2000, "all", "products_marketed"));

    let nodes = rows(&dir.join("network_nodes.csv"));
    for year in ["2010", "2029"] {
        let firms: Vec<&Row> = nodes.iter().filter(|r| r["year"] == year && r["kind"] == "firm").collect();
        let without = firms.iter().filter(|r| r["degree"] == "0").count();
        put(&mut n, &format!("ex1.no_tie_pct_{year}"), 100.0 * without as f64 / firms.len() as f64);
    }
    let instruments = rows(&dir.join("instruments.csv"));
    let total = |instrument: &str, col: &str| -> f64 {
        instruments.iter().filter(|r| r["instrument"] == instrument).map(|r| num(r, col)).sum()
    };
    put(&mut n, "ex1.grants_asked", total("national_rd_grants", "demand_musd"));
    put(&mut n, "ex1.grants_paid", total("national_rd_grants", "paid_musd"));
    put(&mut n, "ex1.tax_credit_asked", total("rd_tax_credit", "demand_musd"));
    put(&mut n, "ex1.tax_credit_paid", total("rd_tax_credit", "paid_musd"));
    for (sample, regressor) in [
        ("government_led", "oi"),
        ("government_led", "tech"),
        ("government_led", "nontech"),
        ("private_led", "oi"),
        ("private_led", "tech"),
        ("private_led", "nontech"),
    ] {
        put(&mut n, &format!("ex5.t.{sample}.{regressor}"), t(&dir, sample, regressor));
    }

    let ts = rows(&run(tmp, &["--seed", "7"], false).join("timeseries.csv"));
    for cluster in ["osong_daegu", "songdo_pangyo"] {
        put(&mut n, &format!("ex1.seed7.{cluster}"), at(&ts, 2029, cluster, "firms_alive"));
    }
    let ts = rows(&run(tmp, &["--replication", "1"], false).join("timeseries.csv"));
    put(&mut n, "ex2.rep1_all", at(&ts, 2029, "all", "firms_alive"));
    let ts = rows(&run(tmp, &["--replication", "2"], false).join("timeseries.csv"));
    put(&mut n, "ex2.rep2_all", at(&ts, 2029, "all", "firms_alive"));
    for cluster in ["osong_daegu", "songdo_pangyo"] {
        put(&mut n, &format!("ex2.rep2.{cluster}"), at(&ts, 2029, cluster, "firms_alive"));
    }

    let dir = run(tmp, &["--replication", "3"], false);
    put(&mut n, "ex5.rep3.t.private_led.oi", t(&dir, "private_led", "oi"));
    put(&mut n, "ex5.rep3.t.private_led.nontech", t(&dir, "private_led", "nontech"));
    let dir = run(tmp, &["--replication", "8"], false);
    put(&mut n, "ex5.rep8.t.government_led.oi", t(&dir, "government_led", "oi"));
    put(&mut n, "ex5.rep8.t.government_led.tech", t(&dir, "government_led", "tech"));
    put(&mut n, "ex5.rep8.t.private_led.nontech", t(&dir, "private_led", "nontech"));
    let calibrated = scenario("scenarios/calibrated/korea.toml");
    let dir = run(tmp, &[calibrated.as_str(), "--replication", "3"], false);
    put(&mut n, "ex5.calibrated_rep3.t.private_led.oi", t(&dir, "private_led", "oi"));
    put(&mut n, "ex5.calibrated_rep3.t.government_led.oi", t(&dir, "government_led", "oi"));
    n
}

/// Exercises 1, 2 and 5: the default world's 100 histories (the baseline of exercise 2's experiment).
fn hundred_histories(tmp: &Path) -> Numbers {
    let mut n = Numbers::new();
    let file = tmp.join("teach-spread.toml");
    std::fs::write(&file, "[scenario]\nname = \"teach-spread\"\n\n[experiment]\nreplications = 100\n").unwrap();
    let dir = run(tmp, &[file.to_str().unwrap()], false);

    let reps: Vec<Row> =
        rows(&dir.join("replications.csv")).into_iter().filter(|r| r["variant"] == "baseline").collect();
    assert_eq!(reps.len(), 100);
    let ahead = reps.iter().filter(|r| num(r, "songdo_pangyo.firms_alive") > num(r, "osong_daegu.firms_alive")).count();
    put(&mut n, "ex1.private_ahead_of_100", ahead as f64);
    let rep0 = reps.iter().find(|r| r["replication"] == "0").unwrap();
    let below = reps.iter().filter(|r| num(r, "all.firms_alive") < num(rep0, "all.firms_alive")).count();
    put(&mut n, "ex1.below_rep0_of_100", below as f64);
    put(&mut n, "ex1.exact_median_all", median(reps.iter().map(|r| num(r, "all.firms_alive")).collect()));
    put(
        &mut n,
        "ex1.exact_median_songdo_pangyo",
        median(reps.iter().map(|r| num(r, "songdo_pangyo.firms_alive")).collect()),
    );

    let series = replication_series(&dir, "baseline");
    assert_eq!(series.len(), 100);
    let falls = series
        .iter()
        .filter(|ts| {
            ["osong_daegu", "songdo_pangyo"]
                .iter()
                .all(|c| at(ts, 2029, c, "revenue_total_musd") < at(ts, 2005, c, "revenue_total_musd"))
        })
        .count();
    put(&mut n, "ex1.revenue_falls_of_100", falls as f64);
    put(
        &mut n,
        "ex1.median_approvals",
        median(series.iter().map(|ts| sum(ts, 2000..=2029, "all", "approvals")).collect()),
    );

    let aggregate = rows(&dir.join("aggregate.csv"));
    let quantile = |cluster: &str, q: &str| -> f64 {
        let row = aggregate
            .iter()
            .find(|r| {
                r["variant"] == "baseline"
                    && r["year"] == "2029"
                    && r["cluster"] == cluster
                    && r["metric"] == "firms_alive"
            })
            .unwrap();
        num(row, q)
    };
    for q in ["q05", "q25", "q50", "q75", "q95"] {
        put(&mut n, &format!("ex2.{q}_all"), quantile("all", q));
    }
    for q in ["q05", "q50", "q95"] {
        put(&mut n, &format!("ex2.{q}_osong_daegu"), quantile("osong_daegu", q));
    }

    for r in rows(&dir.join("survey_shares.csv")).iter().filter(|r| r["variant"] == "baseline") {
        if ["L1", "L2", "L3", "L4", "all_stated"].contains(&r["finding"].as_str()) {
            put(&mut n, &format!("ex5.holds.{}", r["finding"]), num(r, "holds"));
        }
    }
    n
}

/// Exercise 4: the grant sweep as shipped.
fn grant_sweep(tmp: &Path) -> Numbers {
    let mut n = Numbers::new();
    let sweep = scenario("scenarios/whatif/korea_grant_sweep.toml");
    let dir = run(tmp, &[sweep.as_str()], false);
    let budget: BTreeMap<String, String> = rows(&dir.join("variants.csv"))
        .into_iter()
        .filter(|r| r["variant"] != "baseline")
        .map(|r| {
            let b = num(&r, "set.policies.national_rd_grants.budget_musd_per_year");
            (r["variant"].clone(), format!("{b}"))
        })
        .collect();
    assert_eq!(budget.len(), 5, "{budget:?}");
    for r in rows(&dir.join("aggregate.csv")) {
        if r["year"] == "2029"
            && r["cluster"] == "all"
            && r["metric"] == "firms_alive"
            && let Some(b) = budget.get(&r["variant"])
        {
            put(&mut n, &format!("ex4.median.{b}"), num(&r, "q50"));
        }
    }
    for r in rows(&dir.join("effects.csv")) {
        if r["cluster"] == "all" && r["metric"] == "firms_alive" {
            let b = &budget[&r["variant"]];
            if ["0", "40", "80"].contains(&b.as_str()) {
                put(&mut n, &format!("ex4.extra_public.{b}"), num(&r, "extra_public_musd"));
            }
            if ["0", "40"].contains(&b.as_str()) {
                put(&mut n, &format!("ex4.firms_effect.{b}"), num(&r, "effect"));
            }
        }
    }
    n
}

/// Exercise 6: Belgium as shipped, without pharma scouting and with more takeovers (single runs).
fn belgium(tmp: &Path) -> Numbers {
    let mut n = Numbers::new();
    let shipped = scenario("scenarios/belgium/belgium.toml");
    let dir = run(tmp, &[shipped.as_str()], true);
    let (founded, bars) = fates(&dir);
    put(&mut n, "ex6.new_firms", founded);
    for (id, bar) in [
        ("failed_pct", "failed"),
        ("acquired_pct", "acquired"),
        ("self_sustaining_pct", "self-sustaining"),
        ("pharma_dependent_pct", "pharma-dependent"),
        ("funded_pct", "funded"),
    ] {
        put(&mut n, &format!("ex6.{id}"), bars[bar]);
    }
    let ts = rows(&dir.join("timeseries.csv"));
    put(&mut n, "ex6.takeovers", sum(&ts, 2000..=2029, "all", "acquisitions"));

    let file = edited(
        tmp,
        "noscout.toml",
        "scenarios/belgium/belgium.toml",
        &[("scouting_per_year = 3.0", "scouting_per_year = 0.0")],
        "",
    );
    let (_, bars) = fates(&run(tmp, &[file.as_str()], true));
    put(&mut n, "ex6.noscout.pharma_dependent_pct", bars["pharma-dependent"]);
    put(&mut n, "ex6.noscout.failed_pct", bars["failed"]);
    let file =
        edited(tmp, "takeover.toml", "scenarios/belgium/belgium.toml", &[], "\n[exit]\ntakeover_rate_per_year = 0.3\n");
    let (_, bars) = fates(&run(tmp, &[file.as_str()], true));
    put(&mut n, "ex6.takeover.acquired_pct", bars["acquired"]);
    n
}

/// Exercise 7: Beijing's 40 histories with and without the plant effect (replication 0 is the
/// single run of the exercise).
fn beijing(tmp: &Path) -> Numbers {
    let mut n = Numbers::new();
    let experiment = "\n[experiment]\nreplications = 40\n";
    let plants = edited(tmp, "beijing.toml", "scenarios/beijing/beijing.toml", &[], experiment);
    let series = replication_series(&run(tmp, &[plants.as_str()], false), "baseline");
    assert_eq!(series.len(), 40);
    let rep0 = &series[0];
    let founded = |bases: &[&str]| -> f64 {
        bases
            .iter()
            .map(|b| {
                sum(rep0, 2000..=2029, b, "entries_spinoff")
                    + sum(rep0, 2000..=2029, b, "entries_spinout")
                    + sum(rep0, 2000..=2029, b, "entries_startup")
            })
            .sum()
    };
    put(&mut n, "ex7.founded_north", founded(&NORTH));
    put(&mut n, "ex7.founded_all", founded(&NORTH) + founded(&SOUTH));
    put(&mut n, "ex7.per_firm.north", per_firm(rep0, &NORTH));
    put(&mut n, "ex7.per_firm.south", per_firm(rep0, &SOUTH));
    let ahead = series.iter().filter(|ts| per_firm(ts, &SOUTH) > per_firm(ts, &NORTH)).count();
    put(&mut n, "ex7.south_ahead_of_40", ahead as f64);

    let no_plants = edited(
        tmp,
        "beijing-noplant.toml",
        "scenarios/beijing/beijing.toml",
        &[("service_market_infrastructure = 3.0", "service_market_infrastructure = 0.0")],
        experiment,
    );
    let series = replication_series(&run(tmp, &[no_plants.as_str()], false), "baseline");
    assert_eq!(series.len(), 40);
    put(&mut n, "ex7.noplant.per_firm.north", per_firm(&series[0], &NORTH));
    put(&mut n, "ex7.noplant.per_firm.south", per_firm(&series[0], &SOUTH));
    let ahead = series.iter().filter(|ts| per_firm(ts, &SOUTH) > per_firm(ts, &NORTH)).count();
    put(&mut n, "ex7.noplant.south_ahead_of_40", ahead as f64);
    n
}

/// The table at the end of the answer key: id -> the value as written.
fn key() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/teaching-answers.md")).unwrap();
    let section =
        doc.split("## Numbers rechecked by tests/teaching.rs").nth(1).expect("the key's table of rechecked numbers");
    let section = section.split("\n## ").next().unwrap();
    let mut table = BTreeMap::new();
    for line in section.lines() {
        if let Some(rest) = line.strip_prefix("| `") {
            let (id, rest) = rest.split_once("` | ").unwrap_or_else(|| panic!("malformed row: {line}"));
            let value = rest.split(" |").next().unwrap().trim().to_string();
            assert!(table.insert(id.to_string(), value).is_none(), "`{id}` listed twice");
        }
    }
    assert!(table.len() >= 40, "the key's table has only {} rows", table.len());
    table
}

/// `value` rounded to as many decimals as `written` has.
fn as_written(value: f64, written: &str) -> String {
    let decimals = written.split_once('.').map_or(0, |(_, d)| d.len());
    let text = format!("{value:.decimals$}");
    if text.starts_with("-0") && text.trim_start_matches(['-', '0', '.']).is_empty() {
        text[1..].to_string()
    } else {
        text
    }
}

#[test]
fn the_answer_keys_numbers_come_out_of_fresh_runs() {
    let table = key();
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let parts: Vec<fn(&Path) -> Numbers> = vec![single_runs, hundred_histories, grant_sweep, belgium, beijing];
    let computed: Vec<(String, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = parts.iter().map(|part| s.spawn(move || part(tmp))).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });

    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (id, value) in &computed {
        assert!(seen.insert(id.clone()), "`{id}` computed twice");
        match table.get(id) {
            None => problems.push(format!("`{id}` = {value} is computed but not in the key's table")),
            Some(written) => {
                let fresh = as_written(*value, written);
                if &fresh != written {
                    problems.push(format!("`{id}`: the key says {written}, a fresh run gives {fresh} ({value})"));
                }
            }
        }
    }
    for id in table.keys().filter(|id| !seen.contains(*id)) {
        problems.push(format!("`{id}` is in the key's table but not rechecked here"));
    }
    assert!(problems.is_empty(), "docs/teaching-answers.md is out of date:\n{}", problems.join("\n"));
}

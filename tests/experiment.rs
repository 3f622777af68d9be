//! Monte Carlo experiments: thread-count independence, interrupt + resume, sweeps, aggregation.

mod common;

use std::path::Path;
use std::process::Command;

use biocluster::Scenario;
use biocluster::experiment::Experiment;
use biocluster::experiment::run::{Options, run};
use common::experiment;

const SMALL: &str = r#"
[scenario]
name = "small-experiment"
years = 8

[experiment]
replications = 6

[[experiment.variants]]
name = "more_searches"
[experiment.variants.set]
"alliances.searches_per_year" = 0.9

[[experiment.variants]]
name = "rich_grants"
[experiment.variants.set]
"policies.national_rd_grants.budget_musd_per_year" = 60.0
"#;

const OUTPUTS: [&str; 9] = [
    "aggregate.csv",
    "effects.csv",
    "replications.csv",
    "variants.csv",
    "facts.csv",
    "answers.txt",
    "survey_findings.csv",
    "survey_shares.csv",
    "scenario.resolved.toml",
];

fn assert_same_outputs(a: &Path, b: &Path) {
    for file in OUTPUTS {
        let (x, y) = (std::fs::read(a.join(file)).unwrap(), std::fs::read(b.join(file)).unwrap());
        assert!(x == y, "{file} differs between {} and {}", a.display(), b.display());
    }
}

#[test]
fn one_and_two_threads_give_byte_identical_outputs() {
    let exp = experiment(SMALL);
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(&exp, one.path(), &Options { threads: Some(1), resume: false, quiet: true }).unwrap();
    run(&exp, two.path(), &Options { threads: Some(2), resume: false, quiet: true }).unwrap();
    assert_same_outputs(one.path(), two.path());
}

#[test]
fn aggregates_equal_statistics_of_the_replications() {
    let text = SMALL.replace("replications = 6", "replications = 4");
    let exp = experiment(&text);
    let dir = tempfile::tempdir().unwrap();
    run(&exp, dir.path(), &Options { threads: Some(2), resume: false, quiet: true }).unwrap();
    // Final-year firms_alive of the baseline, per replication, from the tidy file.
    let tidy = std::fs::read_to_string(dir.path().join("replications.csv")).unwrap();
    let header: Vec<&str> = tidy.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "all.firms_alive").unwrap();
    let mut base: Vec<f64> = Vec::new();
    let mut rich: Vec<f64> = Vec::new();
    for line in tidy.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        match f[0] {
            "baseline" => base.push(f[col].parse().unwrap()),
            "rich_grants" => rich.push(f[col].parse().unwrap()),
            _ => {}
        }
    }
    assert_eq!(base.len(), 4);
    let mut sorted = base.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[1] + sorted[2]) / 2.0;
    let mean = base.iter().sum::<f64>() / 4.0;
    let agg = std::fs::read_to_string(dir.path().join("aggregate.csv")).unwrap();
    let row = agg.lines().find(|l| l.starts_with("baseline,2007,all,firms_alive,")).expect("final-year row");
    let f: Vec<f64> = row.split(',').skip(4).map(|x| x.parse().unwrap()).collect();
    assert_eq!(f[0], 4.0, "n");
    assert!((f[1] - mean).abs() < 1e-6, "mean {} vs {mean}", f[1]);
    assert!((f[5] - median).abs() < 1e-6, "median {} vs {median}", f[5]);
    // The effect is the mean paired difference.
    let effect = rich.iter().zip(&base).map(|(r, b)| r - b).sum::<f64>() / 4.0;
    let eff = std::fs::read_to_string(dir.path().join("effects.csv")).unwrap();
    let row = eff.lines().find(|l| l.starts_with("rich_grants,baseline,2007,all,firms_alive,")).unwrap();
    let f: Vec<f64> = row.split(',').skip(5).map(|x| x.parse().unwrap()).collect();
    assert!((f[3] - effect).abs() < 1e-6, "effect {} vs {effect}", f[3]);
    assert!(f[4] <= f[3] && f[3] <= f[5], "interval brackets the effect");
}

#[test]
fn an_interrupted_experiment_resumes_to_identical_results() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("exp.toml");
    std::fs::write(
        &scenario,
        SMALL.replace("replications = 6", "replications = 40").replace("years = 8", "years = 30"),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_biocluster");
    let (interrupted, whole) = (dir.path().join("interrupted"), dir.path().join("whole"));
    let units = interrupted.join("small-experiment").join("replications");
    let count = |p: &Path| walk(p);

    let mut child = Command::new(bin)
        .args(["run", "--quiet", "--threads", "2", "--out"])
        .arg(&interrupted)
        .arg(&scenario)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while count(&units) < 10 {
        assert!(started.elapsed().as_secs() < 120, "experiment made no progress");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = count(&units);
    assert!(done < 120, "the kill came too late to interrupt anything ({done} of 120 runs done)");
    assert!(!interrupted.join("small-experiment").join("aggregate.csv").exists());

    let resumed = Command::new(bin)
        .args(["run", "--quiet", "--resume", "--out"])
        .arg(&interrupted)
        .arg(&scenario)
        .status()
        .unwrap();
    assert!(resumed.success());
    let full = Command::new(bin).args(["run", "--quiet", "--out"]).arg(&whole).arg(&scenario).status().unwrap();
    assert!(full.success());
    assert_same_outputs(&interrupted.join("small-experiment"), &whole.join("small-experiment"));
}

/// Number of finished unit files under `dir` (temporary files excluded).
fn walk(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(|e| e.ok())
        .map(|e| {
            let p = e.path();
            if p.is_dir() { walk(&p) } else { usize::from(p.extension().is_some_and(|x| x == "csv")) }
        })
        .sum()
}

/// A finished replication file edited on disk (a year out of the run, a value that is not a number, a
/// row moved) is refused by `--resume`, naming the file, never read as an index or merged.
#[test]
fn resume_refuses_a_damaged_replication_file() {
    let exp = experiment(SMALL);
    let dir = tempfile::tempdir().unwrap();
    run(&exp, dir.path(), &Options { threads: Some(2), resume: false, quiet: true }).unwrap();
    let unit = biocluster::experiment::run::unit_path(dir.path(), &exp, 1, 2);
    let original = std::fs::read_to_string(&unit).unwrap();
    let second_line = original.lines().nth(1).unwrap().to_string();
    let year = second_line.split(',').next().unwrap().to_string();
    let last_value = second_line.rsplit(',').next().unwrap().to_string();
    let damages = [
        original.replacen(&format!("\n{year},"), "\n2999,", 1),
        original.replacen(&second_line, &second_line.replace(&format!(",{last_value}"), ",NaN"), 1),
        {
            let mut lines: Vec<&str> = original.lines().collect();
            lines.swap(1, 2);
            lines.join("\n") + "\n"
        },
    ];
    for damaged in damages {
        assert_ne!(damaged, original);
        std::fs::write(&unit, &damaged).unwrap();
        let err = run(&exp, dir.path(), &Options { threads: Some(2), resume: true, quiet: true }).unwrap_err();
        assert!(err.to_string().contains("damaged") && err.to_string().contains("rep-000002.csv"), "{err}");
    }
}

/// Finished units are read only through their seals (sha256 of each file, recorded when written):
/// an edited value that keeps the file's shape, another variant's files, another seed's files, and
/// a resume without the experiment's manifest are refused, naming the file; a finished experiment's
/// manifest lists the sha256 of every unit file.
#[test]
fn resume_verifies_every_finished_unit_against_its_seal() {
    use biocluster::experiment::run::{unit_facts_path, unit_path};
    use biocluster::experiment::seal::{seal_path, sha256_hex};
    let exp = experiment(SMALL);
    let opts = |resume| Options { threads: Some(2), resume, quiet: true };
    let dir = tempfile::tempdir().unwrap();
    run(&exp, dir.path(), &opts(false)).unwrap();
    let manifest = std::fs::read_to_string(dir.path().join("experiment.json")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(parsed["units"].as_array().unwrap().len(), 18);
    for (v, r) in [(0, 0), (2, 5)] {
        for path in [unit_path(dir.path(), &exp, v, r), unit_facts_path(dir.path(), &exp, v, r)] {
            assert!(manifest.contains(&sha256_hex(&std::fs::read(&path).unwrap())), "{} unlisted", path.display());
        }
    }
    // A resumed finished experiment reruns nothing and writes the same manifest.
    let report = run(&exp, dir.path(), &opts(true)).unwrap();
    assert_eq!((report.units_run, report.units_reused), (0, 18));
    assert_eq!(std::fs::read_to_string(dir.path().join("experiment.json")).unwrap(), manifest);

    let unit = unit_path(dir.path(), &exp, 1, 2);
    let original = std::fs::read(&unit).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    let line = text.lines().nth(3).unwrap();
    let edited_line = format!("{},{}", line.rsplit_once(',').unwrap().0, "123456");
    assert_ne!(line, edited_line);
    std::fs::write(&unit, text.replacen(line, &edited_line, 1)).unwrap();
    let err = run(&exp, dir.path(), &opts(true)).unwrap_err().to_string();
    assert!(err.contains("rep-000002.csv") && err.contains("sha256"), "{err}");
    std::fs::write(&unit, &original).unwrap();

    // Another variant's unit, copied with its seal into this variant's folder.
    let copy = |from: &Path, from_exp: &Experiment, fv: usize, fr: u32, tv: usize, tr: u32| {
        for path in [unit_path, unit_facts_path, seal_path] {
            std::fs::copy(path(from, from_exp, fv, fr), path(dir.path(), &exp, tv, tr)).unwrap();
        }
    };
    let backup = tempfile::tempdir().unwrap();
    for path in [unit_path, unit_facts_path, seal_path] {
        std::fs::copy(
            path(dir.path(), &exp, 1, 2),
            backup.path().join(path(dir.path(), &exp, 1, 2).file_name().unwrap()),
        )
        .unwrap();
    }
    copy(dir.path(), &exp, 2, 2, 1, 2);
    let err = run(&exp, dir.path(), &opts(true)).unwrap_err().to_string();
    assert!(err.contains("rep-000002.sha256.json") && err.contains("rich_grants"), "{err}");

    // The same unit of the same experiment run with another seed.
    let other = experiment(&SMALL.replace("years = 8", "years = 8\nseed = 7"));
    let seeded = tempfile::tempdir().unwrap();
    run(&other, seeded.path(), &opts(false)).unwrap();
    copy(seeded.path(), &other, 1, 2, 1, 2);
    let err = run(&exp, dir.path(), &opts(true)).unwrap_err().to_string();
    assert!(err.contains("rep-000002.sha256.json") && err.contains("of experiment"), "{err}");

    // With the manifest gone there is nothing to compare against: refused, not mixed.
    for path in [unit_path, unit_facts_path, seal_path] {
        let target = path(dir.path(), &exp, 1, 2);
        std::fs::copy(backup.path().join(target.file_name().unwrap()), &target).unwrap();
    }
    std::fs::remove_file(dir.path().join("experiment.json")).unwrap();
    let err = run(&other, dir.path(), &opts(true)).unwrap_err().to_string();
    assert!(err.contains("nothing to resume") && err.contains("experiment.json"), "{err}");
}

/// A variant that renames a cluster cannot be compared cell by cell: refused when the experiment is
/// read, before any replication runs.
#[test]
fn variants_that_rename_a_cluster_are_refused_before_running() {
    let text = "[experiment]\nreplications = 2\n[[experiment.variants]]\nname = \"x\"\n[experiment.variants.set]\n\"clusters.osong_daegu.name\" = \"elsewhere\"\n";
    let scenario = Scenario::from_toml_str(text, "bad.toml").unwrap();
    let err = Experiment::from_scenario(&scenario, "bad.toml").unwrap_err().to_string();
    assert!(err.contains("cannot be varied") && err.contains("clusters.osong_daegu.name"), "{err}");
}

#[test]
fn resume_refuses_a_different_experiment() {
    let dir = tempfile::tempdir().unwrap();
    run(&experiment(SMALL), dir.path(), &Options { threads: Some(2), resume: false, quiet: true }).unwrap();
    let changed = experiment(&SMALL.replace("0.9", "0.8"));
    let err = run(&changed, dir.path(), &Options { threads: Some(2), resume: true, quiet: true }).unwrap_err();
    assert!(err.to_string().contains("different experiment"), "{err}");
}

#[test]
fn sweeps_form_a_grid_and_latin_hypercube_samples_stay_in_range() {
    let text = r#"
[scenario]
name = "sweep"
years = 2
[experiment]
replications = 1
[[experiment.sweeps]]
parameter = "alliances.searches_per_year"
values = [0.1, 0.2, 0.3]
[[experiment.sweeps]]
parameter = "clusters.osong_daegu.measurements.vc_musd_per_year"
values = [25.0, 150.0]
[experiment.latin_hypercube]
samples = 10
seed = 3
[[experiment.latin_hypercube.ranges]]
parameter = "finance.round_median_musd"
min = 5.0
max = 15.0
[[experiment.latin_hypercube.ranges]]
parameter = "alliances.candidates"
min = 2.0
max = 12.0
"#;
    let exp = experiment(text);
    assert_eq!(exp.variants.len(), 1 + 6 + 10);
    let grid: Vec<(f64, f64)> = exp.variants[1..7]
        .iter()
        .map(|v| (v.scenario.alliances.searches_per_year, v.scenario.clusters[0].environment.vc_presence))
        .collect();
    // 25 and 150 M$ a year of VC map to levels 0.2 and 0.6 (m / (m + 100)).
    for s in [0.1, 0.2, 0.3] {
        for c in [0.2, 0.6] {
            assert!(grid.contains(&(s, c)), "grid point ({s}, {c}) missing");
        }
    }
    let mut strata = vec![0; 10];
    for v in &exp.variants[7..] {
        let x = v.scenario.finance.round_median_musd;
        assert!((5.0..=15.0).contains(&x));
        strata[(((x - 5.0) / 1.0) as usize).min(9)] += 1;
        assert!((2..=12).contains(&v.scenario.alliances.candidates));
    }
    assert!(strata.iter().all(|n| *n == 1), "one sample per stratum: {strata:?}");
}

#[test]
fn bad_experiment_paths_and_values_name_the_key() {
    let cases = [
        (r#""alliances.serches" = 1.0"#, "serches"),
        (r#""clusters.atlantis.x_km" = 1.0"#, "atlantis"),
        (r#""pipeline.phase2.success_rate" = 1.5"#, "pipeline.phase2.success_rate"),
        (r#""policies.nope.enabled" = false"#, "no entry named `nope` in `policies`"),
        (r#""policies.rd_tax_credit.enabled" = "no""#, "`policies.rd_tax_credit.enabled` holds a boolean"),
    ];
    for (set, expect) in cases {
        let text = format!(
            "[experiment]\nreplications = 2\n[[experiment.variants]]\nname = \"x\"\n[experiment.variants.set]\n{set}\n"
        );
        let scenario = Scenario::from_toml_str(&text, "bad.toml").unwrap();
        let err = Experiment::from_scenario(&scenario, "bad.toml").unwrap_err().to_string();
        assert!(err.contains(expect) && err.contains("experiment.variants[0].set"), "{err}");
    }
}

/// Experiments whose size would exhaust memory or run for weeks are refused when read, naming the key.
#[test]
fn oversized_experiments_are_refused_before_anything_runs() {
    let values = (0..200).map(|i| format!("{}.0", i + 1)).collect::<Vec<_>>().join(", ");
    let grid = format!(
        "[experiment]\nreplications = 2\n[[experiment.sweeps]]\nparameter = \"alliances.searches_per_year\"\nvalues = [{values}]\n\
         [[experiment.sweeps]]\nparameter = \"finance.round_median_musd\"\nvalues = [{values}]\n"
    );
    let lhs = "[experiment]\nreplications = 2\n[experiment.latin_hypercube]\nsamples = 4294967295\nseed = 1\n\
               [[experiment.latin_hypercube.ranges]]\nparameter = \"finance.round_median_musd\"\nmin = 5.0\nmax = 15.0\n";
    let runs = "[experiment]\nreplications = 1000000\n[experiment.latin_hypercube]\nsamples = 20\nseed = 1\n\
                [[experiment.latin_hypercube.ranges]]\nparameter = \"finance.round_median_musd\"\nmin = 5.0\nmax = 15.0\n";
    for (text, expect) in
        [(grid.as_str(), "experiment.sweeps"), (lhs, "experiment.latin_hypercube.samples"), (runs, "runs")]
    {
        let scenario = Scenario::from_toml_str(text, "big.toml").unwrap();
        let err = Experiment::from_scenario(&scenario, "big.toml").unwrap_err().to_string();
        assert!(err.contains(expect) && err.contains("big.toml"), "{err}");
    }
}

fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines.map(|l| header.iter().map(|h| h.to_string()).zip(l.split(',').map(str::to_string)).collect()).collect()
}

/// Effects over a window: the cumulated effect is the mean over replications of the paired difference
/// of the window's sums, recounted from the unit files; the per-M$ ratio is the cumulated effect over
/// the extra public money.
#[test]
fn effects_over_a_window_and_per_musd_match_a_recount() {
    let text = SMALL.replace(
        "replications = 6",
        "replications = 6\nwindow = [2002, 2005]\noutcomes = [\"firms_alive\", \"public_grants_musd\"]",
    );
    let exp = experiment(&text);
    assert_eq!(exp.window, (2002, 2005));
    let dir = tempfile::tempdir().unwrap();
    run(&exp, dir.path(), &Options { threads: Some(2), resume: false, quiet: true }).unwrap();
    let window_sum = |v: usize, r: u32, metric: &str| -> f64 {
        csv_rows(&biocluster::experiment::run::unit_path(dir.path(), &exp, v, r))
            .iter()
            .filter(|row| row["cluster"] == "all" && (2002..=2005).contains(&row["year"].parse::<i32>().unwrap()))
            .map(|row| row[metric].parse::<f64>().unwrap())
            .sum()
    };
    let effects = csv_rows(&dir.path().join("effects.csv"));
    let row = effects
        .iter()
        .find(|r| r["variant"] == "rich_grants" && r["cluster"] == "all" && r["metric"] == "public_grants_musd")
        .unwrap();
    assert_eq!(
        (row["year"].as_str(), row["window_first"].as_str(), row["window_last"].as_str()),
        ("2005", "2002", "2005")
    );
    let mean = |f: &dyn Fn(u32) -> f64| (0..6).map(f).sum::<f64>() / 6.0;
    let effect = mean(&|r| window_sum(2, r, "public_grants_musd") - window_sum(0, r, "public_grants_musd"));
    let extra = mean(&|r| window_sum(2, r, "public_spend_musd") - window_sum(0, r, "public_spend_musd"));
    let got = |k: &str| row[k].parse::<f64>().unwrap();
    assert!((got("cumulative_effect") - effect).abs() < 1e-4, "{} vs {effect}", got("cumulative_effect"));
    assert!((got("extra_public_musd") - extra).abs() < 1e-4, "{} vs {extra}", got("extra_public_musd"));
    assert!(extra > 50.0, "tripled grants cost more public money: {extra}");
    assert!((got("cumulative_per_musd") - effect / extra).abs() < 1e-5);
    assert!(
        got("cumulative_per_musd_ci95_low") <= effect / extra && effect / extra <= got("cumulative_per_musd_ci95_high")
    );
    // A variant that spends no clearly different public money has no ratio.
    let free = effects
        .iter()
        .find(|r| r["variant"] == "more_searches" && r["cluster"] == "all" && r["metric"] == "firms_alive")
        .unwrap();
    if free["extra_public_ci95_low"].parse::<f64>().unwrap() <= 0.0
        && free["extra_public_ci95_high"].parse::<f64>().unwrap() >= 0.0
    {
        assert_eq!(free["effect_per_musd"], "");
    }
    // The answers name the outcomes asked for, and only them.
    let answers = std::fs::read_to_string(dir.path().join("answers.txt")).unwrap();
    assert!(
        answers.contains("`rich_grants`") && answers.contains("firms alive") && answers.contains("public grants"),
        "{answers}"
    );
    assert!(!answers.contains("jobs in firms"), "{answers}");
}

/// survey_shares.csv counts survey_findings.csv: per variant and finding, the replications in which
/// it holds; `all_stated` holds when every stated (not implied) finding does.
#[test]
fn survey_finding_shares_match_a_recount() {
    let exp = experiment(SMALL.replace("years = 8", "years = 22").as_str());
    let dir = tempfile::tempdir().unwrap();
    run(&exp, dir.path(), &Options { threads: Some(2), resume: false, quiet: true }).unwrap();
    let findings = csv_rows(&dir.path().join("survey_findings.csv"));
    assert_eq!(findings.len(), 3 * 6 * 7, "3 variants x 6 replications x (6 findings + all_stated)");
    for share in csv_rows(&dir.path().join("survey_shares.csv")) {
        let mine: Vec<_> =
            findings.iter().filter(|f| f["variant"] == share["variant"] && f["finding"] == share["finding"]).collect();
        let holds = mine.iter().filter(|f| f["holds"] == "true").count();
        assert_eq!((mine.len(), holds.to_string()), (6, share["holds"].clone()), "{share:?}");
        assert!((share["share"].parse::<f64>().unwrap() - holds as f64 / 6.0).abs() < 1e-6);
    }
    // all_stated recounted from the stated findings' verdicts, replication by replication.
    for f in findings.iter().filter(|f| f["finding"] == "all_stated") {
        let stated = findings.iter().filter(|g| {
            g["variant"] == f["variant"]
                && g["replication"] == f["replication"]
                && g["implied"] == "false"
                && g["finding"] != "all_stated"
        });
        let all = stated.clone().count() == 4 && stated.into_iter().all(|g| g["holds"] == "true");
        assert_eq!(f["holds"] == "true", all);
    }
    // A verdict agrees with its coefficient and p-value (L1: positive and significant at 5 %).
    for f in findings.iter().filter(|f| f["finding"] == "L1" && !f["p"].is_empty()) {
        let (coef, p) = (f["coef"].parse::<f64>().unwrap(), f["p"].parse::<f64>().unwrap());
        assert_eq!(f["holds"] == "true", coef > 0.0 && p < 0.05, "{f:?}");
    }
}

#[test]
fn bad_outcomes_and_windows_name_the_key() {
    let cases = [
        ("outcomes = [\"firms\"]", "experiment.outcomes[0]", "unknown metric \"firms\""),
        ("outcomes = []", "experiment.outcomes", "at least one metric"),
        ("outcomes = [\"approvals\", \"approvals\"]", "experiment.outcomes[1]", "named twice"),
        ("window = [2005, 2002]", "experiment.window", "reversed"),
        ("window = []", "experiment.window", "got 0 values"),
        ("window = [1990, 2005]", "experiment.window", "outside the simulated years 2000 to 2007"),
    ];
    for (line, key, expect) in cases {
        let text = SMALL.replace("replications = 6", &format!("replications = 6\n{line}"));
        let path = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(path.path(), &text).unwrap();
        let out = tempfile::tempdir().unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_biocluster"))
            .args(["run", "--quiet", "--out", out.path().to_str().unwrap(), path.path().to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{line}: {stderr}");
        assert!(stderr.contains(key) && stderr.contains(expect), "{line}: {stderr}");
    }
}

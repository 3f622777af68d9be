//! Sensitivity designs (`method = "sobol" | "morris"`): sharded, resumed and single-machine runs give the
//! same bytes; bad designs are refused naming the key. The estimators themselves are tested on analytic
//! functions in `src/sensitivity/`.

mod common;

use std::path::Path;
use std::process::Command;

use biocluster::experiment::run::{Options, run, unit_path};
use biocluster::experiment::shard::{Shard, merge, run_shard};
use common::experiment;

fn design(method: &str) -> String {
    let extra = if method == "sobol" { "samples = 16" } else { "samples = 6\nlevels = 4" };
    format!(
        r#"
[scenario]
name = "design-{method}"
years = 6
[experiment]
replications = 2
method = "{method}"
{extra}
outcomes = ["firms_alive", "revenue_total_musd"]
[[experiment.variants]]
name = "more_searches"
[experiment.variants.set]
"alliances.searches_per_year" = 0.9
[[experiment.uncertainties]]
parameter = "alliances.acceptance_probability"
min = 0.3
max = 0.9
[[experiment.uncertainties]]
parameter = "finance.round_median_musd"
min = 5.0
max = 20.0
distribution = "log_uniform"
[[experiment.uncertainties]]
parameter = "alliances.candidates"
min = 2
max = 10
distribution = "triangular"
mode = 6
"#
    )
}

const FILES: [&str; 6] =
    ["samples.csv", "sensitivity.csv", "robustness.csv", "answers.txt", "experiment.json", "scenario.resolved.toml"];

fn options() -> Options {
    Options { threads: Some(2), resume: false, quiet: true }
}

fn assert_same(a: &Path, b: &Path) {
    for f in FILES {
        assert!(std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
}

#[test]
fn sobol_and_morris_designs_give_the_same_bytes_sharded_resumed_or_not() {
    for method in ["sobol", "morris"] {
        let exp = experiment(&design(method));
        let d = exp.design.as_ref().unwrap();
        // Two levers crossed with the design's points: Sobol 16 x (3 + 2), Morris 6 x (3 + 1).
        let points = if method == "sobol" { 16 * 5 } else { 6 * 4 };
        assert_eq!((d.levers.len(), d.points.len(), exp.variants.len()), (2, points, 2 * points));
        let single = tempfile::tempdir().unwrap();
        run(&exp, single.path(), &options()).unwrap();
        let samples = std::fs::read_to_string(single.path().join("samples.csv")).unwrap();
        assert_eq!(samples.lines().count(), 1 + 2 * points, "one row per (lever, point)");
        let sens = std::fs::read_to_string(single.path().join("sensitivity.csv")).unwrap();
        let index = if method == "sobol" { ",ST," } else { ",mu_star," };
        // Two levers and the second one's effect, x outcomes x parameters.
        assert_eq!(sens.lines().filter(|l| l.contains(index)).count(), 3 * 2 * 3, "analyses x outcomes x parameters");
        assert!(sens.contains("more_searches-minus-baseline,"));

        for n in [2, 3] {
            let dir = tempfile::tempdir().unwrap();
            for i in 1..=n {
                run_shard(&exp, dir.path(), Shard::new(i, n).unwrap(), &options()).unwrap();
            }
            merge(dir.path()).unwrap();
            assert_same(single.path(), dir.path());
        }

        // Interrupted: some units gone; --resume runs only those and ends with the same bytes.
        let resumed = tempfile::tempdir().unwrap();
        run(&exp, resumed.path(), &options()).unwrap();
        for v in [0, 7, points + 3] {
            std::fs::remove_file(unit_path(resumed.path(), &exp, v, 1)).unwrap();
        }
        let report = run(&exp, resumed.path(), &Options { resume: true, ..options() }).unwrap();
        assert_eq!(report.units_run, 3);
        assert_same(single.path(), resumed.path());
    }
}

#[test]
fn bad_designs_are_refused_naming_the_key() {
    let cases = [
        (
            design("sobol").replace("distribution = \"log_uniform\"", "distribution = \"normal\""),
            "unknown distribution \"normal\"",
        ),
        (design("sobol").replace("min = 0.3\nmax = 0.9", "min = 0.9\nmax = 0.3"), "experiment.uncertainties[0].max"),
        (
            design("sobol").replace("\"alliances.searches_per_year\" = 0.9", "\"alliances.candidates\" = 4"),
            "both an uncertainty and a lever",
        ),
        (design("sobol").replace("samples = 16", "samples = 8"), "experiment.samples"),
        (design("morris").replace("samples = 6", "samples = 1"), "experiment.samples"),
        (design("morris").replace("levels = 4", "levels = 3"), "experiment.levels"),
        (design("sobol").replace("method = \"sobol\"", "method = \"fast\""), "unknown method \"fast\""),
        (design("sobol").replace("mode = 6", "mode = 60"), "experiment.uncertainties[2].mode"),
        (design("sobol").replace("method = \"sobol\"\nsamples = 16", ""), "need `experiment.method`"),
    ];
    for (text, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, &text).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_biocluster"))
            .args(["run", "--quiet", "--out"])
            .arg(dir.path())
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{expect}: {stderr}");
        assert!(stderr.contains(expect) && stderr.contains("bad.toml"), "{expect}: {stderr}");
    }
}

fn discover(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_biocluster")).arg("discover").arg(dir).args(args).output().unwrap()
}

/// `discover` finds a known box in a samples.csv of sampled worlds (the outcome is low exactly where
/// a < 0.3 and b > 0.6), writes its files, and refuses a folder without sampled worlds.
#[test]
fn discover_finds_a_known_box_and_refuses_folders_without_sampled_worlds() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("lever,point,x.a,x.b,x.c,y.firms_alive\n");
    let mut state = 12345u64;
    let mut uniform = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for p in 0..2000 {
        let (a, b, c) = (uniform(), uniform(), uniform());
        let y = if a < 0.3 && b > 0.6 { 100.0 } else { 300.0 };
        csv.push_str(&format!("baseline,{p},{a},{b},{c},{y}\n"));
    }
    std::fs::write(dir.path().join("samples.csv"), csv).unwrap();
    let out = discover(dir.path(), &["--outcome", "firms_alive", "--below", "200"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let boxes = std::fs::read_to_string(dir.path().join("discovery_box.csv")).unwrap();
    let row =
        |p: &str| boxes.lines().find(|l| l.starts_with(p)).unwrap().split(',').map(str::to_string).collect::<Vec<_>>();
    let (a, b, c) = (row("a,"), row("b,"), row("c,"));
    assert_eq!((a[5].as_str(), b[5].as_str(), c[5].as_str()), ("true", "true", "false"), "{boxes}");
    assert!(
        (a[2].parse::<f64>().unwrap() - 0.3).abs() < 0.05 && (b[1].parse::<f64>().unwrap() - 0.6).abs() < 0.05,
        "{boxes}"
    );
    for f in ["discovery.csv", "discovery.txt", "charts/discovery_tradeoff.png", "charts/discovery_box.png"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let summary = std::fs::read_to_string(dir.path().join("discovery.txt")).unwrap();
    assert!(summary.contains("`a` <= 0.3") || summary.contains("`a` <= 0.29"), "{summary}");

    let empty = tempfile::tempdir().unwrap();
    let out = discover(empty.path(), &["--outcome", "firms_alive", "--below", "200"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no samples.csv"));
    let out = discover(dir.path(), &["--outcome", "nope", "--below", "200"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--outcome"));
}

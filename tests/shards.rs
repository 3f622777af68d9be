//! Sharded experiments: shards merged equal the single-machine outputs byte for byte; merge refuses
//! incomplete, foreign or mixed shards, naming them.

mod common;

use std::path::Path;
use std::process::Command;

use biocluster::experiment::run::{Options, run};
use biocluster::experiment::shard::{Shard, merge, run_shard};
use common::experiment;

const EXPERIMENT: &str = r#"
[scenario]
name = "sharded"
years = 6
[experiment]
replications = 5
[[experiment.variants]]
name = "more_searches"
[experiment.variants.set]
"alliances.searches_per_year" = 0.9
"#;

fn options() -> Options {
    Options { threads: Some(2), resume: false, quiet: true }
}

const FILES: [&str; 7] = [
    "aggregate.csv",
    "effects.csv",
    "replications.csv",
    "variants.csv",
    "facts.csv",
    "scenario.resolved.toml",
    "experiment.json",
];

fn assert_same(a: &Path, b: &Path) {
    for f in FILES {
        assert!(std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
}

#[test]
fn shards_merged_equal_a_single_machine_run_for_1_2_and_5_shards() {
    let exp = experiment(EXPERIMENT);
    let single = tempfile::tempdir().unwrap();
    run(&exp, single.path(), &options()).unwrap();
    for n in [1, 2, 5] {
        let dir = tempfile::tempdir().unwrap();
        for i in 1..=n {
            run_shard(&exp, dir.path(), Shard::new(i, n).unwrap(), &options()).unwrap();
        }
        merge(dir.path()).unwrap();
        assert_same(single.path(), dir.path());
    }
}

#[test]
fn shards_partition_the_units() {
    let exp = experiment(EXPERIMENT);
    let mut all: Vec<(usize, u32)> = (1..=3).flat_map(|i| Shard::new(i, 3).unwrap().units(&exp)).collect();
    all.sort();
    let mut expected: Vec<(usize, u32)> = (0..5).flat_map(|r| (0..2).map(move |v| (v, r))).collect();
    expected.sort();
    assert_eq!(all, expected);
}

#[test]
fn merge_names_missing_and_unfinished_shards() {
    let exp = experiment(EXPERIMENT);
    let dir = tempfile::tempdir().unwrap();
    run_shard(&exp, dir.path(), Shard::new(1, 3).unwrap(), &options()).unwrap();
    let folder = run_shard(&exp, dir.path(), Shard::new(3, 3).unwrap(), &options()).unwrap();
    std::fs::remove_file(folder.join("done.json")).unwrap(); // as if killed before finishing
    let err = merge(dir.path()).unwrap_err().to_string();
    assert!(err.contains("missing shards 2/3") && err.contains("unfinished shards (no done.json) 3/3"), "{err}");
}

#[test]
fn merge_refuses_shards_of_another_experiment_or_split() {
    let exp = experiment(EXPERIMENT);
    let other = experiment(&EXPERIMENT.replace("years = 6", "years = 6\nseed = 99"));
    let dir = tempfile::tempdir().unwrap();
    run_shard(&exp, dir.path(), Shard::new(1, 2).unwrap(), &options()).unwrap();
    run_shard(&other, dir.path(), Shard::new(2, 2).unwrap(), &options()).unwrap();
    let err = merge(dir.path()).unwrap_err().to_string();
    assert!(err.contains("shard 2/2 comes from a different experiment"), "{err}");

    let mixed = tempfile::tempdir().unwrap();
    run_shard(&exp, mixed.path(), Shard::new(1, 2).unwrap(), &options()).unwrap();
    run_shard(&exp, mixed.path(), Shard::new(1, 3).unwrap(), &options()).unwrap();
    let err = merge(mixed.path()).unwrap_err().to_string();
    assert!(err.contains("different splits"), "{err}");
}

/// A unit edited in a finished shard is refused by name: against its seal, and, when the seal is
/// rewritten to match, against the sha256 the shard recorded in its done.json.
#[test]
fn merge_refuses_a_unit_that_differs_from_what_its_shard_recorded() {
    use biocluster::experiment::run::unit_path;
    use biocluster::experiment::seal::{Seal, write_seal};
    let exp = experiment(EXPERIMENT);
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=2 {
        run_shard(&exp, dir.path(), Shard::new(i, 2).unwrap(), &options()).unwrap();
    }
    let folder = Shard::new(2, 2).unwrap().folder(dir.path());
    let (v, r) = Shard::new(2, 2).unwrap().units(&exp)[1];
    let unit = unit_path(&folder, &exp, v, r);
    let text = std::fs::read_to_string(&unit).unwrap();
    let edited = text.replacen(",0,", ",7,", 1);
    assert_ne!(edited, text);
    std::fs::write(&unit, &edited).unwrap();
    let name = unit.file_name().unwrap().to_string_lossy().into_owned();
    let err = merge(dir.path()).unwrap_err().to_string();
    assert!(err.contains(&name) && err.contains("sha256"), "{err}");

    let unit = biocluster::experiment::seal::UnitBytes {
        facts: std::fs::read(biocluster::experiment::run::unit_facts_path(&folder, &exp, v, r)).unwrap(),
        series: edited.into_bytes(),
        survey: std::fs::read(biocluster::experiment::run::unit_survey_path(&folder, &exp, v, r)).unwrap(),
    };
    write_seal(&folder, &exp, v, r, &Seal::new(&exp, v, r, &unit)).unwrap();
    let err = merge(dir.path()).unwrap_err().to_string();
    assert!(err.contains(&name) && err.contains("done.json"), "{err}");
}

#[test]
fn a_resubmitted_shard_replaces_only_its_own_results() {
    let exp = experiment(EXPERIMENT);
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=2 {
        run_shard(&exp, dir.path(), Shard::new(i, 2).unwrap(), &options()).unwrap();
    }
    let first = Shard::new(1, 2).unwrap().folder(dir.path());
    let marker = first.join("untouched");
    std::fs::write(&marker, "shard 1 must keep this").unwrap();
    run_shard(&exp, dir.path(), Shard::new(2, 2).unwrap(), &options()).unwrap();
    assert!(marker.exists(), "re-running shard 2 touched shard 1");
    std::fs::remove_file(&marker).unwrap();
    merge(dir.path()).unwrap();
    let single = tempfile::tempdir().unwrap();
    run(&exp, single.path(), &options()).unwrap();
    assert_same(single.path(), dir.path());
}

#[test]
fn the_cli_reads_slurm_array_variables_and_writes_submit_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("exp.toml");
    std::fs::write(&scenario, EXPERIMENT).unwrap();
    let bin = env!("CARGO_BIN_EXE_biocluster");
    let status = Command::new(bin)
        .args(["run", "--quiet", "--shard", "slurm", "--out"])
        .arg(dir.path())
        .arg(&scenario)
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .env("SLURM_ARRAY_TASK_COUNT", "2")
        .status()
        .unwrap();
    assert!(status.success());
    assert!(dir.path().join("sharded/shards/shard-2-of-2/done.json").exists());

    let out = Command::new(bin)
        .args(["slurm", "--shards", "4", "--cpus", "3", "--partition", "debug", "--facts"])
        .arg(std::path::absolute("scenarios/facts/korea.toml").unwrap())
        .arg("--out")
        .arg(dir.path())
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let array = std::fs::read_to_string(dir.path().join("sharded/slurm/array.sbatch")).unwrap();
    for needle in
        ["#SBATCH --array=0-3", "#SBATCH --cpus-per-task=3", "#SBATCH --partition=debug", "--shard slurm", "--facts '/"]
    {
        assert!(array.contains(needle), "array.sbatch lacks `{needle}`:\n{array}");
    }
    let submit = std::fs::read_to_string(dir.path().join("sharded/slurm/submit.sh")).unwrap();
    assert!(submit.contains("--dependency=afterok:"), "{submit}");

    let bad = Command::new(bin).args(["run", "--shard", "3/2"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn shards_started_together_in_one_folder_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("exp.toml");
    std::fs::write(&scenario, EXPERIMENT).unwrap();
    let bin = env!("CARGO_BIN_EXE_biocluster");
    for _ in 0..3 {
        let children: Vec<_> = (1..=4)
            .map(|i| {
                Command::new(bin)
                    .args(["run", "--quiet", "--threads", "1", "--shard", &format!("{i}/4"), "--out"])
                    .arg(dir.path())
                    .arg(&scenario)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "a concurrent shard failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    merge(&dir.path().join("sharded")).unwrap();
}

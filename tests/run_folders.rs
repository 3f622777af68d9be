//! Runs keep their history: a run never silently replaces the outputs of a different run.

use std::path::Path;
use std::process::{Command, Output};

fn biocluster(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_biocluster"))
        .args(args)
        .args(["--quiet", "--no-report", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

fn folders(out: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn runs_with_other_seeds_replications_or_labels_keep_their_own_folders() {
    let out = tempfile::tempdir().unwrap();
    for args in [
        &["run"][..],
        &["run", "--seed", "1"],
        &["run", "--seed", "2"],
        &["run", "--replication", "1"],
        &["run", "--seed", "2", "--replication", "3"],
        &["run", "--label", "mine"],
        // The file's own seed is no change.
        &["run", "--seed", "20240601"],
    ] {
        let o = biocluster(args, out.path());
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(
        folders(out.path()),
        [
            "korea-default",
            "korea-default-mine",
            "korea-default-rep1",
            "korea-default-seed1",
            "korea-default-seed2",
            "korea-default-seed2-rep3"
        ]
    );
    let seed = |dir: &str| std::fs::read_to_string(out.path().join(dir).join("scenario.resolved.toml")).unwrap();
    assert!(seed("korea-default-seed1").contains("seed = 1\n") && seed("korea-default-seed2").contains("seed = 2\n"));
}

#[test]
fn a_different_run_under_the_same_name_is_refused_unless_labelled_or_forced() {
    let out = tempfile::tempdir().unwrap();
    let edited = out.path().join("edited.toml");
    std::fs::write(&edited, "[scenario]\nname = \"korea-default\"\n[alliances]\nsearches_per_year = 0.9\n").unwrap();
    let edited = edited.to_str().unwrap();
    assert!(biocluster(&["run"], out.path()).status.success());
    let before = std::fs::read(out.path().join("korea-default/timeseries.csv")).unwrap();
    // The same run again replaces identical outputs.
    assert!(biocluster(&["run"], out.path()).status.success());

    let refused = biocluster(&["run", edited], out.path());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("korea-default") && stderr.contains("--label") && stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read(out.path().join("korea-default/timeseries.csv")).unwrap(), before);

    assert!(biocluster(&["run", edited, "--label", "edited"], out.path()).status.success());
    assert_eq!(std::fs::read(out.path().join("korea-default/timeseries.csv")).unwrap(), before);
    assert!(out.path().join("korea-default-edited/timeseries.csv").is_file());

    assert!(biocluster(&["run", edited, "--force"], out.path()).status.success());
    assert_ne!(std::fs::read(out.path().join("korea-default/timeseries.csv")).unwrap(), before);

    let bad = biocluster(&["run", "--label", "../up"], out.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--label"));
}

#[test]
fn a_different_experiment_under_the_same_name_is_refused_unless_forced() {
    let out = tempfile::tempdir().unwrap();
    let write = |replications: u32| {
        let path = out.path().join(format!("exp{replications}.toml"));
        std::fs::write(
            &path,
            format!("[scenario]\nname = \"exp\"\nyears = 5\n[experiment]\nreplications = {replications}\n"),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let (two, three) = (write(2), write(3));
    assert!(biocluster(&["run", &two], out.path()).status.success());
    assert!(biocluster(&["run", &two], out.path()).status.success(), "the same experiment again");
    let refused = biocluster(&["run", &three], out.path());
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(out.path().join("exp/replications/baseline/rep-000001.csv").is_file());
    assert!(biocluster(&["run", &three, "--force"], out.path()).status.success());
    assert!(out.path().join("exp/replications/baseline/rep-000002.csv").is_file());
}

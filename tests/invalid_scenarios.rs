//! Bad input gets a clear error naming the file and the key, and exit code 2, never a panic.
//! Each fixture in tests/fixtures/invalid/ starts with `# expect: <text the error must contain>`.

use std::path::Path;
use std::process::Command;

fn biocluster(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_biocluster")).args(args).output().unwrap()
}

#[test]
fn every_invalid_fixture_fails_with_its_key_named() {
    let dir = Path::new("tests/fixtures/invalid");
    let mut fixtures: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    fixtures.sort();
    assert!(fixtures.len() >= 15, "fixtures missing");
    let out = tempfile::tempdir().unwrap();
    for path in fixtures {
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).expect("first line names the key");
        let lib = biocluster::Scenario::load(&path).expect_err("fixture must be invalid").to_string();
        assert!(lib.contains(expect), "{}: error does not name `{expect}`:\n{lib}", path.display());
        assert!(lib.contains(&path.display().to_string()), "{}: error does not name the file:\n{lib}", path.display());

        let output = biocluster(&["run", "--quiet", "--out", out.path().to_str().unwrap(), path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{}: exit code, stderr:\n{stderr}", path.display());
        assert!(stderr.contains(expect), "{}: stderr does not name `{expect}`:\n{stderr}", path.display());
        assert!(!stderr.contains("panicked"), "{}: panic:\n{stderr}", path.display());
    }
}

#[test]
fn unknown_keys_list_what_is_allowed() {
    let err = biocluster::Scenario::load(Path::new("tests/fixtures/invalid/unknown_key.toml")).unwrap_err().to_string();
    assert!(err.contains("searches_per_year"), "the allowed keys are listed:\n{err}");
}

#[test]
fn a_missing_file_is_named_with_exit_code_2() {
    let output = biocluster(&["run", "no/such/scenario.toml"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("no/such/scenario.toml") && stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn an_unwritable_output_folder_is_named_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not_a_dir");
    std::fs::write(&blocker, "a file where a folder should be").unwrap();
    let output = biocluster(&["run", "--quiet", "--out", blocker.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write output") && stderr.contains("not_a_dir"), "{stderr}");
}

#[test]
fn a_bad_command_line_exits_2() {
    assert_eq!(biocluster(&["run", "--scale", "-3"]).status.code(), Some(2));
    assert_eq!(biocluster(&["walk"]).status.code(), Some(2));
}

/// Command-line values that would land verbatim in a script, options that would be silently ignored,
/// and a broken targets file: each refused with exit 2 and the option or file named.
#[test]
fn command_line_values_are_checked_before_use() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let experiment = "tests/fixtures/slurm_experiment.toml";
    let targets = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(targets.path(), "[[targets]]\nsample = \"government_led\"\nbogus = 1\n").unwrap();
    let targets = targets.path().to_str().unwrap().to_string();
    let cases: [(Vec<&str>, &str); 4] = [
        (vec!["run", "--quiet", "--resume", "--out", out], "--resume"),
        (vec!["slurm", experiment, "--shards", "2", "--out", out, "--time", "1:00:00\nrm -rf /"], "--time"),
        (vec!["slurm", experiment, "--shards", "2", "--out", out, "--partition", "batch\n#SBATCH --x"], "--partition"),
        (
            vec!["calibrate", "scenarios/calibration/korea.toml", "--targets", &targets, "--out", out],
            "invalid targets file",
        ),
    ];
    for (args, expect) in cases {
        let output = biocluster(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: exit code, stderr:\n{stderr}");
        assert!(stderr.contains(expect) && !stderr.contains("panicked"), "{args:?}: stderr:\n{stderr}");
    }
}

/// Entry rates that would grow the population without bound stop the run with exit 2 and a message,
/// long before memory runs out, and nothing is written.
#[test]
fn a_runaway_population_stops_the_run() {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("runaway.toml");
    std::fs::write(&file, "[scenario]\nname = \"runaway\"\n[entry]\nstartups_per_year = 1e9\n").unwrap();
    let output = biocluster(&["run", "--quiet", "--out", out.path().to_str().unwrap(), file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(stderr.contains("would pass 1000000 agents") && !stderr.contains("panicked"), "{stderr}");
    assert!(!out.path().join("runaway").join("timeseries.csv").exists());
}

/// `scenario.base` layers a file over another (relative to it): the world is the base's, with the
/// file's own keys on top, and the base's [experiment] and [calibration] are not inherited. A cycle,
/// a missing base, a base that is not a path, and a base in text that is not a file are refused,
/// naming the key.
#[test]
fn a_base_file_is_layered_under_and_its_problems_are_named() {
    use biocluster::Scenario;
    let dir = tempfile::tempdir().unwrap();
    let calibrated = std::fs::canonicalize("scenarios/calibrated/korea.toml").unwrap();
    let child = dir.path().join("child.toml");
    std::fs::write(
        &child,
        format!(
            "[scenario]\nbase = \"{}\"\nname = \"child\"\n[firms]\nwage_musd_per_employee_year = 0.06\n",
            calibrated.display()
        ),
    )
    .unwrap();
    let layered = Scenario::load(&child).unwrap();
    let base = Scenario::load(&calibrated).unwrap();
    assert_eq!(layered.name, "child");
    assert_eq!(layered.firms.wage_musd_per_employee_year, 0.06);
    assert_eq!(layered.clusters[0].population.firms, base.clusters[0].population.firms);
    assert!(base.raw.calibration.is_some() && layered.raw.calibration.is_none());
    let mut same = layered.raw.clone();
    same.scenario = base.raw.scenario.clone();
    same.firms.wage_musd_per_employee_year = base.firms.wage_musd_per_employee_year;
    same.calibration = base.raw.calibration.clone();
    assert_eq!(toml::to_string(&same).unwrap(), base.resolved_toml(), "everything else is the base's");

    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("a.toml", "[scenario]\nbase = \"b.toml\"\n");
    write("b.toml", "[scenario]\nbase = \"a.toml\"\n");
    write("missing.toml", "[scenario]\nbase = \"nowhere.toml\"\n");
    write("number.toml", "[scenario]\nbase = 3\n");
    for (file, says) in [("a.toml", "cycle"), ("missing.toml", "nowhere.toml"), ("number.toml", "path")] {
        let out = biocluster(&[
            "run",
            dir.path().join(file).to_str().unwrap(),
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains("scenario.base") && stderr.contains(says), "{file}: {stderr}");
    }
    let err = Scenario::from_toml_str("[scenario]\nbase = \"x.toml\"\n", "text").unwrap_err().to_string();
    assert!(err.contains("scenario.base") && err.contains("scenario file"), "{err}");
}

//! Outputs survive a full disk and a killed process: the previous outputs stay intact and no
//! temporary file is left behind (issue 18, rows 5 and 10).
//!
//! The disk-full tests mount a small tmpfs and need root; without it they print why they skip
//! (set `BIOCLUSTER_REQUIRE_TMPFS=1` to make that a failure instead).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_biocluster")
}

fn biocluster(args: &[&str], out: &Path) -> Output {
    Command::new(bin()).args(args).arg("--out").arg(out).output().unwrap()
}

/// Every file under `dir` (relative path, bytes), sorted.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push((path.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A single run's data files (everything but the charts and report), by name.
fn data_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let files = snapshot(dir);
    assert!(files.len() > 9, "{} holds no complete run", dir.display());
    files
        .into_iter()
        .filter(|(p, _)| {
            p.extension().is_some_and(|x| x == "csv" || x == "json" || x == "toml") && p.parent() == Some(Path::new(""))
        })
        .collect()
}

/// Names of temporary files or folders anywhere under `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") {
            found.push(entry.path().display().to_string());
        } else if entry.path().is_dir() {
            found.extend(temporaries(&entry.path()));
        }
    }
    found
}

/// A tmpfs of `kilobytes` mounted for the life of the value.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(kilobytes: usize, test: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kilobytes}k"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if mounted {
            return Some(Tmpfs { dir });
        }
        let why = format!("{test}: skipped, cannot mount a tmpfs here (needs root) to fill a disk");
        assert!(std::env::var_os("BIOCLUSTER_REQUIRE_TMPFS").is_none(), "{why}");
        eprintln!("{why}");
        None
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_leaves_the_previous_run_intact_and_no_temporary_file() {
    // A disk on which the first run fits and the second cannot be written beside it: the first's
    // size plus half the second's, measured on a roomy disk first.
    let roomy = tempfile::tempdir().unwrap();
    let size_kb = |seed: &str| {
        let out = biocluster(&["run", "--quiet", "--no-report", "--label", seed, "--seed", seed], roomy.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let bytes: usize =
            snapshot(&roomy.path().join(format!("korea-default-{seed}"))).iter().map(|f| f.1.len()).sum();
        bytes / 1024
    };
    let kilobytes = size_kb("1") + size_kb("2") / 2;
    let Some(disk) = Tmpfs::mount(kilobytes, "a_full_disk_leaves_the_previous_run_intact") else { return };
    // One folder (--label) that a second, different run (--force) replaces.
    let first = biocluster(&["run", "--quiet", "--no-report", "--label", "t", "--seed", "1"], disk.path());
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let folder = disk.path().join("korea-default-t");
    let before = snapshot(&folder);

    let second = biocluster(&["run", "--quiet", "--no-report", "--label", "t", "--force", "--seed", "2"], disk.path());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("No space left") || stderr.contains("space"), "{stderr}");
    assert!(snapshot(&folder) == before, "the previous outputs changed");
    assert_eq!(temporaries(disk.path()), Vec::<String>::new());
}

#[test]
fn a_full_disk_stops_an_experiment_with_exit_2_and_no_temporary_file() {
    let Some(disk) = Tmpfs::mount(1024, "a_full_disk_stops_an_experiment_cleanly") else { return };
    let scenario = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        scenario.path(),
        "[scenario]\nname = \"full\"\nyears = 30\n[experiment]\nreplications = 200\n[[experiment.variants]]\nname = \"b\"\n[experiment.variants.set]\n\"alliances.searches_per_year\" = 0.9\n",
    )
    .unwrap();
    let path = scenario.path().to_str().unwrap();
    let out = biocluster(&["run", "--quiet", "--no-report", "--threads", "2", path], disk.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("space"), "{stderr}");
    assert_eq!(temporaries(disk.path()), Vec::<String>::new());
}

/// Kills single runs at several moments while they simulate, write and draw: the previous outputs
/// are never touched, and the next complete run removes whatever the killed ones left.
#[cfg(unix)]
#[test]
fn a_killed_run_leaves_the_previous_outputs_intact_and_the_next_run_cleans_up() {
    let out = tempfile::tempdir().unwrap();
    let first = biocluster(&["run", "--quiet", "--label", "t", "--seed", "1"], out.path());
    assert!(first.status.success());
    let folder = out.path().join("korea-default-t");
    let before = data_files(&folder);
    let reference = tempfile::tempdir().unwrap();
    assert!(
        biocluster(&["run", "--quiet", "--label", "t", "--seed", "2", "--scale", "2"], reference.path())
            .status
            .success()
    );
    let after = data_files(&reference.path().join("korea-default-t"));
    assert!(before != after);
    let staging = |dir: &Path| {
        std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()).any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(".korea-default-t.") && name.ends_with(".tmp")
        })
    };
    let mut killed_while_staging = 0;
    for delay_ms in [0u64, 20, 60, 120, 250, 400] {
        let mut child = Command::new(bin())
            .args(["run", "--quiet", "--label", "t", "--force", "--seed", "2", "--scale", "2", "--out"])
            .arg(out.path())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !staging(out.path()) && started.elapsed().as_secs() < 60 && child.try_wait().unwrap().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if finished {
            continue;
        }
        killed_while_staging += 1;
        let now = data_files(&folder);
        // Either untouched, or (if the kill came after the swap) the new run whole.
        assert!(now == before || now == after, "outputs of two runs mixed (killed {delay_ms} ms into writing)");
        if now != before {
            break;
        }
    }
    assert!(killed_while_staging > 0, "no run was killed while writing");
    let last = biocluster(&["run", "--quiet", "--label", "t", "--force", "--seed", "3"], out.path());
    assert!(last.status.success());
    assert_eq!(temporaries(out.path()), Vec::<String>::new());
    let entries: Vec<String> =
        std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(entries, ["korea-default-t"]);
}

/// A killed experiment leaves temporary files where it was writing; `--resume` removes them and
/// finishes.
#[cfg(unix)]
#[test]
fn a_resumed_experiment_removes_what_a_killed_one_left() {
    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("exp.toml");
    std::fs::write(&scenario, "[scenario]\nname = \"killed\"\nyears = 10\n[experiment]\nreplications = 4\n").unwrap();
    let path = scenario.to_str().unwrap();
    let results = out.path().join("results");
    assert!(biocluster(&["run", "--quiet", "--no-report", path], &results).status.success());
    let units = results.join("killed").join("replications").join("baseline");
    // What a SIGKILL in the middle of writing leaves: a temporary file beside the finished ones.
    std::fs::write(units.join(".rep-000002.csv.Ab12Cd.tmp"), "half a file").unwrap();
    std::fs::write(results.join("killed").join(".aggregate.csv.Xy34Zw.tmp"), "half").unwrap();
    let resumed = biocluster(&["run", "--quiet", "--no-report", "--resume", path], &results);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert_eq!(temporaries(&results), Vec::<String>::new());
}

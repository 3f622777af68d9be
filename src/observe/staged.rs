//! A single run's output folder, replaced whole or not at all.
//!
//! A run writes into a fresh hidden folder beside its output folder (`.<name>.XXXXXX.tmp`, created
//! exclusively with an unpredictable name, so never through a planted symlink) and, once every file
//! and chart is written, swaps it with the previous outputs in one step (Linux `renameat2`
//! `RENAME_EXCHANGE`; elsewhere two renames), then deletes the previous outputs. A full disk or any
//! other error drops the new folder and leaves the previous outputs as they were; a killed run leaves
//! its hidden folder behind, which the next run into the same place removes.
//!
//! Each hidden folder holds a `.lock` file locked by its writer while it lives: a folder whose lock
//! can be taken belongs to a run that is gone. Cleaning up and swapping happen under a lock on the
//! parent folder, so two runs into the same place never remove each other's work.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What a single run writes into its folder; a folder holding anything else is not replaced.
pub const RUN_OUTPUTS: [&str; 14] = [
    "scenario.resolved.toml",
    "timeseries.csv",
    "panel.csv",
    "summary.json",
    "survey.csv",
    "regressions.csv",
    "network_nodes.csv",
    "network_edges.csv",
    "facts.csv",
    "instruments.csv",
    "causal_effects.csv",
    "report.html",
    "charts",
    "slides",
];

/// A run's outputs being written; `commit` puts them in place.
pub struct Staged {
    target: PathBuf,
    folder: tempfile::TempDir,
    /// Held (locked) while the staged folder lives.
    _lock: File,
}

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::WriteOutput { path: path.to_path_buf(), source }
}

/// An exclusive lock on `dir` (released when dropped), where the platform allows one.
fn lock_folder(dir: &Path) -> Option<File> {
    let file = File::open(dir).ok()?;
    file.lock().ok()?;
    Some(file)
}

/// Refuses to replace a folder that holds files a single run does not write (an experiment's
/// results, something the user put there).
fn check_replaceable(target: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(target) else { return Ok(()) };
    let mut foreign: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !(RUN_OUTPUTS.contains(&name.as_str()) || name.starts_with('.') && name.ends_with(".tmp")))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    foreign.truncate(5);
    Err(Error::Usage(format!(
        "`{}` holds files a single run does not write ({}); a run replaces its whole folder, so move them or choose another --out",
        target.display(),
        foreign.join(", ")
    )))
}

impl Staged {
    /// Prepares to replace `target` (which need not exist): checks it may be replaced, removes hidden
    /// folders left by killed runs into it, and creates a fresh one to write into.
    pub fn new(target: &Path) -> Result<Staged> {
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(write_err(parent))?;
        check_replaceable(target)?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = format!(".{name}.");
        let _parent_lock = lock_folder(parent);
        if let Ok(entries) = std::fs::read_dir(parent) {
            for entry in entries.filter_map(|e| e.ok()) {
                let file_name = entry.file_name().to_string_lossy().into_owned();
                let path = entry.path();
                if file_name.starts_with(&prefix)
                    && file_name.ends_with(".tmp")
                    && path.is_dir()
                    && !path.is_symlink()
                    && gone(&path)
                {
                    // Best effort: what cannot be removed now is tried again next time.
                    let _ = std::fs::remove_dir_all(&path);
                }
            }
        }
        let folder =
            tempfile::Builder::new().prefix(&prefix).suffix(".tmp").tempdir_in(parent).map_err(write_err(parent))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o755))
                .map_err(write_err(folder.path()))?;
        }
        let lock_path = folder.path().join(".lock");
        let lock = File::create_new(&lock_path).map_err(write_err(&lock_path))?;
        lock.lock().map_err(write_err(&lock_path))?;
        Ok(Staged { target: target.to_path_buf(), folder, _lock: lock })
    }

    /// Where to write the outputs.
    pub fn path(&self) -> &Path {
        self.folder.path()
    }

    /// The folder the outputs will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Puts the written outputs in place of the previous ones; returns the output folder.
    pub fn commit(self) -> Result<PathBuf> {
        let parent = self.target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let _parent_lock = lock_folder(parent);
        check_replaceable(&self.target)?;
        let staged = self.folder.path().to_path_buf();
        std::fs::remove_file(staged.join(".lock")).map_err(write_err(&staged))?;
        if self.target.symlink_metadata().is_ok() {
            swap(&staged, &self.target)?;
            // `staged` now holds the previous outputs; `TempDir`'s drop removes them.
        } else {
            let staged = self.folder.keep();
            std::fs::rename(&staged, &self.target).map_err(write_err(&self.target))?;
        }
        Ok(self.target)
    }
}

/// Whether a hidden folder belongs to a run that is gone: its lock can be taken, or it has none. A
/// live run creates the lock with the folder and removes it just before the swap, both under the
/// parent folder's lock, which the caller holds; so a folder without a lock was left by a run killed
/// between those steps or while its `TempDir` removed the previous outputs.
fn gone(folder: &Path) -> bool {
    match File::open(folder.join(".lock")) {
        Ok(lock) => lock.try_lock().is_ok(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Exchanges two folders: atomically on Linux; elsewhere (or on a file system without exchange) by
/// moving `target` aside, then `staged` into its place.
fn swap(staged: &Path, target: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        if renameat_with(CWD, staged, CWD, target, RenameFlags::EXCHANGE).is_ok() {
            return Ok(());
        }
    }
    let aside = staged.with_extension("old.tmp");
    std::fs::rename(target, &aside).map_err(write_err(target))?;
    if let Err(e) = std::fs::rename(staged, target) {
        let _ = std::fs::rename(&aside, target);
        return Err(write_err(target)(e));
    }
    std::fs::rename(&aside, staged).map_err(write_err(staged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_committed_folder_replaces_the_previous_one_whole() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("run");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("panel.csv"), "old").unwrap();
        std::fs::write(target.join("timeseries.csv"), "old").unwrap();
        let staged = Staged::new(&target).unwrap();
        std::fs::write(staged.path().join("timeseries.csv"), "new").unwrap();
        assert_eq!(std::fs::read_to_string(target.join("timeseries.csv")).unwrap(), "old");
        staged.commit().unwrap();
        assert_eq!(names(&target), ["timeseries.csv"]);
        assert_eq!(std::fs::read_to_string(target.join("timeseries.csv")).unwrap(), "new");
        assert_eq!(names(out.path()), ["run"]);
    }

    #[test]
    fn a_dropped_folder_leaves_the_previous_outputs_and_nothing_else() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("run");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("panel.csv"), "old").unwrap();
        let staged = Staged::new(&target).unwrap();
        std::fs::write(staged.path().join("panel.csv"), "half").unwrap();
        drop(staged);
        assert_eq!(names(out.path()), ["run"]);
        assert_eq!(std::fs::read_to_string(target.join("panel.csv")).unwrap(), "old");
    }

    #[test]
    fn folders_of_gone_runs_are_removed_but_not_those_of_live_ones() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("run");
        let live = Staged::new(&target).unwrap();
        let dead = out.path().join(".run.abc123.tmp");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join(".lock"), "").unwrap();
        let other = out.path().join(".another.abc123.tmp");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join(".lock"), "").unwrap();
        let second = Staged::new(&target).unwrap();
        assert!(!dead.exists(), "a gone run's folder stays");
        assert!(live.path().exists(), "a live run's folder was removed");
        assert!(other.exists(), "another output's folder was touched");
        second.commit().unwrap();
        live.commit().unwrap();
        assert!(target.is_dir());
    }

    #[test]
    fn a_folder_with_foreign_files_is_not_replaced() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("run");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("aggregate.csv"), "an experiment's").unwrap();
        let err = Staged::new(&target).err().unwrap().to_string();
        assert!(err.contains("aggregate.csv") && err.contains("another --out"), "{err}");
        assert_eq!(names(out.path()), ["run"]);
    }
}

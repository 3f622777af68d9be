//! Sharding an experiment over a cluster scheduler (Slurm), and merging the shards.
//!
//! Shard i of n (1-based) runs the work units whose index, in (replication, variant) order, is
//! congruent to i - 1 modulo n, into `<dir>/shards/shard-<i>-of-<n>/`. The shard writes its manifest
//! first and a `done.json` marker last (atomically): a shard without the marker is half-written and
//! is never merged; `done.json` lists the seal (sha256 of each file) of every unit the shard ran.
//! Re-running a shard replaces only its own folder. `merge` checks that the shards are complete,
//! unique and of one experiment and that every unit matches its seal and `done.json`, gathers the
//! units and aggregates exactly as a single-machine run does, so the outputs are byte-identical.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::Experiment;
use super::run::{Options, aggregate, manifest, run_unit, thread_pool, unit_path};
use super::seal::{Seal, read_unit as read_sealed, write_unit};
use crate::error::{Error, Result};
use crate::observe::write::write_atomic;

/// Which shard to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` (1 <= I <= N), or `slurm` (from SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and
    /// SLURM_ARRAY_TASK_COUNT).
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = |why: String| Error::Usage(format!("--shard {text}: {why}; use I/N with 1 <= I <= N, or `slurm`"));
        if text == "slurm" {
            let var = |name: &str| {
                std::env::var(name)
                    .map_err(|_| bad(format!("{name} is not set (not inside a Slurm array job?)")))?
                    .parse::<usize>()
                    .map_err(|_| bad(format!("{name} is not a number")))
            };
            let id = var("SLURM_ARRAY_TASK_ID")?;
            let min = std::env::var("SLURM_ARRAY_TASK_MIN").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
            let count = var("SLURM_ARRAY_TASK_COUNT")?;
            let index = id.checked_sub(min).ok_or_else(|| bad("task id below the array minimum".into()))? + 1;
            return Shard::new(index, count).map_err(|e| bad(e.to_string()));
        }
        let (i, n) = text.split_once('/').ok_or_else(|| bad("missing '/'".into()))?;
        let i = i.trim().parse::<usize>().map_err(|_| bad(format!("`{i}` is not a number")))?;
        let n = n.trim().parse::<usize>().map_err(|_| bad(format!("`{n}` is not a number")))?;
        Shard::new(i, n).map_err(|e| bad(e.to_string()))
    }

    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 || index == 0 || index > count {
            return Err(Error::Usage(format!("shard {index} of {count} does not exist")));
        }
        Ok(Shard { index, count })
    }

    pub fn folder(&self, dir: &Path) -> PathBuf {
        dir.join("shards").join(format!("shard-{}-of-{}", self.index, self.count))
    }

    /// The units of this shard, as (variant, replication).
    pub fn units(&self, exp: &Experiment) -> Vec<(usize, u32)> {
        (0..exp.replications)
            .flat_map(|r| (0..exp.variants.len()).map(move |v| (v, r)))
            .enumerate()
            .filter(|(k, _)| k % self.count == self.index - 1)
            .map(|(_, unit)| unit)
            .collect()
    }
}

/// Runs one shard into its own folder; returns that folder.
pub fn run_shard(exp: &Experiment, dir: &Path, shard: Shard, opts: &Options) -> Result<PathBuf> {
    let folder = shard.folder(dir);
    if folder.exists() {
        std::fs::remove_dir_all(&folder).map_err(|source| Error::WriteOutput { path: folder.clone(), source })?;
    }
    write_atomic(&folder.join("experiment.json"), manifest(exp).as_bytes())?;
    write_atomic(&folder.join("scenario.resolved.toml"), exp.resolved_toml.as_bytes())?;
    // The facts file travels with the shard: `merge` aggregates the units' facts against it.
    write_atomic(&folder.join("facts.toml"), exp.facts.text.as_bytes())?;
    let units = shard.units(exp);
    let pool = thread_pool(opts.threads)?;
    let seals: Vec<Seal> =
        pool.install(|| units.par_iter().map(|&(v, r)| run_unit(&folder, exp, v, r)).collect::<Result<_>>())?;
    let done = Done { shard: shard.index, of: shard.count, units: seals };
    let text = serde_json::to_string_pretty(&done).expect("done.json serialises") + "\n";
    write_atomic(&folder.join("done.json"), text.as_bytes())?;
    Ok(folder)
}

/// A finished shard's marker, `done.json`, written last: the seal (with sha256 of each file) of every
/// unit it ran, in the order it ran them.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Done {
    shard: usize,
    of: usize,
    units: Vec<Seal>,
}

/// Merges complete shards in `dir` into the single-machine outputs; returns the files written.
pub fn merge(dir: &Path) -> Result<Vec<PathBuf>> {
    let shards_dir = dir.join("shards");
    let refuse = |why: String| Error::Usage(format!("cannot merge `{}`: {why}", dir.display()));
    let mut found: Vec<(Shard, PathBuf)> = Vec::new();
    let entries = std::fs::read_dir(&shards_dir)
        .map_err(|_| refuse(format!("no shard folders in `{}`", shards_dir.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("shard-") else { continue };
        let parsed =
            rest.split_once("-of-").and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)));
        let (i, n) = parsed.ok_or_else(|| refuse(format!("unexpected folder `{name}` among the shards")))?;
        found.push((Shard::new(i, n).map_err(|e| refuse(e.to_string()))?, entry.path()));
    }
    found.sort_by_key(|(s, _)| (s.count, s.index));
    let counts: std::collections::BTreeSet<usize> = found.iter().map(|(s, _)| s.count).collect();
    if counts.len() > 1 {
        return Err(refuse(format!(
            "shards from different splits ({}); keep one split",
            counts.iter().map(|n| format!("of {n}")).collect::<Vec<_>>().join(", ")
        )));
    }
    let count = *counts.iter().next().ok_or_else(|| refuse("no shards found".into()))?;
    let incomplete: Vec<String> = found
        .iter()
        .filter(|(_, p)| !p.join("done.json").exists())
        .map(|(s, _)| format!("{}/{}", s.index, count))
        .collect();
    let missing: Vec<String> =
        (1..=count).filter(|i| !found.iter().any(|(s, _)| s.index == *i)).map(|i| format!("{i}/{count}")).collect();
    if !missing.is_empty() || !incomplete.is_empty() {
        let mut why = Vec::new();
        if !missing.is_empty() {
            why.push(format!("missing shards {}", missing.join(", ")));
        }
        if !incomplete.is_empty() {
            why.push(format!("unfinished shards (no done.json) {}", incomplete.join(", ")));
        }
        return Err(refuse(format!("{}; rerun them with --shard I/{count}", why.join("; "))));
    }
    let manifests: Vec<String> = found
        .iter()
        .map(|(_, p)| {
            std::fs::read_to_string(p.join("experiment.json"))
                .map_err(|_| refuse(format!("`{}` has no manifest", p.display())))
        })
        .collect::<Result<_>>()?;
    if let Some((k, _)) = manifests.iter().enumerate().find(|(_, m)| *m != &manifests[0]) {
        return Err(refuse(format!(
            "shard {}/{count} comes from a different experiment than shard 1/{count} (scenario, seed or program version differ)",
            found[k].0.index
        )));
    }
    let resolved = std::fs::read_to_string(found[0].1.join("scenario.resolved.toml"))
        .map_err(|_| refuse("shard 1 has no scenario".into()))?;
    let scenario = crate::Scenario::from_toml_str(&resolved, "shard scenario")?;
    let facts_path = found[0].1.join("facts.toml");
    let facts_text = std::fs::read_to_string(&facts_path).map_err(|_| refuse("shard 1 has no facts file".into()))?;
    let facts = crate::facts::Facts::parse(&facts_text, &facts_path.display().to_string())?;
    let exp = Experiment::from_scenario(&scenario, "shard scenario")?
        .ok_or_else(|| refuse("the shards hold no experiment".into()))?
        .with_facts(facts);
    if manifest(&exp) != manifests[0] {
        return Err(refuse("the shards' manifest does not match their scenario".into()));
    }
    // Gather every unit from its shard into the single-machine layout.
    let target = dir.join("replications");
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(|source| Error::WriteOutput { path: target.clone(), source })?;
    }
    // Each unit is copied only if its files match both its own seal and the shard's done.json.
    for (shard, folder) in &found {
        let done_path = folder.join("done.json");
        let done: Done = std::fs::read_to_string(&done_path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .ok_or_else(|| refuse(format!("`{}` is damaged", done_path.display())))?;
        let units = shard.units(&exp);
        if (done.shard, done.of, done.units.len()) != (shard.index, shard.count, units.len()) {
            return Err(refuse(format!("`{}` does not describe shard {}/{count}", done_path.display(), shard.index)));
        }
        for (&(v, r), recorded) in units.iter().zip(&done.units) {
            let unit = read_sealed(folder, &exp, v, r)?.ok_or_else(|| {
                refuse(format!(
                    "`{}` or its seal is missing from a finished shard",
                    unit_path(folder, &exp, v, r).display()
                ))
            })?;
            if &Seal::new(&exp, v, r, &unit) != recorded {
                return Err(refuse(format!(
                    "`{}` does not match the sha256 recorded in `{}`",
                    unit_path(folder, &exp, v, r).display(),
                    done_path.display()
                )));
            }
            write_unit(dir, &exp, v, r, &unit)?;
        }
    }
    write_atomic(&dir.join("experiment.json"), manifests[0].as_bytes())?;
    aggregate(&exp, dir)
}

/// The sbatch scripts for an experiment split into `shards` array tasks, plus a dependent merge job.
pub struct SlurmScripts {
    pub array: String,
    pub merge: String,
    pub submit: String,
}

pub struct SlurmOptions {
    pub shards: usize,
    pub partition: Option<String>,
    pub time: String,
    pub cpus: usize,
    /// A facts file every shard measures (absolute path); `None`: the embedded default.
    pub facts: Option<PathBuf>,
}

pub fn slurm_scripts(
    exp: &Experiment,
    binary: &Path,
    scenario: &Path,
    out: &Path,
    dir: &Path,
    o: &SlurmOptions,
) -> SlurmScripts {
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
    let partition = o.partition.as_ref().map(|p| format!("#SBATCH --partition={p}\n")).unwrap_or_default();
    let logs = dir.join("slurm");
    let array = format!(
        "#!/bin/bash\n# biocluster experiment `{name}`: {units} runs in {n} array tasks.\n#SBATCH --job-name=biocluster-{name}\n#SBATCH --array=0-{last}\n#SBATCH --cpus-per-task={cpus}\n#SBATCH --time={time}\n{partition}#SBATCH --output={logs}/shard-%a.log\nset -euo pipefail\nexec {bin} run {scenario} --shard slurm --threads {cpus} --quiet{facts} --out {out}\n",
        name = exp.name,
        units = exp.n_units(),
        n = o.shards,
        last = o.shards - 1,
        cpus = o.cpus,
        time = o.time,
        logs = logs.display(),
        bin = quote(binary),
        scenario = quote(scenario),
        facts = o.facts.as_ref().map_or(String::new(), |f| format!(" --facts {}", quote(f))),
        out = quote(out),
    );
    let merge = format!(
        "#!/bin/bash\n# Merges the shards of `{name}` into single-machine outputs.\n#SBATCH --job-name=biocluster-{name}-merge\n#SBATCH --cpus-per-task=1\n#SBATCH --time={time}\n{partition}#SBATCH --output={logs}/merge.log\nset -euo pipefail\nexec {bin} merge {dir}\n",
        name = exp.name,
        time = o.time,
        logs = logs.display(),
        bin = quote(binary),
        dir = quote(dir),
    );
    let submit = String::from(
        "#!/bin/bash\n# Submits the array job, then the merge job to run once every shard succeeded.\nset -euo pipefail\ncd \"$(dirname \"$0\")\"\narray=$(sbatch --parsable array.sbatch)\nmerge=$(sbatch --parsable --dependency=afterok:${array%%;*} merge.sbatch)\necho \"submitted array job $array and merge job $merge\"\n",
    );
    SlurmScripts { array, merge, submit }
}

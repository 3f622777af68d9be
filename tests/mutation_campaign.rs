//! A mutation fuzz campaign over the shipped scenario files (issue 18): each shipped scenario, shortened
//! to a few years and replications, is mutated (bytes, keys, types, values, names, tables) and run by
//! the release CLI under a memory limit. Every run must end with exit 0 or 2 (never a panic, an abort
//! or a hang); a file whose mutation validation must refuse (an unknown key, a wrong type, a
//! non-finite or absurd number, a bad name) must exit 2 naming the file; a run that exits 0 must have
//! written only finite numbers.
//!
//! The test command runs a short campaign (`BIOCLUSTER_CAMPAIGN_FILES`, default 300 files);
//! `bash tests/fuzz/campaign.sh [FILES] [SEED]` runs a long one in release mode and prints the table
//! quoted in docs/reliability.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use toml::{Table, Value};

/// What a mutated file must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Validation must refuse it: exit 2, naming the file.
    Refused,
    /// Exit 0 with finite outputs, or exit 2.
    Either,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Bytes,
    UnknownKey,
    WrongType,
    NonFinite,
    Absurd,
    BadName,
    DuplicateCluster,
    Rescale,
    Boundary,
    Remove,
    Splice,
}

impl Class {
    const ALL: [Class; 11] = [
        Class::Bytes,
        Class::UnknownKey,
        Class::WrongType,
        Class::NonFinite,
        Class::Absurd,
        Class::BadName,
        Class::DuplicateCluster,
        Class::Rescale,
        Class::Boundary,
        Class::Remove,
        Class::Splice,
    ];
    fn expect(self) -> Expect {
        match self {
            Class::UnknownKey
            | Class::WrongType
            | Class::NonFinite
            | Class::Absurd
            | Class::BadName
            | Class::DuplicateCluster => Expect::Refused,
            Class::Bytes | Class::Rescale | Class::Boundary | Class::Remove | Class::Splice => Expect::Either,
        }
    }
}

/// A step into a TOML document.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn leaves(value: &Value, path: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, Value)>) {
    match value {
        Value::Table(t) => {
            for (k, v) in t {
                path.push(Step::Key(k.clone()));
                leaves(v, path, out);
                path.pop();
            }
        }
        Value::Array(a) if a.iter().any(|v| v.is_table()) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Step::Index(i));
                leaves(v, path, out);
                path.pop();
            }
        }
        other => out.push((path.clone(), other.clone())),
    }
}

/// Every table (by path), the document itself included.
fn tables(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Table(t) => {
            out.push(path.clone());
            for (k, v) in t {
                path.push(Step::Key(k.clone()));
                tables(v, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Step::Index(i));
                tables(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match step {
        Step::Key(k) => v.as_table_mut().unwrap().get_mut(k).unwrap(),
        Step::Index(i) => v.as_array_mut().unwrap().get_mut(*i).unwrap(),
    })
}

fn last_key(path: &[Step]) -> &str {
    match path.last() {
        Some(Step::Key(k)) => k,
        _ => "",
    }
}

/// Whether `path` lies inside `[experiment.variants.set]`-like override maps (values of any type).
fn in_overrides(path: &[Step]) -> bool {
    path.iter().any(|s| matches!(s, Step::Key(k) if k == "set"))
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() { None } else { Some(&items[rng.random_range(0..items.len())]) }
}

/// Shortens a shipped scenario (to `years`, two replications, at most three named variants, the
/// smallest sensitivity design) so that a
/// campaign of thousands of runs takes minutes.
fn shortened(mut doc: Table, years: i64) -> Table {
    let scenario = doc.entry("scenario").or_insert_with(|| Value::Table(Table::new()));
    if let Some(t) = scenario.as_table_mut() {
        t.insert("years".into(), Value::Integer(years));
    }
    if let Some(Value::Table(exp)) = doc.get_mut("experiment") {
        exp.insert("replications".into(), Value::Integer(2));
        if let Some(Value::Table(lhs)) = exp.get_mut("latin_hypercube") {
            lhs.insert("samples".into(), Value::Integer(3));
        }
        if let Some(Value::Array(variants)) = exp.get_mut("variants") {
            variants.truncate(3);
        }
        // A sensitivity design at its smallest: three uncertainties, the fewest samples allowed.
        let smallest = match exp.get("method").and_then(Value::as_str) {
            Some("sobol") => Some(16),
            Some("morris") => Some(2),
            _ => None,
        };
        if let Some(n) = smallest {
            exp.insert("samples".into(), Value::Integer(n));
        }
        if let Some(Value::Array(uncertainties)) = exp.get_mut("uncertainties") {
            uncertainties.truncate(3);
        }
    }
    doc
}

/// Applies one mutation of `class`; `None` when the document offers nothing to mutate that way.
fn mutate(class: Class, doc: &Table, donors: &[Table], rng: &mut ChaCha8Rng) -> Option<(String, String)> {
    let mut value = Value::Table(doc.clone());
    let mut all = Vec::new();
    leaves(&value, &mut Vec::new(), &mut all);
    let mut all_tables = Vec::new();
    tables(&value, &mut Vec::new(), &mut all_tables);
    let describe = |path: &[Step]| {
        path.iter()
            .map(|s| match s {
                Step::Key(k) => k.clone(),
                Step::Index(i) => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join(".")
    };
    let numbers: Vec<&(Vec<Step>, Value)> = all.iter().filter(|(_, v)| v.is_integer() || v.is_float()).collect();
    let what = match class {
        Class::Bytes => {
            let mut text = toml::to_string(&value).unwrap().into_bytes();
            let n = rng.random_range(1..=3);
            for _ in 0..n {
                if text.is_empty() {
                    break;
                }
                let i = rng.random_range(0..text.len());
                match rng.random_range(0..6) {
                    0 => text[i] ^= 1 << rng.random_range(0..8),
                    1 => text.insert(i, *pick(rng, b"[]{}=\".,#\n'\\-+eE0").unwrap()),
                    2 => {
                        let end = (i + rng.random_range(1..40)).min(text.len());
                        text.drain(i..end);
                    }
                    3 => text.truncate(i),
                    4 => {
                        let start = text[..i].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                        let end = text[i..].iter().position(|&b| b == b'\n').map_or(text.len(), |p| i + p + 1);
                        let line = text[start..end].to_vec();
                        text.splice(end..end, line);
                    }
                    _ => text[i] = rng.random::<u8>(),
                }
            }
            return Some((String::from_utf8_lossy(&text).into_owned(), format!("{n} byte edits")));
        }
        Class::UnknownKey => {
            let path = pick(rng, &all_tables)?.clone();
            let key = format!("zz_unknown_{}", rng.random_range(0..1000));
            at(&mut value, &path).as_table_mut().unwrap().insert(key.clone(), Value::Integer(1));
            format!("unknown key {}.{key}", describe(&path))
        }
        Class::WrongType => {
            let (path, old) = pick(rng, &all)?.clone();
            let new = match old {
                Value::String(_) => Value::Boolean(true),
                Value::Boolean(_) => Value::String("yes".into()),
                Value::Integer(_) | Value::Float(_) => {
                    if rng.random_bool(0.5) {
                        Value::String("12".into())
                    } else {
                        Value::Boolean(false)
                    }
                }
                Value::Array(_) => Value::String("[]".into()),
                _ => Value::Array(vec![Value::Table(Table::new())]),
            };
            *at(&mut value, &path) = new;
            format!("wrong type at {}", describe(&path))
        }
        Class::NonFinite => {
            let (path, _) = (*pick(rng, &numbers)?).clone();
            let x = *pick(rng, &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]).unwrap();
            *at(&mut value, &path) = Value::Float(x);
            format!("{x} at {}", describe(&path))
        }
        Class::Absurd => {
            // Beyond every bound: 1e300 and -1e300 as floats (also refused where an integer is due).
            let candidates: Vec<_> = numbers.iter().filter(|(p, _)| last_key(p) != "seed").collect();
            let (path, _) = (**pick(rng, &candidates)?).clone();
            let x = if rng.random_bool(0.5) { 1e300 } else { -1e300 };
            *at(&mut value, &path) = Value::Float(x);
            format!("{x:e} at {}", describe(&path))
        }
        Class::BadName => {
            let names: Vec<_> =
                all.iter().filter(|(p, v)| v.is_str() && last_key(p) == "name" && !in_overrides(p)).collect();
            let (path, _) = (*pick(rng, &names)?).clone();
            let is_cluster = matches!(path.first(), Some(Step::Key(k)) if k == "clusters");
            let mut bad = vec!["..", ".", "a/b", "", "a,b", "line\nbreak", "tab\there", "../up", ".hidden"];
            if is_cluster {
                bad.push("all");
            }
            let long = "n".repeat(rng.random_range(65..300));
            bad.push(&long);
            let name = pick(rng, &bad).unwrap().to_string();
            *at(&mut value, &path) = Value::String(name.clone());
            format!("name {:?} at {}", name, describe(&path))
        }
        Class::DuplicateCluster => {
            let clusters = value.get_mut("clusters")?.as_array_mut()?;
            let i = rng.random_range(0..clusters.len());
            let copy = clusters[i].clone();
            clusters.push(copy);
            format!("cluster {i} duplicated")
        }
        Class::Rescale => {
            let n = rng.random_range(1..=3);
            let mut changed = Vec::new();
            for _ in 0..n {
                let (path, old) = (*pick(rng, &numbers)?).clone();
                let new = match old {
                    Value::Integer(i) => Value::Integer(
                        *pick(
                            rng,
                            &[0, 1, i / 2, i.saturating_mul(2), i.saturating_mul(10), i.saturating_mul(100), -1],
                        )
                        .unwrap(),
                    ),
                    Value::Float(x) => {
                        Value::Float(x * *pick(rng, &[0.0, 0.5, 0.9, 1.1, 2.0, 10.0, 100.0, 1e3, 1e6, -1.0]).unwrap())
                    }
                    _ => unreachable!(),
                };
                changed.push(format!("{} = {new}", describe(&path)));
                *at(&mut value, &path) = new;
            }
            changed.join("; ")
        }
        Class::Boundary => {
            // The edges of what validation accepts for unbounded parameters (and just beyond).
            let (path, old) = (*pick(rng, &numbers)?).clone();
            let new = match old {
                Value::Integer(_) => {
                    Value::Integer(*pick(rng, &[0, 1, 1_000_000, 1_000_000_000, 4_294_967_295]).unwrap())
                }
                _ => Value::Float(*pick(rng, &[0.0, 1e-9, 5e-324, 1.0, 1e9, 1.000001e9, 1e12, -1e-9]).unwrap()),
            };
            let what = format!("{} = {new}", describe(&path));
            *at(&mut value, &path) = new;
            what
        }
        Class::Remove => {
            let (path, _) = pick(rng, &all)?.clone();
            let cut = rng.random_range(1..=path.len());
            let (parent, last) = (&path[..cut - 1], &path[cut - 1]);
            match (at(&mut value, parent), last) {
                (Value::Table(t), Step::Key(k)) => {
                    t.remove(k);
                }
                (Value::Array(a), Step::Index(i)) => {
                    a.remove(*i);
                }
                _ => return None,
            }
            format!("removed {}", describe(&path[..cut]))
        }
        Class::Splice => {
            let donor = pick(rng, donors)?;
            let key = pick(rng, &donor.keys().cloned().collect::<Vec<_>>())?.clone();
            value.as_table_mut().unwrap().insert(key.clone(), donor[&key].clone());
            format!("[{key}] from another scenario")
        }
    };
    Some((toml::to_string(&value).ok()?, what))
}

/// The shipped scenario files (facts and targets files are other formats).
fn seeds() -> Vec<(PathBuf, Table)> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from("scenarios")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("facts") && !path.ends_with("targets") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|x| x == "toml") {
                let doc: Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
                out.push((path, doc));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 10, "shipped scenarios not found");
    out
}

#[derive(Debug)]
enum Outcome {
    Exit(i32),
    Signal(String),
    Timeout,
}

fn run(file: &Path, out: &Path) -> (Outcome, String) {
    // A 6 GB address-space limit turns runaway memory into a failed allocation (an abort), not a
    // machine brought to its knees.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 6000000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_biocluster"))
        .args(["run", "--quiet", "--no-report", "--threads", "1", "--out"])
        .arg(out)
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stderr = reader.join().unwrap();
    let outcome = match status {
        None => Outcome::Timeout,
        Some(s) => match s.code() {
            Some(code) => Outcome::Exit(code),
            None => {
                #[cfg(unix)]
                let signal = std::os::unix::process::ExitStatusExt::signal(&s).unwrap_or(0).to_string();
                #[cfg(not(unix))]
                let signal = String::from("?");
                Outcome::Signal(signal)
            }
        },
    };
    (outcome, stderr)
}

/// A number in an output that is not finite, as (file, line, field).
fn non_finite(dir: &Path) -> Option<String> {
    const NULLABLE: [&str; 4] =
        ["unpartnered_success_rate", "partnered_success_rate", "mean_duration_years", "share_of_demand_served"];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).ok()? {
            let path = entry.ok()?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".csv") {
                let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
                let header: Vec<String> = reader.headers().ok()?.iter().map(str::to_string).collect();
                for (n, record) in reader.records().enumerate() {
                    let Ok(record) = record else {
                        return Some(format!("{} is not CSV at row {}", path.display(), n + 2));
                    };
                    for (i, field) in record.iter().enumerate() {
                        // A facts file's open band is written as inf on purpose.
                        let band = matches!(header.get(i).map(String::as_str), Some("band_low" | "band_high"));
                        let lower = field.to_ascii_lowercase();
                        if !band && matches!(lower.as_str(), "nan" | "inf" | "-inf" | "+inf" | "infinity" | "-infinity")
                        {
                            return Some(format!("{} row {} column {}", path.display(), n + 2, header.get(i)?));
                        }
                    }
                }
            } else if name.ends_with(".json") {
                for (n, line) in text.lines().enumerate() {
                    let key = line.trim().split(':').next().unwrap_or("").trim_matches('"');
                    if line.contains(": null") && !NULLABLE.contains(&key) {
                        return Some(format!("{} line {}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    None
}

/// Keys that set how much work a valid scenario asks for.
const WORKLOAD: [&str; 13] = [
    "replications",
    "validation_replications",
    "budget",
    "samples",
    "years",
    "firms",
    "established_firms",
    "universities",
    "pharma_partners",
    "investors",
    "startups_per_year",
    "values",
    "searches_per_year",
];

/// Whether a mutation (`path = value; ...`) set one of the `WORKLOAD` keys.
fn touches_workload(what: &str) -> bool {
    what.split("; ").any(|edit| {
        let path = edit.split(" = ").next().unwrap_or("");
        path.rsplit('.').find(|seg| seg.parse::<usize>().is_err()).is_some_and(|key| WORKLOAD.contains(&key))
    })
}

#[derive(Default)]
struct Tally {
    files: usize,
    exit0: usize,
    exit2: usize,
    long: usize,
    failures: Vec<String>,
}

fn campaign(files: usize, seed: u64) -> BTreeMap<Class, Tally> {
    let seeds = seeds();
    let donors: Vec<Table> = seeds.iter().map(|(_, d)| shortened(d.clone(), 4)).collect();
    let work = tempfile::tempdir().unwrap();
    let mut tally: BTreeMap<Class, Tally> = BTreeMap::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cases = Vec::new();
    while cases.len() < files {
        let (origin, doc) = &seeds[rng.random_range(0..seeds.len())];
        let doc = shortened(doc.clone(), rng.random_range(2..=10));
        let class = Class::ALL[rng.random_range(0..Class::ALL.len())];
        let Some((text, what)) = mutate(class, &doc, &donors, &mut rng) else { continue };
        cases.push((cases.len(), origin.clone(), class, text, what));
    }
    // Two runs at a time (the machines this runs on have two cores or more).
    let results: Vec<(Class, String, Option<String>, i32)> = std::thread::scope(|scope| {
        let chunks: Vec<_> = cases.chunks(cases.len().div_ceil(2)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let work = work.path();
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(k, origin, class, text, what)| {
                            let file = work.join(format!("case-{k:05}.toml"));
                            std::fs::write(&file, text).unwrap();
                            let out = work.join(format!("out-{k:05}"));
                            let (outcome, stderr) = run(&file, &out);
                            let label = format!("case {k} ({}: {what})", origin.display());
                            let mut failure = None;
                            let mut code = -1;
                            match outcome {
                                Outcome::Exit(0) => {
                                    code = 0;
                                    if class.expect() == Expect::Refused {
                                        failure = Some(format!("{label}: exit 0 on input validation must refuse"));
                                    } else if let Some(bad) = non_finite(&out) {
                                        failure = Some(format!("{label}: non-finite value in {bad}"));
                                    }
                                }
                                Outcome::Exit(2) => {
                                    code = 2;
                                    if !stderr.contains(&file.display().to_string()) && !stderr.contains("the run of") {
                                        failure = Some(format!("{label}: exit 2 without naming the file: {stderr}"));
                                    }
                                }
                                Outcome::Exit(c) => failure = Some(format!("{label}: exit {c}: {stderr}")),
                                Outcome::Signal(s) => {
                                    failure = Some(format!("{label}: killed by signal {s}: {stderr}"))
                                }
                                // A valid but long workload (a million replications) runs on: stopped, not failed.
                                Outcome::Timeout if touches_workload(what) => code = 3,
                                Outcome::Timeout => failure = Some(format!("{label}: still running after 120 s")),
                            }
                            if stderr.contains("panicked") && failure.is_none() {
                                failure = Some(format!("{label}: panic message: {stderr}"));
                            }
                            if failure.is_none() {
                                std::fs::remove_file(&file).ok();
                            }
                            std::fs::remove_dir_all(&out).ok();
                            (*class, label, failure, code)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    for (class, _, failure, code) in results {
        let t = tally.entry(class).or_default();
        t.files += 1;
        match code {
            0 => t.exit0 += 1,
            2 => t.exit2 += 1,
            3 => t.long += 1,
            _ => {}
        }
        t.failures.extend(failure);
    }
    if tally.values().any(|t| !t.failures.is_empty()) {
        // Keep the failing files for a look.
        let kept = work.keep();
        eprintln!("failing cases kept in {}", kept.display());
    }
    tally
}

fn table(tally: &BTreeMap<Class, Tally>) -> String {
    let mut s = String::from(
        "| mutation | must be refused | files | exit 0 | exit 2 | valid, stopped at 120 s | failures |\n|---|---|---|---|---|---|---|\n",
    );
    let mut total = Tally::default();
    for (class, t) in tally {
        s.push_str(&format!(
            "| {class:?} | {} | {} | {} | {} | {} | {} |\n",
            if class.expect() == Expect::Refused { "yes" } else { "no" },
            t.files,
            t.exit0,
            t.exit2,
            t.long,
            t.failures.len()
        ));
        total.files += t.files;
        total.exit0 += t.exit0;
        total.exit2 += t.exit2;
        total.long += t.long;
        total.failures.extend(t.failures.iter().cloned());
    }
    s.push_str(&format!(
        "| all | | {} | {} | {} | {} | {} |\n",
        total.files,
        total.exit0,
        total.exit2,
        total.long,
        total.failures.len()
    ));
    s
}

#[test]
fn mutated_scenarios_never_crash_never_write_non_finite_numbers_and_bad_ones_are_refused() {
    let files = std::env::var("BIOCLUSTER_CAMPAIGN_FILES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let seed = std::env::var("BIOCLUSTER_CAMPAIGN_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let started = Instant::now();
    let tally = campaign(files, seed);
    let report = table(&tally);
    eprintln!("mutation campaign: {files} files, seed {seed}, {:.0} s\n{report}", started.elapsed().as_secs_f64());
    let failures: Vec<&String> = tally.values().flat_map(|t| &t.failures).collect();
    for f in failures.iter().take(20) {
        eprintln!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} of {files} mutated files failed (first ones above)", failures.len());
    // Every class of mutation was tried at least once (a campaign that never refuses tests nothing).
    if files >= 60 {
        assert!(Class::ALL.iter().all(|c| tally.get(c).is_some_and(|t| t.files > 0)), "{report}");
        assert!(tally.values().map(|t| t.exit0).sum::<usize>() > 0, "no mutated file ran: {report}");
    }
}

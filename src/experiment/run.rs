//! Running an experiment: every (variant, replication) work unit in parallel, each written to its
//! own file as soon as it finishes; then one pass over those files, in a fixed order, aggregates.
//!
//! - Reproducible for any thread count: units are independent (own World, own seeded streams) and
//!   aggregation reads them in (replication, variant) order.
//! - Interruptible: a unit file appears atomically when its unit is done, so Ctrl-C or a crash
//!   keeps every finished replication; `--resume` skips them and ends with the same outputs.
//! - Memory does not grow with the number of replications: aggregation holds fixed-size streaming
//!   statistics per (variant, year, cluster, metric) and one replication at a time.

use std::io::{BufWriter, IsTerminal, Write as _};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use super::Experiment;
use super::seal::{Seal, UnitBytes, parse_series, read_unit as read_sealed, write_unit};
pub use super::seal::{manifest, same_experiment, unit_facts_path, unit_path, unit_survey_path};
use crate::error::{Error, Result};
use crate::format::csv_field;
use crate::observe::TS_COLUMNS;
use crate::observe::write::{num, remove_stray_temporaries, timeseries_csv, write_atomic, write_files};
use crate::simulation::run_replication;
use crate::stats::{Cell, Moments, Paired};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Keep finished units from an earlier, interrupted run of the same experiment.
    pub resume: bool,
    pub quiet: bool,
}

/// What a finished experiment produced.
#[derive(Debug, Clone)]
pub struct Report {
    pub units_run: usize,
    pub units_reused: usize,
    pub files: Vec<PathBuf>,
}

/// The columns of `effects.csv`: per variant, cluster and metric, the effect at the window's last
/// year and cumulated over the window (paired differences from the baseline, 95 % t intervals), the
/// extra public money over the window (the ecosystem's `public_spend_musd`), and each effect per M$
/// of it (ratio of the mean paired differences, Fieller's 95 % interval; empty when the extra money
/// is not clearly different from zero).
pub const EFFECTS_HEADER: &str = "variant,baseline,year,cluster,metric,n,baseline_mean,variant_mean,effect,ci95_low,ci95_high,\
window_first,window_last,baseline_cumulative,variant_cumulative,cumulative_effect,cumulative_ci95_low,cumulative_ci95_high,\
extra_public_musd,extra_public_ci95_low,extra_public_ci95_high,effect_per_musd,effect_per_musd_ci95_low,effect_per_musd_ci95_high,\
cumulative_per_musd,cumulative_per_musd_ci95_low,cumulative_per_musd_ci95_high";

/// Runs one unit and writes its files into `dir` (facts, time series, survey regressions, then the
/// seal that marks the unit done; each atomically); returns the seal.
pub fn run_unit(dir: &Path, exp: &Experiment, variant: usize, replication: u32) -> Result<Seal> {
    let record = run_replication(exp.variants[variant].scenario.clone(), u64::from(replication), |_| {});
    record.check_finite(&format!("variant `{}`, replication {replication}", exp.variants[variant].name))?;
    let scenario = &exp.variants[variant].scenario;
    let responses = crate::survey::sample(scenario, u64::from(replication), &record.panel);
    let regressions = crate::survey::regressions(&responses, scenario.survey.standard_errors);
    let unit = UnitBytes {
        facts: exp.facts.csv(&exp.facts.evaluate(&record)).into_bytes(),
        series: timeseries_csv(&record).into_bytes(),
        survey: crate::survey::regressions_csv(&regressions).into_bytes(),
    };
    write_unit(dir, exp, variant, replication, &unit)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::WriteOutput { path: path.to_path_buf(), source }
}

/// Runs every unit not yet on disk, then aggregates.
pub fn run(exp: &Experiment, dir: &Path, opts: &Options) -> Result<Report> {
    let manifest_path = dir.join("experiment.json");
    let manifest = manifest(exp);
    if opts.resume {
        let Ok(old) = std::fs::read_to_string(&manifest_path) else {
            return Err(Error::Usage(format!(
                "nothing to resume in `{}`: it has no experiment.json (the manifest every experiment writes first); \
                 run without --resume to start",
                dir.display()
            )));
        };
        if !same_experiment(&old, &manifest) {
            return Err(Error::Usage(format!(
                "`{}` holds results of a different experiment (scenario, seed, facts file or program version changed); \
                 run without --resume to start over, or choose another --out",
                dir.display()
            )));
        }
    } else {
        let units = dir.join("replications");
        if units.exists() {
            std::fs::remove_dir_all(&units).map_err(io_err(&units))?;
        }
    }
    // What a killed run was writing when it died (this run owns the folder now).
    remove_stray_temporaries(dir)?;
    remove_stray_temporaries(&dir.join("charts"))?;
    for variant in &exp.variants {
        remove_stray_temporaries(&dir.join("replications").join(&variant.name))?;
    }
    write_atomic(&manifest_path, manifest.as_bytes())?;

    let all: Vec<(usize, u32)> =
        (0..exp.replications).flat_map(|r| (0..exp.variants.len()).map(move |v| (v, r))).collect();
    // A unit is reused only through its seal; damaged or foreign files are refused here, by name.
    let mut todo = Vec::new();
    for &(v, r) in &all {
        if !opts.resume || read_sealed(dir, exp, v, r)?.is_none() {
            todo.push((v, r));
        }
    }
    let reused = all.len() - todo.len();

    let pool = thread_pool(opts.threads)?;
    let progress = Progress::new(all.len() as u64, reused as u64, opts.quiet);
    pool.install(|| {
        todo.par_iter().try_for_each(|&(v, r)| {
            run_unit(dir, exp, v, r)?;
            progress.inc();
            Ok::<(), Error>(())
        })
    })?;
    progress.finish();
    let files = aggregate(exp, dir)?;
    Ok(Report { units_run: todo.len(), units_reused: reused, files })
}

/// A worker pool of `threads` threads (default: all cores); refuses 0.
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads} worker threads: {e}")))
}

/// Progress on stderr: a bar on a terminal, a plain line every 10 % otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: std::sync::atomic::AtomicU64,
    quiet: bool,
}

impl Progress {
    fn new(total: u64, already: u64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {per_sec}  ETA {eta}")
                    .expect("valid template"),
            );
            bar.set_position(already);
            bar
        });
        if !quiet && bar.is_none() && already > 0 {
            eprintln!("resuming: {already}/{total} runs already done");
        }
        Progress { bar, total, done: already.into(), quiet }
    }
    fn inc(&self) {
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else if !self.quiet && (done * 10 / self.total.max(1)) != ((done - 1) * 10 / self.total.max(1)) {
            eprintln!("{done}/{} runs done", self.total);
        }
    }
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// Aggregates all unit files into the experiment's outputs; returns the files written.
pub fn aggregate(exp: &Experiment, dir: &Path) -> Result<Vec<PathBuf>> {
    if let Some(design) = &exp.design {
        return super::design::aggregate(exp, design, dir);
    }
    let base = &exp.variants[0].scenario;
    let mut clusters: Vec<String> = base.clusters.iter().map(|c| c.name.clone()).collect();
    clusters.push("all".into());
    let years: Vec<i32> = (0..base.years as i32).map(|y| base.start_year + y).collect();
    let (n_v, n_y, n_c, n_m) = (exp.variants.len(), years.len(), clusters.len(), TS_COLUMNS.len());
    for v in &exp.variants {
        let names: Vec<&String> = v.scenario.clusters.iter().map(|c| &c.name).collect();
        if names != clusters[..clusters.len() - 1].iter().collect::<Vec<_>>() || v.scenario.years != base.years {
            return Err(Error::Usage(format!(
                "variant `{}` changes the clusters or the horizon; variants may only change parameters",
                v.name
            )));
        }
    }
    let cell = |v: usize, y: usize, c: usize, m: usize| ((v * n_y + y) * n_c + c) * n_m + m;
    let mut cells = vec![Cell::default(); n_v * n_y * n_c * n_m];
    let mut finals = vec![Moments::default(); n_v * n_c * n_m];
    let mut cumulatives = vec![Moments::default(); n_v * n_c * n_m];
    // Paired over replications: (effect, extra public money) at the window's end and cumulated.
    let mut effects = vec![Paired::default(); n_v * n_c * n_m];
    let mut cumulative_effects = vec![Paired::default(); n_v * n_c * n_m];
    let (window_first, window_last) = exp.window;
    let public_money = TS_COLUMNS.iter().position(|m| *m == super::PUBLIC_MONEY).expect("a time-series column");

    let replications_path = dir.join("replications.csv");
    // An exclusive temporary file (see `observe::write::write_atomic`), renamed into place when complete.
    let named = crate::observe::write::temporary_in(dir, "replications.csv").map_err(io_err(&replications_path))?;
    let tmp = named.path().to_path_buf();
    let mut out = BufWriter::new(named);
    let mut header = vec!["variant".to_string(), "replication".to_string()];
    header.extend(exp.parameters.iter().map(|p| format!("set.{p}")));
    for c in &clusters {
        header.extend(TS_COLUMNS.iter().map(|m| format!("{c}.{m}")));
    }
    writeln!(out, "{}", header.join(",")).map_err(io_err(&tmp))?;

    // Each replication's survey against the study's findings, streamed like replications.csv.
    let findings_path = dir.join("survey_findings.csv");
    let named = crate::observe::write::temporary_in(dir, "survey_findings.csv").map_err(io_err(&findings_path))?;
    let findings_tmp = named.path().to_path_buf();
    let mut findings = BufWriter::new(named);
    writeln!(findings, "variant,replication,finding,implied,sample,specification,regressor,study_sign,study_significant,coef,se,t,p,holds")
        .map_err(io_err(&findings_tmp))?;
    let n_t = exp.targets.targets.len();
    // Per variant: replications in which each finding holds, then all stated ones together.
    let mut holds = vec![0u64; n_v * (n_t + 1)];

    let n_f = exp.facts.facts.len();
    let mut facts = vec![crate::facts::Summary::default(); n_v * n_f];
    let mut final_row = vec![0.0; n_v * n_c * n_m];
    let mut cumulative_row = vec![0.0; n_v * n_c * n_m];
    let manifest_path = dir.join("experiment.json");
    let named = crate::observe::write::temporary_in(dir, "experiment.json").map_err(io_err(&manifest_path))?;
    let manifest_tmp = named.path().to_path_buf();
    let mut sealed = BufWriter::new(named);
    let identity = manifest(exp);
    let open = identity.trim_end().strip_suffix('}').expect("the manifest is a JSON object").trim_end();
    write!(sealed, "{open},\n  \"units\": [").map_err(io_err(&manifest_tmp))?;

    for r in 0..exp.replications {
        for v in 0..n_v {
            let path = unit_path(dir, exp, v, r);
            let unit = read_sealed(dir, exp, v, r)?.ok_or_else(|| {
                Error::Usage(format!("`{}` or its seal is missing; rerun with --resume", path.display()))
            })?;
            let (facts_bytes, series_bytes) = (&unit.facts, &unit.series);
            let seal = Seal::new(exp, v, r, &unit);
            let comma = if r == 0 && v == 0 { "" } else { "," };
            write!(sealed, "{comma}\n    {}", seal.to_json().trim_end()).map_err(io_err(&manifest_tmp))?;
            let values = exp.facts.read_unit(&unit_facts_path(dir, exp, v, r), facts_bytes)?;
            for (summary, value) in facts[v * n_f..(v + 1) * n_f].iter_mut().zip(values) {
                summary.push(value);
            }
            let survey_path = unit_survey_path(dir, exp, v, r);
            let survey = std::str::from_utf8(&unit.survey).map_err(|_| {
                Error::Usage(format!("`{}` is damaged (not text); rerun without --resume", survey_path.display()))
            })?;
            let significance = exp.variants[v].scenario.survey.significance;
            let mut joint = true;
            for (i, t) in exp.targets.targets.iter().enumerate() {
                let stat = crate::targets::stat_in_csv(survey, t);
                let holds_here = crate::targets::matches(t, stat, significance);
                joint &= holds_here || t.implied;
                holds[v * (n_t + 1) + i] += u64::from(holds_here);
                let cells = stat
                    .map_or([String::new(), String::new(), String::new(), String::new()], |(c, se, tv, p)| {
                        [num(c), num(se), num(tv), num(p)]
                    });
                writeln!(
                    findings,
                    "{},{r},{},{},{},{},{},{},{},{},{holds_here}",
                    exp.variants[v].name,
                    csv_field(&t.id),
                    t.implied,
                    t.sample,
                    t.specification,
                    csv_field(&t.regressor),
                    t.sign,
                    t.significant,
                    cells.join(",")
                )
                .map_err(io_err(&findings_tmp))?;
            }
            holds[v * (n_t + 1) + n_t] += u64::from(joint);
            writeln!(findings, "{},{r},all_stated,false,,,,,,,,,,{joint}", exp.variants[v].name)
                .map_err(io_err(&findings_tmp))?;
            let rows = parse_series(&path, series_bytes)?;
            if rows.len() != n_y * n_c {
                return Err(Error::Usage(format!("`{}` is incomplete; rerun without --resume", path.display())));
            }
            cumulative_row[v * n_c * n_m..(v + 1) * n_c * n_m].fill(0.0);
            for (k, (year, cluster, values)) in rows.into_iter().enumerate() {
                // A unit file holds every (year, cluster) once, in the order a run writes them, with
                // finite values; anything else is a damaged or foreign file, never an index.
                let (y, c) = (k / n_c, k % n_c);
                if year != years[y] || cluster != clusters[c] || values.iter().any(|x| !x.is_finite()) {
                    return Err(Error::Usage(format!(
                        "`{}` is damaged at line {} (expected year {} and cluster {} with finite values); rerun without --resume",
                        path.display(),
                        k + 2,
                        years[y],
                        clusters[c]
                    )));
                }
                for (m, x) in values.iter().enumerate() {
                    cells[cell(v, y, c, m)].push(*x);
                    if year == window_last {
                        final_row[(v * n_c + c) * n_m + m] = *x;
                    }
                    if (window_first..=window_last).contains(&year) {
                        cumulative_row[(v * n_c + c) * n_m + m] += *x;
                    }
                }
            }
            let mut line = vec![exp.variants[v].name.clone(), r.to_string()];
            line.extend(exp.parameter_values[v].iter().map(|s| csv_field(s)));
            line.extend(final_row[v * n_c * n_m..(v + 1) * n_c * n_m].iter().map(|x| num(*x)));
            writeln!(out, "{}", line.join(",")).map_err(io_err(&tmp))?;
        }
        // The ecosystem's public money over the window, by variant.
        let spent = |v: usize| cumulative_row[(v * n_c + n_c - 1) * n_m + public_money];
        for v in 0..n_v {
            for k in 0..n_c * n_m {
                let (x, cx) = (final_row[v * n_c * n_m + k], cumulative_row[v * n_c * n_m + k]);
                finals[v * n_c * n_m + k].push(x);
                cumulatives[v * n_c * n_m + k].push(cx);
                if v > 0 {
                    let extra = spent(v) - spent(0);
                    effects[v * n_c * n_m + k].push(x - final_row[k], extra);
                    cumulative_effects[v * n_c * n_m + k].push(cx - cumulative_row[k], extra);
                }
            }
        }
    }
    let named = out.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
    named.persist(&replications_path).map_err(|e| io_err(&replications_path)(e.error))?;
    let named = findings.into_inner().map_err(|e| io_err(&findings_tmp)(e.into_error()))?;
    named.persist(&findings_path).map_err(|e| io_err(&findings_path)(e.error))?;
    write!(sealed, "\n  ]\n}}\n").map_err(io_err(&manifest_tmp))?;
    let named = sealed.into_inner().map_err(|e| io_err(&manifest_tmp)(e.into_error()))?;
    named.persist(&manifest_path).map_err(|e| io_err(&manifest_path)(e.error))?;

    let mut agg = String::from("variant,year,cluster,metric,n,mean,sd,q05,q25,q50,q75,q95\n");
    for v in 0..n_v {
        for (y, year) in years.iter().enumerate() {
            for (c, cluster) in clusters.iter().enumerate() {
                for (m, metric) in TS_COLUMNS.iter().enumerate() {
                    let s = &cells[cell(v, y, c, m)];
                    let q: Vec<String> = s.quantiles.iter().map(|p| num(p.value())).collect();
                    agg.push_str(&format!(
                        "{},{year},{cluster},{metric},{},{},{},{}\n",
                        exp.variants[v].name,
                        s.moments.n,
                        num(s.moments.mean()),
                        num(s.moments.sd()),
                        q.join(",")
                    ));
                }
            }
        }
    }
    let mut eff = format!("{EFFECTS_HEADER}\n");
    let interval = |x: Option<(f64, f64, f64)>| {
        x.map_or_else(|| ",,".to_string(), |(r, lo, hi)| format!("{},{},{}", num(r), num(lo), num(hi)))
    };
    for v in 1..n_v {
        for (c, cluster) in clusters.iter().enumerate() {
            for (m, metric) in TS_COLUMNS.iter().enumerate() {
                let k = (v * n_c + c) * n_m + m;
                let (effect, lo, hi) = effects[k].x_ci95();
                let (cumulative, clo, chi) = cumulative_effects[k].x_ci95();
                let (extra, elo, ehi) = effects[k].y_ci95();
                eff.push_str(&format!(
                    "{},{},{window_last},{cluster},{metric},{},{},{},{},{},{},{window_first},{window_last},{},{},{},{},{},{},{},{},{},{}\n",
                    exp.variants[v].name,
                    exp.variants[0].name,
                    effects[k].n,
                    num(finals[c * n_m + m].mean()),
                    num(finals[k].mean()),
                    num(effect),
                    num(lo),
                    num(hi),
                    num(cumulatives[c * n_m + m].mean()),
                    num(cumulatives[k].mean()),
                    num(cumulative),
                    num(clo),
                    num(chi),
                    num(extra),
                    num(elo),
                    num(ehi),
                    interval(effects[k].ratio_fieller()),
                    interval(cumulative_effects[k].ratio_fieller()),
                ));
            }
        }
    }
    let mut variants = String::from("variant,description");
    for p in &exp.parameters {
        variants.push_str(&format!(",set.{p}"));
    }
    variants.push('\n');
    for (v, variant) in exp.variants.iter().enumerate() {
        variants.push_str(&format!("{},{}", variant.name, csv_field(&variant.description)));
        for value in &exp.parameter_values[v] {
            variants.push_str(&format!(",{}", csv_field(value)));
        }
        variants.push('\n');
    }
    let mut facts_csv = format!("{}\n", crate::facts::SUMMARY_HEADER);
    for (v, variant) in exp.variants.iter().enumerate() {
        facts_csv.push_str(&exp.facts.summary_rows(&variant.name, &facts[v * n_f..(v + 1) * n_f]));
    }
    let mut shares = String::from("variant,finding,implied,replications,holds,share\n");
    let reps = u64::from(exp.replications);
    for (v, variant) in exp.variants.iter().enumerate() {
        let ids =
            exp.targets.targets.iter().map(|t| (csv_field(&t.id), t.implied)).chain([("all_stated".into(), false)]);
        for (i, (id, implied)) in ids.enumerate() {
            let k = holds[v * (n_t + 1) + i];
            let share = if reps == 0 { String::new() } else { num(k as f64 / reps as f64) };
            shares.push_str(&format!("{},{id},{implied},{reps},{k},{share}\n", variant.name));
        }
    }
    let described: Vec<(String, String)> =
        exp.variants[1..].iter().map(|v| (v.name.clone(), v.description.clone())).collect();
    let answers = super::answers::answers_text(&eff, &described, &exp.variants[0].name, &exp.outcomes);
    let files = [
        ("answers.txt", answers),
        ("survey_shares.csv", shares),
        ("aggregate.csv", agg),
        ("effects.csv", eff),
        ("variants.csv", variants),
        ("facts.csv", facts_csv),
        (
            "scenario.resolved.toml",
            format!("# Resolved experiment as run by biocluster {}.\n{}", env!("CARGO_PKG_VERSION"), exp.resolved_toml),
        ),
    ];
    let mut written = vec![replications_path, findings_path, manifest_path];
    written.extend(write_files(dir, &files)?);
    Ok(written)
}

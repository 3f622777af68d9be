//! Sensitivity designs: `[experiment] method = "sobol" | "morris"` over `[[experiment.uncertainties]]`.
//!
//! The levers (the scenario as written and each `[[experiment.variants]]`) are crossed with the design
//! points (`sensitivity::sobol::design` or `sensitivity::morris::design`, mapped onto each uncertainty's
//! range and distribution): every lever meets the same sampled worlds, and every (lever, point) runs the
//! same `replications` (common random numbers). A unit is still one (variant, replication) run, written
//! and sealed like any other, so sharding, `--resume` and `merge` work unchanged; the variant of lever
//! `L` at design point `p` is named `L.pNNNNNN`.
//!
//! Aggregation reads each unit's outcomes (stocks at the window's last year, flows summed over the
//! window; whole ecosystem), averages them over the replications of a point, and estimates the indices
//! per lever and outcome from the point means in design order. How replications enter: the model is
//! stochastic, so each design point's outcome is the mean of R replications with common random numbers
//! across points; `noise_share` reports the share of the variance of those means that replication
//! noise alone would give (mean within-point variance / R over the variance of the point means).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::seal::{Seal, parse_series, read_unit as read_sealed};
use super::{Experiment, Overrides, problem};
use crate::error::{Error, Problem, Result};
use crate::format::csv_field;
use crate::observe::TS_COLUMNS;
use crate::observe::write::{num, write_files};
use crate::scenario::raw::RawExperiment;
use crate::sensitivity::{self, Distribution, morris, sobol};

/// Most design points (levers x points) an experiment may hold.
pub const MAX_DESIGN_VARIANTS: usize = 200_000;
/// Bootstrap resamples for the indices' intervals.
const RESAMPLES: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    Sobol { second_order: bool },
    Morris { levels: usize },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    pub parameter: String,
    pub min: f64,
    pub max: f64,
    pub distribution: Distribution,
}

/// A sensitivity design: the method, the uncertainties, the points (unit hypercube, estimator order)
/// and the levers crossed with them.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub method: Method,
    pub samples: usize,
    pub seed: u64,
    pub uncertainties: Vec<Uncertainty>,
    pub points: Vec<Vec<f64>>,
    /// Lever names, the scenario as written first.
    pub levers: Vec<String>,
}

impl Design {
    /// The variant name of lever `lever` at design point `point`.
    pub fn variant_name(lever: &str, point: usize) -> String {
        format!("{lever}.p{point:06}")
    }
}

/// Reads the design keys of `[experiment]`; `None` without `method`. Problems name their key.
pub fn parse(spec: &RawExperiment, problems: &mut Vec<Problem>) -> Option<Design> {
    let Some(method) = &spec.method else {
        if !spec.uncertainties.is_empty() {
            problems.push(problem(
                "experiment.uncertainties",
                "need `experiment.method` (\"sobol\" or \"morris\") to be sampled".into(),
            ));
        }
        return None;
    };
    let k = spec.uncertainties.len();
    let samples = spec.samples.unwrap_or(0) as usize;
    let method = match method.as_str() {
        "sobol" => {
            if !(16..=sobol::MAX_BASE_SAMPLES).contains(&samples) {
                problems.push(problem(
                    "experiment.samples",
                    format!(
                        "a Sobol design needs 16 to {} base samples (runs: samples x (parameters + 2)); got {samples}",
                        sobol::MAX_BASE_SAMPLES
                    ),
                ));
            }
            if k > sobol::MAX_PARAMETERS {
                problems.push(problem(
                    "experiment.uncertainties",
                    format!("a Sobol design takes at most {} parameters (got {k})", sobol::MAX_PARAMETERS),
                ));
            }
            Method::Sobol { second_order: spec.second_order.unwrap_or(false) }
        }
        "morris" => {
            let levels = spec.levels.unwrap_or(4) as usize;
            if levels < 2 || !levels.is_multiple_of(2) || levels > 100 {
                problems.push(problem("experiment.levels", format!("must be even, 2 to 100 (got {levels})")));
            }
            if !(2..=10_000).contains(&samples) {
                problems.push(problem(
                    "experiment.samples",
                    format!("a Morris design needs 2 to 10000 trajectories (runs: samples x (parameters + 1)); got {samples}"),
                ));
            }
            Method::Morris { levels }
        }
        other => {
            problems.push(problem(
                "experiment.method",
                format!("unknown method \"{other}\"; methods are \"sobol\" and \"morris\""),
            ));
            return None;
        }
    };
    if k == 0 {
        problems
            .push(problem("experiment.uncertainties", "a sensitivity design needs at least one uncertainty".into()));
    }
    if matches!(method, Method::Morris { .. }) && spec.second_order.is_some() {
        problems.push(problem("experiment.second_order", "applies to method \"sobol\" only".into()));
    }
    if matches!(method, Method::Sobol { .. }) && spec.levels.is_some() {
        problems.push(problem("experiment.levels", "applies to method \"morris\" only".into()));
    }
    if !spec.sweeps.is_empty() || spec.latin_hypercube.is_some() {
        problems.push(problem(
            "experiment.method",
            "a sensitivity design samples its own points: drop `sweeps` and `latin_hypercube`".into(),
        ));
    }
    let mut uncertainties = Vec::new();
    for (i, u) in spec.uncertainties.iter().enumerate() {
        let key = |k: &str| format!("experiment.uncertainties[{i}].{k}");
        if !(u.min.is_finite() && u.max.is_finite() && u.min < u.max) {
            problems.push(problem(&key("max"), format!("needs finite min < max (got {} .. {})", u.min, u.max)));
        }
        if spec.uncertainties[..i].iter().any(|o| o.parameter == u.parameter) {
            problems.push(problem(&key("parameter"), format!("\"{}\" is listed twice", u.parameter)));
        }
        for (j, v) in spec.variants.iter().enumerate() {
            if v.set.contains_key(&u.parameter) {
                problems.push(problem(
                    &key("parameter"),
                    format!(
                        "\"{}\" is both an uncertainty and a lever (set by variant `{}`, experiment.variants[{j}]): a parameter is one or the other",
                        u.parameter, v.name
                    ),
                ));
            }
        }
        let distribution = match u.distribution.as_deref().unwrap_or("uniform") {
            "uniform" => Distribution::Uniform,
            "log_uniform" => {
                if u.min <= 0.0 {
                    problems.push(problem(&key("min"), format!("a log-uniform range needs min > 0 (got {})", u.min)));
                }
                Distribution::LogUniform
            }
            "triangular" => match u.mode {
                Some(mode) if mode >= u.min && mode <= u.max => Distribution::Triangular { mode },
                Some(mode) => {
                    problems.push(problem(&key("mode"), format!("must lie in [{}, {}] (got {mode})", u.min, u.max)));
                    Distribution::Uniform
                }
                None => {
                    problems.push(problem(&key("mode"), "a triangular distribution needs its mode".into()));
                    Distribution::Uniform
                }
            },
            other => {
                problems.push(problem(
                    &key("distribution"),
                    format!("unknown distribution \"{other}\"; distributions are \"uniform\", \"triangular\" and \"log_uniform\""),
                ));
                Distribution::Uniform
            }
        };
        if u.mode.is_some() && !matches!(distribution, Distribution::Triangular { .. }) && u.distribution.is_some() {
            problems.push(problem(&key("mode"), "applies to a triangular distribution only".into()));
        }
        uncertainties.push(Uncertainty { parameter: u.parameter.clone(), min: u.min, max: u.max, distribution });
    }
    let seed = spec.design_seed.unwrap_or(1);
    let ok = problems.is_empty();
    let points = match (&method, ok) {
        (Method::Sobol { second_order }, true) => sobol::design(k, samples, *second_order, seed as u32),
        (Method::Morris { levels }, true) => morris::design(k, samples, *levels, seed),
        _ => Vec::new(),
    };
    Some(Design { method, samples, seed, uncertainties, points, levers: Vec::new() })
}

/// The (name, description, overrides) of every (lever, point) variant, levers in order, points in
/// design order within each lever.
pub fn expand(
    design: &mut Design,
    levers: Vec<(String, String, Overrides)>,
    base: &toml::Value,
) -> Vec<(String, String, Overrides)> {
    design.levers = levers.iter().map(|l| l.0.clone()).collect();
    let mut out = Vec::with_capacity(levers.len() * design.points.len());
    for (name, description, overrides) in &levers {
        for (p, point) in design.points.iter().enumerate() {
            let mut set = overrides.clone();
            for (u, x) in design.uncertainties.iter().zip(point) {
                let value = sensitivity::scale(*x, u.min, u.max, u.distribution);
                let value = super::path::number(base, &u.parameter, value).unwrap_or(toml::Value::Float(value));
                set.push((u.parameter.clone(), value));
            }
            let what = if description.is_empty() { name.clone() } else { description.clone() };
            out.push((Design::variant_name(name, p), format!("{what}; design point {p}"), set));
        }
    }
    out
}

/// One unit's outcomes: stocks at the window's last year, flows summed over the window (ecosystem).
fn unit_outcomes(exp: &Experiment, path: &Path, series: &[u8]) -> Result<Vec<f64>> {
    let cols: Vec<usize> =
        exp.outcomes.iter().map(|o| TS_COLUMNS.iter().position(|c| c == o).expect("validated outcome")).collect();
    let (first, last) = exp.window;
    let mut values = vec![0.0; exp.outcomes.len()];
    for (year, cluster, row) in parse_series(path, series)? {
        if cluster != "all" {
            continue;
        }
        for (k, (&c, outcome)) in cols.iter().zip(&exp.outcomes).enumerate() {
            if super::answers::is_stock(outcome) {
                if year == last {
                    values[k] = row[c];
                }
            } else if (first..=last).contains(&year) {
                values[k] += row[c];
            }
        }
    }
    Ok(values)
}

/// Aggregates a design experiment: `samples.csv`, `sensitivity.csv` and the manifest with every seal.
pub fn aggregate(exp: &Experiment, design: &Design, dir: &Path) -> Result<Vec<PathBuf>> {
    let n_points = design.points.len();
    let n_out = exp.outcomes.len();
    let reps = exp.replications as usize;
    // means[lever][point][outcome]; runs[lever][point][replication][outcome].
    let mut means = vec![vec![vec![0.0; n_out]; n_points]; design.levers.len()];
    let mut by_run = vec![vec![Vec::new(); n_points]; design.levers.len()];
    let mut seals = Vec::with_capacity(exp.n_units());
    for (v, variant) in exp.variants.iter().enumerate() {
        let (lever, point) = (v / n_points, v % n_points);
        let mut runs = Vec::with_capacity(reps);
        for r in 0..exp.replications {
            let path = super::seal::unit_path(dir, exp, v, r);
            let unit = read_sealed(dir, exp, v, r)?.ok_or_else(|| {
                Error::Usage(format!("`{}` or its seal is missing; rerun with --resume", path.display()))
            })?;
            seals.push(Seal::new(exp, v, r, &unit));
            runs.push(unit_outcomes(exp, &path, &unit.series)?);
        }
        for k in 0..n_out {
            means[lever][point][k] = runs.iter().map(|x| x[k]).sum::<f64>() / reps as f64;
        }
        by_run[lever][point] = runs;
        debug_assert_eq!(variant.name, Design::variant_name(&design.levers[lever], point));
    }

    let mut samples = String::from("lever,point");
    for u in &design.uncertainties {
        samples.push_str(&format!(",{}", csv_field(&format!("x.{}", u.parameter))));
    }
    for o in &exp.outcomes {
        samples.push_str(&format!(",y.{o}"));
    }
    samples.push('\n');
    let params: Vec<usize> = design
        .uncertainties
        .iter()
        .map(|u| exp.parameters.iter().position(|p| p == &u.parameter).expect("every uncertainty is set"))
        .collect();
    for v in 0..exp.variants.len() {
        let (lever, point) = (v / n_points, v % n_points);
        samples.push_str(&format!("{},{point}", design.levers[lever]));
        for &p in &params {
            samples.push_str(&format!(",{}", csv_field(&exp.parameter_values[v][p])));
        }
        for mean in &means[lever][point] {
            samples.push_str(&format!(",{}", num(*mean)));
        }
        samples.push('\n');
    }

    let mut sens = String::from("lever,parameter,outcome,index,estimate,ci_low,ci_high\n");
    let k = design.uncertainties.len();
    // Each lever's outcomes, then each other lever's effect (its paired difference from the scenario
    // as written, point by point and replication by replication): what drives the policy's answer.
    let mut analysed: Vec<(String, Vec<Vec<Vec<f64>>>)> =
        design.levers.iter().cloned().zip(by_run.iter().cloned()).collect();
    for (l, lever) in design.levers.iter().enumerate().skip(1) {
        let diff = (0..n_points)
            .map(|p| (0..reps).map(|r| (0..n_out).map(|o| by_run[l][p][r][o] - by_run[0][p][r][o]).collect()).collect())
            .collect();
        analysed.push((format!("{lever}-minus-{}", design.levers[0]), diff));
    }
    for (lever, runs) in &analysed {
        for (o, outcome) in exp.outcomes.iter().enumerate() {
            let y: Vec<f64> = (0..n_points).map(|p| runs[p].iter().map(|r| r[o]).sum::<f64>() / reps as f64).collect();
            let mut row = |parameter: &str, index: &str, e: sobol::Estimate| {
                sens.push_str(&format!(
                    "{lever},{},{outcome},{index},{},{},{}\n",
                    csv_field(parameter),
                    num(e.value),
                    num(e.low),
                    num(e.high)
                ));
            };
            let seed = design.seed.wrapping_add(o as u64);
            match design.method {
                Method::Sobol { second_order } => {
                    let s = sobol::indices(&y, k, second_order, RESAMPLES, seed);
                    for (i, u) in design.uncertainties.iter().enumerate() {
                        row(&u.parameter, "S1", s.first[i]);
                        row(&u.parameter, "ST", s.total[i]);
                    }
                    for (i, j, e) in &s.second {
                        let pair =
                            format!("{} x {}", design.uncertainties[*i].parameter, design.uncertainties[*j].parameter);
                        row(&pair, "S2", *e);
                    }
                }
                Method::Morris { .. } => {
                    let effects = morris::effects(&design.points, &y, k, RESAMPLES, seed);
                    for (u, e) in design.uncertainties.iter().zip(effects) {
                        let plain = |x: f64| sobol::Estimate { value: x, low: f64::NAN, high: f64::NAN };
                        row(&u.parameter, "mu", plain(e.mu));
                        row(&u.parameter, "mu_star", e.mu_star);
                        row(&u.parameter, "sigma", plain(e.sigma));
                    }
                }
            }
            let share = noise_share(runs, o);
            row("(replications)", "noise_share", sobol::Estimate { value: share, low: f64::NAN, high: f64::NAN });
        }
    }
    let sens = sens.replace("NaN", "");
    let mut answers = summary(&sens, &design.method, &exp.outcomes, exp.window);
    let robustness = robustness_csv(&design.levers, &exp.outcomes, &means);
    if design.levers.len() > 1 {
        answers.push_str(&robustness_summary(&robustness));
    }

    let identity = super::seal::manifest(exp);
    let open = identity.trim_end().strip_suffix('}').expect("the manifest is a JSON object").trim_end();
    let mut sealed = format!("{open},\n  \"units\": [");
    for (i, seal) in seals.iter().enumerate() {
        let comma = if i == 0 { "" } else { "," };
        let _ = write!(sealed, "{comma}\n    {}", seal.to_json().trim_end());
    }
    sealed.push_str("\n  ]\n}\n");
    let files = [
        ("answers.txt", answers),
        ("robustness.csv", robustness),
        ("samples.csv", samples),
        ("sensitivity.csv", sens),
        ("experiment.json", sealed),
        (
            "scenario.resolved.toml",
            format!("# Resolved experiment as run by biocluster {}.\n{}", env!("CARGO_PKG_VERSION"), exp.resolved_toml),
        ),
    ];
    write_files(dir, &files)
}

/// In words, per lever and outcome: the parameters that drive it most (Sobol: total index; Morris:
/// mu*), with intervals, and how much of the spread is replication noise.
pub fn summary(sensitivity_csv: &str, method: &Method, outcomes: &[String], window: (i32, i32)) -> String {
    let (index, what) = match method {
        Method::Sobol { .. } => ("ST", "total index"),
        Method::Morris { .. } => ("mu_star", "mu*"),
    };
    let rows: Vec<Vec<&str>> = sensitivity_csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let mut levers: Vec<&str> = Vec::new();
    for r in &rows {
        if !levers.contains(&r[0]) {
            levers.push(r[0]);
        }
    }
    let mut out = format!(
        "Answers: which uncertain parameters drive each outcome ({what}, 95 % bootstrap interval; stocks at {}, flows summed over {}-{}; sensitivity.csv has every index).\n",
        window.1, window.0, window.1
    );
    for lever in levers {
        let _ = write!(out, "\n`{lever}`:\n");
        for outcome in outcomes {
            let mut ranked: Vec<(&str, f64, &str, &str)> = rows
                .iter()
                .filter(|r| r[0] == lever && r[2] == outcome && r[3] == index)
                .filter_map(|r| Some((r[1], r[4].parse().ok()?, r[5], r[6])))
                .collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let noise = rows
                .iter()
                .find(|r| r[0] == lever && r[2] == outcome && r[3] == "noise_share")
                .and_then(|r| r[4].parse::<f64>().ok());
            let name = outcome.replace('_', " ");
            let drivers: Vec<String> = ranked
                .iter()
                .take(3)
                .map(|(p, v, lo, hi)| {
                    let short = |x: &str| x.parse::<f64>().map_or(String::new(), |x| format!("{x:.2}"));
                    format!("`{p}` ({what} {v:.2}, {} to {})", short(lo), short(hi))
                })
                .collect();
            let noise =
                noise.map_or(String::new(), |n| format!("; replication noise is {:.0} % of the spread", 100.0 * n));
            let _ = writeln!(out, "  - {name} depends most on {}{noise}.", drivers.join(", then "));
        }
    }
    out
}

/// Whether more of an outcome is better (public money spent and failures are costs).
pub fn more_is_better(outcome: &str) -> bool {
    !(outcome.starts_with("public_") || outcome == "failures" || outcome == "delistings")
}

/// Each lever across the sampled worlds (point means): the outcome's mean, 5th and 95th percentiles,
/// its regret (in each world, the best lever's outcome minus this lever's: how much one loses by having
/// chosen it in that world) as mean and maximum, and the share of worlds in which it is the best.
pub fn robustness_csv(levers: &[String], outcomes: &[String], means: &[Vec<Vec<f64>>]) -> String {
    let mut out = String::from("lever,outcome,better,mean,q05,q95,mean_regret,max_regret,share_best\n");
    let n_points = means.first().map_or(0, Vec::len);
    for (o, outcome) in outcomes.iter().enumerate() {
        let up = more_is_better(outcome);
        let best = |p: usize| {
            let values = means.iter().map(|m| m[p][o]);
            if up { values.fold(f64::NEG_INFINITY, f64::max) } else { values.fold(f64::INFINITY, f64::min) }
        };
        for (l, lever) in levers.iter().enumerate() {
            let mut values: Vec<f64> = (0..n_points).map(|p| means[l][p][o]).collect();
            let regrets: Vec<f64> = (0..n_points).map(|p| (best(p) - means[l][p][o]).abs()).collect();
            let wins = (0..n_points).filter(|&p| means[l][p][o] == best(p)).count();
            let n = n_points.max(1) as f64;
            let mean = values.iter().sum::<f64>() / n;
            let q05 = sensitivity::percentile(&mut values, 0.05);
            let q95 = sensitivity::percentile(&mut values, 0.95);
            out.push_str(&format!(
                "{lever},{outcome},{},{},{},{},{},{},{}\n",
                if up { "more" } else { "less" },
                num(mean),
                num(q05),
                num(q95),
                num(regrets.iter().sum::<f64>() / n),
                num(regrets.iter().fold(0.0, |a: f64, b| a.max(*b))),
                num(wins as f64 / n)
            ));
        }
    }
    out
}

/// The robustness table in words: per outcome, the lever with the least mean regret.
fn robustness_summary(csv: &str) -> String {
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let mut outcomes: Vec<&str> = Vec::new();
    for r in &rows {
        if !outcomes.contains(&r[1]) {
            outcomes.push(r[1]);
        }
    }
    let mut out = String::from(
        "\nRobustness across the sampled worlds (robustness.csv; regret: how much worse than the best lever in the same world):\n",
    );
    for outcome in outcomes {
        let mut mine: Vec<&Vec<&str>> = rows.iter().filter(|r| r[1] == outcome).collect();
        mine.sort_by(|a, b| {
            a[6].parse::<f64>().unwrap_or(f64::MAX).total_cmp(&b[6].parse::<f64>().unwrap_or(f64::MAX))
        });
        if let Some(best) = mine.first() {
            let share = best[8].parse::<f64>().unwrap_or(f64::NAN);
            let _ = writeln!(
                out,
                "  - {}: `{}` has the least mean regret ({}; worst {}) and is the best lever in {:.0} % of the worlds.",
                outcome.replace('_', " "),
                best[0],
                super::answers::readable(best[6].parse().unwrap_or(f64::NAN)),
                super::answers::readable(best[7].parse().unwrap_or(f64::NAN)),
                100.0 * share
            );
        }
    }
    out
}

/// The share of the variance of the point means that replication noise gives. Replications use
/// common random numbers, so a replication's luck shifts every point alike and cancels between points;
/// the noise is the point x replication interaction: the residual of a two-way layout,
/// s2 = sum (y_pr - y_p. - y_.r + y..)^2 / ((P - 1)(R - 1)), over R, against the variance of the y_p.
fn noise_share(runs: &[Vec<Vec<f64>>], outcome: usize) -> f64 {
    let (p_n, r_n) = (runs.len(), runs.first().map_or(0, Vec::len));
    if p_n < 2 || r_n < 2 {
        return f64::NAN;
    }
    let y = |p: usize, r: usize| runs[p][r][outcome];
    let point: Vec<f64> = (0..p_n).map(|p| (0..r_n).map(|r| y(p, r)).sum::<f64>() / r_n as f64).collect();
    let rep: Vec<f64> = (0..r_n).map(|r| (0..p_n).map(|p| y(p, r)).sum::<f64>() / p_n as f64).collect();
    let all = point.iter().sum::<f64>() / p_n as f64;
    let mut residual = 0.0;
    for (p, point_mean) in point.iter().enumerate() {
        for (r, rep_mean) in rep.iter().enumerate() {
            residual += (y(p, r) - point_mean - rep_mean + all).powi(2);
        }
    }
    let s2 = residual / ((p_n - 1) * (r_n - 1)) as f64;
    let spread = point.iter().map(|m| (m - all).powi(2)).sum::<f64>() / (p_n - 1) as f64;
    if spread > 0.0 { s2 / r_n as f64 / spread } else { f64::NAN }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two levers in three worlds: A = 10, 5, 7 and B = 8, 9, 7 (more is better): regrets A 0, 4, 0
    /// and B 2, 0, 0; each is best in two worlds (the third is a tie); public money counts the other way.
    #[test]
    fn regret_is_the_distance_to_the_best_lever_in_each_world() {
        let levers = vec!["a".to_string(), "b".to_string()];
        let outcomes = vec!["firms_alive".to_string(), "public_spend_musd".to_string()];
        let world = |x: f64, spend: f64| vec![x, spend];
        let means = vec![
            vec![world(10.0, 1.0), world(5.0, 1.0), world(7.0, 1.0)],
            vec![world(8.0, 3.0), world(9.0, 3.0), world(7.0, 3.0)],
        ];
        let csv = robustness_csv(&levers, &outcomes, &means);
        let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
        assert_eq!(rows[0][..3], ["a", "firms_alive", "more"]);
        assert_eq!((rows[0][6], rows[0][7], rows[0][8]), ("1.333333", "4", "0.666667"));
        assert_eq!((rows[1][6], rows[1][7], rows[1][8]), ("0.666667", "2", "0.666667"));
        assert_eq!((rows[2][2], rows[2][6], rows[2][8]), ("less", "0", "1"), "a spends less in every world");
        assert_eq!((rows[3][6], rows[3][8]), ("2", "0"));
        assert!(robustness_summary(&csv).contains("firms alive: `b` has the least mean regret"));
    }

    /// A point effect plus a replication shift common to every point (common random numbers) has no
    /// noise; independent noise of variance 1 over R = 4 gives 0.25 of a unit variance of the points.
    #[test]
    fn noise_share_counts_only_what_common_random_numbers_do_not_cancel() {
        let shifted: Vec<Vec<Vec<f64>>> =
            (0..50).map(|p| (0..4).map(|r| vec![p as f64 + 10.0 * r as f64]).collect()).collect();
        assert!(noise_share(&shifted, 0).abs() < 1e-12);
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut normal = || {
            let (u, v): (f64, f64) = (rng.random(), rng.random());
            (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        // Points with variance 1 (plus the noise's 1/4 in their means), noise variance 1, R = 4.
        let noisy: Vec<Vec<Vec<f64>>> = (0..4000)
            .map(|_| {
                let point = normal();
                (0..4).map(|_| vec![point + normal()]).collect()
            })
            .collect();
        let share = noise_share(&noisy, 0);
        assert!((share - 0.25 / 1.25).abs() < 0.02, "{share}");
    }
}

//! Monte Carlo experiments: replications of named what-if variants and parameter sweeps, run in
//! parallel and aggregated reproducibly.
//!
//! The `[experiment]` section of a scenario expands into variants: the scenario as written (the
//! baseline), each `[[experiment.variants]]` (dotted-path overrides), the grid of
//! `[[experiment.sweeps]]` and the `[experiment.latin_hypercube]` samples. Every variant runs the
//! same replications with the same seeds, so differences between variants are paired (common random
//! numbers). `run` executes the (variant, replication) work units and aggregates them.

pub mod answers;
pub mod design;
pub mod path;
pub mod run;
pub mod seal;
pub mod shard;

use std::sync::Arc;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Problem, Result};
use crate::scenario::Scenario;
use crate::scenario::raw::RawScenario;

/// Parameter overrides: (dotted path, value).
pub type Overrides = Vec<(String, toml::Value)>;

/// Most variants (what-ifs, grid points and samples together) an experiment may hold: beyond this the
/// runs would take weeks and the aggregate files gigabytes, so it is refused before anything runs.
pub const MAX_VARIANTS: usize = 10_000;
/// Most runs (variants x replications) an experiment may hold.
pub const MAX_RUNS: usize = 10_000_000;

/// The outcomes an experiment's answers report unless `[experiment] outcomes` names others: firms,
/// money made, drugs approved, deals, jobs, and what the public paid.
pub const DEFAULT_OUTCOMES: [&str; 6] =
    ["firms_alive", "revenue_total_musd", "approvals", "licensing_deals", "employment", "public_spend_musd"];

/// The metric every effect is set against: public money spent (to firms and on programmes).
pub const PUBLIC_MONEY: &str = "public_spend_musd";

/// One what-if variant: a name, its parameter overrides and the validated scenario they give.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub description: String,
    pub overrides: Overrides,
    pub scenario: Arc<Scenario>,
}

/// An expanded experiment.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub name: String,
    pub replications: u32,
    /// Variant 0 is the baseline.
    pub variants: Vec<Variant>,
    /// Every parameter path some variant overrides, in first-seen order.
    pub parameters: Vec<String>,
    /// Value of each of `parameters` in each variant (rendered as TOML), by variant.
    pub parameter_values: Vec<Vec<String>>,
    /// Identifies the experiment's inputs: resolved scenario text and program version.
    pub fingerprint: u64,
    pub resolved_toml: String,
    /// The stylized facts each unit measures (the embedded Korea facts unless `with_facts`).
    pub facts: crate::facts::Facts,
    /// The study's findings each replication's survey is checked against (the embedded study).
    pub targets: crate::targets::Targets,
    /// Metrics the answers report (terminal, report), in order.
    pub outcomes: Vec<String>,
    /// First and last year of the window effects are cumulated over.
    pub window: (i32, i32),
    /// A sensitivity design (`method`, `uncertainties`): the variants are its (lever, point) pairs.
    pub design: Option<design::Design>,
}

impl Experiment {
    /// Expands the `[experiment]` section of a scenario; `None` when it has none.
    pub fn from_scenario(scenario: &Scenario, file: &str) -> Result<Option<Experiment>> {
        let Some(spec) = scenario.raw.experiment.clone() else { return Ok(None) };
        let mut problems = Vec::new();
        let mut base_raw = scenario.raw.clone();
        base_raw.experiment = None;
        let base_value = toml::Value::try_from(&base_raw).expect("a raw scenario serialises");

        if spec.replications == 0 || spec.replications > 1_000_000 {
            problems.push(problem(
                "experiment.replications",
                format!("must be in [1, 1000000] (got {})", spec.replications),
            ));
        }
        let outcomes: Vec<String> =
            spec.outcomes.clone().unwrap_or_else(|| DEFAULT_OUTCOMES.iter().map(|s| s.to_string()).collect());
        if outcomes.is_empty() {
            problems.push(problem("experiment.outcomes", "must name at least one metric".into()));
        }
        for (i, o) in outcomes.iter().enumerate() {
            if !crate::observe::TS_COLUMNS.contains(&o.as_str()) {
                problems.push(problem(
                    &format!("experiment.outcomes[{i}]"),
                    format!(
                        "unknown metric \"{o}\"; metrics are the columns of timeseries.csv: {}",
                        crate::observe::TS_COLUMNS.join(", ")
                    ),
                ));
            } else if outcomes[..i].contains(o) {
                problems.push(problem(&format!("experiment.outcomes[{i}]"), format!("\"{o}\" is named twice")));
            }
        }
        let (first, last) = (scenario.start_year, scenario.start_year + scenario.years as i32 - 1);
        let window = match spec.window.as_deref() {
            None => (first, last),
            Some(&[a, b]) => {
                if a > b {
                    problems.push(problem(
                        "experiment.window",
                        format!("[{a}, {b}] is reversed: give [first year, last year]"),
                    ));
                } else if a < first || b > last {
                    problems.push(problem(
                        "experiment.window",
                        format!("[{a}, {b}] is outside the simulated years {first} to {last}"),
                    ));
                }
                (a, b)
            }
            Some(other) => {
                problems.push(problem(
                    "experiment.window",
                    format!("must be [first year, last year] within {first} to {last} (got {} values)", other.len()),
                ));
                (first, last)
            }
        };
        let mut design = design::parse(&spec, &mut problems);
        let mut variants = vec![Variant {
            name: spec.baseline.clone(),
            description: "the scenario as written".into(),
            overrides: Vec::new(),
            scenario: Arc::new(Scenario::from_raw(base_raw.clone(), file)?),
        }];
        // (name, description, overrides, key naming them in errors), built into variants below.
        let mut specs: Vec<(String, String, Overrides, String)> = Vec::new();
        let mut build = |name: String, description: String, overrides: Overrides, key: String| {
            specs.push((name, description, overrides, key));
        };

        for (i, v) in spec.variants.iter().enumerate() {
            let overrides = v.set.iter().map(|(k, val)| (k.clone(), val.clone())).collect();
            build(v.name.clone(), v.description.clone(), overrides, format!("experiment.variants[{i}].set"));
        }
        // Grid: the cartesian product of the sweeps' value lists (its size checked before it is built).
        let grid = spec.sweeps.iter().fold(1usize, |n, s| n.saturating_mul(s.values.len()));
        if !spec.sweeps.is_empty() && grid > MAX_VARIANTS {
            problems.push(problem(
                "experiment.sweeps",
                format!("the grid has {grid} points; an experiment holds at most {MAX_VARIANTS} variants"),
            ));
        } else if !spec.sweeps.is_empty() {
            let mut points: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
            for (i, sweep) in spec.sweeps.iter().enumerate() {
                if sweep.values.is_empty() {
                    problems.push(problem(
                        &format!("experiment.sweeps[{i}].values"),
                        "must list at least one value".into(),
                    ));
                }
                points = points
                    .into_iter()
                    .flat_map(|p| {
                        sweep.values.iter().map(move |v| {
                            let mut q = p.clone();
                            q.push((sweep.parameter.clone(), v.clone()));
                            q
                        })
                    })
                    .collect();
            }
            for (k, point) in points.into_iter().enumerate() {
                let description = describe(&point);
                build(format!("grid-{:04}", k + 1), description, point, "experiment.sweeps".into());
            }
        }
        if let Some(lhs) = &spec.latin_hypercube {
            for (i, r) in lhs.ranges.iter().enumerate() {
                if !(r.min.is_finite() && r.max.is_finite() && r.min <= r.max) {
                    problems.push(problem(
                        &format!("experiment.latin_hypercube.ranges[{i}]"),
                        format!("needs finite min <= max (got {} .. {})", r.min, r.max),
                    ));
                }
            }
            if lhs.samples == 0 || lhs.samples as usize > MAX_VARIANTS {
                problems.push(problem(
                    "experiment.latin_hypercube.samples",
                    format!("must be in [1, {MAX_VARIANTS}] (got {})", lhs.samples),
                ));
            }
            if problems.is_empty() {
                for (k, point) in latin_hypercube(&base_value, lhs).into_iter().enumerate() {
                    let description = describe(&point);
                    build(format!("lhs-{:04}", k + 1), description, point, "experiment.latin_hypercube".into());
                }
            }
        }

        if let Some(d) = design.as_mut() {
            // Levers (the scenario as written, then each variant) crossed with the design's points.
            let mut levers = vec![(spec.baseline.clone(), String::new(), Vec::new())];
            levers.extend(specs.drain(..).map(|(name, description, overrides, _)| (name, description, overrides)));
            specs = design::expand(d, levers, &base_value)
                .into_iter()
                .map(|(name, description, overrides)| (name, description, overrides, "experiment.uncertainties".into()))
                .collect();
            variants.clear();
        }
        let max_variants = if design.is_some() { design::MAX_DESIGN_VARIANTS } else { MAX_VARIANTS };
        let runs = specs.len().saturating_mul(spec.replications as usize);
        if specs.len() > max_variants || runs > MAX_RUNS {
            return Err(Error::InvalidScenario {
                file: file.to_string(),
                problems: vec![problem(
                    "experiment",
                    format!(
                        "{} variants x {} replications = {runs} runs; an experiment holds at most {max_variants} variants and {MAX_RUNS} runs",
                        specs.len(),
                        spec.replications
                    ),
                )],
            });
        }
        for (name, description, overrides, key) in specs {
            match variant_scenario(&base_value, &overrides, file) {
                Ok(scenario) => variants.push(Variant { name, description, overrides, scenario: Arc::new(scenario) }),
                Err(message) => problems.push(problem(&key, message)),
            }
        }
        for (i, v) in variants.iter().enumerate() {
            if let Some(why) = crate::scenario::name_problem(&v.name) {
                problems.push(problem("experiment.variants", format!("variant name {why} (it names a folder)")));
            }
            if variants[..i].iter().any(|o| o.name == v.name) {
                problems.push(problem("experiment.variants", format!("duplicate variant name \"{}\"", v.name)));
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidScenario { file: file.to_string(), problems });
        }

        let mut parameters: Vec<String> = Vec::new();
        for v in &variants {
            for (p, _) in &v.overrides {
                if !parameters.contains(p) {
                    parameters.push(p.clone());
                }
            }
        }
        let parameter_values = variants
            .iter()
            .map(|v| {
                parameters
                    .iter()
                    .map(|p| {
                        let value = v.overrides.iter().find(|(q, _)| q == p).map(|(_, x)| x.clone());
                        value.or_else(|| path::get(&base_value, p).ok()).map(|x| x.to_string()).unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        let resolved_toml = scenario.resolved_toml();
        let fingerprint = fnv1a(format!("{}\n{resolved_toml}", env!("CARGO_PKG_VERSION")).as_bytes());
        Ok(Some(Experiment {
            name: scenario.name.clone(),
            replications: spec.replications,
            variants,
            parameters,
            parameter_values,
            fingerprint,
            resolved_toml,
            facts: crate::facts::Facts::embedded(),
            targets: crate::targets::Targets::embedded(),
            outcomes,
            window,
            design,
        }))
    }

    /// The same experiment measuring another facts file.
    pub fn with_facts(mut self, facts: crate::facts::Facts) -> Experiment {
        self.facts = facts;
        self
    }

    /// Number of (variant, replication) work units.
    pub fn n_units(&self) -> usize {
        self.variants.len() * self.replications as usize
    }
}

fn problem(key: &str, message: String) -> Problem {
    Problem { key: key.to_string(), message }
}

fn describe(point: &[(String, toml::Value)]) -> String {
    point.iter().map(|(p, v)| format!("{p} = {v}")).collect::<Vec<_>>().join("; ")
}

/// The base scenario (as a TOML value) with `overrides` applied, validated; errors name the path.
/// Variants, sweep points and calibration candidates are all built here.
pub fn variant_scenario(
    base: &toml::Value,
    overrides: &[(String, toml::Value)],
    file: &str,
) -> Result<Scenario, String> {
    let mut value = base.clone();
    for (p, v) in overrides {
        if p.starts_with("experiment") || p.starts_with("scenario.") {
            return Err(format!("`{p}` cannot be varied (it defines the experiment itself)"));
        }
        // Variants are compared cell by cell, cluster by cluster: a name is an identity, not a
        // parameter (refused here, before any replication runs).
        if p.ends_with(".name") {
            return Err(format!(
                "`{p}` cannot be varied (names identify clusters, agencies and policies across variants)"
            ));
        }
        path::set(&mut value, p, v.clone())?;
    }
    let raw: RawScenario = value.try_into().map_err(|e: toml::de::Error| e.to_string())?;
    Scenario::from_raw(raw, file).map_err(|e| match e {
        Error::InvalidScenario { problems, .. } => {
            problems.iter().map(|p| format!("`{}` {}", p.key, p.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    })
}

/// Latin hypercube: each range cut into `samples` strata, one draw per stratum, strata shuffled
/// independently per parameter. Integer parameters are rounded.
fn latin_hypercube(
    base: &toml::Value,
    lhs: &crate::scenario::raw::RawLatinHypercube,
) -> Vec<Vec<(String, toml::Value)>> {
    let n = lhs.samples as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(lhs.seed);
    let mut columns: Vec<Vec<toml::Value>> = Vec::new();
    for range in &lhs.ranges {
        let mut strata: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            strata.swap(i, j);
        }

        columns.push(
            strata
                .into_iter()
                .map(|s| {
                    let x = range.min + (range.max - range.min) * (s as f64 + rng.random::<f64>()) / n as f64;
                    path::number(base, &range.parameter, x).unwrap_or(toml::Value::Float(x))
                })
                .collect(),
        );
    }
    (0..n)
        .map(|k| lhs.ranges.iter().zip(&columns).map(|(r, col)| (r.parameter.clone(), col[k].clone())).collect())
        .collect()
}

pub use crate::format::fnv1a;

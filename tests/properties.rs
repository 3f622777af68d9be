//! Properties (proptest): a resolved scenario re-parses to itself, whatever valid values it holds, and
//! bad values are refused without a panic; an experiment merged from shards, in any split and any
//! order of running them, equals the single-machine run byte for byte.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use biocluster::Scenario;
use biocluster::experiment::run::{Options, run};
use biocluster::experiment::shard::{Shard, merge, run_shard};
use proptest::prelude::*;

/// Every numeric leaf of a shipped scenario, as (dotted path, value), arrays of tables by index.
fn numeric_paths(text: &str) -> Vec<(String, f64)> {
    fn walk(v: &toml::Value, path: &str, out: &mut Vec<(String, f64)>) {
        let join = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    if k != "experiment" && k != "calibration" {
                        walk(v, &join(k), out);
                    }
                }
            }
            toml::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, &join(&i.to_string()), out);
                }
            }
            toml::Value::Integer(i) => out.push((path.to_string(), *i as f64)),
            toml::Value::Float(x) => out.push((path.to_string(), *x)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&text.parse::<toml::Table>().map(toml::Value::Table).unwrap(), "", &mut out);
    out
}

const SHIPPED: [&str; 4] = [
    "scenarios/default.toml",
    "scenarios/korea/korea.toml",
    "scenarios/belgium/belgium.toml",
    "scenarios/beijing/beijing.toml",
];

/// A shipped scenario, resolved, with its numeric parameters.
type Shipped = (String, Vec<(String, f64)>);

fn shipped() -> &'static Vec<Shipped> {
    static CELL: OnceLock<Vec<Shipped>> = OnceLock::new();
    CELL.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|f| {
                let resolved = Scenario::load(Path::new(f)).unwrap().resolved_toml();
                let paths = numeric_paths(&resolved);
                (resolved, paths)
            })
            .collect()
    })
}

/// A new value for a parameter: near its value, at a power-of-ten scale, or any float at all.
fn new_value() -> impl Strategy<Value = (u8, f64)> {
    prop_oneof![
        (Just(0u8), 0.0f64..3.0),
        (Just(1u8), -12i32..12).prop_map(|(k, e)| (k, 10f64.powi(e))),
        (Just(2u8), any::<f64>()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_resolved_scenario_reparses_to_itself(
        which in 0..SHIPPED.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), new_value()), 1..4),
    ) {
        let (resolved, paths) = &shipped()[which];
        let mut doc: toml::Value = toml::Value::Table(resolved.parse().unwrap());
        for (index, (kind, x)) in &edits {
            let (path, old) = &paths[index.index(paths.len())];
            let value = match kind { 0 => old * x, 1 => *x, _ => *x };
            let slot = biocluster::experiment::path::number(&doc, path, value);
            if let Ok(slot) = slot {
                biocluster::experiment::path::set(&mut doc, path, slot).unwrap();
            }
        }
        let text = toml::to_string(&doc).unwrap();
        // Never a panic: valid or refused.
        if let Ok(scenario) = Scenario::from_toml_str(&text, "edited.toml") {
            let again = Scenario::from_toml_str(&scenario.resolved_toml(), "resolved.toml").unwrap();
            prop_assert_eq!(again.resolved_toml(), scenario.resolved_toml());
            prop_assert_eq!(format!("{again:?}"), format!("{scenario:?}"));
        }
    }
}

const EXPERIMENT: &str = r#"
[scenario]
name = "split"
years = 3
[experiment]
replications = 4
[[experiment.variants]]
name = "more_searches"
[experiment.variants.set]
"alliances.searches_per_year" = 0.9
[[experiment.sweeps]]
parameter = "policies.national_rd_grants.budget_musd_per_year"
values = [10.0, 80.0]
"#;

const FILES: [&str; 7] = [
    "aggregate.csv",
    "effects.csv",
    "replications.csv",
    "variants.csv",
    "facts.csv",
    "scenario.resolved.toml",
    "experiment.json",
];

fn single_run() -> &'static Vec<Vec<u8>> {
    static CELL: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CELL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let exp = common::experiment(EXPERIMENT);
        run(&exp, dir.path(), &Options { threads: Some(1), resume: false, quiet: true }).unwrap();
        FILES.iter().map(|f| std::fs::read(dir.path().join(f)).unwrap()).collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn shards_merged_in_any_split_and_order_equal_one_run(
        count in 1usize..=9,
        order in Just((0..9).collect::<Vec<usize>>()).prop_shuffle(),
        threads in 1usize..=2,
    ) {
        let exp = common::experiment(EXPERIMENT);
        let dir = tempfile::tempdir().unwrap();
        let options = Options { threads: Some(threads), resume: false, quiet: true };
        for i in order.into_iter().filter(|&i| i < count) {
            run_shard(&exp, dir.path(), Shard::new(i + 1, count).unwrap(), &options).unwrap();
        }
        merge(dir.path()).unwrap();
        for (file, expected) in FILES.iter().zip(single_run()) {
            prop_assert!(&std::fs::read(dir.path().join(file)).unwrap() == expected, "{} differs ({} shards)", file, count);
        }
    }
}

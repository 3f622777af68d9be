//! scenarios/README.md documents exactly the keys the parser accepts, with the defaults of
//! scenarios/default.toml, so the reference cannot drift from the code.

use std::collections::{BTreeMap, BTreeSet};

use biocluster::Scenario;

/// Every key of a TOML value, dotted; entries of arrays of tables appear as `name[].key`.
fn keys(value: &toml::Value, prefix: &str, out: &mut BTreeMap<String, Option<toml::Value>>) {
    match value {
        // A variant's `set` maps user-chosen parameter paths to values: one documented key.
        toml::Value::Table(_) if prefix.ends_with(".set") => {
            out.insert(prefix.to_string(), None);
        }
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                keys(v, &key, out);
            }
        }
        toml::Value::Array(items) if items.iter().any(|i| i.is_table()) => {
            for item in items {
                keys(item, &format!("{prefix}[]"), out);
            }
        }
        other => {
            let in_array = prefix.contains("[]");
            out.insert(prefix.to_string(), if in_array { None } else { Some(other.clone()) });
        }
    }
}

/// Every key the parser accepts: the default scenario with every optional policy field set.
fn accepted_keys() -> BTreeMap<String, Option<toml::Value>> {
    let mut raw = Scenario::default_scenario().raw;
    // A cluster gives levels or measurements; both are accepted keys.
    let c = &mut raw.clusters[0];
    c.measurements = Some(biocluster::scenario::measurements::HALF_LEVEL);
    c.environment = Some(biocluster::scenario::raw::RawEnvironment {
        infrastructure: 0.5,
        public_research: 0.5,
        pharma_presence: 0.5,
        vc_presence: 0.5,
        labour_pool: 0.5,
    });
    let p = &mut raw.policies[0];
    p.end_year = Some(2030);
    p.max_firm_age_years = Some(1.0);
    p.max_employees = Some(1.0);
    p.grant_musd = Some(1.0);
    p.rate = Some(1.0);
    p.round_musd = Some(1.0);
    p.investments_per_year = Some(1.0);
    p.spinoff_multiplier = Some(1.0);
    p.rent_subsidy_share = Some(1.0);
    p.infrastructure_boost = Some(1.0);
    p.search_multiplier = Some(1.0);
    p.acceptance_bonus = Some(1.0);
    p.spillover_multiplier = Some(1.0);
    let experiment = r#"
        replications = 2
        baseline = "base"
        outcomes = ["firms_alive"]
        window = [2000, 2029]
        method = "sobol"
        samples = 16
        second_order = false
        levels = 4
        design_seed = 1
        [[uncertainties]]
        parameter = "finance.round_median_musd"
        min = 5.0
        max = 15.0
        distribution = "triangular"
        mode = 10.0
        [[variants]]
        name = "v"
        description = "d"
        set = { "alliances.candidates" = 3 }
        [[sweeps]]
        parameter = "alliances.searches_per_year"
        values = [0.1]
        [latin_hypercube]
        samples = 2
        seed = 1
        [[latin_hypercube.ranges]]
        parameter = "alliances.searches_per_year"
        min = 0.1
        max = 0.2
    "#;
    raw.experiment = Some(toml::from_str(experiment).unwrap());
    let calibration = r#"
        replications = 2
        budget = 10
        validation_replications = 2
        optimiser = "cmaes"
        findings_weight = 0.5
        implied_weight = 0.5
        facts_weight = 1.0
        facts = ["pre_revenue_share"]
        [[parameters]]
        path = "alliances.searches_per_year"
        min = 0.1
        max = 0.2
    "#;
    raw.calibration = Some(toml::from_str(calibration).unwrap());
    let mut out = BTreeMap::new();
    keys(&toml::Value::try_from(&raw).unwrap(), "", &mut out);
    out
}

/// (key, default column) of each row of the reference tables.
fn documented() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string("scenarios/README.md").unwrap();
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let key = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((key.to_string(), cells.get(4)?.to_string()))
        })
        .collect()
}

#[test]
fn every_accepted_key_is_documented_and_nothing_else() {
    let accepted: BTreeSet<String> = accepted_keys().into_keys().collect();
    let documented: BTreeSet<String> = documented().into_keys().collect();
    let missing: Vec<_> = accepted.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&accepted).collect();
    assert!(missing.is_empty(), "keys missing from scenarios/README.md: {missing:?}");
    assert!(stale.is_empty(), "scenarios/README.md documents keys the parser refuses: {stale:?}");
}

/// Every key the embedded default sets, with its value (tables flattened to dotted keys).
fn default_values() -> BTreeMap<String, toml::Value> {
    let default: toml::Value = biocluster::scenario::DEFAULT_TOML.parse::<toml::Table>().unwrap().into();
    let mut in_default = BTreeMap::new();
    keys(&default, "", &mut in_default);
    in_default.into_iter().filter_map(|(key, value)| Some((key, value?))).collect()
}

/// Whether a documentation table's cell shows `value` (numbers compared as numbers).
fn shows(shown: &str, value: &toml::Value) -> bool {
    match value {
        toml::Value::String(s) => shown == s,
        toml::Value::Integer(i) => shown.parse::<f64>().ok() == Some(*i as f64),
        toml::Value::Float(f) => shown.parse::<f64>().ok() == Some(*f),
        other => shown == other.to_string(),
    }
}

#[test]
fn documented_defaults_equal_the_default_scenario() {
    let docs = documented();
    for (key, value) in default_values() {
        let shown = &docs[&key];
        assert!(shows(shown, &value), "`{key}`: README shows {shown}, default.toml has {value}");
    }
}

/// The parameter tables of docs/model.md (`| key | unit | default | used in | source |`) show the embedded
/// default's value of every key they list, so a recalibration cannot leave the model description behind.
#[test]
fn the_model_descriptions_parameter_tables_show_the_defaults() {
    let text = std::fs::read_to_string("docs/model.md").unwrap();
    let in_default = default_values();
    let mut stale = Vec::new();
    let mut rows = 0;
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(key) = cells.get(1).and_then(|c| c.strip_prefix('`')).and_then(|c| c.strip_suffix('`')) else {
            continue;
        };
        let (Some(shown), Some(value)) = (cells.get(3), in_default.get(key)) else { continue };
        rows += 1;
        if !shows(shown, value) {
            stale.push(format!("`{key}`: docs/model.md shows {shown}, default.toml has {value}"));
        }
    }
    assert!(rows > 100, "expected the parameter tables of docs/model.md, read {rows} rows");
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

/// docs/model.md (the ODD description) names every scenario key, in backticks, as
/// scenarios/README.md writes it; a key added to the parser without a word in the model
/// description fails here.
#[test]
fn every_accepted_key_appears_in_the_model_description() {
    let odd = std::fs::read_to_string("docs/model.md").unwrap();
    let missing: Vec<String> = accepted_keys().into_keys().filter(|key| !odd.contains(&format!("`{key}`"))).collect();
    assert!(missing.is_empty(), "keys missing from docs/model.md: {missing:?}");
}

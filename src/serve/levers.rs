//! What the page lets a user change, and how a change becomes a validated scenario.
//!
//! A lever is a scenario key in the form validation errors use (`clusters[0].environment.vc_presence`,
//! `policies[2].rate`), so an error comes back to the field that caused it. Its range is the one
//! validation checks (`Scenario::ranges`); its meaning and unit come from the parameter reference in
//! `scenarios/README.md` (a test keeps that table equal to the keys the parser accepts). Settings are
//! applied to the scenario's resolved TOML and validated exactly as a file would be.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Problem};
use crate::scenario::Scenario;
use crate::scenario::raw::RawScenario;

/// The parameter reference (meaning, unit) shipped with the scenarios.
const REFERENCE: &str = include_str!("../../scenarios/README.md");

/// The scenarios the page offers: (id, file as the user knows it, text). All run as single runs.
pub const SHIPPED: [(&str, &str, &str); 6] = [
    ("korea-default", "<embedded default>", ""),
    (
        "korea-policy-levers",
        "scenarios/whatif/korea_policy_levers.toml",
        include_str!("../../scenarios/whatif/korea_policy_levers.toml"),
    ),
    ("korea-four-clusters", "scenarios/korea/korea.toml", include_str!("../../scenarios/korea/korea.toml")),
    ("korea-calibrated", "scenarios/calibrated/korea.toml", include_str!("../../scenarios/calibrated/korea.toml")),
    ("belgium", "scenarios/belgium/belgium.toml", include_str!("../../scenarios/belgium/belgium.toml")),
    ("beijing", "scenarios/beijing/beijing.toml", include_str!("../../scenarios/beijing/beijing.toml")),
];

/// Policy parameters a lever may offer when the instrument sets them.
const POLICY_FIELDS: [&str; 12] = [
    "budget_musd_per_year",
    "grant_musd",
    "rate",
    "round_musd",
    "investments_per_year",
    "spinoff_multiplier",
    "rent_subsidy_share",
    "infrastructure_boost",
    "search_multiplier",
    "acceptance_bonus",
    "spillover_multiplier",
    "end_year",
];
const ENVIRONMENT: [&str; 5] = ["infrastructure", "public_research", "pharma_presence", "vc_presence", "labour_pool"];
const POPULATION: [&str; 5] = ["firms", "established_firms", "universities", "pharma_partners", "investors"];

/// One control of the page.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Lever {
    /// Scenario key, as validation names it.
    pub key: String,
    /// Section of the form: "Run", "Policy: <name>", "Cluster: <name>".
    pub group: String,
    pub label: String,
    /// "number", "integer" or "bool".
    pub kind: &'static str,
    /// The scenario's value (0/1 for a switch).
    pub value: f64,
    /// What validation allows.
    pub min: f64,
    pub max: f64,
    /// The span a slider covers (within min..max); the number box beside it takes any valid value.
    pub slider_min: f64,
    pub slider_max: f64,
    pub step: f64,
    pub unit: String,
    pub meaning: String,
}

/// A scenario ready for the page: validated, with its levers.
#[derive(Debug, Clone)]
pub struct Base {
    pub id: String,
    pub file: String,
    pub scenario: Scenario,
    pub levers: Vec<Lever>,
    /// The scenario's resolved TOML as a value: settings are applied to it.
    value: toml::Value,
}

/// `text` read as a scenario for the page. The page runs single replications: an [experiment] or
/// [calibration] section is dropped (the CLI runs those), and the note says so.
pub fn load(id: &str, file: &str, text: &str) -> Result<(Base, Option<String>), Error> {
    let mut scenario = Scenario::from_toml_str(text, file)?;
    let mut note = None;
    if scenario.raw.experiment.is_some() || scenario.raw.calibration.is_some() {
        note = Some(
            "the file's [experiment]/[calibration] section is left out here: the page runs single replications \
             (the CLI runs experiments and calibrations)"
                .to_string(),
        );
        let mut raw = scenario.raw.clone();
        raw.experiment = None;
        raw.calibration = None;
        scenario = Scenario::from_raw(raw, file)?;
    }
    let value = toml::Value::try_from(&scenario.raw).expect("a raw scenario always serialises");
    let levers = levers(&scenario, &value);
    Ok((Base { id: id.to_string(), file: file.to_string(), scenario, levers, value }, note))
}

/// A shipped scenario by id.
pub fn shipped(id: &str) -> Option<Base> {
    let (id, file, text) = SHIPPED.iter().find(|s| s.0 == id)?;
    Some(load(id, file, text).expect("shipped scenarios are valid").0)
}

impl Base {
    /// The scenario with `settings` (lever key -> JSON value) applied and validated like a file;
    /// problems are keyed by lever.
    pub fn with(&self, settings: &BTreeMap<String, serde_json::Value>) -> Result<Scenario, Vec<Problem>> {
        let mut value = self.value.clone();
        let mut problems = Vec::new();
        for (key, new) in settings {
            let Some(lever) = self.levers.iter().find(|l| &l.key == key) else {
                problems.push(Problem {
                    key: key.clone(),
                    message: format!(
                        "is not a lever of scenario `{}`; levers are: {}",
                        self.id,
                        self.levers.iter().map(|l| l.key.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                });
                continue;
            };
            let converted = match (lever.kind, new) {
                ("bool", serde_json::Value::Bool(b)) => Ok(toml::Value::Boolean(*b)),
                ("integer", serde_json::Value::Number(n)) => match n.as_f64() {
                    Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(toml::Value::Integer(x as i64)),
                    _ => Err(format!("must be a whole number in [{}, {}] (got {n})", lever.min, lever.max)),
                },
                ("number", serde_json::Value::Number(n)) => {
                    Ok(toml::Value::Float(n.as_f64().expect("serde_json numbers are finite")))
                }
                (kind, other) => {
                    Err(format!("must be a {} (got {other})", if kind == "bool" { "true or false" } else { kind }))
                }
            };
            // The range validation would check, said before the value meets a field type that
            // cannot hold it (a negative count).
            let converted = converted.and_then(|v| match v.as_float().or_else(|| v.as_integer().map(|i| i as f64)) {
                Some(x) if x < lever.min || x > lever.max => {
                    Err(format!("must be a number in [{}, {}] (got {x})", lever.min, lever.max))
                }
                _ => Ok(v),
            });
            match converted.and_then(|v| set(&mut value, key, v)) {
                Ok(()) => {}
                Err(message) => problems.push(Problem { key: key.clone(), message }),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let raw: RawScenario = match value.try_into() {
            Ok(raw) => raw,
            Err(e) => return Err(vec![Problem { key: "settings".into(), message: e.to_string() }]),
        };
        Scenario::from_raw(raw, &self.file).map_err(|e| match e {
            Error::InvalidScenario { problems, .. } => problems,
            other => vec![Problem { key: "settings".into(), message: other.to_string() }],
        })
    }
}

fn levers(scenario: &Scenario, value: &toml::Value) -> Vec<Lever> {
    let reference = reference();
    let ranges = scenario.ranges();
    let mut out = Vec::new();
    let mut add = |key: String, group: String, label: String, kind: &'static str| {
        let Ok(v) = get(value, &key) else { return };
        let number = match v {
            toml::Value::Float(x) => x,
            toml::Value::Integer(i) => i as f64,
            toml::Value::Boolean(b) => f64::from(u8::from(b)),
            _ => return,
        };
        let (min, max) = match kind {
            "bool" => (0.0, 1.0),
            _ => ranges.iter().find(|r| r.0 == key).map_or((0.0, f64::from(u32::MAX)), |r| (r.1, r.2)),
        };
        let generic = generic_key(&key);
        let (meaning, unit) = reference.get(&generic).cloned().unwrap_or_default();
        let (slider_min, slider_max) = slider(&key, number, min, max, scenario);
        let step = match kind {
            "number" if slider_max - slider_min <= 2.0 => 0.01,
            "number" => ((slider_max - slider_min) / 200.0).max(0.01),
            _ => 1.0,
        };
        out.push(Lever {
            key,
            group,
            label,
            kind,
            value: number,
            min,
            max,
            slider_min,
            slider_max,
            step,
            unit,
            meaning,
        });
    };
    add("scenario.seed".into(), "Run".into(), "seed".into(), "integer");
    for (i, policy) in scenario.raw.policies.iter().enumerate() {
        let group = format!("Policy: {} ({})", policy.name, kind_name(value, i));
        add(format!("policies[{i}].enabled"), group.clone(), "switched on".into(), "bool");
        for field in POLICY_FIELDS {
            let kind = if field == "end_year" { "integer" } else { "number" };
            let label = field.replace("_musd_per_year", " (M$ a year)").replace("_musd", " (M$)").replace('_', " ");
            add(format!("policies[{i}].{field}"), group.clone(), label, kind);
        }
    }
    for (i, cluster) in scenario.raw.clusters.iter().enumerate() {
        let group = format!("Cluster: {}", cluster.name);
        // A cluster gives levels or the measurements they are computed from; `add` skips the absent.
        for field in ENVIRONMENT {
            add(format!("clusters[{i}].environment.{field}"), group.clone(), field.replace('_', " "), "number");
        }
        for (field, _) in crate::scenario::measurements::fields(&crate::scenario::measurements::HALF_LEVEL) {
            let label = field.replace("_musd_per_year", " (M$ a year)").replace('_', " ");
            add(format!("clusters[{i}].measurements.{field}"), group.clone(), label, "number");
        }
        for field in POPULATION {
            add(
                format!("clusters[{i}].population.{field}"),
                group.clone(),
                format!("{} at start", field.replace('_', " ")),
                "integer",
            );
        }
    }
    out
}

fn kind_name(value: &toml::Value, policy: usize) -> String {
    get(value, &format!("policies[{policy}].kind"))
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

/// The span a slider offers: the whole range where it is narrow (shares, levels, multipliers),
/// else up to four times the scenario's value (budgets, counts), years within the run.
fn slider(key: &str, value: f64, min: f64, max: f64, scenario: &Scenario) -> (f64, f64) {
    if key.ends_with("_year") {
        let first = f64::from(scenario.start_year);
        return (first, first + f64::from(scenario.years) - 1.0);
    }
    if key == "scenario.seed" {
        return (min, max);
    }
    if max - min <= 10.0 {
        return (min, max);
    }
    let top = (4.0 * value.abs()).max(min + 10.0);
    let magnitude = 10f64.powf(top.log10().floor());
    (min, ((top / magnitude).ceil() * magnitude).min(max))
}

/// `policies[2].rate` -> `policies[].rate`: the form the parameter reference uses.
fn generic_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut in_index = false;
    for ch in key.chars() {
        match ch {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(ch),
        }
    }
    out
}

/// Meaning and unit of each key in the parameter reference's tables.
fn reference() -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for line in REFERENCE.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `key` | meaning | unit | default | source |
        if cells.len() >= 6 && cells[1].starts_with('`') && cells[1].ends_with('`') {
            out.insert(cells[1].trim_matches('`').to_string(), (cells[2].to_string(), cells[3].to_string()));
        }
    }
    out
}

/// One step of a key: a table key, optionally indexed (`clusters[0]`).
fn steps(key: &str) -> Vec<(&str, Option<usize>)> {
    key.split('.')
        .map(|part| match part.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse().ok()),
            None => (part, None),
        })
        .collect()
}

fn get(root: &toml::Value, key: &str) -> Result<toml::Value, String> {
    let mut current = root;
    for (name, index) in steps(key) {
        current = current.get(name).ok_or_else(|| format!("no key `{name}`"))?;
        if let Some(i) = index {
            current = current.get(i).ok_or_else(|| format!("no entry {i} in `{name}`"))?;
        }
    }
    Ok(current.clone())
}

fn set(root: &mut toml::Value, key: &str, new: toml::Value) -> Result<(), String> {
    let mut current = root;
    for (name, index) in steps(key) {
        current = current.get_mut(name).ok_or_else(|| format!("no key `{name}`"))?;
        if let Some(i) = index {
            current = current.get_mut(i).ok_or_else(|| format!("no entry {i} in `{name}`"))?;
        }
    }
    *current = new;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scenario_loads_with_documented_levers() {
        for (id, _, _) in SHIPPED {
            let base = shipped(id).unwrap();
            assert!(base.levers.len() > 15, "{id}: {} levers", base.levers.len());
            for lever in &base.levers {
                assert!(
                    !lever.meaning.is_empty() && !lever.unit.is_empty(),
                    "{id}: {} has no reference entry",
                    lever.key
                );
                assert!(lever.min <= lever.slider_min && lever.slider_max <= lever.max, "{id}: {lever:?}");
                assert!(
                    lever.kind == "bool" || lever.min <= lever.value && lever.value <= lever.max,
                    "{id}: {lever:?}"
                );
            }
        }
    }

    #[test]
    fn settings_are_validated_as_a_file_is_and_keyed_by_lever() {
        let base = shipped("korea-default").unwrap();
        let mut settings = BTreeMap::new();
        settings.insert("clusters[0].measurements.vc_musd_per_year".to_string(), serde_json::json!(900.0));
        let scenario = base.with(&settings).unwrap();
        assert_eq!(scenario.clusters[0].environment.vc_presence, 0.9);
        settings.insert("clusters[1].measurements.bio_employees".to_string(), serde_json::json!(-1.5));
        settings.insert("clusters[1].population.firms".to_string(), serde_json::json!(2.5));
        settings.insert("nonsense".to_string(), serde_json::json!(1));
        let problems = base.with(&settings).unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["clusters[1].measurements.bio_employees", "clusters[1].population.firms", "nonsense"]);
        assert!(problems[0].message.contains("[0, "), "{}", problems[0].message);
        // A rate inside its range passes; a count beyond the bound validation sets is named.
        let mut settings = BTreeMap::new();
        settings.insert("policies[1].rate".to_string(), serde_json::json!(0.5));
        assert!(base.with(&settings).is_ok());
        settings.insert("clusters[0].population.universities".to_string(), serde_json::json!(2_000_000));
        assert_eq!(base.with(&settings).unwrap_err()[0].key, "clusters[0].population.universities");
    }

    #[test]
    fn an_unchanged_scenario_is_the_same_scenario() {
        let base = shipped("korea-default").unwrap();
        assert_eq!(base.with(&BTreeMap::new()).unwrap().resolved_toml(), Scenario::default_scenario().resolved_toml());
    }
}

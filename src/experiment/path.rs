//! Dotted parameter paths: `alliances.searches_per_year`, `clusters.osong_daegu.environment.vc_presence`,
//! `policies.national_rd_grants.budget_musd_per_year`. Entries of arrays of tables (`clusters`,
//! `agencies`, `policies`) are addressed by their `name`.

/// Sets `path` in a scenario's TOML value to `new`; the error says which segment failed and what
/// was available there.
pub fn set(root: &mut toml::Value, path: &str, new: toml::Value) -> Result<(), String> {
    let slot = locate(root, path)?;
    // An integer may stand for a float (a TOML writer's `2` for `2.0`), nothing else changes type.
    if !(slot.same_type(&new) || slot.is_float() && new.is_integer()) {
        return Err(format!("`{path}` holds a {}, not a {}", slot.type_str(), new.type_str()));
    }
    *slot = match (&*slot, new) {
        (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(i as f64),
        (_, v) => v,
    };
    Ok(())
}

/// `x` as a value for `path`: rounded to an integer where the parameter is an integer.
pub fn number(root: &toml::Value, path: &str, x: f64) -> Result<toml::Value, String> {
    Ok(if get(root, path)?.is_integer() { toml::Value::Integer(x.round() as i64) } else { toml::Value::Float(x) })
}

/// Reads the value at `path`.
pub fn get(root: &toml::Value, path: &str) -> Result<toml::Value, String> {
    let mut root = root.clone();
    locate(&mut root, path).map(|v| v.clone())
}

fn locate<'a>(root: &'a mut toml::Value, path: &str) -> Result<&'a mut toml::Value, String> {
    let mut current = root;
    let mut walked = String::new();
    for segment in path.split('.') {
        let here = if walked.is_empty() { "the top level".to_string() } else { format!("`{walked}`") };
        current = match current {
            toml::Value::Table(table) => {
                let keys = table.keys().cloned().collect::<Vec<_>>().join(", ");
                table.get_mut(segment).ok_or_else(|| format!("no key `{segment}` in {here}; keys there: {keys}"))?
            }
            toml::Value::Array(items) => {
                let names: Vec<String> =
                    items.iter().filter_map(|i| i.get("name").and_then(|n| n.as_str()).map(str::to_string)).collect();
                let pos = names.iter().position(|n| n == segment).ok_or_else(|| {
                    format!("no entry named `{segment}` in {here}; names there: {}", names.join(", "))
                })?;
                &mut items[pos]
            }
            _ => return Err(format!("{here} is a value, not a table: `{segment}` cannot follow it")),
        };
        walked = if walked.is_empty() { segment.to_string() } else { format!("{walked}.{segment}") };
    }
    if current.is_table() || current.is_array() && current.as_array().is_some_and(|a| a.iter().any(|i| i.is_table())) {
        return Err(format!("`{path}` is a table, not a parameter"));
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_value() -> toml::Value {
        toml::Value::try_from(&crate::Scenario::default_scenario().raw).unwrap()
    }

    #[test]
    fn sets_plain_and_named_entries() {
        let mut v = default_value();
        set(&mut v, "alliances.searches_per_year", toml::Value::Float(0.9)).unwrap();
        set(&mut v, "clusters.osong_daegu.measurements.vc_musd_per_year", toml::Value::Integer(1)).unwrap();
        assert_eq!(get(&v, "alliances.searches_per_year").unwrap().as_float(), Some(0.9));
        assert_eq!(get(&v, "clusters.osong_daegu.measurements.vc_musd_per_year").unwrap().as_float(), Some(1.0));
    }

    #[test]
    fn errors_say_what_exists() {
        let mut v = default_value();
        let err = set(&mut v, "clusters.atlantis.x_km", toml::Value::Float(1.0)).unwrap_err();
        assert!(err.contains("osong_daegu"), "{err}");
        let err = set(&mut v, "alliances.serches", toml::Value::Float(1.0)).unwrap_err();
        assert!(err.contains("searches_per_year"), "{err}");
        let err = set(&mut v, "alliances.candidates", toml::Value::String("x".into())).unwrap_err();
        assert!(err.contains("integer"), "{err}");
    }
}

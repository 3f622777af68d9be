//! The Rust OLS + HC1 and + clustered standard errors against statsmodels on committed data sets
//! (tests/fixtures/ols: data.csv and expected.json, clustered.csv and expected_cluster.json, written
//! by statsmodels, see their "generator" fields).

use biocluster::regression::{StandardErrors, ols, ols_hc1};

#[test]
fn ols_hc1_matches_statsmodels() {
    let text = std::fs::read_to_string("tests/fixtures/ols/data.csv").unwrap();
    let rows: Vec<Vec<f64>> =
        text.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    let y: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let columns: Vec<(String, Vec<f64>)> =
        (1..4).map(|j| (format!("x{j}"), rows.iter().map(|r| r[j]).collect())).collect();
    let fit = ols_hc1(&y, &columns).expect("estimable");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/ols/expected.json").unwrap()).unwrap();
    let list = |k: &str| expected[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>();
    for (name, ours, theirs) in [
        ("coef", &fit.coef, list("coef")),
        ("se", &fit.se, list("se_hc1")),
        ("t", &fit.t, list("t")),
        ("p", &fit.p, list("p")),
    ] {
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() < 1e-8 * (1.0 + b.abs()), "{name}[{i}]: ours {a}, statsmodels {b}");
        }
    }
    assert!((fit.r2 - expected["r2"].as_f64().unwrap()).abs() < 1e-10);
    assert_eq!(fit.n, 60);
}

#[test]
fn constant_columns_are_dropped_and_tiny_samples_refused() {
    let y = [1.0, 2.0, 3.0, 4.0, 5.0];
    let cols = vec![("x".to_string(), vec![1.0, 2.0, 2.5, 4.0, 6.0]), ("flat".to_string(), vec![0.0; 5])];
    let fit = ols_hc1(&y, &cols).unwrap();
    assert_eq!(fit.names, ["const", "x"]);
    assert!(ols_hc1(&y[..2], &[("x".to_string(), vec![1.0, 2.0])]).is_none());
}

#[test]
fn clustered_standard_errors_match_statsmodels() {
    let text = std::fs::read_to_string("tests/fixtures/ols/clustered.csv").unwrap();
    let rows: Vec<Vec<f64>> =
        text.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    let firms: Vec<u32> = rows.iter().map(|r| r[0] as u32).collect();
    let y: Vec<f64> = rows.iter().map(|r| r[1]).collect();
    let columns: Vec<(String, Vec<f64>)> =
        (2..4).map(|j| (format!("x{}", j - 1), rows.iter().map(|r| r[j]).collect())).collect();
    let fit = ols(&y, &columns, StandardErrors::Clustered(&firms)).expect("estimable");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/ols/expected_cluster.json").unwrap()).unwrap();
    let list = |k: &str| expected[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>();
    for (name, ours, theirs) in [
        ("coef", &fit.coef, list("coef")),
        ("se", &fit.se, list("se_cluster")),
        ("t", &fit.t, list("t")),
        ("p", &fit.p, list("p")),
    ] {
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() < 1e-8 * (1.0 + b.abs()), "{name}[{i}]: ours {a}, statsmodels {b}");
        }
    }
    assert_eq!(fit.n, 89);
    // One firm is no cluster-robust variance at all.
    assert!(ols(&y, &columns, StandardErrors::Clustered(&vec![1; y.len()])).is_none());
    // Same estimates as HC1, other errors.
    let hc1 = ols_hc1(&y, &columns).unwrap();
    assert_eq!(hc1.coef, fit.coef);
    assert_ne!(hc1.se, fit.se);
}

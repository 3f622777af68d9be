//! No mechanism reads a cluster's type: cluster differences come from environment levels and
//! policy instruments only (MODEL.md). Swapping the two clusters' type labels must change nothing
//! but the labels.

mod common;

use common::*;

#[test]
fn swapping_cluster_types_changes_only_the_labels() {
    let base = default_scenario();
    let swapped = edited(|raw| {
        let (a, b) = (raw.clusters[0].cluster_type, raw.clusters[1].cluster_type);
        raw.clusters[0].cluster_type = b;
        raw.clusters[1].cluster_type = a;
    });
    let (x, y) = (run(&base, 0), run(&swapped, 0));
    assert_eq!(x.timeseries.len(), y.timeseries.len());
    for (r, s) in x.timeseries.iter().zip(&y.timeseries) {
        assert_eq!((r.year, &r.cluster, &r.values), (s.year, &s.cluster, &s.values));
    }
    for (r, s) in x.panel.iter().zip(&y.panel) {
        let mut s = s.clone();
        s.cluster_type = r.cluster_type;
        assert_eq!(r, &s);
    }
    assert_ne!(x.panel[0].cluster_type, y.panel[0].cluster_type, "the labels themselves did swap");
}

#[test]
fn mechanism_code_never_names_the_cluster_type() {
    for dir in ["src/systems", "src/model"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for needle in ["ClusterType", "cluster_type", "government_led", "private_led"] {
                assert!(!text.contains(needle), "{} mentions `{needle}`", path.display());
            }
        }
    }
}

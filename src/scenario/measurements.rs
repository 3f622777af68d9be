//! Environment levels from sourced measurements: one mapping, fixed before any calibration.
//!
//! A cluster may give its environment as levels in [0, 1] (`[clusters.environment]`) or as the
//! measurements they stand for (`[clusters.measurements]`), never both. Each level is computed from one
//! measurement by the same smooth, saturating map, level = m / (m + half), where `half` is the
//! measurement at which the level is 0.5 (below): no threshold, and a larger measurement always means a
//! higher level, with diminishing increments. The half-levels are assumed once for every scenario
//! (scenarios/README.md, "Environment levels from measurements") and are never calibrated; the
//! measurements of the shipped Korean clusters, with their sources, are listed there too.

use serde::{Deserialize, Serialize};

use super::Environment;

/// Measurements of a cluster's endowment (counts and flows of the survey period, 2015-2020).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeasurements {
    /// Public shared facilities on site: drug- and device-development support centres, laboratory-animal
    /// centres, clinical and GMP pilot manufacturing centres, public incubator buildings (count).
    pub support_centres: f64,
    /// Public research organisations on site: national institutes and agencies, research universities and
    /// research hospitals (count).
    pub public_research_organisations: f64,
    /// Pharmaceutical companies, contract research and contract manufacturing organisations with a site
    /// in the cluster (count).
    pub pharma_establishments: f64,
    /// Venture capital invested in the cluster's bio and health firms (M$ a year).
    pub vc_musd_per_year: f64,
    /// People employed in bio and health firms and institutes in the cluster.
    pub bio_employees: f64,
}

/// The measurement at which each level is one half (assumed; scenarios/README.md gives the reasons).
pub const HALF_LEVEL: RawMeasurements = RawMeasurements {
    support_centres: 2.0,
    public_research_organisations: 4.0,
    pharma_establishments: 10.0,
    vc_musd_per_year: 100.0,
    bio_employees: 5_000.0,
};

/// Field names as a scenario file writes them, with each measurement's value.
pub fn fields(m: &RawMeasurements) -> [(&'static str, f64); 5] {
    [
        ("support_centres", m.support_centres),
        ("public_research_organisations", m.public_research_organisations),
        ("pharma_establishments", m.pharma_establishments),
        ("vc_musd_per_year", m.vc_musd_per_year),
        ("bio_employees", m.bio_employees),
    ]
}

/// The level a measurement `m` maps to, for a measurement whose half-level is `half`.
pub fn level(m: f64, half: f64) -> f64 {
    m / (m + half)
}

/// The environment levels the measurements stand for.
pub fn environment(m: &RawMeasurements) -> Environment {
    let h = HALF_LEVEL;
    Environment {
        infrastructure: level(m.support_centres, h.support_centres),
        public_research: level(m.public_research_organisations, h.public_research_organisations),
        pharma_presence: level(m.pharma_establishments, h.pharma_establishments),
        vc_presence: level(m.vc_musd_per_year, h.vc_musd_per_year),
        labour_pool: level(m.bio_employees, h.bio_employees),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_half_level_maps_to_one_half_and_the_map_rises_smoothly() {
        let e = environment(&HALF_LEVEL);
        for v in [e.infrastructure, e.public_research, e.pharma_presence, e.vc_presence, e.labour_pool] {
            assert_eq!(v, 0.5);
        }
        assert_eq!(level(0.0, 3.0), 0.0);
        // Rising, below 1, with diminishing increments: no step, no kink, no ceiling reached.
        let levels: Vec<f64> = (0..=100).map(|i| level(f64::from(i), 10.0)).collect();
        for w in levels.windows(3) {
            assert!(w[0] < w[1] && w[1] < w[2] && w[2] < 1.0);
            assert!(w[2] - w[1] < w[1] - w[0]);
        }
    }
}

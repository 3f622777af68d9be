//! Global sensitivity analysis and scenario discovery, as pure estimators over design points and
//! outcomes (no model inside): the Saltelli design on a scrambled Sobol sequence with first-order,
//! total and second-order Sobol indices (`sobol`), Morris elementary effects (`morris`) and PRIM
//! boxes (`prim`). Each is tested on functions whose answers are known analytically.
//!
//! Design points live in the unit hypercube; `scale` maps them onto a parameter's range and
//! distribution. Every random choice (scrambling seed, Morris trajectories, bootstrap resamples)
//! comes from a seed the caller gives, so an analysis is reproducible.

pub mod morris;
pub mod prim;
pub mod sobol;

/// How a parameter's values are spread over its range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    Uniform,
    /// Triangular with its mode inside the range.
    Triangular {
        mode: f64,
    },
    /// Uniform in the logarithm (both ends > 0).
    LogUniform,
}

/// Maps `u` in [0, 1) onto `[min, max]` by the inverse distribution function.
pub fn scale(u: f64, min: f64, max: f64, distribution: Distribution) -> f64 {
    match distribution {
        Distribution::Uniform => min + u * (max - min),
        Distribution::LogUniform => (min.ln() + u * (max.ln() - min.ln())).exp(),
        Distribution::Triangular { mode } => {
            let (span, left) = (max - min, mode - min);
            let cut = if span > 0.0 { left / span } else { 0.0 };
            if u < cut { min + (u * span * left).sqrt() } else { max - ((1.0 - u) * span * (max - mode)).sqrt() }
        }
    }
}

/// A percentile of `values` (sorted in place), linear between order statistics.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n => {
            let h = p.clamp(0.0, 1.0) * (n - 1) as f64;
            let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
            values[lo] + (h - lo as f64) * (values[hi] - values[lo])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_follows_each_distribution() {
        assert_eq!(scale(0.25, 2.0, 6.0, Distribution::Uniform), 3.0);
        assert!((scale(0.5, 1.0, 100.0, Distribution::LogUniform) - 10.0).abs() < 1e-12);
        // Triangular(0, 1, 0.5): the median is the mode, a quarter of the mass below 0.3536.
        let t = Distribution::Triangular { mode: 0.5 };
        assert!((scale(0.5, 0.0, 1.0, t) - 0.5).abs() < 1e-12);
        assert!((scale(0.25, 0.0, 1.0, t) - 0.5f64.sqrt() / 2.0).abs() < 1e-12);
        assert_eq!(scale(0.0, 0.0, 1.0, t), 0.0);
    }
}

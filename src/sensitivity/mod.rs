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
    quantile_sorted(values, p)
}

/// The `p` quantile of sorted values, linear between order statistics (R's type 7); NaN when empty.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
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

//! Morris elementary effects (Morris 1991; mu* of Campolongo et al. 2007).
//!
//! Design: `r` trajectories of k + 1 points on a p-level grid of the unit hypercube (p even, step
//! Δ = p / (2 (p - 1))). A trajectory starts at a random grid point and moves one parameter at a time,
//! in a random order, by Δ up from the lower half of the grid or down from the upper half. Rows are laid
//! out trajectory by trajectory (r (k + 1) model runs), as SALib's `morris.sample` does.
//!
//! Per parameter: mu (mean elementary effect), mu* (mean absolute effect: the importance ranking) with a
//! percentile-bootstrap 95 % interval over trajectories, and sigma (standard deviation: interactions or
//! non-linearity). Effects are per unit of the unit-cube coordinate, i.e. per whole range.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::sobol::Estimate;

/// The design: `trajectories` x (k + 1) rows in the unit hypercube, `levels` grid levels (even, >= 2).
pub fn design(k: usize, trajectories: usize, levels: usize, seed: u64) -> Vec<Vec<f64>> {
    assert!(k >= 1 && trajectories >= 1 && levels >= 2 && levels.is_multiple_of(2), "checked by the caller");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let top = (levels - 1) as f64;
    let half = levels / 2;
    let mut rows = Vec::with_capacity(trajectories * (k + 1));
    for _ in 0..trajectories {
        let mut level: Vec<usize> = (0..k).map(|_| rng.random_range(0..levels)).collect();
        let mut order: Vec<usize> = (0..k).collect();
        order.shuffle(&mut rng);
        rows.push(level.iter().map(|&l| l as f64 / top).collect::<Vec<_>>());
        for i in order {
            level[i] = if level[i] < half { level[i] + half } else { level[i] - half };
            rows.push(level.iter().map(|&l| l as f64 / top).collect());
        }
    }
    rows
}

/// Morris statistics of one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    pub mu: f64,
    pub mu_star: Estimate,
    pub sigma: f64,
}

/// The elementary effects of outputs `y` at design `x` (trajectories of k + 1 rows), with `resamples`
/// bootstrap resamples of the trajectories for mu*'s interval.
pub fn effects(x: &[Vec<f64>], y: &[f64], k: usize, resamples: usize, seed: u64) -> Vec<Effect> {
    let trajectories = x.len() / (k + 1);
    assert_eq!(trajectories * (k + 1), x.len(), "whole trajectories");
    assert_eq!(x.len(), y.len(), "one output per design row");
    // ee[i][t]: parameter i's elementary effect in trajectory t.
    let mut ee = vec![vec![0.0; trajectories]; k];
    #[allow(clippy::needless_range_loop)] // t indexes both the design's rows and ee's columns
    for t in 0..trajectories {
        for s in 0..k {
            let (r0, r1) = (t * (k + 1) + s, t * (k + 1) + s + 1);
            let Some(i) = (0..k).find(|&i| x[r0][i] != x[r1][i]) else { continue };
            ee[i][t] = (y[r1] - y[r0]) / (x[r1][i] - x[r0][i]);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let picks: Vec<Vec<usize>> =
        (0..resamples).map(|_| (0..trajectories).map(|_| rng.random_range(0..trajectories)).collect()).collect();
    ee.iter()
        .map(|e| {
            let n = e.len() as f64;
            let mu = e.iter().sum::<f64>() / n;
            let mu_star = e.iter().map(|v| v.abs()).sum::<f64>() / n;
            let sigma =
                if e.len() > 1 { (e.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
            let mut boot: Vec<f64> = picks.iter().map(|p| p.iter().map(|&t| e[t].abs()).sum::<f64>() / n).collect();
            let low = super::percentile(&mut boot, 0.025);
            let high = super::percentile(&mut boot, 0.975);
            Effect { mu, mu_star: Estimate { value: mu_star, low, high }, sigma }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f = 10 x0 + 5 x1 + x2 + 0 x3 + 3 x0 x1: mu* ranks x0 > x1 > x2 > x3; the linear x2 has
    /// elementary effects of exactly 1 (sigma 0), x3 none; the x0 x1 interaction gives both a spread.
    #[test]
    fn morris_ranks_a_known_function() {
        let f = |x: &[f64]| 10.0 * x[0] + 5.0 * x[1] + x[2] + 3.0 * x[0] * x[1];
        let k = 4;
        let x = design(k, 40, 4, 9);
        assert_eq!(x.len(), 40 * (k + 1));
        assert!(x.iter().flatten().all(|u| (0.0..=1.0).contains(u)));
        let y: Vec<f64> = x.iter().map(|r| f(r)).collect();
        let e = effects(&x, &y, k, 300, 2);
        let mu_star: Vec<f64> = e.iter().map(|e| e.mu_star.value).collect();
        assert!(mu_star[0] > mu_star[1] && mu_star[1] > mu_star[2] && mu_star[2] > mu_star[3], "{mu_star:?}");
        assert!((e[2].mu - 1.0).abs() < 1e-9 && e[2].sigma < 1e-9, "{:?}", e[2]);
        assert_eq!((e[3].mu_star.value, e[3].sigma), (0.0, 0.0));
        assert!(e[0].sigma > 0.1 && e[1].sigma > 0.1, "interaction: {:?} {:?}", e[0], e[1]);
        // x0's effect is 10 + 3 x1 with x1 on the grid {0, 1/3, 2/3, 1}: between 10 and 13.
        assert!((10.0..=13.0).contains(&e[0].mu_star.value));
        assert!(e[0].mu_star.low <= e[0].mu_star.value && e[0].mu_star.value <= e[0].mu_star.high);
    }
}

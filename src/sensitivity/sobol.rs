//! Sobol indices by the Saltelli design.
//!
//! Design (Saltelli 2002; Saltelli et al. 2010): two N x k matrices A and B from one scrambled Sobol
//! sequence of dimension 2k (A: its first k coordinates, B: the last k; `sobol_burley`, Owen-scrambled,
//! seeded), and for each parameter i the matrix AB_i (A with column i from B) and, for second-order
//! indices, BA_i (B with column i from A). Rows are laid out as SALib's `saltelli.sample` does, base row
//! by base row: A_j, AB_j^1..AB_j^k, [BA_j^1..BA_j^k,] B_j; so N (k + 2) model runs, or N (2k + 2) with
//! second order, and another tool can recompute the indices from `samples.csv`.
//!
//! Estimators, with V the variance of the outputs at A and B together:
//! - first order, Saltelli et al. (2010), with f(B) centred on the mean output (Sobol' 2007's advice for
//!   outputs far from zero): S_i = mean((f(B) - mean f) (f(AB_i) - f(A))) / V;
//! - total, Jansen (1999): ST_i = mean((f(A) - f(AB_i))^2) / (2 V);
//! - second order, Saltelli (2002): S_ij = mean(f(BA_i) f(AB_j) - f(A) f(B)) / V - S_i - S_j.
//!
//! Intervals: percentile bootstrap over base rows (rows j drawn with replacement, every index
//! recomputed on the resample).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Most base samples the scrambled sequence gives (sobol_burley: 2^16 points).
pub const MAX_BASE_SAMPLES: usize = 1 << 16;
/// Most parameters (the sequence has 256 dimensions; the design uses 2k).
pub const MAX_PARAMETERS: usize = 128;

/// The Saltelli design in the unit hypercube: `n` base rows of `k` parameters, in SALib's row order.
pub fn design(k: usize, n: usize, second_order: bool, seed: u32) -> Vec<Vec<f64>> {
    assert!((1..=MAX_PARAMETERS).contains(&k) && (1..=MAX_BASE_SAMPLES).contains(&n), "checked by the caller");
    let point = |j: usize, d: usize| f64::from(sobol_burley::sample(j as u32, d as u32, seed));
    let mut rows = Vec::with_capacity(n * rows_per_base(k, second_order));
    for j in 0..n {
        let a: Vec<f64> = (0..k).map(|d| point(j, d)).collect();
        let b: Vec<f64> = (0..k).map(|d| point(j, k + d)).collect();
        rows.push(a.clone());
        for i in 0..k {
            let mut ab = a.clone();
            ab[i] = b[i];
            rows.push(ab);
        }
        if second_order {
            for i in 0..k {
                let mut ba = b.clone();
                ba[i] = a[i];
                rows.push(ba);
            }
        }
        rows.push(b);
    }
    rows
}

/// Design rows per base sample.
pub fn rows_per_base(k: usize, second_order: bool) -> usize {
    if second_order { 2 * k + 2 } else { k + 2 }
}

/// An index with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// The Sobol indices of one outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Indices {
    pub first: Vec<Estimate>,
    pub total: Vec<Estimate>,
    /// (i, j, S_ij) for i < j, when the design has second order.
    pub second: Vec<(usize, usize, Estimate)>,
}

/// The point estimates over the base rows `rows` (indices into the N base samples).
fn point_estimates(y: &[f64], k: usize, second_order: bool, rows: &[usize]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let per = rows_per_base(k, second_order);
    let a = |j: usize| y[j * per];
    let ab = |j: usize, i: usize| y[j * per + 1 + i];
    let ba = |j: usize, i: usize| y[j * per + 1 + k + i];
    let b = |j: usize| y[j * per + per - 1];
    let n = rows.len() as f64;
    let all: Vec<f64> = rows.iter().flat_map(|&j| [a(j), b(j)]).collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / all.len() as f64;
    let var = if var > 0.0 { var } else { f64::NAN };
    // f(B) centred: the expectation is the same (E[f(AB_i) - f(A)] = 0), the variance far smaller when
    // outputs sit far from zero (330 firms, say) and carry replication noise.
    let first: Vec<f64> =
        (0..k).map(|i| rows.iter().map(|&j| (b(j) - mean) * (ab(j, i) - a(j))).sum::<f64>() / n / var).collect();
    let total: Vec<f64> =
        (0..k).map(|i| rows.iter().map(|&j| (a(j) - ab(j, i)).powi(2)).sum::<f64>() / n / (2.0 * var)).collect();
    let mut second = Vec::new();
    if second_order {
        for i in 0..k {
            for l in i + 1..k {
                let v = rows.iter().map(|&j| ba(j, i) * ab(j, l) - a(j) * b(j)).sum::<f64>() / n / var;
                second.push(v - first[i] - first[l]);
            }
        }
    }
    (first, total, second)
}

/// Sobol indices of outputs `y` (one per design row, in [`design`]'s order) with `resamples`
/// bootstrap resamples for 95 % intervals.
pub fn indices(y: &[f64], k: usize, second_order: bool, resamples: usize, seed: u64) -> Indices {
    let per = rows_per_base(k, second_order);
    let n = y.len() / per;
    assert_eq!(n * per, y.len(), "one output per design row");
    let base: Vec<usize> = (0..n).collect();
    let (first, total, second) = point_estimates(y, k, second_order, &base);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boot_first = vec![Vec::with_capacity(resamples); k];
    let mut boot_total = vec![Vec::with_capacity(resamples); k];
    let mut boot_second = vec![Vec::with_capacity(resamples); second.len()];
    let mut rows = vec![0; n];
    for _ in 0..resamples {
        for r in rows.iter_mut() {
            *r = rng.random_range(0..n);
        }
        let (f, t, s) = point_estimates(y, k, second_order, &rows);
        for i in 0..k {
            boot_first[i].push(f[i]);
            boot_total[i].push(t[i]);
        }
        for (b, v) in boot_second.iter_mut().zip(s) {
            b.push(v);
        }
    }
    let estimate = |value: f64, boot: &mut Vec<f64>| Estimate {
        value,
        low: super::percentile(boot, 0.025),
        high: super::percentile(boot, 0.975),
    };
    let mut pairs = Vec::new();
    for i in 0..k {
        for l in i + 1..k {
            pairs.push((i, l));
        }
    }
    Indices {
        first: first.iter().zip(boot_first.iter_mut()).map(|(&v, b)| estimate(v, b)).collect(),
        total: total.iter().zip(boot_total.iter_mut()).map(|(&v, b)| estimate(v, b)).collect(),
        second: second
            .iter()
            .zip(boot_second.iter_mut())
            .zip(pairs)
            .map(|((&v, b), (i, l))| (i, l, estimate(v, b)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn ishigami(x: &[f64]) -> f64 {
        let (a, b) = (7.0, 0.1);
        let x: Vec<f64> = x.iter().map(|u| -PI + 2.0 * PI * u).collect();
        x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
    }

    /// Ishigami (a = 7, b = 0.1): S = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244 (Ishigami & Homma
    /// 1990; e.g. SALib's test values). Each within 0.03 at N = 4,096 (20,480 runs), and every 95 %
    /// bootstrap interval covers the truth.
    #[test]
    fn ishigami_indices_match_the_analytic_values() {
        let (k, n) = (3, 4096);
        let x = design(k, n, false, 7);
        let y: Vec<f64> = x.iter().map(|r| ishigami(r)).collect();
        let s = indices(&y, k, false, 500, 11);
        eprintln!("Ishigami, N = {n}: {s:?}");
        let (first, total) = ([0.3139, 0.4424, 0.0], [0.5576, 0.4424, 0.2437]);
        for i in 0..k {
            for (est, truth, what) in [(s.first[i], first[i], "S"), (s.total[i], total[i], "ST")] {
                assert!((est.value - truth).abs() < 0.03, "{what}{i}: {est:?} vs {truth}");
                assert!(est.low <= truth && truth <= est.high, "{what}{i}: interval {est:?} misses {truth}");
            }
        }
    }

    /// Sobol's G function: S_i = V_i / V, ST_i = V_i prod_{j != i}(1 + V_j) / V with
    /// V_i = 1 / (3 (1 + a_i)^2) and V = prod(1 + V_i) - 1; and with second order, S_ij = V_i V_j / V.
    #[test]
    fn g_function_indices_match_the_analytic_values() {
        let a = [0.0, 1.0, 4.5, 9.0, 99.0, 99.0];
        let k = a.len();
        let g = |x: &[f64]| x.iter().zip(&a).map(|(x, a)| ((4.0 * x - 2.0).abs() + a) / (1.0 + a)).product::<f64>();
        let vi: Vec<f64> = a.iter().map(|a| 1.0 / (3.0 * (1.0 + a) * (1.0 + a))).collect();
        let v = vi.iter().map(|v| 1.0 + v).product::<f64>() - 1.0;
        let x = design(k, 8192, true, 3);
        let y: Vec<f64> = x.iter().map(|r| g(r)).collect();
        let s = indices(&y, k, true, 200, 5);
        for i in 0..k {
            let first = vi[i] / v;
            let total = vi[i] * (0..k).filter(|&j| j != i).map(|j| 1.0 + vi[j]).product::<f64>() / v;
            assert!((s.first[i].value - first).abs() < 0.03, "S{i}: {:?} vs {first}", s.first[i]);
            assert!((s.total[i].value - total).abs() < 0.03, "ST{i}: {:?} vs {total}", s.total[i]);
        }
        let s01 = s.second.iter().find(|(i, j, _)| (*i, *j) == (0, 1)).unwrap().2;
        assert!((s01.value - vi[0] * vi[1] / v).abs() < 0.03, "S01: {s01:?} vs {}", vi[0] * vi[1] / v);
    }

    #[test]
    fn the_design_follows_salib_row_order() {
        let x = design(2, 3, true, 1);
        assert_eq!(x.len(), 3 * rows_per_base(2, true));
        let (a, ab0, ab1, ba0, ba1, b) = (&x[0], &x[1], &x[2], &x[3], &x[4], &x[5]);
        assert_eq!((ab0[0], ab0[1]), (b[0], a[1]));
        assert_eq!((ab1[0], ab1[1]), (a[0], b[1]));
        assert_eq!((ba0[0], ba0[1]), (a[0], b[1]));
        assert_eq!((ba1[0], ba1[1]), (b[0], a[1]));
        assert!(x.iter().flatten().all(|u| (0.0..1.0).contains(u)));
        assert_eq!(design(2, 3, true, 1), x, "the same seed gives the same design");
    }
}

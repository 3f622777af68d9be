//! CMA-ES, the covariance matrix adaptation evolution strategy (Hansen 2016, "The CMA Evolution
//! Strategy: A Tutorial", arXiv:1604.00772; the (mu/mu_w, lambda) form with rank-one and rank-mu
//! updates and cumulative step-size adaptation, as in its `purecmaes` listing).
//!
//! Why here: a calibration loss is jagged (a finite sample of replications) and partly flat; CMA-ES
//! ranks candidates instead of trusting their differences, adapts its search distribution to the
//! loss's valleys, and needs no gradient. Written out rather than taken from a crate: of those on
//! crates.io, `fcmaes-core` brings older nalgebra and rand (second copies in every build), `cmaes`
//! draws plots with FreeType by default and `haru_cmaes` wants OpenBLAS (docs/notes.md); the method
//! is a page of linear algebra. Draws come from the caller's seeded stream,
//! and candidates are evaluated in order, so a calibration is reproducible.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The best point found and its value, and how many evaluations were made.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub evaluations: usize,
}

/// Minimises `f` from `start` with initial step `sigma` (in the units of `x`). `f` returns `None`
/// when it will evaluate no more (a spent budget): the search stops there. Stops too after
/// `max_evaluations`, or when the steps have shrunk below `tolerance` in every direction.
pub fn minimise(
    mut f: impl FnMut(&[f64]) -> Option<f64>,
    start: &[f64],
    sigma: f64,
    max_evaluations: usize,
    tolerance: f64,
    rng: &mut impl Rng,
) -> Minimum {
    let n = start.len();
    let nf = n as f64;
    // Strategy parameters (Hansen 2016, table 1).
    let lambda = 4 + (3.0 * nf.ln()).floor() as usize;
    let mu = lambda / 2;
    let raw: Vec<f64> = (1..=mu).map(|i| (mu as f64 + 0.5).ln() - (i as f64).ln()).collect();
    let total: f64 = raw.iter().sum();
    let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
    let mueff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
    let cc = (4.0 + mueff / nf) / (nf + 4.0 + 2.0 * mueff / nf);
    let cs = (mueff + 2.0) / (nf + mueff + 5.0);
    let c1 = 2.0 / ((nf + 1.3).powi(2) + mueff);
    let cmu = (1.0 - c1).min(2.0 * (mueff - 2.0 + 1.0 / mueff) / ((nf + 2.0).powi(2) + mueff));
    let damps = 1.0 + 2.0 * (((mueff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + cs;
    let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));

    let mut mean = DVector::from_column_slice(start);
    let mut sigma = sigma;
    let mut pc = DVector::<f64>::zeros(n);
    let mut ps = DVector::<f64>::zeros(n);
    let mut b = DMatrix::<f64>::identity(n, n);
    let mut d = DVector::<f64>::from_element(n, 1.0);
    let mut c = DMatrix::<f64>::identity(n, n);
    let mut inv_sqrt_c = DMatrix::<f64>::identity(n, n);
    let mut eigen_at = 0usize;
    let mut evaluations = 0usize;
    let mut best = Minimum { x: start.to_vec(), value: f64::INFINITY, evaluations: 0 };

    'generations: loop {
        // Sample and evaluate lambda candidates.
        let mut population: Vec<(f64, DVector<f64>)> = Vec::with_capacity(lambda);
        for _ in 0..lambda {
            if evaluations >= max_evaluations {
                break 'generations;
            }
            let z = DVector::<f64>::from_fn(n, |_, _| StandardNormal.sample(rng));
            let x = &mean + sigma * (&b * d.component_mul(&z));
            let Some(value) = f(x.as_slice()) else { break 'generations };
            evaluations += 1;
            if value < best.value {
                best.x = x.as_slice().to_vec();
                best.value = value;
            }
            population.push((value, x));
        }
        population.sort_by(|a, b| a.0.total_cmp(&b.0));

        // Move the mean to the weighted best mu.
        let old = mean.clone();
        mean = DVector::zeros(n);
        for (w, (_, x)) in weights.iter().zip(&population) {
            mean += *w * x;
        }
        let step = (&mean - &old) / sigma;

        // Evolution paths.
        ps = (1.0 - cs) * &ps + (cs * (2.0 - cs) * mueff).sqrt() * (&inv_sqrt_c * &step);
        let generations = evaluations as f64 / lambda as f64;
        let hsig = ps.norm() / (1.0 - (1.0 - cs).powf(2.0 * generations)).sqrt() / chi_n < 1.4 + 2.0 / (nf + 1.0);
        let h = if hsig { 1.0 } else { 0.0 };
        pc = (1.0 - cc) * &pc + h * (cc * (2.0 - cc) * mueff).sqrt() * &step;

        // Covariance: rank-one and rank-mu updates.
        let mut rank_mu = DMatrix::<f64>::zeros(n, n);
        for (w, (_, x)) in weights.iter().zip(&population) {
            let y = (x - &old) / sigma;
            rank_mu += *w * &y * y.transpose();
        }
        c = (1.0 - c1 - cmu) * &c + c1 * (&pc * pc.transpose() + (1.0 - h) * cc * (2.0 - cc) * &c) + cmu * rank_mu;

        // Step size.
        sigma *= ((cs / damps) * (ps.norm() / chi_n - 1.0)).exp();

        // Decompose C now and then (its cost is amortised over the generations).
        if (evaluations - eigen_at) as f64 > lambda as f64 / (c1 + cmu) / nf / 10.0 {
            eigen_at = evaluations;
            c = (&c + c.transpose()) * 0.5;
            let eigen = SymmetricEigen::new(c.clone());
            b = eigen.eigenvectors;
            d = eigen.eigenvalues.map(|v| v.max(1e-20).sqrt());
            inv_sqrt_c = &b * DMatrix::from_diagonal(&d.map(|v| 1.0 / v)) * b.transpose();
        }
        if sigma * d.max() < tolerance || !sigma.is_finite() {
            break;
        }
    }
    best.evaluations = evaluations;
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn rosenbrock(x: &[f64]) -> f64 {
        x.windows(2).map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2)).sum()
    }

    #[test]
    fn finds_the_minimum_of_a_shifted_ill_conditioned_ellipsoid() {
        let f = |x: &[f64]| -> Option<f64> {
            Some(x.iter().enumerate().map(|(i, v)| 10f64.powi(i as i32) * (v - 0.3).powi(2)).sum())
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let m = minimise(f, &[0.9, 0.9, 0.9, 0.9], 0.3, 4_000, 1e-9, &mut rng);
        assert!(m.value < 1e-10, "{m:?}");
        assert!(m.x.iter().all(|v| (v - 0.3).abs() < 1e-4), "{m:?}");
    }

    #[test]
    fn follows_rosenbrocks_valley_and_is_reproducible() {
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            minimise(|x| Some(rosenbrock(x)), &[-1.0, 1.5, 0.5], 0.5, 20_000, 1e-10, &mut rng)
        };
        let m = run(7);
        assert!(m.value < 1e-8, "{m:?}");
        assert!(m.x.iter().all(|v| (v - 1.0).abs() < 1e-3), "{m:?}");
        assert_eq!(m, run(7));
    }

    #[test]
    fn stops_when_the_objective_refuses_and_keeps_the_best() {
        let mut calls = 0;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let m = minimise(
            |x| {
                calls += 1;
                (calls <= 25).then(|| x.iter().map(|v| v * v).sum())
            },
            &[1.0, -1.0],
            0.5,
            1_000,
            1e-12,
            &mut rng,
        );
        assert_eq!(m.evaluations, 25);
        assert!(m.value < 2.0);
    }

    #[test]
    fn a_noisy_objective_still_drifts_to_its_minimum() {
        // Noise of sd 0.05 on a bowl of depth 1: ranks are noisy, the mean still converges near 0.6.
        let mut noise = ChaCha8Rng::seed_from_u64(11);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let m = minimise(
            |x| {
                let e: f64 = StandardNormal.sample(&mut noise);
                Some(x.iter().map(|v| (v - 0.6).powi(2)).sum::<f64>() + 0.05 * e)
            },
            &[0.1, 0.1],
            0.3,
            600,
            1e-6,
            &mut rng,
        );
        assert!(m.x.iter().all(|v| (v - 0.6).abs() < 0.2), "{m:?}");
    }
}

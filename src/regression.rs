//! Ordinary least squares with robust standard errors: heteroskedasticity-robust (HC1), as in the
//! survey study's regressions, or clustered by a group (CR1, e.g. the firm, whose repeated responses
//! are not independent). Linear algebra by nalgebra (Cholesky of X'X); p-values from Student's t.
//! Both are checked against statsmodels (`tests/regression.rs`).

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A fitted regression: one entry per regressor, in the order given (intercept first).
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub names: Vec<String>,
    pub coef: Vec<f64>,
    /// Robust standard errors (HC1, or clustered: see [`StandardErrors`]).
    pub se: Vec<f64>,
    pub t: Vec<f64>,
    pub p: Vec<f64>,
    pub r2: f64,
    pub n: usize,
}

impl Fit {
    /// (coefficient, se, t, p) of a regressor, if it was estimable.
    pub fn get(&self, name: &str) -> Option<(f64, f64, f64, f64)> {
        let i = self.names.iter().position(|n| n == name)?;
        Some((self.coef[i], self.se[i], self.t[i], self.p[i]))
    }
}

/// Which standard errors a fit reports.
#[derive(Debug, Clone, Copy)]
pub enum StandardErrors<'a> {
    /// `(X'X)^-1 [sum e_i^2 x_i x_i'] (X'X)^-1 x n/(n-k)`; Student's t with n - k d.f.
    Hc1,
    /// Clustered by the group of each observation (CR1, statsmodels' `cov_type="cluster"`):
    /// `(X'X)^-1 [sum_g (X_g'e_g)(X_g'e_g)'] (X'X)^-1 x G/(G-1) x (n-1)/(n-k)`; Student's t with
    /// G - 1 d.f. `None` from the fit when there are fewer than two groups.
    Clustered(&'a [u32]),
}

/// [`ols`] with HC1 standard errors.
pub fn ols_hc1(y: &[f64], columns: &[(String, Vec<f64>)]) -> Option<Fit> {
    ols(y, columns, StandardErrors::Hc1)
}

/// Fits y on the columns of `x` plus an intercept. Columns without variation are dropped (they
/// cannot be estimated, e.g. a year dummy absent from a subsample); `None` if the sample is too
/// small or X'X is singular.
pub fn ols(y: &[f64], columns: &[(String, Vec<f64>)], errors: StandardErrors) -> Option<Fit> {
    let n = y.len();
    let kept: Vec<&(String, Vec<f64>)> =
        columns.iter().filter(|(_, c)| c.len() == n && c.iter().any(|v| (v - c[0]).abs() > 1e-12)).collect();
    let k = kept.len() + 1;
    if n <= k {
        return None;
    }
    let x = DMatrix::from_fn(n, k, |i, j| if j == 0 { 1.0 } else { kept[j - 1].1[i] });
    let yv = DVector::from_column_slice(y);
    let xtx = x.transpose() * &x;
    let inv = xtx.cholesky()?.inverse();
    let beta = &inv * (x.transpose() * &yv);
    let resid = &yv - &x * &beta;
    let mut meat = DMatrix::<f64>::zeros(k, k);
    let (scale, df) = match errors {
        StandardErrors::Hc1 => {
            for i in 0..n {
                let row = x.row(i);
                meat += resid[i] * resid[i] * (row.transpose() * row);
            }
            (n as f64 / (n - k) as f64, (n - k) as f64)
        }
        StandardErrors::Clustered(groups) => {
            if groups.len() != n {
                return None;
            }
            // Score sums per group, groups in order of their ids (no hash map: a fixed order).
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| groups[i]);
            let mut g_count = 0usize;
            let mut start = 0;
            while start < n {
                let mut end = start;
                let mut score = DVector::<f64>::zeros(k);
                while end < n && groups[order[end]] == groups[order[start]] {
                    let i = order[end];
                    score += x.row(i).transpose() * resid[i];
                    end += 1;
                }
                meat += &score * score.transpose();
                g_count += 1;
                start = end;
            }
            if g_count < 2 {
                return None;
            }
            let g = g_count as f64;
            (g / (g - 1.0) * (n - 1) as f64 / (n - k) as f64, g - 1.0)
        }
    };
    let cov = (&inv * meat * &inv) * scale;
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let mean_y = y.iter().sum::<f64>() / n as f64;
    let sst: f64 = y.iter().map(|v| (v - mean_y).powi(2)).sum();
    let ssr: f64 = resid.iter().map(|e| e * e).sum();
    let mut fit =
        Fit { names: vec!["const".into()], coef: vec![], se: vec![], t: vec![], p: vec![], r2: 1.0 - ssr / sst, n };
    fit.names.extend(kept.iter().map(|(name, _)| name.clone()));
    for j in 0..k {
        let se = cov[(j, j)].max(0.0).sqrt();
        let t = beta[j] / se;
        fit.coef.push(beta[j]);
        fit.se.push(se);
        fit.t.push(t);
        fit.p.push(2.0 * (1.0 - dist.cdf(t.abs())));
    }
    Some(fit)
}

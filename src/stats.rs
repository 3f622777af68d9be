//! Streaming statistics for aggregating replications: memory per cell is fixed, whatever the number
//! of replications. Mean and standard deviation are exact (Welford); quantiles use the P-squared
//! algorithm (Jain & Chlamtac 1985), exact up to five observations and an estimate beyond. Both
//! depend on the order of observations, so callers feed them in a fixed order (replication index).

/// Quantiles reported for every cell.
pub const QUANTILES: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

/// Running mean and variance (Welford).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }
    pub fn mean(&self) -> f64 {
        self.mean
    }
    /// Sample standard deviation (n - 1); 0 with fewer than two observations.
    pub fn sd(&self) -> f64 {
        if self.n < 2 { 0.0 } else { (self.m2 / (self.n - 1) as f64).sqrt() }
    }
    /// Mean and 95 % confidence interval (Student t with n - 1 degrees of freedom).
    pub fn ci95(&self) -> (f64, f64, f64) {
        if self.n < 2 {
            return (self.mean, self.mean, self.mean);
        }
        let half = t_quantile_975(self.n - 1) * self.sd() / (self.n as f64).sqrt();
        (self.mean, self.mean - half, self.mean + half)
    }
}

/// Running means, variances and covariance of paired observations (x, y) (Welford's update for two
/// variables): an effect and the extra public money that bought it, replication by replication.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Paired {
    pub n: u64,
    mean_x: f64,
    mean_y: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl Paired {
    pub fn push(&mut self, x: f64, y: f64) {
        self.n += 1;
        let n = self.n as f64;
        let (dx, dy) = (x - self.mean_x, y - self.mean_y);
        self.mean_x += dx / n;
        self.mean_y += dy / n;
        self.sxx += dx * (x - self.mean_x);
        self.syy += dy * (y - self.mean_y);
        self.sxy += dx * (y - self.mean_y);
    }

    /// Mean of x and its 95 % interval (Student t, n - 1 degrees of freedom).
    pub fn x_ci95(&self) -> (f64, f64, f64) {
        Self::mean_ci95(self.mean_x, self.sxx, self.n)
    }

    /// Mean of y and its 95 % interval.
    pub fn y_ci95(&self) -> (f64, f64, f64) {
        Self::mean_ci95(self.mean_y, self.syy, self.n)
    }

    fn mean_ci95(mean: f64, ss: f64, n: u64) -> (f64, f64, f64) {
        if n < 2 {
            return (mean, mean, mean);
        }
        let half = t_quantile_975(n - 1) * (ss / (n - 1) as f64 / n as f64).sqrt();
        (mean, mean - half, mean + half)
    }

    /// The ratio of the means, x̄ / ȳ, with Fieller's 95 % interval (Fieller 1954; the paired form,
    /// using the covariance of x and y): the set of ratios R for which x̄ - R ȳ is not significantly
    /// different from zero. `None` when ȳ is not itself clearly different from zero: the interval is
    /// then unbounded and the ratio means nothing.
    pub fn ratio_fieller(&self) -> Option<(f64, f64, f64)> {
        if self.n < 2 || self.mean_y == 0.0 {
            return None;
        }
        let n = self.n as f64;
        let t2 = t_quantile_975(self.n - 1).powi(2);
        let (vxx, vyy, vxy) = (self.sxx / (n - 1.0) / n, self.syy / (n - 1.0) / n, self.sxy / (n - 1.0) / n);
        let (mx, my) = (self.mean_x, self.mean_y);
        // (my^2 - t2 vyy) R^2 - 2 (mx my - t2 vxy) R + (mx^2 - t2 vxx) <= 0
        let a = my * my - t2 * vyy;
        let b = mx * my - t2 * vxy;
        let c = mx * mx - t2 * vxx;
        let disc = b * b - a * c;
        if a <= 0.0 || disc < 0.0 {
            return None;
        }
        let root = disc.sqrt();
        Some((mx / my, (b - root) / a, (b + root) / a))
    }
}

/// P-squared estimator of one quantile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct P2 {
    p: f64,
    count: u64,
    /// Marker heights; the first `count` (< 5) hold the raw observations before initialisation.
    q: [f64; 5],
    /// Actual marker positions (1-based, as in the paper).
    n: [f64; 5],
    /// Desired marker positions.
    np: [f64; 5],
}

impl P2 {
    pub fn new(p: f64) -> Self {
        P2 {
            p,
            count: 0,
            q: [0.0; 5],
            n: [1.0, 2.0, 3.0, 4.0, 5.0],
            np: [1.0, 1.0 + 2.0 * p, 1.0 + 4.0 * p, 3.0 + 2.0 * p, 5.0],
        }
    }

    pub fn push(&mut self, x: f64) {
        if self.count < 5 {
            self.q[self.count as usize] = x;
            self.count += 1;
            if self.count == 5 {
                self.q.sort_by(f64::total_cmp);
            }
            return;
        }
        self.count += 1;
        let k = if x < self.q[0] {
            self.q[0] = x;
            0
        } else if x >= self.q[4] {
            self.q[4] = x;
            3
        } else {
            (0..4).find(|&i| self.q[i] <= x && x < self.q[i + 1]).unwrap_or(3)
        };
        for i in k + 1..5 {
            self.n[i] += 1.0;
        }
        let dn = [0.0, self.p / 2.0, self.p, (1.0 + self.p) / 2.0, 1.0];
        for (np, d) in self.np.iter_mut().zip(dn) {
            *np += d;
        }
        for i in 1..4 {
            let d = self.np[i] - self.n[i];
            if (d >= 1.0 && self.n[i + 1] - self.n[i] > 1.0) || (d <= -1.0 && self.n[i - 1] - self.n[i] < -1.0) {
                let d = d.signum();
                let candidate = self.parabolic(i, d);
                self.q[i] =
                    if self.q[i - 1] < candidate && candidate < self.q[i + 1] { candidate } else { self.linear(i, d) };
                self.n[i] += d;
            }
        }
    }

    fn parabolic(&self, i: usize, d: f64) -> f64 {
        let (q, n) = (&self.q, &self.n);
        q[i] + d / (n[i + 1] - n[i - 1])
            * ((n[i] - n[i - 1] + d) * (q[i + 1] - q[i]) / (n[i + 1] - n[i])
                + (n[i + 1] - n[i] - d) * (q[i] - q[i - 1]) / (n[i] - n[i - 1]))
    }

    fn linear(&self, i: usize, d: f64) -> f64 {
        let j = if d > 0.0 { i + 1 } else { i - 1 };
        self.q[i] + d * (self.q[j] - self.q[i]) / (self.n[j] - self.n[i])
    }

    /// The estimate: exact (linear interpolation between order statistics) below five observations.
    pub fn value(&self) -> f64 {
        match self.count {
            0 => f64::NAN,
            c if c < 5 => {
                let mut v = self.q[..c as usize].to_vec();
                v.sort_by(f64::total_cmp);
                exact_quantile(&v, self.p)
            }
            _ => self.q[2],
        }
    }
}

/// Quantile of sorted data with linear interpolation (R's type 7).
pub fn exact_quantile(sorted: &[f64], p: f64) -> f64 {
    crate::sensitivity::quantile_sorted(sorted, p)
}

/// Everything kept for one aggregated cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub moments: Moments,
    pub quantiles: [P2; 5],
}

impl Default for Cell {
    fn default() -> Self {
        Cell { moments: Moments::default(), quantiles: QUANTILES.map(P2::new) }
    }
}

impl Cell {
    pub fn push(&mut self, x: f64) {
        self.moments.push(x);
        for q in &mut self.quantiles {
            q.push(x);
        }
    }
}

/// Two-sided 95 % quantile of Student's t with `df` degrees of freedom (Hill 1970, algorithm 396;
/// accurate to about 1e-4 for df >= 1).
pub fn t_quantile_975(df: u64) -> f64 {
    const Z: f64 = 1.959_963_984_540_054;
    if df == 0 {
        return f64::INFINITY;
    }
    if df == 1 {
        return 12.706_204_736_174_7;
    }
    if df == 2 {
        return 4.302_652_729_749_464;
    }
    let n = df as f64;
    let a = 1.0 / (n - 0.5);
    let b = 48.0 / (a * a);
    let mut c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36;
    let d = ((94.5 / (b + c) - 3.0) / b + 1.0) * (a * std::f64::consts::PI / 2.0).sqrt() * n;
    // Two-sided probability 0.05.
    let p = 0.05;
    let mut x = d * p;
    let mut y = x.powf(2.0 / n);
    if y > 0.05 + a {
        x = Z;
        y = x * x;
        if n < 5.0 {
            c += 0.3 * (n - 4.5) * (x + 0.6);
        }
        c += (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b;
        y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x;
        y = a * y * y;
        y = if y > 0.002 { y.exp() - 1.0 } else { 0.5 * y * y + y };
    } else {
        y = ((1.0 / (((n + 6.0) / (n * y) - 0.089 * d - 0.822) * (n + 2.0) * 3.0) + 0.5 / (n + 4.0)) * y - 1.0)
            * (n + 1.0)
            / (n + 2.0)
            + 1.0 / y;
    }
    (n * y).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fieller's interval against a direct computation, and the cases where it is unbounded.
    #[test]
    fn fieller_ratio_interval() {
        // x = 2 y + noise: the ratio is near 2 and its interval covers 2.
        let mut p = Paired::default();
        let noise = [0.3, -0.2, 0.1, -0.4, 0.25, -0.05, 0.15, -0.1, 0.0, 0.05];
        for (i, e) in noise.iter().enumerate() {
            let y = 10.0 + i as f64;
            p.push(2.0 * y + e, y);
        }
        let (r, lo, hi) = p.ratio_fieller().unwrap();
        assert!((r - 2.0).abs() < 0.01 && lo < 2.0 && 2.0 < hi && hi - lo < 0.1, "{r} [{lo}, {hi}]");
        // Direct: the bounds solve (mx - R my)^2 = t^2 (vxx - 2 R vxy + R^2 vyy).
        let xs: Vec<f64> = noise.iter().enumerate().map(|(i, e)| 2.0 * (10.0 + i as f64) + e).collect();
        let ys: Vec<f64> = (0..10).map(|i| 10.0 + i as f64).collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mx, my) = (mean(&xs), mean(&ys));
        let cov = |a: &[f64], ma: f64, b: &[f64], mb: f64| {
            a.iter().zip(b).map(|(u, v)| (u - ma) * (v - mb)).sum::<f64>() / 9.0 / 10.0
        };
        let t2 = t_quantile_975(9).powi(2);
        for bound in [lo, hi] {
            let lhs = (mx - bound * my).powi(2);
            let rhs = t2
                * (cov(&xs, mx, &xs, mx) - 2.0 * bound * cov(&xs, mx, &ys, my) + bound * bound * cov(&ys, my, &ys, my));
            assert!((lhs - rhs).abs() < 1e-9 * lhs.max(1.0), "{lhs} vs {rhs}");
        }
        // A denominator that is not clearly away from zero has no bounded interval.
        let mut flat = Paired::default();
        for (i, y) in [1.0, -1.0, 0.5, -0.5, 0.2].iter().enumerate() {
            flat.push(i as f64, *y);
        }
        assert!(flat.ratio_fieller().is_none());
        let mut zero = Paired::default();
        for i in 0..5 {
            zero.push(i as f64, 0.0);
        }
        assert!(zero.ratio_fieller().is_none());
    }

    #[test]
    fn t_quantiles_match_tables() {
        for (df, t) in [
            (1, 12.7062),
            (2, 4.3027),
            (3, 3.1824),
            (5, 2.5706),
            (9, 2.2622),
            (29, 2.0452),
            (100, 1.9840),
            (1000, 1.9623),
        ] {
            assert!((t_quantile_975(df) - t).abs() < 2e-3, "df {df}: {} vs {t}", t_quantile_975(df));
        }
    }

    #[test]
    fn moments_match_two_pass_formulas() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let mut m = Moments::default();
        xs.iter().for_each(|x| m.push(*x));
        assert!((m.mean() - 5.0).abs() < 1e-12);
        assert!((m.sd() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn p2_is_exact_below_five_and_close_beyond() {
        let mut q = P2::new(0.5);
        for x in [3.0, 1.0, 2.0] {
            q.push(x);
        }
        assert_eq!(q.value(), 2.0);
        // A long uniform sequence in a scrambled but fixed order.
        let mut qs = QUANTILES.map(P2::new);
        for i in 0..10_000u64 {
            let x = ((i * 7919) % 10_000) as f64 / 10_000.0;
            qs.iter_mut().for_each(|q| q.push(x));
        }
        for (q, p) in qs.iter().zip(QUANTILES) {
            assert!((q.value() - p).abs() < 0.01, "quantile {p}: {}", q.value());
        }
    }

    #[test]
    fn exact_quantile_interpolates() {
        assert_eq!(exact_quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(exact_quantile(&[1.0, 2.0, 3.0, 4.0], 0.0), 1.0);
        assert_eq!(exact_quantile(&[1.0, 2.0, 3.0, 4.0], 1.0), 4.0);
    }
}

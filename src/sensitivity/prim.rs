//! PRIM, the patient rule induction method (Friedman & Fisher 1999), for scenario discovery (Bryant &
//! Lempert 2010; as in the EMA Workbench): the box of uncertain inputs in which the cases of interest
//! (e.g. "the policy adds fewer than 5 firms") concentrate.
//!
//! Peeling: from the box holding every point, repeatedly cut the `alpha` share of the points inside
//! off one end of one input, choosing the cut that leaves the highest density (share of cases among the
//! points inside), until fewer than `min_mass` of all points are inside. Every box on the way is kept:
//! the trajectory trades coverage (share of all cases inside) for density. The box chosen by default
//! maximises their harmonic mean; pasting then widens it again, one input end at a time by the `alpha`
//! share, while the density does not fall. Each restricted input gets a quasi-p-value: the one-sided
//! binomial probability of at least the box's cases among its points if the density were that of the
//! box without this restriction (Bryant & Lempert 2010).

use statrs::distribution::{Binomial, DiscreteCDF};

/// A box: per input, the inclusive range it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct PrimBox {
    pub limits: Vec<(f64, f64)>,
    /// Share of all cases inside.
    pub coverage: f64,
    /// Share of the points inside that are cases.
    pub density: f64,
    /// Share of all points inside.
    pub mass: f64,
}

/// The peeling trajectory, the chosen (pasted) box, its restricted inputs and their quasi-p-values.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    pub trajectory: Vec<PrimBox>,
    /// Index into `trajectory` of the box that was pasted into `chosen`.
    pub peeled: usize,
    pub chosen: PrimBox,
    /// (input, quasi-p-value) of every input the chosen box restricts.
    pub restricted: Vec<(usize, f64)>,
}

fn inside(x: &[f64], limits: &[(f64, f64)]) -> bool {
    x.iter().zip(limits).all(|(v, (lo, hi))| lo <= v && v <= hi)
}

fn measure(x: &[Vec<f64>], y: &[bool], limits: Vec<(f64, f64)>) -> PrimBox {
    let cases = y.iter().filter(|c| **c).count().max(1) as f64;
    let (mut n, mut k) = (0usize, 0usize);
    for (p, c) in x.iter().zip(y) {
        if inside(p, &limits) {
            n += 1;
            k += usize::from(*c);
        }
    }
    PrimBox {
        limits,
        coverage: k as f64 / cases,
        density: if n > 0 { k as f64 / n as f64 } else { 0.0 },
        mass: n as f64 / x.len().max(1) as f64,
    }
}

/// The value below which (`low`) or above which a share `alpha` of `values` lies.
fn cut(values: &mut [f64], alpha: f64, low: bool) -> f64 {
    super::percentile(values, if low { alpha } else { 1.0 - alpha })
}

/// Runs PRIM on points `x` (rows of inputs) with `y` marking the cases of interest.
pub fn discover(x: &[Vec<f64>], y: &[bool], alpha: f64, min_mass: f64) -> Discovery {
    let k = x.first().map_or(0, Vec::len);
    let full: Vec<(f64, f64)> = (0..k)
        .map(|d| x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p[d]), hi.max(p[d]))))
        .collect();
    let mut current = measure(x, y, full.clone());
    let mut trajectory = vec![current.clone()];
    loop {
        let members: Vec<&Vec<f64>> = x.iter().filter(|p| inside(p, &current.limits)).collect();
        let mut best: Option<PrimBox> = None;
        for d in 0..k {
            let mut values: Vec<f64> = members.iter().map(|p| p[d]).collect();
            for low in [true, false] {
                let edge = cut(&mut values, alpha, low);
                let mut limits = current.limits.clone();
                // Strictly beyond the quantile is kept, so at least one point goes.
                let nudge = |v: f64| if low { v.next_up() } else { v.next_down() };
                if low {
                    limits[d].0 = nudge(edge.max(limits[d].0))
                } else {
                    limits[d].1 = nudge(edge.min(limits[d].1))
                }
                let candidate = measure(x, y, limits);
                if candidate.mass < min_mass || candidate.mass >= current.mass {
                    continue;
                }
                if best.as_ref().is_none_or(|b| (candidate.density, candidate.mass) > (b.density, b.mass)) {
                    best = Some(candidate);
                }
            }
        }
        let Some(next) = best else { break };
        trajectory.push(next.clone());
        current = next;
    }
    let f1 = |b: &PrimBox| {
        if b.coverage + b.density > 0.0 { 2.0 * b.coverage * b.density / (b.coverage + b.density) } else { 0.0 }
    };
    let peeled =
        (0..trajectory.len()).fold(0, |best, i| if f1(&trajectory[i]) > f1(&trajectory[best]) { i } else { best });
    let chosen = snap(x, y, paste(x, y, trajectory[peeled].clone(), &full, alpha), &full);
    let restricted = (0..k)
        .filter(|&d| chosen.limits[d].0 > full[d].0 || chosen.limits[d].1 < full[d].1)
        .map(|d| (d, quasi_p(x, y, &chosen, &full, d)))
        .collect();
    Discovery { trajectory, peeled, chosen, restricted }
}

/// Widens `b` one input end at a time (by the `alpha` share of its points) while the density does not
/// fall, the widening that keeps the highest density first.
fn paste(x: &[Vec<f64>], y: &[bool], mut b: PrimBox, full: &[(f64, f64)], alpha: f64) -> PrimBox {
    let n_total = x.len() as f64;
    loop {
        let step = ((alpha * b.mass * n_total).ceil() as usize).max(1);
        let mut best: Option<PrimBox> = None;
        for d in 0..b.limits.len() {
            for low in [true, false] {
                // Points outside only along input d, on this side, nearest first.
                let mut others: Vec<f64> = x
                    .iter()
                    .filter(|p| {
                        (0..p.len()).all(|e| e == d || (b.limits[e].0 <= p[e] && p[e] <= b.limits[e].1))
                            && if low { p[d] < b.limits[d].0 } else { p[d] > b.limits[d].1 }
                    })
                    .map(|p| p[d])
                    .collect();
                if others.is_empty() {
                    continue;
                }
                others.sort_by(f64::total_cmp);
                let mut limits = b.limits.clone();
                if low {
                    limits[d].0 = others[others.len().saturating_sub(step)].max(full[d].0);
                } else {
                    limits[d].1 = others[(step - 1).min(others.len() - 1)].min(full[d].1);
                }
                let candidate = measure(x, y, limits);
                if candidate.density >= b.density
                    && best.as_ref().is_none_or(|o| (candidate.density, candidate.mass) > (o.density, o.mass))
                {
                    best = Some(candidate);
                }
            }
        }
        match best {
            Some(next) if next.mass > b.mass => b = next,
            _ => return b,
        }
    }
}

/// The box with each restricted limit moved onto the most extreme value inside it (the same points),
/// so it reads in the data's own values (`candidates >= 3`, not `>= 2.0000001`); unrestricted inputs
/// keep their full range.
fn snap(x: &[Vec<f64>], y: &[bool], b: PrimBox, full: &[(f64, f64)]) -> PrimBox {
    let members: Vec<&Vec<f64>> = x.iter().filter(|p| inside(p, &b.limits)).collect();
    if members.is_empty() {
        return b;
    }
    let limits = (0..b.limits.len())
        .map(|d| {
            let (lo, hi) =
                members.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p[d]), hi.max(p[d])));
            (
                if b.limits[d].0 > full[d].0 { lo } else { full[d].0 },
                if b.limits[d].1 < full[d].1 { hi } else { full[d].1 },
            )
        })
        .collect();
    measure(x, y, limits)
}

/// One-sided binomial probability of at least the box's cases among its points, at the density of the
/// box with input `d`'s restriction lifted.
fn quasi_p(x: &[Vec<f64>], y: &[bool], b: &PrimBox, full: &[(f64, f64)], d: usize) -> f64 {
    let mut lifted = b.limits.clone();
    lifted[d] = full[d];
    let wider = measure(x, y, lifted);
    let n = x.iter().filter(|p| inside(p, &b.limits)).count() as u64;
    let cases = x.iter().zip(y).filter(|(p, c)| **c && inside(p, &b.limits)).count() as u64;
    match Binomial::new(wider.density.clamp(0.0, 1.0), n) {
        Ok(binomial) if cases > 0 => 1.0 - binomial.cdf(cases - 1),
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Cases where x0 < 0.3 and x1 > 0.6, x2 irrelevant, 2,000 uniform points: PRIM finds that box
    /// with coverage and density >= 0.9, restricts x0 and x1 only, and both are significant.
    #[test]
    fn prim_recovers_a_known_box() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let x: Vec<Vec<f64>> = (0..2000).map(|_| (0..3).map(|_| rng.random::<f64>()).collect()).collect();
        let y: Vec<bool> = x.iter().map(|p| p[0] < 0.3 && p[1] > 0.6).collect();
        let found = discover(&x, &y, 0.05, 0.05);
        let b = &found.chosen;
        eprintln!("PRIM: {b:?}, restricted {:?}, {} boxes peeled", found.restricted, found.trajectory.len());
        assert!(b.coverage >= 0.9 && b.density >= 0.9, "{b:?}");
        assert_eq!(found.restricted.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1], "{found:?}");
        assert!((b.limits[0].1 - 0.3).abs() < 0.05 && (b.limits[1].0 - 0.6).abs() < 0.05, "{b:?}");
        assert!(found.restricted.iter().all(|(_, p)| *p < 1e-6), "{:?}", found.restricted);
        // The trajectory starts with every point and trades coverage for density.
        assert_eq!(found.trajectory[0].mass, 1.0);
        assert!(found.trajectory.windows(2).all(|w| w[1].mass < w[0].mass));
    }
}

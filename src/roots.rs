//! `x.powf(0.25)` without the library `pow` in nearly every case, bit for bit the same double.
//!
//! The market limits (`revenue::saturate`) and the staff plan's service business take fourth roots
//! several times per firm-month: about half of all `pow` calls, and `pow` was a tenth of a run. A
//! fourth root is two square roots (hardware, correctly rounded), but their double rounding can miss
//! the right double by one, and outputs must stay byte-identical. So the candidate is checked: the
//! residual `x - y^4`, computed exactly enough in double-double arithmetic, gives the distance from
//! the true root to `y` in units in the last place; the nearest double to the true root is returned
//! only when that distance leaves no doubt about what `pow` returns. glibc's `pow` is within 0.54 ULP
//! of the true value (its source: "Worst-case error: 0.54 ULP"); a double within 0.44 ULP of the
//! true root, away from the edges of its binade, is then the only double `pow` can return. Anything
//! else (about one case in seven, and values out of the checked range) goes to `powf` itself.
//!
//! Bottom of the import order: no crate imports.

/// `x.powf(0.25)`, the same double, mostly without calling `pow`.
#[inline]
pub fn fourth_root(x: f64) -> f64 {
    checked_fourth_root(x).unwrap_or_else(|| x.powf(0.25))
}

/// 2^-800 and 2^800: the range checked (see below).
const LOWEST: f64 = f64::from_bits((1023 - 800) << 52);
const HIGHEST: f64 = f64::from_bits((1023 + 800) << 52);

/// The nearest double to the fourth root of `x` when it is certainly what `pow` returns.
#[inline]
fn checked_fourth_root(x: f64) -> Option<f64> {
    // In this range no step below overflows or loses the exactness of its products to underflow.
    if !(LOWEST..=HIGHEST).contains(&x) {
        return None;
    }
    let y = x.sqrt().sqrt();
    // x - y^4: y^2 = p + pl and p^2 = q + ql exactly, so y^4 = q + ql + 2 p pl + pl^2. q is within a
    // few ULP of x, so x - q is exact (Sterbenz); the small terms carry errors near 2^-105 x.
    let (p, pl) = two_product(y, y);
    let (q, ql) = two_product(p, p);
    let residual = (x - q) - (ql + 2.0 * p * pl + pl * pl);
    // The true root t = y + residual / (4 y^3) to first order (relative error ~2^-51, negligible
    // here), in ULP of y.
    let exponent = y.to_bits() >> 52;
    let ulp = f64::from_bits((exponent - 52) << 52);
    let offset = residual / (4.0 * y * y * y * ulp);
    if offset.abs() >= 2.5 {
        return None;
    }
    // The nearest whole number of steps (a truncation: `round` is a library call on baseline x86-64).
    let steps = (offset + 2.5) as i64 - 2;
    if (offset - steps as f64).abs() > 0.44 {
        return None;
    }
    let z = f64::from_bits(y.to_bits().wrapping_add_signed(steps));
    // z must stay in y's binade (where one ULP is `ulp`) and not be its lowest double (a power of
    // two, whose lower neighbour is only half an ULP away).
    (z.to_bits() >> 52 == exponent && z.to_bits() & ((1 << 52) - 1) != 0).then_some(z)
}

/// `a x b = product + error` exactly (Dekker; baseline x86-64 has no fused multiply-add).
#[inline]
fn two_product(a: f64, b: f64) -> (f64, f64) {
    let product = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (product, ((ah * bh - product) + ah * bl + al * bh) + al * bl)
}

/// `a = high + low` with each half holding at most 26 significant bits (Veltkamp).
#[inline]
fn split(a: f64) -> (f64, f64) {
    let t = 134_217_729.0 * a; // 2^27 + 1
    let high = t - (t - a);
    (high, a - high)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Bit for bit `powf(0.25)` over many magnitudes and every kind of edge, and the fast path taken
    /// most of the time (else it would save nothing).
    #[test]
    fn fourth_roots_are_bit_identical_to_pow() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut values: Vec<f64> = vec![
            0.0,
            -0.0,
            1.0,
            16.0,
            0.0625,
            2.0,
            0.5,
            1.0 + f64::EPSILON,
            1.0 - f64::EPSILON / 2.0,
            LOWEST,
            HIGHEST,
            LOWEST.next_up(),
            HIGHEST.next_down(),
            LOWEST / 2.0,
            HIGHEST * 2.0,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            -1.0,
            -16.0,
        ];
        // Powers of two and their neighbours (roots at binade edges), exact fourth powers and their
        // neighbours.
        for e in -820..820 {
            let v = 2f64.powi(e);
            values.extend([v, v.next_up(), v.next_down()]);
        }
        for i in 1..2000u32 {
            let r = f64::from(i) * 0.37;
            let v = r * r * r * r;
            values.extend([v, v.next_up(), v.next_down()]);
        }
        // Random doubles: uniform bits over the whole checked range, and the values the model
        // feeds it (1 + s^4 near one; ratios^0.8 - 1 near zero).
        for _ in 0..400_000 {
            values.push(f64::from_bits(rng.random_range(0x0100_0000_0000_0000u64..0x7000_0000_0000_0000)));
            let s: f64 = rng.random_range(0.0..3.0);
            values.push(1.0 + s * s * s * s);
            values.push(rng.random_range(1.0f64..20.0).powf(0.8) - 1.0);
        }
        let mut fast = 0usize;
        for &v in &values {
            let expected = v.powf(0.25);
            let got = fourth_root(v);
            assert!(
                got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
                "fourth_root({v:e}) = {got:e}, pow gives {expected:e}"
            );
            fast += usize::from(checked_fourth_root(v).is_some());
        }
        assert!(fast > values.len() * 3 / 4, "fast path taken {fast} of {} times", values.len());
    }
}

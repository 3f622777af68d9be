//! Seeded random streams, one per mechanism, derived from (scenario seed, replication, mechanism).
//!
//! A mechanism draws only from its own stream, so adding draws to one mechanism cannot shift the
//! draws of another, and two scenarios that differ in one lever share their other draws (common
//! random numbers). The derivation is fixed here (FNV-1a over the name, SplitMix64 mixing) and
//! never uses std's hasher, whose output may change between Rust releases.

use bevy_ecs::prelude::Resource;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Poisson};

/// The seed of one mechanism's stream.
pub fn stream_seed(scenario_seed: u64, replication: u64, stream: &str) -> u64 {
    let mut name_hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in stream.bytes() {
        name_hash ^= u64::from(byte);
        name_hash = name_hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut s = splitmix64(scenario_seed);
    s = splitmix64(s ^ replication.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    splitmix64(s ^ name_hash)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Draw helpers shared by every stream.
pub trait Draws {
    fn rng(&mut self) -> &mut ChaCha8Rng;

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        self.rng().random::<f64>()
    }
    /// True with probability `p` (clamped to [0, 1]).
    fn chance(&mut self, p: f64) -> bool {
        let p = if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.0 };
        self.uniform() < p
    }
    /// Uniform index in `0..n` (`n > 0`).
    fn index(&mut self, n: usize) -> usize {
        self.rng().random_range(0..n)
    }
    /// Log-normal with the given median and log-scale sigma.
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        if sigma <= 0.0 {
            return median;
        }
        LogNormal::new(median.ln(), sigma).map_or(median, |d| d.sample(self.rng()))
    }
    /// Poisson count with mean `lambda`.
    ///
    /// Below a mean of 12 this is rand_distr's own method, draw for draw (multiply uniforms until
    /// the product falls to e^-lambda; the count is how many it took, less one), so the counts are
    /// rand_distr's. Most calls are spin-out chances with a small mean, which the first uniform
    /// settles: when it is below 1 - lambda (less two ULP) it is below the library's e^-lambda too
    /// (e^-x > 1 - x, and `exp` errs by under one ULP), and e^-lambda need not be computed.
    fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda <= 0.0 || !lambda.is_finite() {
            return 0;
        }
        if lambda >= 12.0 {
            return Poisson::new(lambda).map_or(0, |d| d.sample(self.rng()) as u32);
        }
        let rng = self.rng();
        let first = rng.random::<f64>();
        if first <= (1.0 - lambda) - 2.0 * f64::EPSILON {
            return 0;
        }
        let limit = (-lambda).exp();
        let mut product = first;
        let mut count = 0;
        while product > limit {
            product *= rng.random::<f64>();
            count += 1;
        }
        count
    }
    /// Gamma-distributed duration with the given mean and shape (shape 1 = exponential).
    fn duration(&mut self, mean: f64, shape: f64) -> f64 {
        Gamma::new(shape, mean / shape).map_or(mean, |d| d.sample(self.rng()))
    }
    /// Index drawn with probability proportional to `weights` (all >= 0); `None` if all are zero.
    fn weighted(&mut self, weights: &[f64]) -> Option<usize> {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return None;
        }
        let mut target = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if target < *w {
                return Some(i);
            }
            target -= w;
        }
        weights.iter().rposition(|w| *w > 0.0)
    }
}

macro_rules! rng_streams {
    ($($(#[$doc:meta])* $name:ident => $label:literal),+ $(,)?) => {
        $(
            $(#[$doc])*
            #[derive(Resource)]
            pub struct $name(pub ChaCha8Rng);
            impl $name {
                pub const STREAM: &'static str = $label;
                pub fn new(seed: u64, replication: u64) -> Self {
                    Self(ChaCha8Rng::seed_from_u64(stream_seed(seed, replication, $label)))
                }
            }
            impl Draws for $name {
                fn rng(&mut self) -> &mut ChaCha8Rng { &mut self.0 }
            }
        )+
        /// Inserts every stream into a world.
        pub fn insert_streams(world: &mut bevy_ecs::world::World, seed: u64, replication: u64) {
            $( world.insert_resource($name::new(seed, replication)); )+
        }
    };
}

/// Policy instruments' draws (grant reviewers' noise, public-fund rounds): one stream per
/// instrument, named after it (`policy/<name>`), so adding, removing or switching off one
/// instrument leaves every other instrument's draws unchanged.
#[derive(Resource)]
pub struct PolicyRng(Vec<InstrumentRng>);

/// One instrument's stream.
pub struct InstrumentRng(ChaCha8Rng);

impl Draws for InstrumentRng {
    fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.0
    }
}

impl PolicyRng {
    pub fn new<'a>(seed: u64, replication: u64, instruments: impl IntoIterator<Item = &'a str>) -> Self {
        let stream = |name: &str| {
            InstrumentRng(ChaCha8Rng::seed_from_u64(stream_seed(seed, replication, &format!("policy/{name}"))))
        };
        Self(instruments.into_iter().map(stream).collect())
    }
    /// The stream of the instrument at `policy` (its index in the scenario's policies).
    pub fn instrument(&mut self, policy: usize) -> &mut InstrumentRng {
        &mut self.0[policy]
    }
}

rng_streams! {
    /// Initial population.
    SpawnRng => "spawn",
    /// Spin-offs, spin-outs, start-ups.
    EntryRng => "entry",
    /// Partner search and alliance dissolution.
    AllianceRng => "alliances",
    /// Pharma partners scouting projects to license in.
    ScoutingRng => "scouting",
    /// Deal values.
    LicensingRng => "licensing",
    /// Project launches, durations, outcomes, peak sales.
    PipelineRng => "pipeline",
    /// Business-model switches.
    BusinessModelRng => "business_models",
    /// VC rounds, follow-ons, the IPO window.
    FinanceRng => "finance",
    /// Takeovers.
    ExitRng => "exit",
    /// Stock-market listings and delistings.
    ListingRng => "listing",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_name_replication_and_seed() {
        let base = stream_seed(1, 0, "alliances");
        assert_ne!(base, stream_seed(1, 0, "pipeline"));
        assert_ne!(base, stream_seed(1, 1, "alliances"));
        assert_ne!(base, stream_seed(2, 0, "alliances"));
        assert_eq!(base, stream_seed(1, 0, "alliances"), "derivation must be a pure function");
    }

    /// The same counts as rand_distr's Poisson and the stream left at the same place, for means
    /// on both sides of the shortcut and of rand_distr's switch of method at 12.
    #[test]
    fn poisson_counts_are_rand_distrs() {
        for (i, lambda) in
            [1e-9, 1e-4, 0.003, 0.05, 0.3, 0.999, 1.0, 1.5, 4.0, 11.99, 12.0, 40.0].into_iter().enumerate()
        {
            let mut ours = EntryRng::new(11, i as u64);
            let mut theirs = EntryRng::new(11, i as u64).0;
            let poisson = Poisson::new(lambda).unwrap();
            for _ in 0..20_000 {
                assert_eq!(ours.poisson(lambda), poisson.sample(&mut theirs) as u32, "mean {lambda}");
            }
            assert_eq!(ours.0.random::<u64>(), theirs.random::<u64>(), "stream position, mean {lambda}");
        }
    }

    #[test]
    fn weighted_never_picks_zero_weight() {
        let mut rng = ExitRng::new(7, 0);
        for _ in 0..1000 {
            assert_eq!(rng.weighted(&[0.0, 2.0, 0.0]), Some(1));
        }
        assert_eq!(rng.weighted(&[0.0, 0.0]), None);
    }
}

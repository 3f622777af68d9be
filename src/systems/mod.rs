//! One file per mechanism (MODEL.md, "Mechanisms"). Each file opens with the rule it implements and
//! its sources, has a `pub(crate) fn install` that puts its systems in their [`Tick`] set, and keeps
//! its arithmetic in small pure functions tested beside it.
//!
//! Invariants every system keeps: it draws only from its own RNG stream; it moves money only through
//! the [`Ledger`](crate::model::ledger::Ledger); it skips firms that are not alive; it never reads a
//! cluster's type (cluster differences come from environment levels and policy instruments).
//!
//! [`Tick`]: crate::model::Tick

pub mod alliances;
pub mod business_models;
pub mod clock;
pub mod entry;
pub mod exit;
pub mod finance;
pub mod government_policy;
pub mod in_licensing;
pub mod knowledge_spillover;
pub mod licensing;
pub mod listing;
pub mod pipeline;
pub mod research;
pub mod revenue;

/// Saturating response x / (x + half) in [0, 1): used for "how much is enough" effects.
pub fn saturation(x: f64, half: f64) -> f64 {
    if x <= 0.0 { 0.0 } else { x / (x + half) }
}

/// Monthly probability of an event with a yearly hazard rate.
pub fn monthly_probability(rate_per_year: f64) -> f64 {
    1.0 - (-rate_per_year / 12.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_probability_compounds_to_the_yearly_hazard() {
        let p = monthly_probability(0.12);
        let survive_year = (1.0 - p).powi(12);
        assert!((survive_year - (-0.12f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn saturation_is_half_at_half() {
        assert_eq!(saturation(20.0, 20.0), 0.5);
        assert_eq!(saturation(0.0, 20.0), 0.0);
    }
}

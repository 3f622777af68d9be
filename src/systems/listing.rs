//! Stock-market listing and delisting (KOSDAQ's routes; korea-pipeline-and-listing-facts.md).
//!
//! - Technology-special track (from `listing.tech_track_from_year`; KOSDAQ opened it in March 2005):
//!   an unlisted firm at least `listing.tech_min_age_years` old with a project past discovery or a
//!   product applies with monthly probability `listing.tech_rate_per_year` / 12 while the IPO window
//!   is open, and passes the technology evaluation with probability (a - 1/4) / (3/4), a its investor
//!   appeal in [1/4, 1] (knowledge quality, pipeline maturity, network: `finance::attractiveness`), so
//!   better science lists more often without a cut-off.
//! - Regular track: an unlisted firm whose trailing sales reach `listing.regular_min_sales_musd` and
//!   which covers its costs lists with monthly probability `listing.regular_rate_per_year` / 12 while
//!   the window is open.
//! - Listing raises log-normal proceeds (median `finance.ipo_median_musd`) less `listing.cost_share`
//!   for underwriting and fees.
//! - Delisting (year end): a firm listed more than `listing.grace_years` ago whose sales over the
//!   year fell below `listing.min_sales_musd` (KOSDAQ's administrative-designation floor) is
//!   delisted with probability `listing.delisting_rate_per_year`.

use bevy_ecs::prelude::*;

use super::finance::investor_appeal;
use crate::kinds::Stage;
use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Home, Knowledge, Pipeline};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, IpoWindow, Params, YearCounters};
use crate::model::rng::{Draws, ListingRng};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(list_and_delist.in_set(Tick::Listing));
}

#[allow(clippy::too_many_arguments)]
fn list_and_delist(
    clock: Res<Clock>,
    params: Res<Params>,
    window: Res<IpoWindow>,
    book: Res<AllianceBook>,
    mut firms: Query<(&AgentId, &Home, &mut Firm, &Pipeline, &Knowledge)>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<ListingRng>,
) {
    let li = &params.listing;
    let f = &params.finance;
    let tech_open = window.open && clock.year() >= li.tech_track_from_year;
    for (id, home, mut firm, pipeline, knowledge) in &mut firms {
        if !firm.is_alive() {
            continue;
        }
        if firm.listed {
            if clock.is_year_end()
                && firm.listed_month.is_none_or(|m| (i64::from(clock.month) - m) as f64 > li.grace_years * 12.0)
                && ledger.year_revenue(id.0) < li.min_sales_musd
                && rng.chance(li.delisting_rate_per_year)
            {
                firm.listed = false;
                firm.listed_month = None;
                counters.clusters[home.cluster].delistings += 1;
            }
            continue;
        }
        if !window.open {
            continue;
        }
        let has_science = pipeline.max_stage().is_some_and(|s| s > Stage::Discovery) || !pipeline.products.is_empty();
        let tech = tech_open
            && has_science
            && firm.age_years(clock.month) >= li.tech_min_age_years
            && rng.chance(li.tech_rate_per_year / 12.0)
            && {
                let appeal = investor_appeal(&params, &book, id.0, &firm, knowledge, pipeline.maturity());
                rng.chance(evaluation_pass_probability(appeal))
            };
        let regular = !tech
            && firm.revenue_trailing >= li.regular_min_sales_musd
            && firm.net_burn() <= 0.0
            && rng.chance(li.regular_rate_per_year / 12.0);
        if !(tech || regular) {
            continue;
        }
        let proceeds = rng.lognormal(f.ipo_median_musd, f.round_sigma) * (1.0 - li.cost_share);
        ledger.transfer(Account::External(External::PublicMarkets), Account::Agent(id.0), proceeds, Flow::IpoProceeds);
        firm.listed = true;
        firm.listed_month = Some(i64::from(clock.month));
        let counter = &mut counters.clusters[home.cluster];
        counter.ipos += 1;
        if tech {
            counter.listings_tech += 1;
        } else {
            counter.listings_regular += 1;
        }
    }
}

/// Chance of passing the technology evaluation for an investor appeal `a` in [1/4, 1]: 0 at the
/// floor, 1 at the top, linear between.
pub fn evaluation_pass_probability(appeal: f64) -> f64 {
    ((appeal - 0.25) / 0.75).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_passes_more_with_appeal() {
        assert_eq!(evaluation_pass_probability(0.25), 0.0);
        assert_eq!(evaluation_pass_probability(1.0), 1.0);
        assert!(evaluation_pass_probability(0.5) < evaluation_pass_probability(0.7));
    }
}

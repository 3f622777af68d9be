//! Licensing and deals (MODEL.md mechanism 6): terms for the alliances formed this month.
//!
//! - Licensing (out-licensing to a pharma partner): the firm's most advanced project not yet
//!   partnered and at or past its business model's `licenses_from_stage` goes to the partner. Deal
//!   value V = `licensing.<stage>.deal_value_musd` x lognormal noise; the partner pays
//!   `licensing.upfront_share` x V at once (5-13 % in research 3.4), the rest as equal milestones on
//!   each later stage success through approval, and `licensing.<stage>.royalty_rate` on sales (LES /
//!   ReCap royalty by stage at signing). The licensee pays all further development costs.
//! - Co-development: the partner takes `licensing.codevelopment_cost_share` of the project's costs
//!   and the same share of its product profits.
//! - Other kinds carry no deal terms (their effects live in revenue, finance and spillover).
//!
//! A partner that cannot pay the upfront walks away: the alliance ends the month it formed.

use bevy_ecs::prelude::*;

use crate::kinds::{AllianceKind, Stage};
use crate::model::Tick;
use crate::model::components::{Firm, Pipeline};
use crate::model::ledger::{Account, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, Params, Registry, YearCounters};
use crate::model::rng::{Draws, LicensingRng};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(sign_deals.in_set(Tick::Licensing));
}

#[allow(clippy::too_many_arguments)]
fn sign_deals(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    mut firms: Query<(&Firm, &mut Pipeline)>,
    mut book: ResMut<AllianceBook>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<LicensingRng>,
) {
    let l = &params.licensing;
    for idx in book.formed_this_month.clone() {
        let alliance = book.alliances[idx as usize].clone();
        if !matches!(alliance.kind, AllianceKind::Licensing | AllianceKind::CoDevelopment) {
            continue;
        }
        let Ok((firm, mut pipeline)) = firms.get_mut(registry.entities[alliance.firm as usize]) else {
            continue;
        };
        let from = match alliance.kind {
            AllianceKind::Licensing => params.business_models.by_model[firm.model as usize].licenses_from_stage,
            _ => Stage::Discovery,
        };
        let project = pipeline
            .projects
            .iter_mut()
            .filter(|p| !p.has_large_partner() && p.stage >= from)
            .max_by_key(|p| (p.stage, std::cmp::Reverse(p.id)));
        let Some(project) = project else {
            book.end(idx, clock.month);
            continue;
        };
        if alliance.kind == AllianceKind::CoDevelopment {
            project.codeveloper = Some(alliance.partner);
            continue;
        }
        let terms = l.terms[project.stage.index()];
        let value = terms.deal_value_musd * rng.lognormal(1.0, l.deal_value_sigma);
        let upfront = l.upfront_share * value;
        if ledger.balance(alliance.partner) < upfront {
            book.end(idx, clock.month);
            continue;
        }
        ledger.transfer(
            Account::Agent(alliance.partner),
            Account::Agent(alliance.firm),
            upfront,
            Flow::LicensingUpfront,
        );
        project.licensee = Some(alliance.partner);
        counters.clusters[registry.home[alliance.firm as usize].cluster].licensing_deals += 1;
        project.royalty_rate = terms.royalty_rate;
        project.milestone_musd = milestone_per_success(value, l.upfront_share, project.stage);
    }
}

/// Milestone paid on each stage success from `stage` through approval: the non-upfront part of the
/// deal split equally.
pub fn milestone_per_success(value: f64, upfront_share: f64, stage: Stage) -> f64 {
    let remaining = (Stage::ALL.len() - stage.index()) as f64;
    value * (1.0 - upfront_share) / remaining
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upfront_plus_all_milestones_equal_the_deal_value() {
        for stage in Stage::ALL {
            let m = milestone_per_success(100.0, 0.1, stage);
            let n = (Stage::ALL.len() - stage.index()) as f64;
            assert!((10.0 + m * n - 100.0).abs() < 1e-9, "{stage:?}");
        }
    }
}

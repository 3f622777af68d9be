//! Business models (MODEL.md mechanism 5; seed 003: Fisken & Rutherford, Pareras): product firms
//! carry projects far, platform firms sell services and license early, hybrids do both. Once a
//! year, with probability `business_models.switch_probability_per_year`, a firm may switch:
//!
//! - a product firm short of cash (runway below `business_models.switch_runway_months`) with nothing
//!   past phase I turns hybrid, selling services to survive;
//! - a platform firm whose own project has reached phase I turns hybrid, to carry it further;
//! - a hybrid with a marketed product of its own turns product;
//! - a hybrid short of cash with no project left turns platform.

use bevy_ecs::prelude::*;

use crate::kinds::{BusinessModel, Stage};
use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Home, Pipeline};
use crate::model::ledger::Ledger;
use crate::model::resources::{Clock, Params, YearCounters};
use crate::model::rng::{BusinessModelRng, Draws};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(switch_models.in_set(Tick::BusinessModels));
}

fn switch_models(
    clock: Res<Clock>,
    params: Res<Params>,
    ledger: Res<Ledger>,
    mut firms: Query<(&AgentId, &Home, &mut Firm, &Pipeline)>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<BusinessModelRng>,
) {
    if !clock.is_year_start() {
        return;
    }
    let bm = &params.business_models;
    for (id, home, mut firm, pipeline) in &mut firms {
        // Established makers keep their manufacturing business (they never switch).
        if !firm.is_alive() || firm.own_channels {
            continue;
        }
        let runway_months = if firm.burn_month > 0.0 { ledger.balance(id.0) / firm.burn_month } else { f64::INFINITY };
        let Some(to) = switch_target(firm.model, runway_months < bm.switch_runway_months, pipeline) else {
            continue;
        };
        if rng.chance(bm.switch_probability_per_year) {
            firm.model = to;
            counters.clusters[home.cluster].model_switches += 1;
        }
    }
}

/// The model a firm in this situation would switch to, if any.
pub fn switch_target(model: BusinessModel, short_of_cash: bool, pipeline: &Pipeline) -> Option<BusinessModel> {
    let max_stage = pipeline.max_stage();
    let own_product = pipeline.products.iter().any(|p| p.licensee.is_none());
    match model {
        BusinessModel::Product if short_of_cash && max_stage.is_none_or(|s| s <= Stage::Phase1) => {
            Some(BusinessModel::Hybrid)
        }
        BusinessModel::Platform if max_stage.is_some_and(|s| s >= Stage::Phase1) => Some(BusinessModel::Hybrid),
        BusinessModel::Hybrid if own_product => Some(BusinessModel::Product),
        BusinessModel::Hybrid if short_of_cash && pipeline.projects.is_empty() => Some(BusinessModel::Platform),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cash_strapped_product_firm_without_late_projects_turns_hybrid() {
        let empty = Pipeline::default();
        assert_eq!(switch_target(BusinessModel::Product, true, &empty), Some(BusinessModel::Hybrid));
        assert_eq!(switch_target(BusinessModel::Product, false, &empty), None);
        assert_eq!(switch_target(BusinessModel::Hybrid, true, &empty), Some(BusinessModel::Platform));
    }
}

//! In-licensing by pharma partners: big firms fill and renew their pipelines by scouting small firms'
//! projects (seed 004: "the filling or renewal of the pipelines"; seed 003: Belgian biotech firms "rely
//! heavily on licensing agreements and milestone payments").
//!
//! Each month a pharma partner with spare capacity (`pharma.alliance_capacity`) scouts with
//! probability `pharma.scouting_per_year` / 12. It looks at `alliances.candidates` firms drawn at
//! random from all clusters, keeps those with an unpartnered project and room for an alliance
//! (`alliances.firm_capacity`), and picks one by roulette, weight (1 + stage index of the best such
//! project) x 2 when the project (or the firm's focus) is in one of its gap fields. It offers a licence when that project is
//! at or past the firm's licensing stage (`business_models.<model>.licenses_from_stage`), else
//! co-development; a firm without a project to offer but with service staff (platform, hybrid) gets a
//! contract-research deal for its platform (weight 1). The deal is struck with `alliances.acceptance_probability` x (1 - w + w q) (w
//! `alliances.acceptance_quality_weight`), q the firm's
//! knowledge quality, as for alliances the firm seeks. Terms are signed in `licensing` like any other deal, so a partner that cannot
//! pay the upfront walks away. Off (0) in the Korea-like default; the Belgian scenarios set it.

use bevy_ecs::prelude::*;

use crate::kinds::{AllianceKind, BusinessModel};
use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Home, Knowledge, Pharma, Pipeline};
use crate::model::resources::{AllianceBook, Clock, Counterfactual, Params, Registry, YearCounters};
use crate::model::rng::{Draws, ScoutingRng};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(scout_projects.after(super::alliances::form_alliances).in_set(Tick::Alliances));
}

#[allow(clippy::too_many_arguments)]
fn scout_projects(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    pharmas: Query<(&AgentId, &Pharma)>,
    firms: Query<(&Home, &Firm, &Pipeline, &Knowledge)>,
    mut book: ResMut<AllianceBook>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<ScoutingRng>,
    counterfactual: Res<Counterfactual>,
) {
    let rate = params.pharma.scouting_per_year;
    if rate <= 0.0 {
        return;
    }
    let a = &params.alliances;
    let all_firms: Vec<u32> = registry.by_cluster.iter().flat_map(|m| m.firms.iter().copied()).collect();
    if all_firms.is_empty() {
        return;
    }
    for (buyer, pharma) in &pharmas {
        if book.degree(buyer.0) >= params.pharma.alliance_capacity as usize || !rng.chance(rate / 12.0) {
            continue;
        }
        let mut offers: Vec<(u32, AllianceKind)> = Vec::new();
        let mut weights: Vec<f64> = Vec::new();
        for _ in 0..a.candidates {
            let id = all_firms[rng.index(all_firms.len())];
            if !registry.alive[id as usize]
                || book.degree(id) >= a.firm_capacity as usize
                || offers.iter().any(|(f, _)| *f == id)
            {
                continue;
            }
            let Ok((_, firm, pipeline, _)) = firms.get(registry.entities[id as usize]) else { continue };
            let best = pipeline
                .projects
                .iter()
                .filter(|p| !p.has_large_partner())
                .max_by_key(|p| (p.stage, std::cmp::Reverse(p.id)));
            let licenses_from = params.business_models.by_model[firm.model as usize].licenses_from_stage;
            let sells_services = params.business_models.by_model[firm.model as usize].service_staff_share > 0.0;
            let (kind, stage, field) = match best {
                Some(p) if p.stage >= licenses_from => (AllianceKind::Licensing, p.stage.index(), p.field),
                Some(p) if firm.model != BusinessModel::Platform => {
                    (AllianceKind::CoDevelopment, p.stage.index(), p.field)
                }
                // A firm without a project to license can still sell its platform's services.
                _ if sells_services => (AllianceKind::ContractResearch, 0, firm.focus),
                _ => continue,
            };
            if book.active_between(id, buyer.0, kind).is_some() {
                continue;
            }
            let gap = if pharma.gap_fields.contains(&field) { 2.0 } else { 1.0 };
            offers.push((id, kind));
            weights.push((1.0 + stage as f64) * gap);
        }
        let Some(k) = rng.weighted(&weights) else { continue };
        let (target, kind) = offers[k];
        let Ok((home, firm, _, knowledge)) = firms.get(registry.entities[target as usize]) else { continue };
        if rng.chance(super::alliances::acceptance(&params, firm, &knowledge.0))
            && !counterfactual.blocks(kind, target, buyer.0)
        {
            book.form(target, buyer.0, kind, clock.month);
            counters.clusters[home.cluster].alliances_formed_tech += 1;
        }
    }
}

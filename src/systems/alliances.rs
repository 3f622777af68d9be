//! Alliance formation and dissolution (MODEL.md mechanism 3; open innovation).
//!
//! Dissolution: each month an active alliance ends with the monthly probability of its category's
//! yearly hazard (`alliances.tech_dissolution_per_year`, `alliances.nontech_dissolution_per_year`;
//! "30-50 % of alliances end within about 5 years", research 3.5). Licensing and co-development
//! alliances are tied to their project and end with it (pipeline), not by hazard.
//!
//! Formation: each month an alive firm below `alliances.firm_capacity` searches with probability
//! `alliances.searches_per_year` / 12 (times the cooperation-matching multiplier of its cluster),
//! paying `alliances.search_cost_musd` (a matching programme reimburses it while its budget lasts).
//! - *What it looks for* comes from its situation, never from its cluster's type: the more revenue it
//!   has, the likelier a non-technological partner (market access, manufacturing, regulatory,
//!   financing), as far as its cluster offers downstream partners; otherwise a technological one
//!   (P(non-tech) = base + (1 - base) R / (R + half) x pharma presence).
//! - *Candidates*: its previous partners plus `alliances.candidates` random draws, each from its own
//!   cluster with probability `alliances.local_share`, else from another cluster; the partner type is
//!   drawn by the cluster's environment (universities by public research, pharma by pharma presence,
//!   investors by VC presence, firms at a fixed 0.5 weight).
//! - *Choice*: roulette over candidates with weight (1 + degree)^`preferential_exponent` (the "most
//!   preferred partner", Powell et al.) x exp(-distance / `distance_decay_km`) x cognitive fit (tech
//!   only) x (1 + `prior_tie_bonus` for previous partners).
//! - *Acceptance*: the partner agrees with probability `acceptance_probability` x (1 - w + w q), w being
//!   `acceptance_quality_weight`, plus the
//!   matching bonus, q being the firm's knowledge quality, if it has capacity left.
//!
//! The kind follows from partner type and need: see [`kind_for`].

use bevy_ecs::prelude::*;

use super::knowledge_spillover::{cognitive_fit, cosine_distance};
use super::{monthly_probability, saturation};
use crate::kinds::{AllianceKind, BusinessModel, KnowledgeVec, Stage};
use crate::model::Tick;
use crate::model::components::{AgentId, AgentKind, Firm, Home, Knowledge, Pipeline};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{
    AllianceBook, Clock, Counterfactual, Params, PolicyEffects, Registry, Tie, YearCounters,
};
use crate::model::rng::{AllianceRng, Draws};
use crate::scenario::Instrument;

/// How many previous partners a search reconsiders (assumed).
const PREVIOUS_CONSIDERED: usize = 2;

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems((dissolve_alliances, form_alliances).chain().in_set(Tick::Alliances));
}

fn dissolve_alliances(
    clock: Res<Clock>,
    params: Res<Params>,
    firms: Query<(&AgentId, &Firm)>,
    mut book: ResMut<AllianceBook>,
    mut rng: ResMut<AllianceRng>,
    mut ties: Local<Vec<Tie>>,
) {
    let a = &params.alliances;
    // Indexed by `is_tech`. Computed once a month: without the `black_box` the compiler sinks the
    // exponential into the loop, where it ran once per tie drawn.
    let p_end = std::hint::black_box([
        monthly_probability(a.nontech_dissolution_per_year),
        monthly_probability(a.tech_dissolution_per_year),
    ]);
    for (id, firm) in &firms {
        if !firm.is_alive() {
            continue;
        }
        // A copy of the firm's ties (ending one edits the list), in a buffer kept across months.
        ties.clear();
        ties.extend_from_slice(book.active_of(id.0));
        for tie in ties.iter() {
            // One draw per alliance: a tie between two firms is listed under both, and is drawn
            // from the side of the firm that formed it.
            if !tie.firm_side {
                continue;
            }
            let kind = tie.kind;
            if matches!(kind, AllianceKind::Licensing | AllianceKind::CoDevelopment) {
                continue;
            }
            if rng.chance(p_end[usize::from(kind.is_tech())]) {
                book.end(tie.alliance, clock.month);
            }
        }
    }
}

/// What a searching firm has to offer and needs, read once per search.
struct Seeker<'a> {
    id: u32,
    cluster: usize,
    firm: &'a Firm,
    pipeline: &'a Pipeline,
    knowledge: KnowledgeVec,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn form_alliances(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    firms: Query<(&AgentId, &Home, &Firm, &Pipeline, &Knowledge)>,
    actors: Query<&Knowledge>,
    mut effects: ResMut<PolicyEffects>,
    mut book: ResMut<AllianceBook>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<AllianceRng>,
    counterfactual: Res<Counterfactual>,
) {
    book.formed_this_month.clear();
    let a = &params.alliances;
    let year = clock.year();
    let matching: Vec<usize> = params
        .policies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.active_in(year) && matches!(p.instrument, Instrument::CooperationMatching { .. }))
        .map(|(i, _)| i)
        .collect();

    for (id, home, firm, pipeline, k) in &firms {
        if !firm.is_alive() || book.degree(id.0) >= a.firm_capacity as usize {
            continue;
        }
        if !rng.chance(a.searches_per_year / 12.0 * effects.search_multiplier[home.cluster]) {
            continue;
        }
        // Search costs; a matching programme covering this cluster reimburses them next month.
        if let Some(&p) = matching.iter().find(|&&p| params.policies[p].covers(home.cluster)) {
            effects.claims.push((p, id.0, a.search_cost_musd));
        }
        ledger.transfer(
            Account::Agent(id.0),
            Account::External(External::Suppliers),
            a.search_cost_musd,
            Flow::SearchCost,
        );

        let seeker = Seeker { id: id.0, cluster: home.cluster, firm, pipeline, knowledge: k.0 };
        // A firm with something to sell looks for downstream partners as far as its cluster offers
        // them (pharma, contract research and manufacturing organisations, distributors: the pharma
        // presence level).
        let revenue = firm.revenue_trailing.max(0.0);
        let downstream = params.clusters[home.cluster].environment.pharma_presence;
        let nontech = rng.chance(
            a.nontech_base_share
                + (1.0 - a.nontech_base_share) * saturation(revenue, a.revenue_half_musd_per_year) * downstream,
        );
        let Some((partner, kind)) = choose_partner(&seeker, nontech, &params, &registry, &book, &actors, &mut rng)
        else {
            continue;
        };
        let accept = acceptance(&params, firm, &k.0) + effects.acceptance_bonus[home.cluster];
        if rng.chance(accept) && !counterfactual.blocks(kind, id.0, partner) {
            book.form(id.0, partner, kind, clock.month);
            let counter = &mut counters.clusters[home.cluster];
            if kind.is_tech() {
                counter.alliances_formed_tech += 1;
            } else {
                counter.alliances_formed_nontech += 1;
            }
        }
    }
}

/// Draws candidates and picks one by roulette; returns the partner and the alliance kind.
fn choose_partner(
    seeker: &Seeker,
    nontech: bool,
    params: &Params,
    registry: &Registry,
    book: &AllianceBook,
    knowledge: &Query<&Knowledge>,
    rng: &mut AllianceRng,
) -> Option<(u32, AllianceKind)> {
    let a = &params.alliances;
    let n_clusters = params.clusters.len();
    let mut candidates: Vec<u32> = Vec::with_capacity(a.candidates as usize + PREVIOUS_CONSIDERED);
    // Previous partners are always considered (SKIN), up to a few drawn at random; then random draws.
    let previous = book.previous_partners(seeker.id);
    for _ in 0..previous.len().min(PREVIOUS_CONSIDERED) {
        candidates.push(previous[rng.index(previous.len())]);
    }
    for _ in 0..a.candidates {
        let cluster = if n_clusters == 1 || rng.chance(a.local_share) {
            seeker.cluster
        } else {
            let other = rng.index(n_clusters - 1);
            if other >= seeker.cluster { other + 1 } else { other }
        };
        let env = params.clusters[cluster].environment;
        let members = &registry.by_cluster[cluster];
        let lists: [(&Vec<u32>, f64); 4] = if nontech {
            [
                (&members.pharma, env.pharma_presence),
                (&members.firms, 0.5),
                (&members.investors, env.vc_presence),
                (&members.universities, 0.0),
            ]
        } else {
            [
                (&members.universities, env.public_research),
                (&members.pharma, env.pharma_presence),
                (&members.firms, 0.5),
                (&members.investors, 0.0),
            ]
        };
        let weights = lists.map(|(l, w)| if l.is_empty() { 0.0 } else { w });
        let Some(t) = rng.weighted(&weights) else {
            continue;
        };
        let list = lists[t].0;
        candidates.push(list[rng.index(list.len())]);
    }

    let mut options: Vec<(u32, AllianceKind)> = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    for &candidate in &candidates {
        if candidate == seeker.id || !registry.alive[candidate as usize] || options.iter().any(|(c, _)| *c == candidate)
        {
            continue;
        }
        let partner_kind = registry.kind[candidate as usize];
        let Some(kind) = kind_for(seeker, partner_kind, nontech, params) else {
            continue;
        };
        if book.active_between(seeker.id, candidate, kind).is_some()
            || !has_capacity(candidate, partner_kind, params, book)
        {
            continue;
        }
        let degree = book.degree(candidate) as f64;
        let mut w = (1.0 + degree).powf(a.preferential_exponent)
            * (-registry.distance_km(seeker.id, candidate) / a.distance_decay_km).exp();
        if kind.is_tech()
            && let Ok(Knowledge(theirs)) = knowledge.get(registry.entities[candidate as usize])
        {
            let s = &params.spillover;
            w *= cognitive_fit(
                cosine_distance(&seeker.knowledge, theirs),
                s.optimal_cognitive_distance,
                s.cognitive_tolerance,
            );
        }
        if book.were_partners(seeker.id, candidate) {
            w *= 1.0 + a.prior_tie_bonus;
        }
        options.push((candidate, kind));
        weights.push(w);
    }
    rng.weighted(&weights).map(|i| options[i])
}

/// Chance that a partner agrees to a deal with this firm (before any matching bonus):
/// `alliances.acceptance_probability` x (1 - w + w q), q the firm's knowledge quality in its focus
/// field, w `alliances.acceptance_quality_weight`. Shared with pharma scouting (in_licensing).
pub(crate) fn acceptance(params: &Params, firm: &Firm, knowledge: &KnowledgeVec) -> f64 {
    let a = &params.alliances;
    let quality = saturation(knowledge[firm.focus], params.research.knowledge_half_saturation);
    a.acceptance_probability * (1.0 - a.acceptance_quality_weight + a.acceptance_quality_weight * quality)
}

fn has_capacity(candidate: u32, kind: AgentKind, params: &Params, book: &AllianceBook) -> bool {
    let degree = book.degree(candidate);
    match kind {
        AgentKind::Firm => degree < params.alliances.firm_capacity as usize,
        AgentKind::University => degree < params.alliances.university_capacity as usize,
        AgentKind::Pharma => degree < params.pharma.alliance_capacity as usize,
        AgentKind::Investor => true,
        AgentKind::Agency => false,
    }
}

/// The alliance kind a firm seeks with a partner of this type, given its need and its pipeline.
pub fn kind_for_state(
    model: BusinessModel,
    licenses_from: Stage,
    pipeline: &Pipeline,
    partner: AgentKind,
    nontech: bool,
) -> Option<AllianceKind> {
    let unpartnered = || pipeline.projects.iter().filter(|p| !p.has_large_partner());
    let marketed = pipeline.products.iter().any(|p| p.licensee.is_none());
    let late = pipeline.projects.iter().any(|p| p.stage >= Stage::Phase3);
    match (partner, nontech) {
        (AgentKind::University, false) => Some(AllianceKind::UniversityCollaboration),
        (AgentKind::Firm, false) => Some(AllianceKind::JointRd),
        (AgentKind::Pharma, false) => {
            if unpartnered().any(|p| p.stage >= licenses_from) {
                Some(AllianceKind::Licensing)
            } else if unpartnered().next().is_some() && model != BusinessModel::Platform {
                Some(AllianceKind::CoDevelopment)
            } else {
                Some(AllianceKind::ContractResearch)
            }
        }
        (AgentKind::Pharma, true) if marketed => Some(AllianceKind::Marketing),
        (AgentKind::Pharma, true) if late => Some(AllianceKind::Regulatory),
        // A service or tool seller looks for a partner's sales channels, with a pharma group or
        // another firm; others for manufacturing.
        (AgentKind::Pharma, true) if model != BusinessModel::Product => Some(AllianceKind::Distribution),
        (AgentKind::Pharma, true) => Some(AllianceKind::Manufacturing),
        (AgentKind::Firm, true) if marketed || model != BusinessModel::Product => Some(AllianceKind::Distribution),
        (AgentKind::Firm, true) => Some(AllianceKind::Manufacturing),
        (AgentKind::Investor, true) => Some(AllianceKind::Financing),
        _ => None,
    }
}

fn kind_for(seeker: &Seeker, partner: AgentKind, nontech: bool, params: &Params) -> Option<AllianceKind> {
    let model = seeker.firm.model;
    let licenses_from = params.business_models.by_model[model as usize].licenses_from_stage;
    kind_for_state(model, licenses_from, seeker.pipeline, partner, nontech)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::components::Project;

    fn project(stage: Stage) -> Project {
        Project::new(1, 0, stage, 12, 0)
    }

    #[test]
    fn a_product_firm_licenses_out_a_project_past_its_licensing_stage() {
        let pipeline = Pipeline { projects: smallvec::smallvec![project(Stage::Phase2)], products: vec![] };
        let kind = kind_for_state(BusinessModel::Product, Stage::Phase1, &pipeline, AgentKind::Pharma, false);
        assert_eq!(kind, Some(AllianceKind::Licensing));
        let early = Pipeline { projects: smallvec::smallvec![project(Stage::Discovery)], products: vec![] };
        let kind = kind_for_state(BusinessModel::Product, Stage::Phase1, &early, AgentKind::Pharma, false);
        assert_eq!(kind, Some(AllianceKind::CoDevelopment));
    }

    #[test]
    fn a_service_or_tool_seller_seeks_sales_channels_with_a_firm_and_a_product_firm_manufacturing() {
        let none = Pipeline::default();
        for model in [BusinessModel::Platform, BusinessModel::Hybrid] {
            let kind = kind_for_state(model, Stage::Phase1, &none, AgentKind::Firm, true);
            assert_eq!(kind, Some(AllianceKind::Distribution), "{model:?}");
        }
        let kind = kind_for_state(BusinessModel::Product, Stage::Phase1, &none, AgentKind::Firm, true);
        assert_eq!(kind, Some(AllianceKind::Manufacturing));
    }

    #[test]
    fn tech_and_nontech_needs_give_kinds_of_their_category() {
        let pipeline = Pipeline::default();
        for partner in [AgentKind::Firm, AgentKind::University, AgentKind::Pharma, AgentKind::Investor] {
            for nontech in [false, true] {
                if let Some(kind) =
                    kind_for_state(BusinessModel::Hybrid, Stage::Preclinical, &pipeline, partner, nontech)
                {
                    assert_eq!(kind.is_tech(), !nontech, "{partner:?} nontech={nontech} gave {kind:?}");
                }
            }
        }
    }
}

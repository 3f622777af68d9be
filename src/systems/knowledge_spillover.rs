//! Knowledge spillover (MODEL.md mechanism 2): knowledge flows between co-located actors and along
//! alliance ties, decaying with distance (Marshall; Audretsch & Feldman), open public research
//! hubs leak most (Owen-Smith & Powell 2004), limited by the receiver's absorptive capacity and by
//! cognitive distance (Nooteboom: too close, nothing to learn; too far, cannot absorb).
//!
//! Rule, per receiver i (firm, university or pharma partner) and field f, each month:
//!   dK_i[f] = A_i x [ local_rate x sum_c w(d(i, c)) g(cd(K_i, P_c)) (P_c[f] - K_i[f])+
//!                   + sum_ties tie_rate_kind x g(cd(K_i, K_j)) (K_j[f] - K_i[f])+ ]
//! where P_c is cluster c's pool (openness-weighted mean knowledge of its actors, university
//! knowledge scaled by the researcher-mobility multiplier of the receiver's cluster),
//! w(d) = exp(-d / distance_decay_km) over cluster centres, A_i = S_i / (S_i + absorptive_half_stock)
//! with S_i the receiver's own stock, cd the cosine distance of the two profiles and
//! g(cd) = exp(-((cd - optimal) / tolerance)^2).
//!
//! Cost: O(actors x clusters + ties) per month: no all-pairs loop.

use bevy_ecs::prelude::*;

use super::saturation;
use crate::kinds::{KnowledgeVec, N_FIELDS};
use crate::model::Tick;
use crate::model::components::{AgentId, AgentKind, Firm, Home, Knowledge};
use crate::model::resources::{AllianceBook, Params, PolicyEffects, Registry};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(diffuse_knowledge.in_set(Tick::Spillover));
}

/// Every alive actor's knowledge as it stood before this month's flows, by agent id, with its norm.
/// Kept from month to month (no allocation sized to every agent ever, each tick): an entry is valid
/// when its stamp is this tick's.
#[derive(Default)]
struct Snapshot {
    tick: u32,
    stamp: Vec<u32>,
    knowledge: Vec<(KnowledgeVec, f64)>,
}

impl Snapshot {
    fn start(&mut self, n_agents: usize) {
        self.tick += 1;
        self.stamp.resize(n_agents, 0);
        self.knowledge.resize(n_agents, ([0.0; N_FIELDS], 0.0));
    }
    fn put(&mut self, id: u32, knowledge: &KnowledgeVec) {
        self.stamp[id as usize] = self.tick;
        self.knowledge[id as usize] = (*knowledge, norm(knowledge));
    }
    fn get(&self, id: u32) -> Option<&(KnowledgeVec, f64)> {
        (self.stamp[id as usize] == self.tick).then(|| &self.knowledge[id as usize])
    }
}

fn diffuse_knowledge(
    params: Res<Params>,
    registry: Res<Registry>,
    book: Res<AllianceBook>,
    effects: Res<PolicyEffects>,
    mut actors: Query<(&AgentId, &AgentKind, &Home, &mut Knowledge, Option<&Firm>)>,
    mut snapshot: Local<Snapshot>,
) {
    let s = &params.spillover;
    let n_clusters = params.clusters.len();

    // Snapshot: every alive actor's knowledge, by id, and each cluster's pools.
    snapshot.start(registry.entities.len());
    let mut pool_university = vec![[0.0; N_FIELDS]; n_clusters];
    let mut pool_other = vec![[0.0; N_FIELDS]; n_clusters];
    let mut members = vec![0usize; n_clusters];
    for (id, kind, home, knowledge, firm) in &actors {
        if firm.is_some_and(|f| !f.is_alive()) {
            continue;
        }
        snapshot.put(id.0, &knowledge.0);
        members[home.cluster] += 1;
        let (pool, openness) = match kind {
            AgentKind::University => (&mut pool_university[home.cluster], s.openness_university),
            AgentKind::Pharma => (&mut pool_other[home.cluster], s.openness_pharma),
            _ => (&mut pool_other[home.cluster], s.openness_firm),
        };
        for (p, k) in pool.iter_mut().zip(&knowledge.0) {
            *p += openness * k;
        }
    }
    let centres: Vec<(f64, f64)> = params.clusters.iter().map(|c| (c.x_km, c.y_km)).collect();
    let weight = |a: usize, b: usize| {
        let d = (centres[a].0 - centres[b].0).hypot(centres[a].1 - centres[b].1);
        (-d / s.distance_decay_km).exp()
    };
    // Pools as seen from each receiving cluster (mobility scales university knowledge), with their
    // norms.
    let pools: Vec<Vec<(f64, KnowledgeVec, f64)>> = (0..n_clusters)
        .map(|receiver| {
            (0..n_clusters)
                .filter(|&c| members[c] > 0)
                .map(|c| {
                    let mut pool = [0.0; N_FIELDS];
                    for f in 0..N_FIELDS {
                        pool[f] = (pool_other[c][f] + effects.mobility_multiplier[receiver] * pool_university[c][f])
                            / members[c] as f64;
                    }
                    (weight(receiver, c), pool, norm(&pool))
                })
                .collect()
        })
        .collect();

    for (id, kind, home, knowledge, firm) in &mut actors {
        let knowledge = knowledge.into_inner();
        if *kind == AgentKind::Pharma && book.degree(id.0) == 0 || firm.is_some_and(|f| !f.is_alive()) {
            continue;
        }
        let own = knowledge.0;
        let own_norm = norm(&own);
        let capacity = saturation(own.iter().sum(), s.absorptive_half_stock);
        let mut delta = [0.0; N_FIELDS];
        for (w, pool, pool_norm) in &pools[home.cluster] {
            add_flow(&mut delta, (&own, own_norm), (pool, *pool_norm), s.local_rate * w, s);
        }
        for tie in book.active_of(id.0) {
            let Some((partner, partner_norm)) = snapshot.get(tie.other) else {
                continue;
            };
            let rate = if tie.kind.is_tech() { s.tie_rate } else { s.tie_rate * s.nontech_tie_share };
            add_flow(&mut delta, (&own, own_norm), (partner, *partner_norm), rate, s);
        }
        for (k, d) in knowledge.0.iter_mut().zip(&delta) {
            *k += capacity * d;
        }
    }
}

/// Adds `rate x g(cd) x (source - own)+` to `delta`, field by field (each profile with its norm).
fn add_flow(
    delta: &mut KnowledgeVec,
    (own, own_norm): (&KnowledgeVec, f64),
    (source, source_norm): (&KnowledgeVec, f64),
    rate: f64,
    s: &crate::scenario::SpilloverParams,
) {
    let distance = cosine_distance_with_norms(own, own_norm, source, source_norm);
    let fit = cognitive_fit(distance, s.optimal_cognitive_distance, s.cognitive_tolerance);
    for f in 0..N_FIELDS {
        delta[f] += rate * fit * (source[f] - own[f]).max(0.0);
    }
}

fn norm(a: &KnowledgeVec) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// 1 - cosine similarity of two knowledge profiles (0 = same profile, 1 = nothing in common).
pub fn cosine_distance(a: &KnowledgeVec, b: &KnowledgeVec) -> f64 {
    cosine_distance_with_norms(a, norm(a), b, norm(b))
}

/// [`cosine_distance`] with the two norms already known.
fn cosine_distance_with_norms(a: &KnowledgeVec, na: f64, b: &KnowledgeVec, nb: f64) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    if na == 0.0 || nb == 0.0 { 1.0 } else { (1.0 - dot / (na * nb)).clamp(0.0, 1.0) }
}

/// How well knowledge at cognitive distance `d` can be absorbed: an inverted U peaking at `optimal`.
pub fn cognitive_fit(d: f64, optimal: f64, tolerance: f64) -> f64 {
    (-((d - optimal) / tolerance).powi(2)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cognitive_fit_is_an_inverted_u() {
        let at = |d| cognitive_fit(d, 0.4, 0.3);
        assert!(at(0.4) > at(0.0) && at(0.4) > at(1.0));
        assert_eq!(at(0.4), 1.0);
    }

    #[test]
    fn identical_profiles_have_zero_distance_and_disjoint_ones_full() {
        let a = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let b = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert!(cosine_distance(&a, &a).abs() < 1e-12);
        assert!((cosine_distance(&a, &b) - 1.0).abs() < 1e-12);
    }

    /// Firms' knowledge in a cluster after one month of spillover, with a given mobility multiplier.
    fn firm_knowledge_after_a_month(mobility: f64) -> f64 {
        use crate::model::components::Firm;
        use crate::model::resources::PolicyEffects;
        let scenario = std::sync::Arc::new(crate::scenario::Scenario::default_scenario());
        let mut world = crate::simulation::build_world(scenario.clone(), 0);
        let mut effects = crate::systems::government_policy::year_effects(&scenario, 2000);
        effects.mobility_multiplier[0] = mobility;
        world.insert_resource::<PolicyEffects>(effects);
        let mut schedule = Schedule::default();
        schedule.add_systems(diffuse_knowledge);
        schedule.run(&mut world);
        let mut q = world.query::<(&Home, &Knowledge, &Firm)>();
        q.iter(&world).filter(|(h, _, _)| h.cluster == 0).map(|(_, k, _)| k.total()).sum()
    }

    #[test]
    fn researcher_mobility_speeds_knowledge_flow_to_firms() {
        let (without, with) = (firm_knowledge_after_a_month(1.0), firm_knowledge_after_a_month(3.0));
        assert!(with > without, "mobility x3 should raise firms' knowledge: {without} -> {with}");
    }

    #[test]
    fn nothing_flows_from_a_source_that_knows_less() {
        let s = crate::scenario::Scenario::default_scenario().spillover;
        let mut delta = [0.0; N_FIELDS];
        let (own, source) = ([5.0; N_FIELDS], [1.0; N_FIELDS]);
        add_flow(&mut delta, (&own, norm(&own)), (&source, norm(&source)), 1.0, &s);
        assert!(delta.iter().all(|d| *d == 0.0));
    }
}

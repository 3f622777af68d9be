//! Entry (MODEL.md mechanism 8): university spin-offs, corporate spin-outs and independent
//! start-ups.
//!
//! - Spin-offs: a university with research budget B (M$/yr) spawns on average
//!   B / `entry.musd_research_per_spinoff` firms a year (AUTM: one start-up per $65-90 M of academic
//!   research), times the incubator multiplier of its cluster (seeds 003, 004).
//! - Spin-outs: a firm with E employees spawns `entry.spinout_rate_per_year` x E /
//!   `entry.spinout_min_employees` firms a year once E reaches that minimum, so larger firms spawn
//!   more (Klepper: leading firms beget leading spin-offs). The child inherits part of the parent's
//!   knowledge.
//! - Start-ups: `entry.startups_per_year` per cluster, scaled by the labour pool and VC presence.
//!
//! A new firm gets seed money from founders and angels, a few employees, a business model drawn
//! from the scenario's shares, and `entry.knowledge_transfer_share` of its origin's knowledge in its
//! focus field.

use bevy_ecs::prelude::*;

use crate::kinds::{KnowledgeVec, N_FIELDS};
use crate::model::Tick;
use crate::model::components::*;
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, Params, PolicyEffects, Registry, YearCounters};
use crate::model::rng::{Draws, EntryRng};
use crate::model::spawn::{draw_model, focused_knowledge, place, register, service_build_months};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(found_firms.in_set(Tick::Entry));
}

/// Where a new firm comes from.
struct Founding {
    origin: Origin,
    cluster: usize,
    /// Knowledge of the parent organisation (zero for independent start-ups).
    parent_knowledge: KnowledgeVec,
    /// University to pay a licence fee to, for spin-offs.
    licensor: Option<u32>,
}

/// Whether `pending` more agents would take the population past `scenario::MAX_AGENTS`; if so the
/// registry records the month, and the run stops there (checked before the foundings are even listed,
/// so a runaway rate cannot exhaust memory on the list itself).
fn past_max_agents(registry: &mut Registry, pending: usize, month: u32) -> bool {
    let past = registry.entities.len() + pending > crate::scenario::MAX_AGENTS;
    if past {
        registry.overflow_month = Some(month);
    }
    past
}

#[allow(clippy::too_many_arguments)]
fn found_firms(
    mut commands: Commands,
    clock: Res<Clock>,
    params: Res<Params>,
    effects: Res<PolicyEffects>,
    universities: Query<(&AgentId, &Home, &University, &Knowledge)>,
    firms: Query<(&AgentId, &Home, &Firm, &Knowledge)>,
    mut registry: ResMut<Registry>,
    mut ledger: ResMut<Ledger>,
    mut book: ResMut<AllianceBook>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<EntryRng>,
) {
    let entry = &params.entry;
    let mut foundings = Vec::new();
    for (id, home, university, knowledge) in &universities {
        let rate = university.budget_musd_per_year / entry.musd_research_per_spinoff
            * effects.spinoff_multiplier[home.cluster];
        let n = rng.poisson(rate / 12.0);
        if past_max_agents(&mut registry, foundings.len() + n as usize, clock.month) {
            return;
        }
        for _ in 0..n {
            foundings.push(Founding {
                origin: Origin::UniversitySpinoff,
                cluster: home.cluster,
                parent_knowledge: knowledge.0,
                licensor: Some(id.0),
            });
        }
    }
    for (_, home, firm, knowledge) in &firms {
        if !firm.is_alive() || firm.employees < entry.spinout_min_employees || entry.spinout_min_employees <= 0.0 {
            continue;
        }
        let rate = entry.spinout_rate_per_year * firm.employees / entry.spinout_min_employees;
        let n = rng.poisson(rate / 12.0);
        if past_max_agents(&mut registry, foundings.len() + n as usize, clock.month) {
            return;
        }
        for _ in 0..n {
            foundings.push(Founding {
                origin: Origin::Spinout,
                cluster: home.cluster,
                parent_knowledge: knowledge.0,
                licensor: None,
            });
        }
    }
    for (c, cluster) in params.clusters.iter().enumerate() {
        let env = cluster.environment;
        let rate = entry.startups_per_year * env.labour_pool * (0.5 + env.vc_presence);
        let n = rng.poisson(rate / 12.0);
        if past_max_agents(&mut registry, foundings.len() + n as usize, clock.month) {
            return;
        }
        for _ in 0..n {
            foundings.push(Founding {
                origin: Origin::Startup,
                cluster: c,
                parent_knowledge: [0.0; N_FIELDS],
                licensor: None,
            });
        }
    }

    for founding in foundings {
        let home = place(&params, founding.cluster, &mut *rng);
        let model = draw_model(&params, &mut *rng);
        let focus = if founding.parent_knowledge.iter().sum::<f64>() > 0.0 {
            rng.weighted(&founding.parent_knowledge).unwrap_or(0)
        } else {
            rng.index(N_FIELDS)
        };
        let inherited = founding.parent_knowledge[focus] * entry.knowledge_transfer_share;
        let level = inherited.max(0.5 * params.research.initial_knowledge_firm);
        let productivity = rng.lognormal(1.0, params.firms.productivity_sigma);
        let build = service_build_months(&params, &mut *rng);
        let founded = i64::from(clock.month);
        let mut firm =
            Firm::new(model, founding.origin, founded, entry.founding_employees, focus, productivity, founded + build);
        firm.market_scale = rng.lognormal(1.0, params.firms.market_sigma);
        let id = registry.next_id();
        let bundle: FirmBundle = (
            AgentId(id),
            AgentKind::Firm,
            home,
            Knowledge(focused_knowledge(focus, level)),
            firm,
            Pipeline::default(),
            ProjectSpend::default(),
        );
        let entity = commands.spawn(bundle).id();
        register(&mut registry, &mut ledger, &mut book, entity, AgentKind::Firm, home);
        let seed = rng.lognormal(entry.seed_median_musd, entry.seed_sigma);
        ledger.transfer(Account::External(External::Founders), Account::Agent(id), seed, Flow::Seed);
        if let Some(university) = founding.licensor {
            let fee = params.licensing.university_license_fee_musd.min(seed);
            ledger.transfer(Account::Agent(id), Account::Agent(university), fee, Flow::UniversityLicense);
        }
        let counter = &mut counters.clusters[founding.cluster];
        match founding.origin {
            Origin::UniversitySpinoff => counter.spinoffs += 1,
            Origin::Spinout => counter.spinouts += 1,
            Origin::Startup | Origin::Initial | Origin::Established => counter.startups += 1,
        }
    }
}

//! The ECS model: building a world from a scenario, the tick schedule, and running a replication.

pub mod components;
pub mod ledger;
pub mod resources;
pub mod rng;
pub mod spawn;

use std::sync::Arc;

use bevy_ecs::prelude::*;

use crate::observe::{self, RunRecord};
use crate::scenario::Scenario;
use crate::systems;
use resources::*;

/// One simulated month, in the order a reader should think about it.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tick {
    /// Advance the month.
    Clock,
    /// Government instruments: yearly budgets, grants, tax credits, subsidies.
    Policy,
    /// New firms: university spin-offs, spin-outs, start-ups.
    Entry,
    /// R&D turns into knowledge; knowledge depreciates.
    Research,
    /// Knowledge flows within and between clusters and along alliance ties.
    Spillover,
    /// Alliances end and form (open innovation).
    Alliances,
    /// Deal terms for new licensing, co-development and university alliances.
    Licensing,
    /// Projects launch, advance, fail or get approved.
    Pipeline,
    /// Firms switch business model (yearly).
    BusinessModels,
    /// Product sales, services, royalties.
    Revenue,
    /// Costs, hiring, VC rounds, follow-ons.
    Finance,
    /// Stock-market listings and delistings.
    Listing,
    /// Failures and takeovers.
    Exit,
    /// Observation: yearly time series and firm panel (reads only).
    Record,
}

/// The tick schedule: every mechanism system, in tick order.
pub fn build_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.configure_sets(
        (
            Tick::Clock,
            Tick::Policy,
            Tick::Entry,
            Tick::Research,
            Tick::Spillover,
            Tick::Alliances,
            Tick::Licensing,
            Tick::Pipeline,
            Tick::BusinessModels,
            Tick::Revenue,
            Tick::Finance,
            Tick::Listing,
            Tick::Exit,
            Tick::Record,
        )
            .chain(),
    );
    systems::clock::install(&mut schedule);
    systems::government_policy::install(&mut schedule);
    systems::entry::install(&mut schedule);
    systems::research::install(&mut schedule);
    systems::knowledge_spillover::install(&mut schedule);
    systems::alliances::install(&mut schedule);
    systems::in_licensing::install(&mut schedule);
    systems::licensing::install(&mut schedule);
    systems::pipeline::install(&mut schedule);
    systems::business_models::install(&mut schedule);
    systems::revenue::install(&mut schedule);
    systems::finance::install(&mut schedule);
    systems::listing::install(&mut schedule);
    systems::exit::install(&mut schedule);
    observe::record::install(&mut schedule);
    schedule
}

/// A world holding the initial population of `scenario` for one replication.
pub fn build_world(scenario: Arc<Scenario>, replication: u64) -> World {
    let mut world = World::new();
    rng::insert_streams(&mut world, scenario.seed, replication);
    spawn::spawn_population(&mut world, &scenario);
    let n_clusters = scenario.clusters.len();
    world.insert_resource(Clock::new(scenario.start_year));
    world.insert_resource(PolicyEffects::default());
    world.insert_resource(IpoWindow::default());
    world.insert_resource(YearCounters { clusters: vec![ClusterCounters::default(); n_clusters] });
    let mut pipelines = world.query::<&components::Pipeline>();
    let (projects, products) =
        pipelines.iter(&world).fold((0, 0), |(j, d), p| (j + p.projects.len() as u64, d + p.products.len() as u64));
    world.insert_resource(PipelineStats {
        initial_projects: projects,
        initial_products: products,
        ..Default::default()
    });
    world.insert_resource(RunRecord::default());
    world.insert_resource(Params(scenario));
    world
}

/// Runs one replication to the horizon; `on_year` is called after each simulated year.
pub fn run_replication(scenario: Arc<Scenario>, replication: u64, mut on_year: impl FnMut(u32)) -> RunRecord {
    let months = scenario.months();
    let mut world = build_world(scenario, replication);
    let mut schedule = build_schedule();
    for month in 0..months {
        schedule.run(&mut world);
        if month % 12 == 11 {
            on_year(month / 12 + 1);
        }
    }
    observe::finish(&mut world)
}

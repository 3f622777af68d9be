//! A simulation: the tick schedule (every mechanism system in tick order), a world built from a
//! scenario, and one replication run to its horizon. Sits above `model` (data) and `systems`
//! (mechanisms), so imports run one way.

use std::sync::Arc;

use bevy_ecs::prelude::*;

use crate::model::resources::*;
use crate::model::{Tick, compact, components, rng, spawn};
use crate::observe::{self, RunRecord};
use crate::scenario::Scenario;
use crate::systems;

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
    let instruments = scenario.policies.iter().map(|p| p.name.as_str());
    world.insert_resource(rng::PolicyRng::new(scenario.seed, replication, instruments));
    spawn::spawn_population(&mut world, &scenario);
    let n_clusters = scenario.clusters.len();
    world.insert_resource(Clock::new(scenario.start_year));
    world.insert_resource(PolicyEffects::default());
    world.insert_resource(InstrumentUse::default());
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
    world.insert_resource(Counterfactual::default());
    world.insert_resource(Params(scenario));
    world
}

/// Runs one replication to the horizon; `on_year` is called after each simulated year.
pub fn run_replication(scenario: Arc<Scenario>, replication: u64, on_year: impl FnMut(u32)) -> RunRecord {
    run_counterfactual(scenario, replication, Counterfactual::default(), on_year)
}

/// A replication in which the alliance kinds `counterfactual` blocks are never formed (same seeds);
/// with nothing blocked it is `run_replication`.
pub fn run_counterfactual(
    scenario: Arc<Scenario>,
    replication: u64,
    counterfactual: Counterfactual,
    mut on_year: impl FnMut(u32),
) -> RunRecord {
    let mut world = build_world(scenario, replication);
    world.insert_resource(counterfactual);
    run_world(&mut world, |year, _| {
        on_year(year);
        true
    });
    observe::finish(&mut world)
}

/// One replication watched year by year: `on_year` sees the record so far after each simulated
/// year and returns whether to go on. `None` if it stopped the run. The interactive page streams
/// with it; the run is the same as `run_replication`'s.
pub fn run_watched(
    scenario: Arc<Scenario>,
    replication: u64,
    on_year: impl FnMut(u32, &RunRecord) -> bool,
) -> Option<RunRecord> {
    let mut world = build_world(scenario, replication);
    run_world(&mut world, on_year).then(|| observe::finish(&mut world))
}

/// Runs the tick schedule to the horizon (or a population overflow); false if `on_year` stopped it.
fn run_world(world: &mut World, mut on_year: impl FnMut(u32, &RunRecord) -> bool) -> bool {
    let months = world.resource::<Params>().0.months();
    let mut schedule = build_schedule();
    for month in 0..months {
        schedule.run(world);
        if world.resource::<Registry>().overflow_month.is_some() {
            break;
        }
        if month % 12 == 11 {
            compact::compact_firms(world);
            if !on_year(month / 12 + 1, world.resource::<RunRecord>()) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::write;

    /// Compaction only moves live firms to a fresh table in the same order: a run without it writes
    /// the same bytes.
    #[test]
    fn compacting_the_firm_table_changes_no_output() {
        let scenario = Arc::new(Scenario::default_scenario());
        let compacted = run_replication(Arc::clone(&scenario), 1, |_| {});
        let mut world = build_world(Arc::clone(&scenario), 1);
        let mut schedule = build_schedule();
        for _ in 0..scenario.months() {
            schedule.run(&mut world);
        }
        let mut firms = world.query_filtered::<(), With<components::Firm>>();
        let rows = firms.iter(&world).count();
        let plain = observe::finish(&mut world);
        let live = plain.final_degrees.iter().filter(|(k, _)| *k == components::AgentKind::Firm).count();
        assert!(rows > 2 * live, "the uncompacted table should hold many exited firms ({rows} rows, {live} live)");
        assert_eq!(write::timeseries_csv(&compacted), write::timeseries_csv(&plain));
        assert_eq!(write::panel_csv(&compacted), write::panel_csv(&plain));
        assert_eq!(write::network_edges_csv(&compacted), write::network_edges_csv(&plain));
        assert_eq!(write::network_nodes_csv(&scenario, &compacted), write::network_nodes_csv(&scenario, &plain));
        assert_eq!(compacted.exits, plain.exits);
    }
}

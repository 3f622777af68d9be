//! Clock: advances the simulated month, opens each new year's tallies and prunes exited firms from
//! the registry's list of live firms. Nothing else.

use bevy_ecs::prelude::*;

use crate::model::Tick;
use crate::model::ledger::Ledger;
use crate::model::resources::{Clock, ClusterCounters, Registry, YearCounters};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(advance_clock.in_set(Tick::Clock));
}

fn advance_clock(
    mut clock: ResMut<Clock>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
    mut registry: ResMut<Registry>,
) {
    clock.advance();
    registry.prune_exited_firms();
    ledger.set_month(clock.month);
    if clock.is_year_start() {
        ledger.start_year();
        for c in &mut counters.clusters {
            *c = ClusterCounters::default();
        }
    }
}

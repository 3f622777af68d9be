//! Clock: advances the simulated month and opens each new year's tallies. Nothing else.

use bevy_ecs::prelude::*;

use crate::model::Tick;
use crate::model::ledger::Ledger;
use crate::model::resources::{Clock, ClusterCounters, YearCounters};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(advance_clock.in_set(Tick::Clock));
}

fn advance_clock(mut clock: ResMut<Clock>, mut ledger: ResMut<Ledger>, mut counters: ResMut<YearCounters>) {
    clock.advance();
    ledger.set_month(clock.month);
    if clock.is_year_start() {
        ledger.start_year();
        for c in &mut counters.clusters {
            *c = ClusterCounters::default();
        }
    }
}

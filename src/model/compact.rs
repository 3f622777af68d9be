//! Keeps the firm table dense in live firms. Exit is a status, so an exited firm's row would stay in
//! the table and every monthly firm loop would walk past it: by the end of a long run most rows are
//! dead (at 100x the default, 86,000 of 117,000), and the walk over them costs more memory traffic than
//! the live firms' work. At a year end, after the record has read the year's exits, once a quarter
//! or more of the rows are exited firms, the firm table is rebuilt with the live firms only,
//! respawned in id order, so queries still visit firms in id order (the order every mechanism's
//! draws follow) and their cost follows the living population. The ledger gives up the exited
//! firms' yearly-inflow rows at the same time (`Ledger::retire`). When it happens changes no result,
//! only the time a run takes.

use bevy_ecs::prelude::*;

use super::components::{AgentId, Firm, FirmBundle};
use super::ledger::Ledger;
use super::resources::Registry;

/// Despawns exited firms and respawns the live ones, in id order, into a fresh table; updates the
/// registry's entity handles. Nothing reads an exited firm's components after its exit year
/// (the registry keeps its kind, home, exit and `alive` flag).
pub fn compact_firms(world: &mut World) {
    let mut firms = world.query::<(Entity, &AgentId, &Firm)>();
    let rows: Vec<(Entity, u32, bool)> = firms.iter(world).map(|(e, id, f)| (e, id.0, f.is_alive())).collect();
    let exited = rows.iter().filter(|&&(_, _, alive)| !alive).count();
    if exited * 4 < rows.len() || exited == 0 {
        return;
    }
    // Spawn order is id order; keep it.
    debug_assert!(rows.windows(2).all(|w| w[0].1 < w[1].1), "firm table in id order");
    let mut live: Vec<(u32, FirmBundle)> = Vec::with_capacity(rows.len() - exited);
    for &(entity, id, alive) in &rows {
        if alive {
            let bundle = world.entity_mut(entity).take::<FirmBundle>().expect("a firm has every firm component");
            live.push((id, bundle));
        }
        world.despawn(entity);
    }
    for (id, bundle) in live {
        let entity = world.spawn(bundle).id();
        world.resource_mut::<Registry>().entities[id as usize] = entity;
    }
    // bevy_ecs keeps a removal message for every component taken or despawned until its trackers are
    // cleared, which only an App does each frame: nothing here reads them, so they are dropped rather
    // than piling up over a run (both of the double buffer).
    world.clear_trackers();
    world.clear_trackers();
    // The ledger's yearly rows likewise: exited firms receive nothing more.
    let alive = world.resource::<Registry>().alive.clone();
    world.resource_mut::<Ledger>().retire(&alive);
}

//! Exit and takeover (MODEL.md mechanism 9).
//!
//! - Failure: a firm whose cash is negative at month end, after every source of money has had its
//!   chance, fails. Its creditors absorb the unpaid bills (a write-off brings its account to zero),
//!   its alliances end, and it takes no further action.
//! - Takeover: each month a pharma partner acquires with probability `exit.acquisitions_per_year` / 12.
//!   Targets are alive firms with a project at `exit.min_stage_for_takeover` or later (or a marketed
//!   product); the buyer screens its partners and a random sample of such firms, weighted by (1 + `exit.partner_preference` for a current partner) x (2 if the firm's
//!   focus is one of the pharma's gap fields). Price: `exit.valuation_base_musd` x
//!   `exit.valuation_stage_multiplier`^maturity x log-normal noise, paid to the selling shareholders if
//!   the pharma can afford it; the firm's cash passes to its new owner (Movetis by Shire, Devgen by
//!   Syngenta, seed 003).

use bevy_ecs::prelude::*;

use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Home, Pharma, Pipeline, Status};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, Params, Registry, YearCounters};
use crate::model::rng::{Draws, ExitRng};

/// Firms a buyer screens at random per deal, besides its partners (assumed).
const TARGETS_SCREENED: usize = 20;

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems((fail_insolvent_firms, take_over_firms).chain().in_set(Tick::Exit));
}

fn fail_insolvent_firms(
    clock: Res<Clock>,
    mut registry: ResMut<Registry>,
    mut firms: Query<(&AgentId, &Home, &mut Firm)>,
    mut book: ResMut<AllianceBook>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
) {
    for (id, home, mut firm) in &mut firms {
        let cash = ledger.balance(id.0);
        if !firm.is_alive() || cash >= 0.0 {
            continue;
        }
        ledger.transfer(Account::External(External::Creditors), Account::Agent(id.0), -cash, Flow::WriteOff);
        close(&mut firm, id.0, Status::Failed, clock.month, &mut registry, &mut book);
        counters.clusters[home.cluster].failures += 1;
    }
}

#[allow(clippy::too_many_arguments)]
fn take_over_firms(
    clock: Res<Clock>,
    params: Res<Params>,
    mut registry: ResMut<Registry>,
    pharmas: Query<(&AgentId, &Pharma)>,
    mut firms: Query<(&AgentId, &Home, &mut Firm, &Pipeline)>,
    mut book: ResMut<AllianceBook>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<ExitRng>,
) {
    let ex = &params.exit;
    let min_maturity = ex.min_stage_for_takeover.index();
    // Targets mature enough for a pharma to want them: one pass a month, shared by all buyers.
    let eligible: Vec<(u32, usize, usize)> = firms
        .iter()
        .filter(|(_, _, firm, pipeline)| firm.is_alive() && pipeline.maturity() >= min_maturity)
        .map(|(id, _, firm, pipeline)| (id.0, pipeline.maturity(), firm.focus))
        .collect();
    for (buyer, pharma) in &pharmas {
        if eligible.is_empty() || !rng.chance(ex.acquisitions_per_year / 12.0) {
            continue;
        }
        // The buyer screens a random sample of the market plus its own partners (O(1) per deal).
        let mut shortlist: Vec<(u32, usize, usize)> =
            (0..TARGETS_SCREENED).map(|_| eligible[rng.index(eligible.len())]).collect();
        for &i in book.active_of(buyer.0) {
            let partner = book.alliances[i as usize].other(buyer.0);
            // `eligible` is in id order (query order), so a binary search finds partners.
            if let Ok(k) = eligible.binary_search_by_key(&partner, |t| t.0) {
                shortlist.push(eligible[k]);
            }
        }
        shortlist.sort_unstable();
        shortlist.dedup();
        let mut targets: Vec<(u32, usize)> = Vec::new();
        let mut weights: Vec<f64> = Vec::new();
        for (id, maturity, focus) in shortlist {
            let partner = book.active_of(id).iter().any(|&i| book.alliances[i as usize].other(id) == buyer.0);
            let gap = pharma.gap_fields.contains(&focus);
            targets.push((id, maturity));
            weights.push((1.0 + if partner { ex.partner_preference } else { 0.0 }) * if gap { 2.0 } else { 1.0 });
        }
        let Some(k) = rng.weighted(&weights) else {
            continue;
        };
        let (target, maturity) = targets[k];
        let price = ex.valuation_base_musd
            * ex.valuation_stage_multiplier.powi(maturity as i32)
            * rng.lognormal(1.0, ex.valuation_sigma);
        if ledger.balance(buyer.0) < price {
            continue;
        }
        let Ok((_, home, mut firm, _)) = firms.get_mut(registry.entities[target as usize]) else {
            continue;
        };
        // `eligible` is built once a month: another buyer may have taken this firm already.
        if !firm.is_alive() {
            continue;
        }
        ledger.transfer(
            Account::Agent(buyer.0),
            Account::External(External::Shareholders),
            price,
            Flow::AcquisitionPrice,
        );
        let cash = ledger.balance(target).max(0.0);
        ledger.transfer(Account::Agent(target), Account::Agent(buyer.0), cash, Flow::AcquiredCash);
        close(&mut firm, target, Status::Acquired, clock.month, &mut registry, &mut book);
        counters.clusters[home.cluster].acquisitions += 1;
    }
}

/// Marks a firm as gone: status, exit month, registry flag, alliances ended.
fn close(firm: &mut Firm, id: u32, status: Status, month: u32, registry: &mut Registry, book: &mut AllianceBook) {
    firm.status = status;
    firm.exit_month = Some(month);
    registry.alive[id as usize] = false;
    book.end_all_of(id, month);
}

//! Exit and takeover (MODEL.md mechanism 9).
//!
//! - Failure: a firm whose cash is negative at month end, after every source of money has had its
//!   chance, fails. Its creditors absorb the unpaid bills (a write-off brings its account to zero),
//!   its alliances end, and it takes no further action.
//! - Closure: a loss-making firm with weak prospects may be wound up before its cash runs out
//!   (`exit.closure_rate_per_year`, see `close_weak_firms`); it counts as a failure.
//! - Takeover: a hazard per target. Each month every alive firm with a project at
//!   `exit.min_stage_for_takeover` or later (or a marketed product) draws a bid with probability
//!   `exit.takeover_rate_per_year` / 12 x (0.5 + 0.5 q), q its knowledge quality, so takeovers scale
//!   with the supply and quality of targets. Price: (`exit.valuation_base_musd` x
//!   `exit.valuation_stage_multiplier`^maturity + `exit.sales_multiple` x trailing yearly sales) x
//!   log-normal noise. The bidder is drawn among pharma
//!   partners whose dealmaking budget still covers the price this month (the demand side), weighted
//!   by (1 + `exit.partner_preference` for a current partner) x (2 if the firm's focus is one of its gap
//!   fields); no such buyer, no deal. The price goes to the selling shareholders, the firm's cash to
//!   its new owner (Movetis by Shire, Devgen by Syngenta, seed 003), and its projects and products into
//!   the acquirer's pipeline, where they carry on at the same stage rates and durations (`pipeline`).

use bevy_ecs::prelude::*;

use super::saturation;
use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Home, Knowledge, Pharma, Pipeline, Status};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, Params, PipelineStats, Registry, YearCounters};
use crate::model::rng::{Draws, ExitRng};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems((close_weak_firms, fail_insolvent_firms, take_over_firms).chain().in_set(Tick::Exit));
}

/// Voluntary closure: founders and investors wind up a loss-making firm with weak prospects before
/// its cash runs out. Monthly probability `exit.closure_rate_per_year` / 12 x (1 - a) x (1 - c), a its
/// investor appeal (knowledge, maturity, network; `finance::attractiveness`) and c the share of its
/// costs that sales cover: a firm that pays its way never closes, a weak loss-maker does at about the
/// full rate. What cash is left goes back to its owners.
#[allow(clippy::too_many_arguments)]
fn close_weak_firms(
    clock: Res<Clock>,
    params: Res<Params>,
    mut registry: ResMut<Registry>,
    mut firms: Query<(&AgentId, &Home, &mut Firm, &Pipeline, &Knowledge)>,
    mut stats: ResMut<PipelineStats>,
    mut book: ResMut<AllianceBook>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<ExitRng>,
) {
    let rate = params.exit.closure_rate_per_year / 12.0;
    if rate <= 0.0 {
        return;
    }
    for (id, home, mut firm, pipeline, knowledge) in &mut firms {
        if !firm.is_alive() {
            continue;
        }
        let costs = firm.monthly_costs();
        let coverage = if costs > 0.0 { (firm.revenue_trailing / 12.0 / costs).min(1.0) } else { 1.0 };
        let appeal = super::finance::investor_appeal(&params, &book, id.0, &firm, knowledge, pipeline.maturity());
        if !rng.chance(rate * (1.0 - appeal) * (1.0 - coverage)) {
            continue;
        }
        stats.lost_in_failures += pipeline.projects.len() as u64;
        stats.products_lost_in_failures += pipeline.products.len() as u64;
        let cash = ledger.balance(id.0).max(0.0);
        ledger.transfer(Account::Agent(id.0), Account::External(External::Founders), cash, Flow::Liquidation);
        close(&mut firm, id.0, Status::Failed, clock.month, &mut registry, &mut book);
        counters.clusters[home.cluster].failures += 1;
    }
}

fn fail_insolvent_firms(
    clock: Res<Clock>,
    mut registry: ResMut<Registry>,
    mut firms: Query<(&AgentId, &Home, &mut Firm, &Pipeline)>,
    mut stats: ResMut<PipelineStats>,
    mut book: ResMut<AllianceBook>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
) {
    for (id, home, mut firm, pipeline) in &mut firms {
        // The alive test first: an exited firm's account is not read (a cache miss at scale).
        if !firm.is_alive() {
            continue;
        }
        let cash = ledger.balance(id.0);
        if cash >= 0.0 {
            continue;
        }
        stats.lost_in_failures += pipeline.projects.len() as u64;
        stats.products_lost_in_failures += pipeline.products.len() as u64;
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
    mut pharmas: Query<(&AgentId, &Pharma, &mut Pipeline), Without<Firm>>,
    mut firms: Query<(&AgentId, &Home, &mut Firm, &mut Pipeline, &Knowledge), Without<Pharma>>,
    mut book: ResMut<AllianceBook>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
    mut stats: ResMut<PipelineStats>,
    mut rng: ResMut<ExitRng>,
) {
    let ex = &params.exit;
    let hazard = ex.takeover_rate_per_year / 12.0;
    if hazard <= 0.0 || pharmas.is_empty() {
        return;
    }
    let min_maturity = ex.min_stage_for_takeover.index();
    let buyers: Vec<(u32, Vec<usize>)> = pharmas.iter().map(|(id, p, _)| (id.0, p.gap_fields.clone())).collect();
    // Money each buyer has already committed this month.
    let mut committed = vec![0.0; buyers.len()];
    let mut deals: Vec<(u32, usize, f64)> = Vec::new();
    let mut weights = vec![0.0; buyers.len()];
    for (id, _, firm, pipeline, knowledge) in &firms {
        if !firm.is_alive() {
            continue;
        }
        let maturity = pipeline.maturity();
        if maturity < min_maturity {
            continue;
        }
        // Each target draws its own hazard (better science draws more interest), so takeovers scale
        // with the supply of targets, and a deal needs a buyer with the money (the demand side).
        let quality = saturation(knowledge.0[firm.focus], params.research.knowledge_half_saturation);
        if !rng.chance(hazard * (0.5 + 0.5 * quality)) {
            continue;
        }
        // The pipeline's value by maturity, plus the going business at a multiple of its sales.
        let price = (ex.valuation_base_musd * ex.valuation_stage_multiplier.powi(maturity as i32)
            + ex.sales_multiple * firm.revenue_trailing)
            * rng.lognormal(1.0, ex.valuation_sigma);
        for (b, (buyer, gaps)) in buyers.iter().enumerate() {
            let affordable = ledger.balance(*buyer) - committed[b] >= price;
            let partner = book.active_of(id.0).iter().any(|t| t.other == *buyer);
            let gap = gaps.contains(&firm.focus);
            weights[b] = if affordable {
                (1.0 + if partner { ex.partner_preference } else { 0.0 }) * if gap { 2.0 } else { 1.0 }
            } else {
                0.0
            };
        }
        if let Some(b) = rng.weighted(&weights) {
            committed[b] += price;
            deals.push((id.0, b, price));
        }
    }
    for (target, b, price) in deals {
        let buyer = buyers[b].0;
        let Ok((_, home, mut firm, mut pipeline, _)) = firms.get_mut(registry.entities[target as usize]) else {
            continue;
        };
        let Ok((_, _, mut portfolio)) = pharmas.get_mut(registry.entities[buyer as usize]) else { continue };
        ledger.transfer(
            Account::Agent(buyer),
            Account::External(External::Shareholders),
            price,
            Flow::AcquisitionPrice,
        );
        let cash = ledger.balance(target).max(0.0);
        ledger.transfer(Account::Agent(target), Account::Agent(buyer), cash, Flow::AcquiredCash);
        stats.transferred_in_takeovers += pipeline.projects.len() as u64;
        stats.products_transferred += pipeline.products.len() as u64;
        transfer_pipeline(&mut pipeline, &mut portfolio, buyer);
        close(&mut firm, target, Status::Acquired, clock.month, &mut registry, &mut book);
        counters.clusters[home.cluster].acquisitions += 1;
    }
}

/// Moves a target's projects and products into the acquirer's pipeline. What the acquirer had
/// licensed or co-developed becomes simply its own; other partners' contracts carry on.
pub fn transfer_pipeline(from: &mut Pipeline, to: &mut Pipeline, acquirer: u32) {
    for mut project in from.projects.drain(..) {
        if project.licensee == Some(acquirer) {
            project.licensee = None;
            project.royalty_rate = 0.0;
            project.milestone_musd = 0.0;
        }
        if project.codeveloper == Some(acquirer) {
            project.codeveloper = None;
        }
        project.months_waiting = 0;
        to.projects.push(project);
    }
    for mut product in from.products.drain(..) {
        if product.licensee == Some(acquirer) {
            product.licensee = None;
            product.royalty_rate = 0.0;
        }
        if product.codeveloper == Some(acquirer) {
            product.codeveloper = None;
        }
        to.products.push(product);
    }
}

/// Marks a firm as gone: status, exit month, registry flag, alliances ended.
fn close(firm: &mut Firm, id: u32, status: Status, month: u32, registry: &mut Registry, book: &mut AllianceBook) {
    firm.status = status;
    firm.exit_month = Some(month);
    registry.alive[id as usize] = false;
    registry.exits.push((id, month));
    book.end_all_of(id, month);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Stage;
    use crate::model::components::{Product, Project};

    fn project(id: u32, licensee: Option<u32>, codeveloper: Option<u32>) -> Project {
        let mut p = Project::new(id, 0, Stage::Phase2, 40, 1);
        p.months_in_stage = 3;
        p.licensee = licensee;
        p.royalty_rate = if licensee.is_some() { 0.15 } else { 0.0 };
        p.milestone_musd = if licensee.is_some() { 30.0 } else { 0.0 };
        p.codeveloper = codeveloper;
        p
    }

    #[test]
    fn a_takeover_moves_every_project_and_product_and_keeps_third_party_contracts() {
        let mut target = Pipeline {
            projects: smallvec::smallvec![
                project(1, None, None),
                project(2, Some(50), None),
                project(3, Some(60), Some(50))
            ],
            products: vec![Product {
                field: 0,
                peak_sales_musd_per_year: 80.0,
                launch_month: -10,
                licensee: Some(50),
                royalty_rate: 0.2,
                codeveloper: None,
                origin_cluster: 1,
            }],
        };
        let mut acquirer = Pipeline { projects: smallvec::smallvec![project(9, None, None)], products: vec![] };
        transfer_pipeline(&mut target, &mut acquirer, 50);
        assert!(target.projects.is_empty() && target.products.is_empty());
        let ids: Vec<u32> = acquirer.projects.iter().map(|p| p.id).collect();
        assert_eq!(ids, vec![9, 1, 2, 3]);
        // What the acquirer had licensed is now simply its own; another partner's licence carries on.
        assert_eq!(acquirer.projects[2].licensee, None);
        assert_eq!(acquirer.projects[2].royalty_rate, 0.0);
        assert_eq!(acquirer.projects[3].licensee, Some(60));
        assert_eq!(acquirer.projects[3].codeveloper, None);
        assert_eq!(acquirer.products.len(), 1);
        assert_eq!(acquirer.products[0].licensee, None);
        assert!(acquirer.projects.iter().all(|p| p.origin_cluster == 1 || p.id == 9));
    }
}

//! Finance (MODEL.md mechanism 7): cash burn, venture rounds, IPOs, follow-on offerings, hiring.
//!
//! - Burn: wages (employees x `firms.wage_musd_per_employee_year` / 12) and overhead, cut by
//!   `finance.infrastructure_cost_saving` x the cluster's effective infrastructure level (shared labs,
//!   GMP and clinical facilities), plus fees for university collaborations. R&D spend = the R&D share
//!   of wages + the firm's own project costs.
//! - Rounds: a firm with less than `finance.min_runway_months` of runway seeks money. Each month it
//!   closes a VC round with probability `finance.rounds_per_year` / 12 x VC presence x attractiveness
//!   (x (1 + `finance.financing_alliance_boost`) with a financing partner). Attractiveness is the mean
//!   of knowledge quality, pipeline maturity, network (alliances / 3, capped) and a floor of 1.
//!   The investor is drawn among funds with money, local ones first (`finance.remote_investor_factor`
//!   for others). Round size: log-normal, median `finance.round_median_musd` (research 3.3: ~$10 M)
//!   x (1 + `finance.stage_round_multiplier` x maturity).
//! - IPO: an unlisted firm at least `finance.ipo_min_age_years` old with a clinical project or a
//!   product floats with probability `finance.ipo_rate_per_year` / 12 while the window is open. The
//!   window is a yearly two-state Markov chain. Listed firms short of cash raise follow-ons.
//! - Hiring: staff move toward what the firm can pay for over `finance.target_runway_months`,
//!   hiring faster in clusters with a deeper labour pool.
//! - Year start: funds receive new commitments (more where VC presence is higher); pharma partners'
//!   dealmaking budgets are topped up by their groups.

use bevy_ecs::prelude::*;

use super::saturation;
use crate::kinds::AllianceKind;
use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Home, Investor, Knowledge, Pipeline, ProjectSpend};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, IpoWindow, Params, PolicyEffects, Registry, YearCounters};
use crate::model::rng::{Draws, FinanceRng};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems((open_finance_year, run_firm_finances).chain().in_set(Tick::Finance));
}

fn open_finance_year(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    investors: Query<(&AgentId, &Home, &Investor)>,
    mut window: ResMut<IpoWindow>,
    mut ledger: ResMut<Ledger>,
    mut rng: ResMut<FinanceRng>,
) {
    if !clock.is_year_start() {
        return;
    }
    let f = &params.finance;
    window.open = rng.chance(if window.open { f.ipo_window_stay_probability } else { f.ipo_window_open_probability });
    for (id, home, investor) in &investors {
        if investor.public_policy.is_none() {
            let vc = params.clusters[home.cluster].environment.vc_presence;
            let commitments = params.investors.annual_commitments_musd * (0.5 + vc);
            ledger.transfer(
                Account::External(External::LimitedPartners),
                Account::Agent(id.0),
                commitments,
                Flow::FundCommitment,
            );
        }
    }
    for &pharma in &registry.pharma {
        let top_up = params.pharma.dealmaking_budget_musd_per_year - ledger.balance(pharma);
        ledger.transfer(
            Account::External(External::PharmaGroups),
            Account::Agent(pharma),
            top_up.max(0.0),
            Flow::PharmaBudget,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn run_firm_finances(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    effects: Res<PolicyEffects>,
    window: Res<IpoWindow>,
    book: Res<AllianceBook>,
    mut firms: Query<(&AgentId, &Home, &mut Firm, &Pipeline, &Knowledge, &ProjectSpend)>,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<FinanceRng>,
) {
    let f = &params.finance;
    let fp = &params.firms;
    let suppliers = Account::External(External::Suppliers);

    for (id, home, mut firm, pipeline, knowledge, spend) in &mut firms {
        if !firm.is_alive() {
            continue;
        }
        let me = Account::Agent(id.0);
        let env = params.clusters[home.cluster].environment;

        // Costs.
        let cost_factor = 1.0 - f.infrastructure_cost_saving * effects.infrastructure[home.cluster];
        let wages = firm.employees * fp.wage_musd_per_employee_year / 12.0 * cost_factor;
        let overhead = fp.overhead_musd_per_month * cost_factor;
        ledger.transfer(me, suppliers, wages, Flow::Wages);
        ledger.transfer(me, suppliers, overhead, Flow::Overhead);
        let mut fees = 0.0;
        for &i in book.active_of(id.0) {
            let alliance = &book.alliances[i as usize];
            if alliance.kind == AllianceKind::UniversityCollaboration {
                let fee = params.alliances.university_fee_musd_per_month;
                ledger.transfer(me, Account::Agent(alliance.other(id.0)), fee, Flow::UniversityFee);
                fees += fee;
            }
        }
        let rd_share = params.business_models.by_model[firm.model as usize].rd_staff_share;
        firm.rd_month = wages * rd_share + spend.0;
        firm.burn_month = wages + overhead + fees + spend.0;
        firm.revenue_trailing = firm.revenue_trailing * (11.0 / 12.0) + ledger.take_month_revenue(id.0);

        // Raising money.
        let cash = ledger.balance(id.0);
        let maturity = pipeline.maturity();
        if cash < f.min_runway_months * firm.burn_month {
            if firm.listed {
                if rng.chance(f.follow_on_rate_per_year / 12.0) {
                    let amount = rng.lognormal(f.follow_on_median_musd, f.round_sigma);
                    ledger.transfer(Account::External(External::PublicMarkets), me, amount, Flow::FollowOn);
                }
            } else {
                let quality = saturation(knowledge.0[firm.focus], params.research.knowledge_half_saturation);
                let network = (book.degree(id.0) as f64 / 3.0).min(1.0);
                let appeal = attractiveness(quality, maturity, network);
                let boost =
                    if book.has_active(id.0, AllianceKind::Financing) { 1.0 + f.financing_alliance_boost } else { 1.0 };
                if rng.chance(f.rounds_per_year / 12.0 * env.vc_presence * appeal * boost) {
                    let size = rng.lognormal(
                        f.round_median_musd * (1.0 + f.stage_round_multiplier * maturity as f64),
                        f.round_sigma,
                    );
                    if let Some(investor) =
                        find_investor(&registry, home.cluster, size, f.remote_investor_factor, &ledger, &mut rng)
                    {
                        ledger.transfer(Account::Agent(investor), me, size, Flow::VcRound);
                    }
                }
            }
        }
        if !firm.listed
            && window.open
            && firm.age_years(clock.month) >= f.ipo_min_age_years
            && maturity >= 2
            && rng.chance(f.ipo_rate_per_year / 12.0)
        {
            let proceeds = rng.lognormal(f.ipo_median_musd, f.round_sigma);
            ledger.transfer(Account::External(External::PublicMarkets), me, proceeds, Flow::IpoProceeds);
            firm.listed = true;
            counters.clusters[home.cluster].ipos += 1;
        }

        // Hiring toward what the firm can afford.
        let cost_per_employee = fp.wage_musd_per_employee_year / 12.0 * cost_factor;
        let budget = ledger.balance(id.0).max(0.0) / f.target_runway_months + firm.revenue_trailing / 12.0;
        let target = (f.staff_budget_share * budget / cost_per_employee).max(1.0);
        let rate = if target > firm.employees {
            f.hire_rate_per_month * (0.5 + env.labour_pool)
        } else {
            f.layoff_rate_per_month
        };
        firm.employees = (firm.employees + rate.min(1.0) * (target - firm.employees)).max(1.0);
    }
}

/// How many funds a firm pitches to per round (assumed): keeps the search O(1) per firm.
const FUNDS_PITCHED: usize = 4;

/// A private fund with at least `size` to invest, found by pitching a few funds: each pitch goes to
/// a local fund, or with probability `remote_factor` / (1 + `remote_factor`) to a fund anywhere.
fn find_investor(
    registry: &Registry,
    cluster: usize,
    size: f64,
    remote_factor: f64,
    ledger: &Ledger,
    rng: &mut FinanceRng,
) -> Option<u32> {
    let local = &registry.by_cluster[cluster].investors;
    for _ in 0..FUNDS_PITCHED {
        let pool = if local.is_empty() || rng.chance(remote_factor / (1.0 + remote_factor)) {
            &registry.investors
        } else {
            local
        };
        if pool.is_empty() {
            return None;
        }
        let fund = pool[rng.index(pool.len())];
        if registry.public_funds.contains(&Some(fund)) {
            continue;
        }
        if ledger.balance(fund) >= size {
            return Some(fund);
        }
    }
    None
}

/// Investor appeal in [0.25, 1]: equal weights on knowledge quality, pipeline maturity (0..6),
/// network (0..1) and a floor (assumed).
pub fn attractiveness(quality: f64, maturity: usize, network: f64) -> f64 {
    0.25 * (1.0 + quality.clamp(0.0, 1.0) + (maturity as f64 / 6.0).min(1.0) + network.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attractiveness_spans_a_quarter_to_one() {
        assert_eq!(attractiveness(0.0, 0, 0.0), 0.25);
        assert_eq!(attractiveness(1.0, 6, 1.0), 1.0);
    }
}

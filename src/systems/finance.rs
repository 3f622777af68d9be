//! Finance (MODEL.md mechanism 7): cash burn, venture rounds, IPOs, follow-on offerings, hiring.
//!
//! - Burn: wages (employees x `firms.wage_musd_per_employee_year` / 12) and overhead, cut by
//!   `finance.infrastructure_cost_saving` x the cluster's effective infrastructure level (shared labs,
//!   GMP and clinical facilities), plus fees for university collaborations. R&D spend = the R&D share
//!   of wages + the firm's own project costs.
//! - Rounds: a firm with less than `finance.min_runway_months` of runway at its net burn (costs less
//!   sales), or with a project waiting for money to start a stage, seeks money. Each month it
//!   closes a VC round with probability `finance.rounds_per_year` / 12 x VC presence x attractiveness
//!   (x (1 + `finance.financing_alliance_boost`) with a financing partner). Attractiveness is the mean
//!   of knowledge quality, pipeline maturity, network (alliances / 3, capped) and a floor of 1.
//!   The investor is drawn among funds with money, local ones first (`finance.remote_investor_factor`
//!   for others). Round size: log-normal, median `finance.round_median_musd` (research 3.3: ~$10 M)
//!   x (1 + `finance.stage_round_multiplier` x maturity).
//! - Stock market: the IPO window is a yearly two-state Markov chain (listing itself is in
//!   `listing`). Listed firms short of cash raise follow-ons.
//! - Hiring: staff move toward what the firm can pay for: a share of its cash beyond a reserve of
//!   `finance.target_runway_months` of its current costs, spread over as many months, plus its operating margin before wages (revenue less cost of
//!   goods, partners' commissions and shares, overhead, fees and own project spending) less the
//!   margin `finance.target_operating_margin` it keeps; the cash term is weighted by the share of its
//!   costs that sales do not cover, so a firm that pays its way keeps its earnings ([`StaffPlan`]);
//!   hiring is faster in clusters
//!   with a deeper labour pool.
//! - Year start: funds receive new commitments (more where VC presence is higher); pharma partners'
//!   dealmaking budgets are reset to `pharma.dealmaking_budget_musd_per_year` by their groups.

use bevy_ecs::prelude::*;

use super::saturation;
use crate::kinds::AllianceKind;
use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Home, Investor, Knowledge, Pipeline, ProjectSpend};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, IpoWindow, Params, PolicyEffects, Registry};
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
    // Each partner's dealmaking budget is reset to its level: the group tops it up, or takes back
    // what it earned (sales of acquired products) beyond it.
    for &pharma in &registry.pharma {
        let gap = params.pharma.dealmaking_budget_musd_per_year - ledger.balance(pharma);
        let group = Account::External(External::PharmaGroups);
        if gap >= 0.0 {
            ledger.transfer(group, Account::Agent(pharma), gap, Flow::PharmaBudget);
        } else {
            ledger.transfer(Account::Agent(pharma), group, -gap, Flow::PharmaBudget);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_firm_finances(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    effects: Res<PolicyEffects>,
    book: Res<AllianceBook>,
    mut firms: Query<(&AgentId, &Home, &mut Firm, &Pipeline, &Knowledge, &ProjectSpend)>,
    mut ledger: ResMut<Ledger>,
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
        let revenue = ledger.take_month_revenue(id.0);
        firm.revenue_trailing = firm.revenue_trailing * (11.0 / 12.0) + revenue;
        firm.cost_of_sales_trailing = firm.cost_of_sales_trailing * (11.0 / 12.0) + firm.cost_of_sales_month;
        firm.cost_of_sales_month = 0.0;
        if revenue > 0.0 && firm.first_sales_month.is_none() {
            firm.first_sales_month = Some(i64::from(clock.month));
        }

        // Raising money.
        let cash = ledger.balance(id.0);
        let maturity = pipeline.maturity();
        // Money is sought when the runway at the current net burn (costs less what sales bring in)
        // is short, or a project waits for the money to start a stage. A firm that covers its costs
        // has no runway problem.
        let waiting = pipeline.projects.iter().any(|p| p.months_waiting > 0);
        let net_burn = firm.burn_month + firm.cost_of_sales_trailing / 12.0 - firm.revenue_trailing / 12.0;
        if (net_burn > 0.0 && cash < f.min_runway_months * net_burn) || waiting {
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
        // Staffing on margins: the wage bill the firm plans for is what its cash can fund over
        // `finance.target_runway_months` (the `finance.staff_budget_share` of it) plus its operating
        // margin before wages, net of cost of sales, overhead, fees and its own project spending,
        // less the `finance.target_operating_margin` it keeps. A firm with revenue thus hires on
        // what it earns, not on what it sells.
        let cost_per_employee = fp.wage_musd_per_employee_year / 12.0 * cost_factor;
        let plan = StaffPlan {
            cash: ledger.balance(id.0),
            reserve: f.target_runway_months * (firm.burn_month + firm.cost_of_sales_trailing / 12.0),
            revenue: firm.revenue_trailing / 12.0,
            cost_of_sales: firm.cost_of_sales_trailing / 12.0,
            fixed_costs: overhead + fees + spend.0,
            wages,
        };
        let target = plan.target_staff(f, cost_per_employee);
        let rate = if target > firm.employees {
            f.hire_rate_per_month * (0.5 + env.labour_pool)
        } else {
            f.layoff_rate_per_month
        };
        firm.employees = (firm.employees + rate.min(1.0) * (target - firm.employees)).max(1.0);
    }
}

/// What a firm's staffing decision sees, per month (M$): cash, trailing revenue and cost of sales,
/// and the other non-wage costs (overhead, fees, own project spending).
#[derive(Debug, Clone, Copy)]
pub struct StaffPlan {
    pub cash: f64,
    /// Cash kept back: `finance.target_runway_months` of the firm's current costs.
    pub reserve: f64,
    pub revenue: f64,
    pub cost_of_sales: f64,
    pub fixed_costs: f64,
    /// The current wage bill.
    pub wages: f64,
}

impl StaffPlan {
    /// The monthly wage bill the firm can carry: a share of its cash beyond the reserve, spread over
    /// the same runway and weighted by the share of its costs sales do not cover, plus its margin
    /// before wages, less the operating margin it keeps (may be negative).
    pub fn wage_budget(&self, f: &crate::scenario::FinanceParams) -> f64 {
        // The more of its costs sales already cover, the less a firm spends its reserves on staff:
        // a start-up lives on its investors' money, a firm that pays its way keeps its earnings.
        let costs = self.cost_of_sales + self.fixed_costs + self.wages;
        let coverage = if costs > 0.0 { (self.revenue / costs).min(1.0) } else { 0.0 };
        let from_cash =
            (1.0 - coverage) * f.staff_budget_share * (self.cash - self.reserve).max(0.0) / f.target_runway_months;
        let margin = self.revenue - self.cost_of_sales - self.fixed_costs - f.target_operating_margin * self.revenue;
        from_cash + margin
    }

    /// Head count the wage budget pays for (at least one).
    pub fn target_staff(&self, f: &crate::scenario::FinanceParams, cost_per_employee: f64) -> f64 {
        (self.wage_budget(f) / cost_per_employee).max(1.0)
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

    /// By the staffing rule alone, a firm's planned costs (wages at its target head count plus cost
    /// of sales and other costs) never exceed its revenue plus the cash it plans to draw down.
    #[test]
    fn a_firm_with_margins_does_not_staff_beyond_revenue_and_runway() {
        let f = crate::scenario::Scenario::default_scenario().finance.clone();
        let cost_per_employee = 0.05 / 12.0;
        for &(cash, revenue, cost_of_sales, fixed_costs, wages) in &[
            (0.0, 1.0, 0.3, 0.1, 0.5),
            (50.0, 1.0, 0.3, 0.1, 0.5),
            (5.0, 20.0, 6.0, 1.0, 10.0),
            (200.0, 0.0, 0.0, 0.2, 0.3),
            (1.0, 0.3, 0.0, 0.05, 0.4),
        ] {
            let reserve = f.target_runway_months * (wages + fixed_costs + cost_of_sales);
            let plan = StaffPlan { cash, reserve, revenue, cost_of_sales, fixed_costs, wages };
            let staff = plan.target_staff(&f, cost_per_employee);
            let planned_costs = staff * cost_per_employee + cost_of_sales + fixed_costs;
            let drawdown = f.staff_budget_share * (cash - reserve).max(0.0) / f.target_runway_months;
            assert!(
                planned_costs <= revenue + drawdown + cost_per_employee + 1e-12,
                "costs {planned_costs} beyond revenue {revenue} + drawdown {drawdown} at {plan:?}"
            );
            if cash <= reserve && revenue > 0.0 {
                // Living on its sales alone, it keeps its target margin (or shrinks to one person).
                assert!(planned_costs <= revenue * (1.0 - f.target_operating_margin) + cost_per_employee + 1e-12);
            }
        }
    }

    #[test]
    fn attractiveness_spans_a_quarter_to_one() {
        assert_eq!(attractiveness(0.0, 0, 0.0), 0.25);
        assert_eq!(attractiveness(1.0, 6, 1.0), 1.0);
    }
}

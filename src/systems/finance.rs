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
//!   of knowledge quality, pipeline maturity, network (technological alliances / 3, capped: partners
//!   that vouch for the science) and a floor of 1.
//!   The investor is drawn among funds with money, local ones first (`finance.remote_investor_factor`
//!   for others). Round size: log-normal, median `finance.round_median_musd` (research 3.3: ~$10 M)
//!   x (1 + `finance.stage_round_multiplier` x maturity).
//! - Stock market: the IPO window is a yearly two-state Markov chain (listing itself is in
//!   `listing`). Listed firms short of cash raise follow-ons.
//! - Hiring: staff move toward what the firm can pay for ([`StaffPlan`]): the service staff that
//!   maximise its service business's profit at its market (sales per employee against the wage,
//!   keeping `finance.target_operating_margin`), plus what the margin of its other sales (after cost
//!   of goods, partners' commissions and shares) and that service profit, less overhead and fees,
//!   pays for, plus `finance.staff_budget_share` of its cash not committed to projects under way over
//!   `finance.target_runway_months`, weighted by the share of its costs sales do not cover (a
//!   start-up lives on its investors' money, a firm that pays its way keeps its earnings). Hiring is
//!   faster in clusters with a deeper labour pool.
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

    for (id, home, firm, pipeline, knowledge, spend) in &mut firms {
        // One change mark per firm, not one per field written (nothing reads change ticks).
        let firm = firm.into_inner();
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
        for tie in book.active_of(id.0) {
            if tie.kind == AllianceKind::UniversityCollaboration {
                let fee = params.alliances.university_fee_musd_per_month;
                ledger.transfer(me, Account::Agent(tie.other), fee, Flow::UniversityFee);
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
        firm.service_sales_trailing = firm.service_sales_trailing * (11.0 / 12.0) + firm.service_sales_month;
        firm.service_sales_month = 0.0;
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
        let net_burn = firm.net_burn();
        if (net_burn > 0.0 && cash < f.min_runway_months * net_burn) || waiting {
            if firm.listed {
                if rng.chance(f.follow_on_rate_per_year / 12.0) {
                    let amount = rng.lognormal(f.follow_on_median_musd, f.round_sigma);
                    ledger.transfer(Account::External(External::PublicMarkets), me, amount, Flow::FollowOn);
                }
            } else {
                let appeal = investor_appeal(&params, &book, id.0, firm, knowledge, maturity);
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
        // Cash already committed to stages under way is set aside for them (the pipeline's funding
        // rule started them on it), so neither that cash nor the projects' spending enter the plan.
        let plan = StaffPlan {
            cash: ledger.balance(id.0) - super::pipeline::remaining_commitments(&params, pipeline),
            revenue: firm.revenue_trailing / 12.0,
            service_revenue: firm.service_sales_trailing / 12.0,
            service_yield: firm.service_yield,
            service_market: firm.service_market,
            cost_of_sales: firm.cost_of_sales_trailing / 12.0,
            fixed_costs: overhead + fees,
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

/// What a firm's staffing decision sees, per month (M$): cash not committed to its projects,
/// trailing revenue (all of it, and the services part), the economics of its service business, cost
/// of sales, and the other non-wage operating costs (overhead, fees).
#[derive(Debug, Clone, Copy)]
pub struct StaffPlan {
    pub cash: f64,
    pub revenue: f64,
    pub service_revenue: f64,
    /// Service sales per employee at current demand, and the reachable service market.
    pub service_yield: f64,
    pub service_market: f64,
    pub cost_of_sales: f64,
    pub fixed_costs: f64,
    /// The current wage bill.
    pub wages: f64,
}

impl StaffPlan {
    /// Head count (at least one): the service staff that maximise the service business's profit,
    /// plus what the rest of the budget pays for: the margin of other sales (products, licensing)
    /// after cost of sales, the service business's profit at that size, less fixed costs and the
    /// kept margin, plus a share of cash spread over the target runway, weighted by the share of
    /// costs that sales do not cover (a start-up lives on its investors' money, a firm that pays its
    /// way keeps its earnings). May shrink the firm when fixed costs are not covered.
    pub fn target_staff(&self, f: &crate::scenario::FinanceParams, cost_per_employee: f64) -> f64 {
        let m = f.target_operating_margin;
        let services = optimal_service_staff(self.service_yield, self.service_market, m, cost_per_employee);
        let service_profit = (1.0 - m) * super::revenue::saturate(self.service_yield * services, self.service_market)
            - cost_per_employee * services;
        let other = (self.revenue - self.service_revenue).max(0.0);
        let costs = self.cost_of_sales + self.fixed_costs + self.wages;
        let coverage = if costs > 0.0 { (self.revenue / costs).min(1.0) } else { 0.0 };
        let from_cash = (1.0 - coverage) * f.staff_budget_share * self.cash.max(0.0) / f.target_runway_months;
        // Of an operating surplus the firm spends `finance.profit_reinvestment_share` on more (R&D) staff
        // and keeps the rest; a deficit is cut in full.
        let surplus = (1.0 - m) * other - self.cost_of_sales - self.fixed_costs + service_profit;
        let budget = from_cash + if surplus > 0.0 { f.profit_reinvestment_share * surplus } else { surplus };
        (services + budget / cost_per_employee).max(1.0)
    }
}

/// Service staff E maximising (1 - m) S(yE) - wE, with S the smooth market limit of `revenue::saturate`
/// (sharpness 4): E = (M/y) ((((1 - m) y / w)^(4/5) - 1)^(1/4), and none when a service employee
/// cannot earn its wage. Grows smoothly from zero as the yield passes the wage.
pub fn optimal_service_staff(yield_per_employee: f64, market: f64, margin: f64, wage: f64) -> f64 {
    let ratio = (1.0 - margin) * yield_per_employee / wage;
    if yield_per_employee <= 0.0 || market <= 0.0 || ratio <= 1.0 {
        return 0.0;
    }
    market / yield_per_employee * (ratio.powf(0.8) - 1.0).powf(0.25)
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

/// A firm's investor appeal (`attractiveness`) from its knowledge quality in its focus field, its
/// pipeline maturity and its network: what funds, the technology listing evaluation and founders
/// weighing a closure all look at. The network counts active technological alliances (/ 3, capped):
/// a research, licensing or co-development partner vouches for the science (an endorsement: Stuart,
/// Hoang & Hybels 1999), a marketing or distribution partner or another fund does not, and a
/// financing partner's own pull is `finance.financing_alliance_boost`.
pub fn investor_appeal(
    params: &crate::scenario::Scenario,
    book: &AllianceBook,
    id: u32,
    firm: &Firm,
    knowledge: &Knowledge,
    maturity: usize,
) -> f64 {
    let quality = saturation(knowledge.0[firm.focus], params.research.knowledge_half_saturation);
    let network = (book.count_active(id, |k| k.is_tech()) as f64 / 3.0).min(1.0);
    attractiveness(quality, maturity, network)
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
    /// of sales and other costs) never exceed its sales at that size plus the cash it plans to draw
    /// down (but for the last person of a shrinking firm); a firm living on its sales keeps its
    /// target margin.
    #[test]
    fn a_firm_with_margins_does_not_staff_beyond_revenue_and_runway() {
        let f = crate::scenario::Scenario::default_scenario().finance.clone();
        let w = 0.05 / 12.0;
        let m = f.target_operating_margin;
        // (cash, product and licensing revenue, service yield per employee, service market, cost of
        // sales, fixed costs), all monthly M$.
        for &(cash, other, y, market, cost_of_sales, fixed_costs) in &[
            (0.0, 1.0, 0.0, 0.0, 0.3, 0.1),
            (50.0, 1.0, 0.0, 0.0, 0.3, 0.1),
            (5.0, 20.0, 0.008, 0.5, 6.0, 1.0),
            (200.0, 0.0, 0.0, 0.0, 0.0, 0.2),
            (1.0, 0.0, 0.01, 0.2, 0.0, 0.02),
            (0.0, 0.0, 0.003, 0.2, 0.0, 0.02),
        ] {
            // The plan as the firm sees it this month, at its current size.
            let now = 20.0;
            let service_now = crate::systems::revenue::saturate(y * now, market);
            let plan = StaffPlan {
                cash,
                revenue: other + service_now,
                service_revenue: service_now,
                service_yield: y,
                service_market: market,
                cost_of_sales,
                fixed_costs,
                wages: now * w,
            };
            let staff = plan.target_staff(&f, w);
            let services = optimal_service_staff(y, market, m, w).min(staff);
            let sales_then = other + crate::systems::revenue::saturate(y * services, market);
            let planned_costs = staff * w + cost_of_sales + fixed_costs;
            let drawdown = f.staff_budget_share * cash / f.target_runway_months;
            // The wage bill never outgrows what sales and the draw-down leave after the other costs,
            // except for the one person a firm keeps while it shrinks.
            let payable = (sales_then + drawdown - cost_of_sales - fixed_costs).max(w);
            assert!(staff * w <= payable + 1e-9, "wages {} beyond {payable} at {plan:?}", staff * w);
            if cash == 0.0 && staff > 1.0 {
                assert!(planned_costs <= (1.0 - m) * sales_then + 1e-9, "no margin kept at {plan:?}");
            }
        }
    }

    #[test]
    fn optimal_service_staff_grows_from_zero_with_the_yield_and_with_the_market() {
        let w = 0.05 / 12.0;
        assert_eq!(optimal_service_staff(0.9 * w, 1.0, 0.1, w), 0.0);
        let low = optimal_service_staff(1.2 * w, 1.0, 0.1, w);
        let high = optimal_service_staff(2.0 * w, 1.0, 0.1, w);
        assert!(low > 0.0 && high > low);
        assert!((optimal_service_staff(2.0 * w, 2.0, 0.1, w) - 2.0 * high).abs() < 1e-9);
        // At the optimum the marginal employee earns its wage.
        let (y, e) = (2.0 * w, high);
        let marginal = 0.9 * y * (1.0 + (y * e / 1.0).powi(4)).powf(-1.25);
        assert!((marginal - w).abs() < 1e-9);
    }

    #[test]
    fn attractiveness_spans_a_quarter_to_one() {
        assert_eq!(attractiveness(0.0, 0, 0.0), 0.25);
        assert_eq!(attractiveness(1.0, 6, 1.0), 1.0);
    }
}

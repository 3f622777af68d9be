//! Revenue (MODEL.md mechanism 11): sales = product sales + services + licensing income.
//!
//! - Products: a marketed product sells peak/12 x ramp per month, whoever holds it (linear ramp over
//!   `pipeline.ramp_years`, withdrawn after `pipeline.product_life_years`). A licensed-out product is
//!   sold by its licensee, who pays the firm its royalty. A product of the firm's own reaches
//!   `revenue.own_market_access` of its market alone, all of it with a pharma marketing or distribution
//!   partner (`revenue.firm_partner_access` of the rest with another firm), who keeps `revenue.partner_commission_share` of those sales. Cost of goods is
//!   `revenue.cogs_share` of sales, cut by `revenue.manufacturing_cost_saving` with a manufacturing
//!   partner. A co-developer takes its cost share of the product's profit.
//! - Services (platform and hybrid firms): service staff x `revenue.service_revenue_musd_per_employee_year`
//!   x quality (0.5 + 0.5 q) x demand. Demand is `revenue.base_service_demand` + the cluster's pharma
//!   presence x `revenue.service_demand_pharma_presence` on the open market, plus
//!   `revenue.service_demand_per_alliance` per contract-research or university-collaboration alliance
//!   (public institutes contract R&D work from their partner firms) and per manufacturing alliance another
//!   party sought from the firm, saturated smoothly below
//!   capacity (`service_demand`) and shared between the channels in proportion, so no channel is switched
//!   off when the others grow. Sales saturate towards the firm's reachable market
//!   M = `revenue.service_market_musd_per_year` x productivity x the demand it faces (`Firm::market_scale`)
//!   x (1 + `revenue.service_market_infrastructure`
//!   x the cluster's infrastructure): a potential P sells
//!   P / (1 + (P/M)^4)^(1/4), about P below M and about M above it. Open-market sales and contract
//!   work for alliance clients saturate separately. A marketing or distribution partner brings its
//!   customers: open-market demand and market grow by `revenue.commercial_market_expansion` x the
//!   cluster's pharma presence (fully with a pharma partner, `revenue.firm_partner_access` of it with
//!   a firm): channels are worth the buyers they reach, many in a thick market of pharma companies,
//!   CROs and CDMOs, few in a thin one (Teece 1986: complementary downstream assets). The staff who
//!   would sell (`revenue.selling_staff_share`) deliver instead.
//!   The alliance-driven share is paid by the pharma or university partner when the alliance is with
//!   one, the rest by outside customers.
//! - Established makers (`Firm::own_channels`) sell through their own channels: their whole market,
//!   at a selling cost of `revenue.selling_cost_share` of sales instead of a partner's commission;
//!   their own market is what those channels reach, so a commercial partner does not widen it.
//! - Services start once the firm's platform is built: `revenue.service_start_years` after founding
//!   on average (exponential), so young service firms are pre-revenue for a while.
//! - Acquired products are sold by their pharma owner (or licensee) and attributed to the cluster
//!   where they were developed.
//! - Licensing income (upfronts, milestones) is paid in licensing and pipeline; royalties here.

use bevy_ecs::prelude::*;

use super::saturation;
use crate::kinds::AllianceKind;
use crate::model::Tick;
use crate::model::components::{AcquirerPipelines, AgentId, AgentKind, Firm, Home, Knowledge, Pipeline};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, Params, PipelineStats, PolicyEffects, Registry, YearCounters};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems((earn_revenue, sell_acquired_products).chain().in_set(Tick::Revenue));
}

/// Pharma partners sell the products they acquired (their own channels reach the whole market) or
/// collect royalties on those another partner had licensed; the sales count for the cluster where
/// each product was developed.
fn sell_acquired_products(
    clock: Res<Clock>,
    params: Res<Params>,
    mut pharmas: AcquirerPipelines,
    mut ledger: ResMut<Ledger>,
    mut counters: ResMut<YearCounters>,
    mut stats: ResMut<PipelineStats>,
) {
    let pp = &params.pipeline;
    let month = i64::from(clock.month);
    let customers = Account::External(External::Customers);
    for (id, mut pipeline) in &mut pharmas {
        stats.withdrawn += withdraw_expired(&mut pipeline, month, pp.product_life_years);
        for product in &pipeline.products {
            let sales = product.peak_sales_musd_per_year / 12.0 * ramp(month - product.launch_month, pp.ramp_years);
            let seller = product.licensee.unwrap_or(id.0);
            ledger.transfer(customers, Account::Agent(seller), sales, Flow::ProductSales);
            if seller == id.0 {
                let cogs = params.revenue.cogs_share * sales;
                ledger.transfer(Account::Agent(id.0), Account::External(External::Suppliers), cogs, Flow::Cogs);
            } else {
                ledger.transfer(
                    Account::Agent(seller),
                    Account::Agent(id.0),
                    product.royalty_rate * sales,
                    Flow::Royalty,
                );
            }
            counters.clusters[product.origin_cluster].acquired_product_sales_musd += sales;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn earn_revenue(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    book: Res<AllianceBook>,
    mut firms: Query<(&AgentId, &Home, &mut Firm, &mut Pipeline, &Knowledge)>,
    effects: Res<PolicyEffects>,
    mut ledger: ResMut<Ledger>,
    mut stats: ResMut<PipelineStats>,
    mut clients: Local<Vec<u32>>,
    mut memo: Local<DemandMemo>,
) {
    let rv = &params.revenue;
    let pp = &params.pipeline;
    let customers = Account::External(External::Customers);
    let suppliers = Account::External(External::Suppliers);
    for (id, home, firm, pipeline, knowledge) in &mut firms {
        let (firm, pipeline) = (firm.into_inner(), pipeline.into_inner());
        if !firm.is_alive() {
            continue;
        }
        let me = Account::Agent(id.0);
        let month = i64::from(clock.month);
        stats.withdrawn += withdraw_expired(pipeline, month, pp.product_life_years);
        let mut cost_of_sales = 0.0;

        // A commercial (marketing or distribution) partner opens the market; a pharma partner's
        // channels reach all of it, another firm's only `revenue.firm_partner_access` of the rest.
        let commercial_partner = book
            .active_of(id.0)
            .iter()
            .filter(|t| matches!(t.kind, AllianceKind::Marketing | AllianceKind::Distribution))
            .map(|t| t.other)
            .max_by_key(|&p| (registry.kind[p as usize] == AgentKind::Pharma, std::cmp::Reverse(p)));
        // A manufacturing alliance serves the side that sought it: that side's goods cost less, the
        // other side (the manufacturer) has a contract client.
        let manufacturing = book.active_of(id.0).iter().any(|t| t.kind == AllianceKind::Manufacturing && t.firm_side);
        for product in &pipeline.products {
            // A drug's market is its own (the peak-sales draw): it sells the same whoever holds it,
            // as after a takeover; the firm's productivity scales its services, not its drugs.
            let gross = product.peak_sales_musd_per_year / 12.0 * ramp(month - product.launch_month, pp.ramp_years);
            if let Some(licensee) = product.licensee {
                ledger.transfer(customers, Account::Agent(licensee), gross, Flow::ProductSales);
                ledger.transfer(Account::Agent(licensee), me, product.royalty_rate * gross, Flow::Royalty);
                continue;
            }
            let access = match commercial_partner {
                _ if firm.own_channels => 1.0,
                Some(p) if registry.kind[p as usize] == AgentKind::Pharma => 1.0,
                Some(_) => rv.own_market_access + (1.0 - rv.own_market_access) * rv.firm_partner_access,
                None => rv.own_market_access,
            };
            let sales = gross * access;
            ledger.transfer(customers, me, sales, Flow::ProductSales);
            let cogs = rv.cogs_share * sales * if manufacturing { 1.0 - rv.manufacturing_cost_saving } else { 1.0 };
            ledger.transfer(me, suppliers, cogs, Flow::Cogs);
            cost_of_sales += cogs;
            // A maker with its own channels pays its own sales force and marketing; others pay
            // their partner's commission.
            if firm.own_channels {
                let selling = rv.selling_cost_share * sales;
                ledger.transfer(me, suppliers, selling, Flow::SellingCosts);
                cost_of_sales += selling;
            } else if let Some(partner) = commercial_partner {
                let commission = rv.partner_commission_share * sales;
                ledger.transfer(me, Account::Agent(partner), commission, Flow::PartnerCommission);
                cost_of_sales += commission;
            }
            if let Some(codeveloper) = product.codeveloper {
                let share = params.licensing.codevelopment_cost_share * (sales - cogs).max(0.0);
                ledger.transfer(me, Account::Agent(codeveloper), share, Flow::CoDevelopmentShare);
                cost_of_sales += share;
            }
        }
        firm.cost_of_sales_month += cost_of_sales;

        let staff = params.business_models.by_model[firm.model as usize].service_staff_share * firm.employees;
        // A service business sells once its platform is built (`revenue.service_start_years`).
        if staff > 0.0 && month >= firm.services_from_month {
            let quality = 0.5 + 0.5 * saturation(knowledge.0[firm.focus], params.research.knowledge_half_saturation);
            // A commercial partner's channels reach customers for the firm: fully a pharma partner's,
            // `revenue.firm_partner_access` of the way a firm's. An established maker's own channels
            // are already counted in its own market.
            let reach = match commercial_partner {
                _ if firm.own_channels => 0.0,
                Some(p) if registry.kind[p as usize] == AgentKind::Pharma => 1.0,
                Some(_) => rv.firm_partner_access,
                None => 0.0,
            };
            // Selling on its own takes `revenue.selling_staff_share` of the staff away from delivering;
            // a partner's channels do that selling (complementary downstream assets, Teece 1986).
            let delivering = 1.0 - rv.selling_staff_share * (1.0 - reach);
            let capacity =
                staff * delivering * rv.service_revenue_musd_per_employee_year / 12.0 * quality * firm.productivity;
            let env = params.clusters[home.cluster].environment;
            clients.clear();
            clients.extend(
                book.active_of(id.0)
                    .iter()
                    .filter(|t| match t.kind {
                        AllianceKind::ContractResearch | AllianceKind::UniversityCollaboration => true,
                        AllianceKind::Manufacturing => !t.firm_side,
                        _ => false,
                    })
                    .map(|t| t.other),
            );
            // Contract work needing facilities is taken as far as the cluster's shared infrastructure
            // (after policies: support centres, shared GMP) allows.
            let dependence = rv.contract_facilities_dependence;
            let per_alliance =
                rv.service_demand_per_alliance * (1.0 - dependence + dependence * effects.infrastructure[home.cluster]);
            // A commercial partner's channels bring their customers, as many as the cluster's market
            // holds: open-market demand and the market it saturates towards both grow by
            // `revenue.commercial_market_expansion` x reach x pharma presence.
            let channels = 1.0 + rv.commercial_market_expansion * reach * env.pharma_presence;
            let (market, per_client) = demand_shares(
                (rv.base_service_demand + env.pharma_presence * rv.service_demand_pharma_presence) * channels,
                per_alliance,
                clients.len(),
                |total| memo.saturate_unit(total),
            );
            // Plants (GMP capacity) let a firm take manufacturing contracts: a wider market where
            // the cluster's infrastructure, shared facilities included, is rich.
            let plants = 1.0 + rv.service_market_infrastructure * effects.infrastructure[home.cluster];
            let base_market = firm
                .own_market_musd_per_year
                .unwrap_or(rv.service_market_musd_per_year * firm.productivity * firm.market_scale);
            let own_market = base_market / 12.0 * plants;
            let open_market = own_market * channels;
            // The reachable market is finite, so a productive service firm cannot grow without bound:
            // open-market sales saturate towards it; contract work for alliance clients is a separate,
            // equally bounded channel.
            let open_sales = saturate(capacity * market, open_market);
            ledger.transfer(customers, me, open_sales, Flow::Services);
            let contracts = capacity * per_client * clients.len() as f64;
            let per_contract =
                if clients.is_empty() { 0.0 } else { saturate(contracts, own_market) / clients.len() as f64 };
            // What the firm plans its service staff on: sales per employee at this month's demand, and
            // the market it can reach (both channels as one, an approximation the firm makes).
            let demand = market + per_client * clients.len() as f64;
            firm.service_yield = capacity / firm.employees.max(1.0) * demand;
            // The contract market a firm staffs for is the share of its clients' demand it can serve
            // (all of it while capacity is slack, less as the open market fills it; `service_demand`).
            let contract_market =
                if clients.is_empty() || per_alliance <= 0.0 { 0.0 } else { own_market * per_client / per_alliance };
            firm.service_market = open_market + contract_market;
            firm.service_sales_month = open_sales + per_contract * clients.len() as f64;
            for &client in clients.iter() {
                let payer = if matches!(registry.kind[client as usize], AgentKind::Pharma | AgentKind::University) {
                    Account::Agent(client)
                } else {
                    customers
                };
                ledger.transfer(payer, me, per_contract, Flow::Services);
            }
        }
    }
}

/// Takes products past `pipeline.product_life_years` off the market; returns how many.
fn withdraw_expired(pipeline: &mut Pipeline, month: i64, life_years: f64) -> u64 {
    let before = pipeline.products.len();
    pipeline.products.retain(|p| month - p.launch_month < (life_years * 12.0) as i64);
    (before - pipeline.products.len()) as u64
}

/// Sales of a potential `p` in a market of size `m`: close to p while p is well below m, close to m
/// above it: p / (1 + (p / m)^4)^(1/4), a smooth minimum of sharpness 4 (assumed).
pub fn saturate(p: f64, m: f64) -> f64 {
    if m <= 0.0 {
        return 0.0;
    }
    // (p / m)^4 as two squarings: what `powi(4)` computes, without its library call.
    let ratio = p / m;
    let square = ratio * ratio;
    let base = 1.0 + square * square;
    // pow(1, y) is exactly 1: nothing offered (or next to nothing) needs no power.
    if base == 1.0 { p } else { p / base.powf(0.25) }
}

/// Shares of capacity sold on the open market and to each alliance client. The demand of both
/// channels together saturates smoothly below capacity (`saturate` towards 1) and is shared in
/// proportion: each channel's share shrinks smoothly as the other grows, and none reaches zero while
/// it has demand (no threshold switches a channel off).
pub fn service_demand(market: f64, per_alliance: f64, clients: usize) -> (f64, f64) {
    demand_shares(market, per_alliance, clients, |total| saturate(total, 1.0))
}

/// [`service_demand`] with the saturation of the total given (`saturate(total, 1.0)`).
fn demand_shares(market: f64, per_alliance: f64, clients: usize, saturated: impl FnOnce(f64) -> f64) -> (f64, f64) {
    let total = market + per_alliance * clients as f64;
    if total <= 0.0 {
        return (0.0, 0.0);
    }
    let served = saturated(total) / total;
    (market * served, if clients == 0 { 0.0 } else { per_alliance * served })
}

/// `saturate(total, 1.0)` remembered by the bits of `total`. A month's demand totals take few values
/// (they depend on a firm's cluster, its commercial reach and its number of clients), so most firms
/// find theirs here instead of computing a power; the values are the same bits either way.
struct DemandMemo {
    slots: [(u64, f64); 64],
}

impl Default for DemandMemo {
    fn default() -> Self {
        // Bits 0 (a total of +0.0) never reach the memo: `demand_shares` returns before.
        DemandMemo { slots: [(0, 0.0); 64] }
    }
}

impl DemandMemo {
    fn saturate_unit(&mut self, total: f64) -> f64 {
        let bits = total.to_bits();
        let slot = &mut self.slots[(bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize];
        if slot.0 != bits {
            *slot = (bits, saturate(total, 1.0));
        }
        slot.1
    }
}

/// Sales ramp: linear from launch to peak over `ramp_years`.
pub fn ramp(months_since_launch: i64, ramp_years: f64) -> f64 {
    ((months_since_launch as f64 + 1.0) / (ramp_years * 12.0)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demand_never_exceeds_capacity_and_no_channel_is_switched_off() {
        let (m, c) = service_demand(0.8, 0.2, 3);
        assert!(m + 3.0 * c < 1.0);
        assert_eq!(service_demand(0.4, 0.2, 0).1, 0.0);
        assert_eq!(service_demand(0.0, 0.0, 0), (0.0, 0.0));
        // However large the open market, contract clients keep a share, shrinking smoothly.
        let mut last = f64::INFINITY;
        for i in 0..=40 {
            let (m, c) = service_demand(0.05 * f64::from(i), 0.3, 2);
            assert!(c > 0.0 && c < last && m + 2.0 * c < 1.0);
            last = c;
        }
    }

    #[test]
    fn saturation_is_a_smooth_minimum() {
        assert!((saturate(0.1, 10.0) - 0.1).abs() < 1e-6);
        assert!((saturate(100.0, 10.0) - 10.0).abs() < 0.01);
        assert!(saturate(10.0, 10.0) < 10.0);
    }

    /// The shortcuts change no bit: `saturate` without the power where its base is 1, and the
    /// remembered demand saturation, against the formula written out, over magnitudes from next to
    /// nothing to far above the market, with repeats and colliding slots.
    #[test]
    fn shortcuts_give_the_formulas_bits() {
        let formula = |p: f64, m: f64| p / (1.0 + (p / m).powi(4)).powf(0.25);
        let mut memo = DemandMemo::default();
        for i in 0..4000 {
            let p = 10f64.powf(f64::from(i % 400) / 20.0 - 12.0) * (1.0 + f64::from(i) * 1e-3);
            for m in [1.0, 0.37, 250.0] {
                assert_eq!(saturate(p, m).to_bits(), formula(p, m).to_bits(), "saturate({p}, {m})");
            }
            assert_eq!(memo.saturate_unit(p).to_bits(), formula(p, 1.0).to_bits(), "memo at {p}");
            assert_eq!(memo.saturate_unit(p).to_bits(), formula(p, 1.0).to_bits(), "memo again at {p}");
        }
        assert_eq!(saturate(0.0, 2.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(saturate(-0.0, 2.0).to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn ramp_reaches_peak_and_stays() {
        assert!(ramp(0, 5.0) > 0.0);
        assert_eq!(ramp(59, 5.0), 1.0);
        assert_eq!(ramp(200, 5.0), 1.0);
    }
}

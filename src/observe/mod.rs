//! Observation: what a run reports. The record system (reads only) builds a yearly time series per
//! cluster and a firm-year panel; [`finish`] adds the end-of-run audits. Writers live in `write`.

pub mod record;
pub mod staged;
pub mod write;

use bevy_ecs::prelude::*;

use crate::model::components::Firm;
use crate::model::ledger::Ledger;
use crate::model::resources::{AllianceBook, PipelineStats};

/// Metrics of the yearly time series, in column order (units in docs/outputs.md).
pub const TS_COLUMNS: &[&str] = &[
    "firms_alive",
    "firms_product",
    "firms_platform",
    "firms_hybrid",
    "firms_listed",
    "entries_spinoff",
    "entries_spinout",
    "entries_startup",
    "failures",
    "acquisitions",
    "ipos",
    "model_switches",
    "alliances_formed_tech",
    "alliances_formed_nontech",
    "alliances_active_tech",
    "alliances_active_nontech",
    "network_density",
    "largest_component_share",
    "knowledge_stock",
    "projects_discovery",
    "projects_preclinical",
    "projects_phase1",
    "projects_phase2",
    "projects_phase3",
    "projects_filing",
    "approvals",
    "products_marketed",
    "projects_acquired",
    "approvals_acquired",
    "products_acquired",
    "licensing_deals",
    "listings_tech",
    "listings_regular",
    "delistings",
    "revenue_product_musd",
    "revenue_services_musd",
    "revenue_licensing_musd",
    "revenue_total_musd",
    "vc_money_musd",
    "ipo_money_musd",
    "public_grants_musd",
    "public_tax_credit_musd",
    "public_fund_musd",
    "public_other_musd",
    "public_total_musd",
    "public_programmes_musd",
    "public_spend_musd",
    "employment",
    "revenue_product_acquired_musd",
];

/// One year of one cluster (or of the whole ecosystem, cluster "all").
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeriesRow {
    pub year: i32,
    pub cluster: String,
    pub cluster_type: String,
    /// Values in [`TS_COLUMNS`] order.
    pub values: Vec<f64>,
}

impl TimeSeriesRow {
    pub fn get(&self, metric: &str) -> Option<f64> {
        TS_COLUMNS.iter().position(|c| *c == metric).map(|i| self.values[i])
    }
}

/// One firm in one year it was alive (at least part of it). Labels are kept typed (a byte each, not
/// a 16-byte string): a large world's panel holds millions of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelRow {
    pub year: i32,
    pub firm_id: u32,
    /// Shared by every row of the cluster (a panel holds a row per firm and year: no string each).
    pub cluster: std::sync::Arc<str>,
    pub cluster_type: crate::kinds::ClusterType,
    pub business_model: crate::kinds::BusinessModel,
    pub origin: crate::model::components::Origin,
    /// Main technology field (an index into `kinds::FIELDS`).
    pub focus_field: u8,
    pub age_years: f64,
    pub employees: f64,
    pub rd_musd: f64,
    pub sales_musd: f64,
    pub sales_product_musd: f64,
    pub sales_services_musd: f64,
    pub sales_licensing_musd: f64,
    pub alliances_tech: u32,
    pub alliances_nontech: u32,
    /// Alliances with pharma partners active at any time in the year.
    pub alliances_pharma: u32,
    /// Financing alliances (with investors; counted in `alliances_nontech`) active in the year.
    pub alliances_financing: u32,
    /// Operating costs paid in the year (staff, overheads, projects, goods sold, partners' shares), M$.
    pub costs_musd: f64,
    pub vc_musd: f64,
    pub public_support_musd: f64,
    pub cash_musd: f64,
    pub projects: u32,
    /// The most advanced project's stage (`None`: no project).
    pub max_stage: Option<crate::kinds::Stage>,
    pub products: u32,
    pub listed: bool,
    /// Calendar year of the firm's first sales, if it has had any (before the run for older firms).
    pub first_sales_year: Option<i32>,
    pub status: crate::model::components::Status,
}

/// A firm's exit seen from the books: for the "dead firms take no actions" audit.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitAudit {
    pub firm_id: u32,
    pub exit_month: u32,
    pub last_flow_month: Option<u32>,
    pub alliances_formed_after_exit: usize,
    pub alliances_still_active: usize,
}

/// Everything a replication reports.
#[derive(Resource, Debug, Clone, Default)]
pub struct RunRecord {
    pub timeseries: Vec<TimeSeriesRow>,
    /// Firm-years in year order (each year end appends that year's rows): the stylized facts read a
    /// window of years as one slice.
    pub panel: Vec<PanelRow>,
    pub pipeline: PipelineStats,
    /// Sum of all balances, agents' and external (zero when money is conserved).
    pub ledger_net_total: f64,
    /// Largest gap between an agent's balance and its inflows minus outflows.
    pub ledger_reconciliation_gap: f64,
    /// Money moved by (flow, payer kind, payee kind), in M$.
    pub ledger_routes: Vec<(String, String, String, f64)>,
    pub exits: Vec<ExitAudit>,
    /// Projects and marketed products held at the end by alive firms and pharma partners (the
    /// pipeline audit's closing stock; a failed firm's are counted as lost when it fails).
    pub projects_at_end: u64,
    pub products_at_end: u64,
    /// (kind, active alliances) of every alive firm, university, pharma partner and investor at
    /// the end: the degree distributions of the alliance network.
    pub final_degrees: Vec<(crate::model::components::AgentKind, u32)>,
    /// The alliance network at each year end (for the network and degree charts).
    pub network: Vec<NetworkYear>,
    /// The month the run stopped because its population would have passed `scenario::MAX_AGENTS`.
    pub overflow_month: Option<u32>,
    /// Each policy instrument's years: what was asked of it and what it paid.
    pub instruments: Vec<crate::model::resources::InstrumentYear>,
}

/// The alliance network at one year end: alive actors (no agencies) and active alliances.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkYear {
    pub year: i32,
    /// (agent id, kind, cluster index, active alliances).
    pub nodes: Vec<(u32, crate::model::components::AgentKind, usize, u32)>,
    /// (firm id, partner id, technological?) of each active alliance, in formation order.
    pub edges: Vec<(u32, u32, bool)>,
}

impl RunRecord {
    /// A run that stopped early (its population would have passed `scenario::MAX_AGENTS`), or the
    /// first time-series or panel value that is not a finite number, as an error naming it, the
    /// cluster or firm and the year: such a run writes nothing (exit 2) rather than a truncated run or
    /// NaN or inf in its files. Validation bounds every parameter; this is the net behind it.
    pub fn check_finite(&self, scenario: &str) -> crate::error::Result<()> {
        if let Some(month) = self.overflow_month {
            return Err(crate::error::Error::Usage(format!(
                "the run of `{scenario}` stopped in month {month}: its population would pass {} agents (several GB of memory); \
                 lower the entry rates or populations",
                crate::scenario::MAX_AGENTS
            )));
        }
        let fail = |what: String, year: i32| {
            Err(crate::error::Error::Usage(format!(
                "the run of `{scenario}` produced a value that is not a finite number: {what} in {year}; \
                 a parameter is beyond what the model can hold"
            )))
        };
        let last_year = self.timeseries.last().map_or(0, |r| r.year);
        for (what, value) in [
            ("the ledger's net total", self.ledger_net_total),
            ("the ledger's reconciliation gap", self.ledger_reconciliation_gap),
        ] {
            if !value.is_finite() {
                return fail(what.to_string(), last_year);
            }
        }
        for row in &self.timeseries {
            if let Some(i) = row.values.iter().position(|v| !v.is_finite()) {
                return fail(format!("`{}` of cluster `{}`", TS_COLUMNS[i], row.cluster), row.year);
            }
        }
        for r in &self.panel {
            let values = [
                ("employees", r.employees),
                ("rd_musd", r.rd_musd),
                ("sales_musd", r.sales_musd),
                ("costs_musd", r.costs_musd),
                ("vc_musd", r.vc_musd),
                ("public_support_musd", r.public_support_musd),
                ("cash_musd", r.cash_musd),
            ];
            if let Some((name, _)) = values.iter().find(|(_, v)| !v.is_finite()) {
                return fail(format!("`{name}` of firm {}", r.firm_id), r.year);
            }
        }
        Ok(())
    }
}

/// Takes the record out of a finished world and adds the audits.
pub fn finish(world: &mut World) -> RunRecord {
    let mut record = world.remove_resource::<RunRecord>().unwrap_or_default();
    let exited = world.resource::<crate::model::resources::Registry>().exits.clone();
    let mut holders = world.query::<(&crate::model::components::Pipeline, Option<&Firm>)>();
    for (pipeline, firm) in holders.iter(world) {
        if firm.is_none_or(Firm::is_alive) {
            record.projects_at_end += pipeline.projects.len() as u64;
            record.products_at_end += pipeline.products.len() as u64;
        }
    }
    let ledger = world.resource::<Ledger>();
    let book = world.resource::<AllianceBook>();
    record.pipeline = world.resource::<PipelineStats>().clone();
    record.instruments = world.resource::<crate::model::resources::InstrumentUse>().rows.clone();
    record.instruments.extend(world.resource::<crate::model::resources::PolicyEffects>().year_rows());
    record.ledger_net_total = ledger.net_total();
    record.ledger_reconciliation_gap = ledger.max_reconciliation_gap();
    record.ledger_routes = ledger
        .routes()
        .into_iter()
        .map(|(flow, from, to, amount)| (format!("{flow:?}"), party_name(&from), party_name(&to), amount))
        .collect();
    let mut by_agent: Vec<Vec<usize>> = vec![Vec::new(); ledger.n_accounts()];
    for (i, a) in book.alliances.iter().enumerate() {
        by_agent[a.firm as usize].push(i);
        by_agent[a.partner as usize].push(i);
    }
    let mut exits = Vec::new();
    for (id, exit_month) in exited {
        let mine = || by_agent[id as usize].iter().map(|&i| &book.alliances[i]);
        exits.push(ExitAudit {
            firm_id: id,
            exit_month,
            last_flow_month: ledger.last_flow_month(id),
            alliances_formed_after_exit: mine().filter(|a| a.formed_month > exit_month).count(),
            alliances_still_active: mine().filter(|a| a.ended_month.is_none()).count(),
        });
    }
    exits.sort_by_key(|e| e.firm_id);
    record.exits = exits;
    let registry = world.resource::<crate::model::resources::Registry>();
    record.overflow_month = registry.overflow_month;
    let book = world.resource::<AllianceBook>();
    record.final_degrees = (0..registry.entities.len())
        .filter(|&i| registry.alive[i] && registry.kind[i] != crate::model::components::AgentKind::Agency)
        .map(|i| (registry.kind[i], book.degree(i as u32) as u32))
        .collect();
    record
}

fn party_name(p: &crate::model::ledger::Party) -> String {
    match p {
        crate::model::ledger::Party::Agent(kind) => kind.name().to_string(),
        crate::model::ledger::Party::External(e) => format!("external:{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_with_a_non_finite_value_is_refused_naming_it() {
        let mut record = RunRecord::default();
        let mut values = vec![0.0; TS_COLUMNS.len()];
        record.timeseries.push(TimeSeriesRow {
            year: 2001,
            cluster: "a".into(),
            cluster_type: "x".into(),
            values: values.clone(),
        });
        assert!(record.check_finite("s.toml").is_ok());
        values[TS_COLUMNS.iter().position(|c| *c == "employment").unwrap()] = f64::INFINITY;
        record.timeseries.push(TimeSeriesRow { year: 2002, cluster: "a".into(), cluster_type: "x".into(), values });
        let err = record.check_finite("s.toml").unwrap_err().to_string();
        assert!(err.contains("`employment` of cluster `a`") && err.contains("2002") && err.contains("s.toml"), "{err}");
    }
}

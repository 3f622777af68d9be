//! Money is conserved, outputs are finite, and firms that exited do nothing afterwards.

mod common;

use biocluster::model::components::Status;
use biocluster::observe::write::{panel_csv, summary_json, timeseries_csv};
use common::*;

/// Every (flow, payer, payee) route money may take. Anything else is money from nowhere or to
/// the wrong place.
const ALLOWED_ROUTES: &[(&str, &str, &str)] = &[
    ("OpeningCapital", "external:Founders", "firm"),
    ("Seed", "external:Founders", "firm"),
    ("Wages", "firm", "external:Suppliers"),
    ("Overhead", "firm", "external:Suppliers"),
    ("ProjectCosts", "firm", "external:Suppliers"),
    ("ProjectCosts", "pharma", "external:Suppliers"),
    ("Cogs", "firm", "external:Suppliers"),
    ("Cogs", "pharma", "external:Suppliers"),
    ("SellingCosts", "firm", "external:Suppliers"),
    ("SearchCost", "firm", "external:Suppliers"),
    ("ProductSales", "external:Customers", "firm"),
    ("ProductSales", "external:Customers", "pharma"),
    ("Services", "external:Customers", "firm"),
    ("Services", "pharma", "firm"),
    ("Services", "university", "firm"),
    ("LicensingUpfront", "pharma", "firm"),
    ("Milestone", "pharma", "firm"),
    ("Milestone", "pharma", "pharma"),
    ("Royalty", "pharma", "firm"),
    ("Royalty", "pharma", "pharma"),
    ("PartnerCommission", "firm", "pharma"),
    ("PartnerCommission", "firm", "firm"),
    ("CoDevelopmentShare", "firm", "pharma"),
    ("UniversityFee", "firm", "university"),
    ("UniversityLicense", "firm", "university"),
    ("VcRound", "investor", "firm"),
    ("PublicFundRound", "investor", "firm"),
    ("IpoProceeds", "external:PublicMarkets", "firm"),
    ("FollowOn", "external:PublicMarkets", "firm"),
    ("Grant", "agency", "firm"),
    ("TaxCredit", "agency", "firm"),
    ("RentSubsidy", "agency", "firm"),
    ("MatchingSubsidy", "agency", "firm"),
    ("ProgrammeSpend", "agency", "external:Suppliers"),
    ("BudgetAllocation", "external:Treasury", "agency"),
    ("BudgetReturn", "agency", "external:Treasury"),
    ("ResearchFunding", "external:Treasury", "university"),
    ("ResearchSpend", "university", "external:Suppliers"),
    ("FundCommitment", "external:LimitedPartners", "investor"),
    ("FundCommitment", "agency", "investor"),
    ("AcquisitionPrice", "pharma", "external:Shareholders"),
    ("AcquiredCash", "firm", "pharma"),
    ("PharmaBudget", "external:PharmaGroups", "pharma"),
    ("PharmaBudget", "pharma", "external:PharmaGroups"),
    ("WriteOff", "external:Creditors", "firm"),
    ("Liquidation", "firm", "external:Founders"),
];

/// The default scenario plus every instrument kind, so every route can occur.
fn all_instruments() -> biocluster::Scenario {
    edited(|raw| {
        let base = raw.policies[0].clone();
        let mut add = |name: &str, kind: &str, set: &dyn Fn(&mut biocluster::scenario::raw::RawPolicy)| {
            let mut p = base.clone();
            p.name = name.into();
            p.kind = serde_json::from_value(serde_json::json!(kind)).unwrap();
            p.grant_musd = None;
            p.max_firm_age_years = None;
            set(&mut p);
            raw.policies.push(p);
        };
        add("fund", "public_fund", &|p| {
            p.round_musd = Some(2.0);
            p.investments_per_year = Some(10.0);
        });
        add("matching", "cooperation_matching", &|p| {
            p.search_multiplier = Some(2.0);
            p.acceptance_bonus = Some(0.1);
        });
        add("mobility", "researcher_mobility", &|p| p.spillover_multiplier = Some(2.0));
    })
}

#[test]
fn money_is_conserved_and_every_balance_reconciles() {
    let s = all_instruments();
    for replication in 0..3 {
        let record = run(&s, replication);
        let moved: f64 = record.ledger_routes.iter().map(|r| r.3).sum();
        assert!(moved > 1000.0, "a 30-year run moves real money (moved {moved} M$)");
        assert!(
            record.ledger_net_total.abs() < 1e-9 * moved,
            "balances sum to {} M$, not zero: money created or destroyed",
            record.ledger_net_total
        );
        assert!(record.ledger_reconciliation_gap < 1e-6, "a balance changed outside a transfer");
    }
}

#[test]
fn money_only_moves_along_allowed_routes() {
    let record = run(&all_instruments(), 0);
    for (flow, from, to, amount) in &record.ledger_routes {
        assert!(
            ALLOWED_ROUTES.contains(&(flow.as_str(), from.as_str(), to.as_str())),
            "{amount} M$ of {flow} went from {from} to {to}: not an allowed route"
        );
    }
    let used: Vec<&str> = record.ledger_routes.iter().map(|r| r.0.as_str()).collect();
    for flow in ["Grant", "TaxCredit", "PublicFundRound", "MatchingSubsidy", "VcRound", "Services", "WriteOff"] {
        assert!(used.contains(&flow), "{flow} never happened in the all-instruments run");
    }
}

#[test]
fn outputs_hold_no_nan_or_infinity() {
    let s = all_instruments();
    let record = run(&s, 1);
    for (name, text) in [
        ("timeseries.csv", timeseries_csv(&record)),
        ("panel.csv", panel_csv(&record)),
        ("summary.json", summary_json(&s, 1, &record)),
    ] {
        // Field by field: column names such as `alliances_financing` contain "nan".
        let lower = text.to_lowercase();
        let bad = lower
            .split([',', '\n', ':', ' ', '"'])
            .any(|field| matches!(field.trim_start_matches('-'), "nan" | "inf" | "infinity"));
        assert!(!bad, "{name} holds NaN or infinity");
    }
    for row in &record.timeseries {
        assert!(row.values.iter().all(|v| v.is_finite()), "non-finite metric in {row:?}");
    }
    for row in &record.panel {
        for v in [row.age_years, row.employees, row.rd_musd, row.sales_musd, row.cash_musd, row.vc_musd] {
            assert!(v.is_finite(), "non-finite value in {row:?}");
        }
    }
}

#[test]
fn failed_and_acquired_firms_take_no_actions() {
    let s = default_scenario();
    let record = run(&s, 0);
    assert!(record.exits.len() > 50, "a 30-year run has exits (got {})", record.exits.len());
    for exit in &record.exits {
        assert!(
            exit.last_flow_month.is_some_and(|m| m <= exit.exit_month),
            "firm {} moved money after exiting in month {}: {exit:?}",
            exit.firm_id,
            exit.exit_month
        );
        assert_eq!(exit.alliances_formed_after_exit, 0, "firm {} allied after exit", exit.firm_id);
        assert_eq!(exit.alliances_still_active, 0, "firm {} kept alliances after exit", exit.firm_id);
    }
    // In the panel, an exited firm appears in its exit year and never after.
    for exit in &record.exits {
        let exit_year = s.start_year + (exit.exit_month / 12) as i32;
        let later = record.panel.iter().filter(|r| r.firm_id == exit.firm_id && r.year > exit_year).count();
        assert_eq!(later, 0, "firm {} has panel rows after its exit year {exit_year}", exit.firm_id);
    }
    let acquired = record.panel.iter().filter(|r| r.status == Status::Acquired).count();
    let failed = record.panel.iter().filter(|r| r.status == Status::Failed).count();
    assert!(failed > 0, "some firms fail");
    assert_eq!(acquired + failed, record.exits.len(), "each exit shows once in the panel");
}

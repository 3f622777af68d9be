//! Each policy lever changes what it should, all else equal (common random numbers: the same
//! replications of the same scenario, differing only in the lever).

mod common;

use biocluster::scenario::raw::{RawPolicy, RawPolicyKind};
use common::*;

const REPLICATIONS: u64 = 4;
const GOV: &str = "osong_daegu";

fn policy(name: &str, kind: RawPolicyKind, budget: f64) -> RawPolicy {
    let mut p = default_scenario().raw.policies[0].clone();
    p.name = name.into();
    p.kind = kind;
    p.agency = "regional_governments".into();
    p.clusters = vec![GOV.into()];
    p.start_year = 2005;
    p.budget_musd_per_year = budget;
    p.grant_musd = None;
    p.max_firm_age_years = None;
    p
}

/// Asserts that `metric` in `cluster` is larger with the lever than without it.
fn assert_raises(
    lever: &str,
    without: &biocluster::Scenario,
    with: &biocluster::Scenario,
    cluster: &str,
    metric: &str,
) {
    let (a, b) = (total_over(without, REPLICATIONS, cluster, metric), total_over(with, REPLICATIONS, cluster, metric));
    assert!(b > a, "{lever} should raise {metric} in {cluster}: without {a}, with {b}");
}

#[test]
fn more_grant_budget_means_more_grant_money_received() {
    let base = default_scenario();
    let doubled = edited(|raw| {
        raw.policies.iter_mut().filter(|p| p.kind == RawPolicyKind::Grants).for_each(|p| p.budget_musd_per_year *= 2.0)
    });
    assert_raises("doubling grant budgets", &base, &doubled, "all", "public_grants_musd");
}

#[test]
fn a_higher_tax_credit_rate_means_more_tax_credits() {
    let base = default_scenario();
    let generous = edited(|raw| {
        let p = raw.policies.iter_mut().find(|p| p.kind == RawPolicyKind::TaxIncentive).unwrap();
        p.rate = Some(0.5);
        p.budget_musd_per_year = 100.0;
    });
    assert_raises("a 50 % tax credit", &base, &generous, "all", "public_tax_credit_musd");
}

#[test]
fn a_public_fund_invests_public_money() {
    let mut fund = policy("seed_fund", RawPolicyKind::PublicFund, 20.0);
    fund.round_musd = Some(2.0);
    fund.investments_per_year = Some(8.0);
    let mut empty = fund.clone();
    empty.budget_musd_per_year = 0.0;
    let without = edited(|raw| raw.policies.push(empty));
    let with = edited(|raw| raw.policies.push(fund));
    assert_raises("a public fund", &without, &with, GOV, "public_fund_musd");
}

#[test]
fn stronger_incubators_mean_more_university_spinoffs() {
    let base = default_scenario();
    let stronger = edited(|raw| {
        let p = raw.policies.iter_mut().find(|p| p.kind == RawPolicyKind::Incubator).unwrap();
        p.spinoff_multiplier = Some(3.0);
    });
    assert_raises("tripling incubator spin-off support", &base, &stronger, GOV, "entries_spinoff");
}

#[test]
fn shared_infrastructure_lowers_costs_so_firms_employ_more() {
    let none = edited(|raw| {
        let p = raw.policies.iter_mut().find(|p| p.kind == RawPolicyKind::SharedInfrastructure).unwrap();
        p.infrastructure_boost = Some(0.0);
    });
    let big = edited(|raw| {
        let p = raw.policies.iter_mut().find(|p| p.kind == RawPolicyKind::SharedInfrastructure).unwrap();
        p.infrastructure_boost = Some(0.3);
    });
    assert_raises("a shared GMP/clinical facility", &none, &big, GOV, "employment");
}

#[test]
fn cooperation_matching_means_more_alliances() {
    let mut matching = policy("matching", RawPolicyKind::CooperationMatching, 2.0);
    matching.search_multiplier = Some(3.0);
    matching.acceptance_bonus = Some(0.2);
    let base = default_scenario();
    let with = edited(|raw| raw.policies.push(matching));
    assert_raises("a cooperation-matching programme", &base, &with, GOV, "alliances_formed_tech");
}

// Researcher mobility is checked where its effect is not blurred by the population's history: see
// `systems::knowledge_spillover::tests::researcher_mobility_speeds_knowledge_flow_to_firms`.

#[test]
fn an_instrument_outside_its_years_does_nothing() {
    let base = default_scenario();
    let later = edited(|raw| raw.policies.iter_mut().for_each(|p| p.start_year = 2100));
    let a = total_over(&base, 1, "all", "public_grants_musd");
    let b = total_over(&later, 1, "all", "public_grants_musd");
    assert!(a > 0.0 && b == 0.0, "grants before their start year: {b}");
}

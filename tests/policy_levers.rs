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

/// The facility saves its users costs, so more young firms survive and the complex employs more.
/// Without established makers: their head counts' spread (lognormal around 300 staff) would drown a
/// young firms' effect in a few replications (over 40 replications of the default, the complex's
/// employment 2000-2029 falls by 9,200 job-years without the facility, not clearly rises above 0.15).
#[test]
fn shared_infrastructure_lowers_costs_so_firms_employ_more() {
    let with_boost = |boost: f64| {
        edited(|raw| {
            let p = raw.policies.iter_mut().find(|p| p.kind == RawPolicyKind::SharedInfrastructure).unwrap();
            p.infrastructure_boost = Some(boost);
            raw.clusters.iter_mut().for_each(|c| c.population.established_firms = 0);
        })
    };
    let (none, big) = (with_boost(0.0), with_boost(0.3));
    for metric in ["firms_alive", "employment"] {
        let (a, b) = (total_over(&none, 16, GOV, metric), total_over(&big, 16, GOV, metric));
        assert!(b > a, "a shared GMP/clinical facility should raise {metric} in {GOV}: without {a}, with {b}");
    }
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

/// Every output of a run that does not describe the instruments themselves.
fn model_outputs(scenario: &biocluster::Scenario, replication: u64) -> Vec<(&'static str, String)> {
    use biocluster::observe::write;
    let record = run(scenario, replication);
    let responses = biocluster::survey::sample(scenario, replication, &record.panel);
    vec![
        ("timeseries.csv", write::timeseries_csv(&record)),
        ("panel.csv", write::panel_csv(&record)),
        ("survey.csv", biocluster::survey::survey_csv(&responses)),
        ("network_nodes.csv", write::network_nodes_csv(scenario, &record)),
        ("network_edges.csv", write::network_edges_csv(&record)),
    ]
}

fn assert_same_outputs(what: &str, a: &biocluster::Scenario, b: &biocluster::Scenario) {
    for replication in 0..2 {
        for ((file, x), (_, y)) in model_outputs(a, replication).into_iter().zip(model_outputs(b, replication)) {
            assert!(x == y, "{what}: replication {replication}'s {file} differs");
        }
    }
}

#[test]
fn a_disabled_or_unfunded_instrument_changes_no_draw_of_a_run() {
    let base = default_scenario();
    let mut fund = policy("idle_fund", RawPolicyKind::PublicFund, 0.0);
    fund.round_musd = Some(2.0);
    fund.investments_per_year = Some(8.0);
    let mut off_fund = fund.clone();
    off_fund.name = "switched_off_fund".into();
    off_fund.budget_musd_per_year = 20.0;
    off_fund.enabled = false;
    let mut grants = default_scenario().raw.policies[0].clone();
    grants.name = "switched_off_grants".into();
    grants.enabled = false;
    let mut matching = policy("idle_matching", RawPolicyKind::CooperationMatching, 0.0);
    matching.search_multiplier = Some(3.0);
    matching.acceptance_bonus = Some(0.2);
    let padded = edited(|raw| {
        // Placed first, so they shift every other instrument's index.
        raw.policies.splice(0..0, [fund, off_fund, grants, matching]);
    });
    assert_same_outputs("idle instruments added", &base, &padded);

    // Switching an instrument off equals deleting it.
    let without = edited(|raw| raw.policies.retain(|p| p.kind != RawPolicyKind::Incubator));
    let off = edited(|raw| {
        raw.policies.iter_mut().filter(|p| p.kind == RawPolicyKind::Incubator).for_each(|p| p.enabled = false)
    });
    assert_same_outputs("incubator switched off", &without, &off);
}

#[test]
fn under_a_binding_budget_the_tax_credit_rate_changes_nothing() {
    // A budget far below the claims: every month's claimants share it pro rata, so doubling the rate
    // doubles every claim and pays exactly the same credits. A queue (first come, first served) would
    // pay different firms.
    let tight = |rate: f64| {
        edited(|raw| {
            let p = raw.policies.iter_mut().find(|p| p.kind == RawPolicyKind::TaxIncentive).unwrap();
            p.budget_musd_per_year = 0.5;
            p.rate = Some(rate);
        })
    };
    let (single, double) = (tight(0.25), tight(0.5));
    assert_same_outputs("tax-credit rate doubled under a binding budget", &single, &double);

    // The run says the budget bound, every year, and what share of the claims it served.
    let record = run(&single, 0);
    let p = single.policies.iter().position(|p| p.name == "rd_tax_credit").unwrap();
    let years: Vec<_> = record.instruments.iter().filter(|r| r.policy == p).collect();
    assert_eq!(years.len(), single.years as usize);
    assert!(years.iter().all(|r| r.demand_musd > 4.0 * r.paid_musd && (r.paid_musd - 0.5).abs() < 1e-9), "{years:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&biocluster::observe::write::summary_json(&single, 0, &record)).unwrap();
    let credit = summary["instruments"].as_array().unwrap().iter().find(|i| i["name"] == "rd_tax_credit").unwrap();
    assert_eq!(credit["budget_bound_years"].as_array().unwrap().len(), single.years as usize);
    assert!(credit["share_of_demand_served"].as_f64().unwrap() < 0.25);
}

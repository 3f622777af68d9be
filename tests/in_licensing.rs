//! Pharma in-licensing: scouting partners form more pharma alliances, and licensing income follows.

mod common;

use common::{edited, run};

/// Pharma firm-years of ties summed over replications 0-11, and the median over them of each
/// replication's licensing income: one licence's milestones can dominate a replication's income, so a
/// sum over a few replications would follow one deal rather than the mechanism.
fn pharma_ties_and_licensing(scenario: &biocluster::Scenario) -> (u32, f64) {
    let (mut ties, mut licensing) = (0, Vec::new());
    for r in 0..12 {
        let record = run(scenario, r);
        ties += record.panel.iter().map(|p| p.alliances_pharma).sum::<u32>();
        licensing.push(record.panel.iter().map(|p| p.sales_licensing_musd).sum::<f64>());
    }
    licensing.sort_by(f64::total_cmp);
    (ties, (licensing[5] + licensing[6]) / 2.0)
}

#[test]
fn scouting_pharma_partners_ally_with_more_firms_and_pay_more_licensing_income() {
    let off = edited(|raw| raw.pharma.scouting_per_year = 0.0);
    let on = edited(|raw| raw.pharma.scouting_per_year = 6.0);
    let (ties_off, lic_off) = pharma_ties_and_licensing(&off);
    let (ties_on, lic_on) = pharma_ties_and_licensing(&on);
    eprintln!("ties {ties_off} -> {ties_on}, median licensing income {lic_off:.1} -> {lic_on:.1}");
    assert!(ties_on as f64 > 1.1 * ties_off as f64, "pharma firm-years of ties: {ties_off} off, {ties_on} on");
    assert!(lic_on > lic_off, "median licensing income: {lic_off:.1} off, {lic_on:.1} on");
}

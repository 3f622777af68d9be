//! Pharma in-licensing: scouting partners form more pharma alliances, and licensing income follows.

mod common;

use common::{edited, run};

fn pharma_ties_and_licensing(scenario: &biocluster::Scenario) -> (u32, f64) {
    (0..3).map(|r| run(scenario, r)).fold((0, 0.0), |(ties, lic), record| {
        let t: u32 = record.panel.iter().map(|p| p.alliances_pharma).sum();
        let l: f64 = record.panel.iter().map(|p| p.sales_licensing_musd).sum();
        (ties + t, lic + l)
    })
}

#[test]
fn scouting_pharma_partners_ally_with_more_firms_and_pay_more_licensing_income() {
    let off = edited(|raw| raw.pharma.scouting_per_year = 0.0);
    let on = edited(|raw| raw.pharma.scouting_per_year = 6.0);
    let (ties_off, lic_off) = pharma_ties_and_licensing(&off);
    let (ties_on, lic_on) = pharma_ties_and_licensing(&on);
    eprintln!("ties {ties_off} -> {ties_on}, licensing {lic_off:.1} -> {lic_on:.1}");
    assert!(ties_on as f64 > 1.1 * ties_off as f64, "pharma firm-years of ties: {ties_off} off, {ties_on} on");
    assert!(lic_on > lic_off, "licensing income: {lic_off:.1} off, {lic_on:.1} on");
}

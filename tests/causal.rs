//! The model's causal truth (`causal.rs`): a counterfactual that blocks nothing the firm would have
//! formed changes nothing, and the effect of technological cooperation in the government-led cluster,
//! which runs through contract work for partners, vanishes when that channel is switched off.

mod common;

use std::sync::Arc;

use biocluster::causal::effects_of;
use biocluster::kinds::AllianceKind;
use biocluster::model::resources::Counterfactual;
use biocluster::observe::write::{panel_csv, timeseries_csv};
use biocluster::simulation::run_counterfactual;
use biocluster::survey;
use common::*;

/// A counterfactual is the same run but for the alliances it blocks: blocking alliances for an id no
/// agent ever holds leaves the whole run as it was (the check draws nothing), while blocking everyone's
/// technological alliances changes it.
#[test]
fn a_block_that_never_bites_changes_nothing() {
    let scenario = Arc::new(default_scenario());
    let record = run(&scenario, 0);
    let tech: Vec<AllianceKind> = AllianceKind::ALL.into_iter().filter(|k| k.is_tech()).collect();
    let nobody = Counterfactual::blocking(AllianceKind::ALL, Some(u32::MAX));
    let again = run_counterfactual(Arc::clone(&scenario), 0, nobody, |_| {});
    assert!(timeseries_csv(&again) == timeseries_csv(&record), "the time series changed");
    assert!(panel_csv(&again) == panel_csv(&record), "the panel changed");
    let everyone = run_counterfactual(Arc::clone(&scenario), 0, Counterfactual::blocking(tech, None), |_| {});
    assert!(timeseries_csv(&everyone) != timeseries_csv(&record));
}

fn government_led_tech_effect(scenario: biocluster::Scenario) -> (f64, u64) {
    let scenario = Arc::new(scenario);
    let record = run(&scenario, 0);
    let responses = survey::sample(&scenario, 0, &record.panel);
    let regressions = survey::regressions(&responses, scenario.survey.standard_errors);
    let effects = effects_of(&scenario, 0, &responses, &regressions, &["tech"]);
    let e = effects.iter().find(|e| e.sample == "government_led").expect("a government-led sample");
    (e.mean_se().0.expect("measured"), e.effect.n)
}

/// In the embedded default, a government-led firm's technological ties raise its sales mostly through
/// contract work its partners pay for (`revenue.service_demand_per_alliance`): with that channel
/// switched off, the measured effect of the same firms' ties falls to a fraction.
#[test]
fn the_causal_effect_follows_its_channel() {
    let (on, n_on) = government_led_tech_effect(default_scenario());
    let (off, n_off) = government_led_tech_effect(edited(|raw| raw.revenue.service_demand_per_alliance = 0.0));
    assert!(n_on >= 10 && n_off >= 10, "{n_on} and {n_off} treated firm-years measured");
    assert!(on > 0.3, "effect with the channel: {on}");
    assert!(off.abs() < 0.25 * on, "effect without the channel: {off} (with: {on})");
}

//! Each pipeline stage's simulated success rate, over many projects, matches its input.

mod common;

use biocluster::Scenario;
use biocluster::kinds::Stage;
use common::run;

/// Many well-funded product firms (rich enough to fund every stage alone), no pharma partners (so no
/// partner uplift), fixed staff, no closures or takeovers.
const MANY_PROJECTS: &str = r#"
agencies = []
policies = []

[scenario]
name = "pipeline-rates"
description = "many unpartnered projects"
seed = 11
start_year = 2000
years = 30

[[clusters]]
name = "lab"
type = "private_led"
x_km = 0.0
y_km = 0.0
radius_km = 10.0
[clusters.environment]
infrastructure = 0.5
public_research = 0.5
pharma_presence = 0.5
vc_presence = 0.5
labour_pool = 0.5
[clusters.population]
firms = 1500
universities = 0
pharma_partners = 0
investors = 0

[firms]
share_product = 1.0
share_platform = 0.0
share_hybrid = 0.0
initial_cash_median_musd = 50000.0
initial_cash_sigma = 0.0
initial_employees_median = 40.0
initial_employees_sigma = 0.0

[business_models.product]
project_launches_per_year = 3.0

[business_models]
switch_probability_per_year = 0.0

[finance]
hire_rate_per_month = 0.0
layoff_rate_per_month = 0.0

[entry]
startups_per_year = 0.0
spinout_rate_per_year = 0.0

[exit]
closure_rate_per_year = 0.0
takeover_rate_per_year = 0.0
min_stage_for_takeover = "preclinical"
"#;

#[test]
fn stage_success_rates_match_their_inputs() {
    let scenario = Scenario::from_toml_str(MANY_PROJECTS, "pipeline-rates").unwrap();
    let stats = run(&scenario, 0).pipeline;
    for stage in Stage::ALL {
        let i = stage.index();
        let input = scenario.pipeline.stages[i].success_rate;
        let n = stats.attempts[i];
        assert_eq!(stats.partnered_attempts[i], 0, "no pharma partners, so no partnered projects");
        assert!(n >= 500, "{stage:?}: only {n} projects completed the stage; the test needs more");
        let simulated = stats.successes[i] as f64 / n as f64;
        let se = (input * (1.0 - input) / n as f64).sqrt();
        assert!(
            (simulated - input).abs() < 4.0 * se,
            "{stage:?}: simulated {simulated:.4} over {n} projects, input {input} (4 SE = {:.4})",
            4.0 * se
        );
    }
}

/// The same firms in a world with exits: pharma partners that license, co-develop and take over
/// (often), firms that can fail. Projects change hands, yet every stage's rate still matches its
/// input (with the large-partner uplift where it applies), acquired projects included; and projects,
/// products and money are conserved through every takeover.
#[test]
fn stage_rates_hold_and_pipelines_are_conserved_in_a_world_with_exits_and_takeovers() {
    let text = MANY_PROJECTS
        .replace("pharma_partners = 0", "pharma_partners = 6")
        .replace("initial_cash_median_musd = 50000.0", "initial_cash_median_musd = 3000.0")
        .replace("closure_rate_per_year = 0.0", "closure_rate_per_year = 0.1")
        .replace("takeover_rate_per_year = 0.0", "takeover_rate_per_year = 0.3")
        .replace("[entry]", "[pharma]\nscouting_per_year = 6.0\ndealmaking_budget_musd_per_year = 20000.0\n\n[entry]");
    let scenario = Scenario::from_toml_str(&text, "pipeline-exits").unwrap();
    let record = run(&scenario, 0);
    let stats = &record.pipeline;
    let acquisitions: f64 =
        record.timeseries.iter().filter(|r| r.cluster == "all").map(|r| r.get("acquisitions").unwrap()).sum();
    assert!(acquisitions >= 100.0, "only {acquisitions} takeovers");
    assert!(stats.transferred_in_takeovers >= 100, "only {} projects changed hands", stats.transferred_in_takeovers);
    for stage in Stage::ALL {
        let i = stage.index();
        assert!(
            stats.acquired_attempts[i] >= 20,
            "{stage:?}: only {} acquired projects completed it",
            stats.acquired_attempts[i]
        );
        for (partnered, n, successes) in [
            (false, stats.attempts[i], stats.successes[i]),
            (true, stats.partnered_attempts[i], stats.partnered_successes[i]),
        ] {
            if n < 100 {
                continue;
            }
            let input = biocluster::systems::pipeline::success_probability(
                &scenario,
                stage,
                partnered && stage >= scenario.pipeline.partner_uplift_from_stage,
            );
            let simulated = successes as f64 / n as f64;
            let se = (input * (1.0 - input) / n as f64).sqrt();
            assert!(
                (simulated - input).abs() < 4.0 * se,
                "{stage:?} (partnered {partnered}): simulated {simulated:.4} over {n}, input {input:.4}"
            );
        }
        assert!(stats.attempts[i] + stats.partnered_attempts[i] >= 300, "{stage:?}: too few outcomes");
    }
    // Projects: what existed or was launched is still held, failed a stage, was approved, shelved or
    // lost with a failed firm; takeovers move projects without creating or destroying any.
    let failed: u64 = (0..6)
        .map(|i| stats.attempts[i] - stats.successes[i] + stats.partnered_attempts[i] - stats.partnered_successes[i])
        .sum();
    let approved = stats.successes[5] + stats.partnered_successes[5];
    assert_eq!(
        stats.initial_projects + stats.launched,
        record.projects_at_end + failed + approved + stats.shelved + stats.lost_in_failures,
        "projects are not conserved"
    );
    assert_eq!(
        stats.initial_products + approved,
        record.products_at_end + stats.withdrawn + stats.products_lost_in_failures,
        "products are not conserved"
    );
    assert!(
        record.ledger_net_total.abs() < 1e-3 && record.ledger_reconciliation_gap < 1e-3,
        "money is not conserved: net {} M$, gap {} M$",
        record.ledger_net_total,
        record.ledger_reconciliation_gap
    );
}

//! Each pipeline stage's simulated success rate, over many projects, matches its input.

mod common;

use biocluster::Scenario;
use biocluster::kinds::Stage;
use common::run;

/// Many well-funded product firms, no pharma partners (so no partner uplift), fixed staff.
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
initial_cash_median_musd = 2000.0
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

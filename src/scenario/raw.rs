//! The scenario file as written: a serde mirror of the TOML with no logic.
//!
//! Every struct refuses unknown keys, so a typo is an error naming the key and the keys allowed,
//! never a silently ignored setting. Meaning, unit, default and source of each key live in
//! `scenarios/README.md` (a test keeps the two in step); validation lives in `validate.rs`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: RawMeta,
    pub clusters: Vec<RawCluster>,
    pub firms: RawFirms,
    pub business_models: RawBusinessModels,
    pub universities: RawUniversities,
    pub pharma: RawPharma,
    pub investors: RawInvestors,
    pub research: RawResearch,
    pub spillover: RawSpillover,
    pub alliances: RawAlliances,
    pub pipeline: RawPipeline,
    pub licensing: RawLicensing,
    pub revenue: RawRevenue,
    pub finance: RawFinance,
    pub entry: RawEntry,
    pub exit: RawExit,
    pub listing: RawListing,
    pub agencies: Vec<RawAgency>,
    pub policies: Vec<RawPolicy>,
    pub survey: RawSurvey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<RawExperiment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<RawCalibration>,
}

impl RawScenario {
    /// Agents at the start of a run: every cluster's firms, established firms, universities, pharma
    /// partners and investors.
    pub fn initial_agents(&self) -> u64 {
        self.clusters
            .iter()
            .map(|rc| {
                let p = &rc.population;
                [p.firms, p.established_firms, p.universities, p.pharma_partners, p.investors]
                    .iter()
                    .map(|&v| u64::from(v))
                    .sum::<u64>()
            })
            .sum()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub start_year: i32,
    pub years: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawClusterType {
    GovernmentLed,
    PrivateLed,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub name: String,
    #[serde(rename = "type")]
    pub cluster_type: RawClusterType,
    pub x_km: f64,
    pub y_km: f64,
    pub radius_km: f64,
    /// Environment levels in [0, 1]; or `measurements`, from which they are computed (one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<RawEnvironment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurements: Option<super::measurements::RawMeasurements>,
    pub population: RawPopulation,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvironment {
    pub infrastructure: f64,
    pub public_research: f64,
    pub pharma_presence: f64,
    pub vc_presence: f64,
    pub labour_pool: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    pub firms: u32,
    /// Established makers (large domestic pharma, biosimilar and contract-manufacturing firms);
    /// optional, 0 when a cluster file leaves it out.
    #[serde(default)]
    pub established_firms: u32,
    pub universities: u32,
    pub pharma_partners: u32,
    pub investors: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFirms {
    pub share_product: f64,
    pub share_platform: f64,
    pub share_hybrid: f64,
    pub initial_age_max_years: f64,
    pub initial_employees_median: f64,
    pub initial_employees_sigma: f64,
    pub initial_cash_median_musd: f64,
    pub initial_cash_sigma: f64,
    pub initial_projects_max: u32,
    pub initial_marketed_probability: f64,
    pub wage_musd_per_employee_year: f64,
    pub overhead_musd_per_month: f64,
    pub employees_per_project: f64,
    pub productivity_sigma: f64,
    pub market_sigma: f64,
    pub established_employees_median: f64,
    pub established_employees_sigma: f64,
    pub established_products: u32,
    pub established_age_years: f64,
    pub established_cash_median_musd: f64,
    pub established_market_median_musd: f64,
    pub established_market_sigma: f64,
    pub staff_per_research_team: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBusinessModels {
    pub product: RawBusinessModel,
    pub platform: RawBusinessModel,
    pub hybrid: RawBusinessModel,
    pub switch_probability_per_year: f64,
    pub switch_runway_months: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBusinessModel {
    pub rd_staff_share: f64,
    pub service_staff_share: f64,
    pub project_launches_per_year: f64,
    pub licenses_from_stage: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawUniversities {
    pub budget_median_musd_per_year: f64,
    pub budget_sigma: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPharma {
    pub dealmaking_budget_musd_per_year: f64,
    pub alliance_capacity: u32,
    pub gap_fields: u32,
    pub scouting_per_year: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvestors {
    pub fund_musd: f64,
    pub annual_commitments_musd: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawResearch {
    pub firm_productivity: f64,
    pub university_productivity: f64,
    pub rd_elasticity: f64,
    pub depreciation_per_year: f64,
    pub learning_by_doing: f64,
    pub initial_knowledge_firm: f64,
    pub initial_knowledge_university: f64,
    pub knowledge_half_saturation: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpillover {
    pub local_rate: f64,
    pub tie_rate: f64,
    pub nontech_tie_share: f64,
    pub distance_decay_km: f64,
    pub absorptive_half_stock: f64,
    pub optimal_cognitive_distance: f64,
    pub cognitive_tolerance: f64,
    pub openness_firm: f64,
    pub openness_university: f64,
    pub openness_pharma: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlliances {
    pub searches_per_year: f64,
    pub candidates: u32,
    pub local_share: f64,
    pub preferential_exponent: f64,
    pub distance_decay_km: f64,
    pub prior_tie_bonus: f64,
    pub search_cost_musd: f64,
    pub acceptance_probability: f64,
    /// How much the partner's acceptance depends on the firm's knowledge quality q: it accepts with
    /// `acceptance_probability` x (1 - w + w q).
    pub acceptance_quality_weight: f64,
    pub firm_capacity: u32,
    pub university_capacity: u32,
    pub nontech_base_share: f64,
    pub revenue_half_musd_per_year: f64,
    pub tech_dissolution_per_year: f64,
    pub nontech_dissolution_per_year: f64,
    pub university_fee_musd_per_month: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    pub discovery: RawStage,
    pub preclinical: RawStage,
    pub phase1: RawStage,
    pub phase2: RawStage,
    pub phase3: RawStage,
    pub filing: RawStage,
    pub duration_shape: f64,
    pub partner_uplift: f64,
    pub partner_uplift_from_stage: String,
    pub peak_sales_median_musd_per_year: f64,
    pub peak_sales_sigma: f64,
    pub ramp_years: f64,
    pub product_life_years: f64,
    pub funding_wait_years: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub success_rate: f64,
    pub duration_years: f64,
    pub cost_musd: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLicensing {
    pub discovery: RawDealTerms,
    pub preclinical: RawDealTerms,
    pub phase1: RawDealTerms,
    pub phase2: RawDealTerms,
    pub phase3: RawDealTerms,
    pub filing: RawDealTerms,
    pub upfront_share: f64,
    pub deal_value_sigma: f64,
    pub codevelopment_cost_share: f64,
    pub university_license_fee_musd: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDealTerms {
    pub deal_value_musd: f64,
    pub royalty_rate: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRevenue {
    pub own_market_access: f64,
    pub firm_partner_access: f64,
    pub partner_commission_share: f64,
    pub cogs_share: f64,
    pub manufacturing_cost_saving: f64,
    pub service_revenue_musd_per_employee_year: f64,
    pub service_market_musd_per_year: f64,
    pub service_market_infrastructure: f64,
    pub commercial_market_expansion: f64,
    pub base_service_demand: f64,
    pub service_demand_per_alliance: f64,
    pub service_demand_pharma_presence: f64,
    /// Share of contract work that needs facilities a small firm rarely owns (GMP suites, animal and
    /// analytical laboratories): it is taken only as far as the cluster's shared infrastructure allows.
    pub contract_facilities_dependence: f64,
    /// Share of a service firm's staff that sells rather than delivers when it sells on its own; a
    /// commercial partner's channels take that work over.
    pub selling_staff_share: f64,
    pub regulatory_filing_speedup: f64,
    pub service_start_years: f64,
    pub selling_cost_share: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFinance {
    pub min_runway_months: f64,
    pub target_runway_months: f64,
    pub staff_budget_share: f64,
    pub hire_rate_per_month: f64,
    pub layoff_rate_per_month: f64,
    pub infrastructure_cost_saving: f64,
    pub rounds_per_year: f64,
    pub round_median_musd: f64,
    pub round_sigma: f64,
    pub stage_round_multiplier: f64,
    pub remote_investor_factor: f64,
    pub financing_alliance_boost: f64,
    pub ipo_window_open_probability: f64,
    pub ipo_window_stay_probability: f64,
    pub ipo_median_musd: f64,
    pub target_operating_margin: f64,
    /// Share of an operating surplus a firm spends on more staff (the rest is kept as profit).
    pub profit_reinvestment_share: f64,
    pub follow_on_rate_per_year: f64,
    pub follow_on_median_musd: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntry {
    pub musd_research_per_spinoff: f64,
    pub spinout_rate_per_year: f64,
    pub spinout_min_employees: f64,
    pub startups_per_year: f64,
    pub seed_median_musd: f64,
    pub seed_sigma: f64,
    pub knowledge_transfer_share: f64,
    pub founding_employees: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawListing {
    pub tech_track_from_year: i32,
    pub tech_rate_per_year: f64,
    pub tech_min_age_years: f64,
    pub regular_min_sales_musd: f64,
    pub regular_rate_per_year: f64,
    pub cost_share: f64,
    pub grace_years: f64,
    pub min_sales_musd: f64,
    pub delisting_rate_per_year: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawExit {
    pub takeover_rate_per_year: f64,
    pub sales_multiple: f64,
    pub closure_rate_per_year: f64,
    pub min_stage_for_takeover: String,
    pub partner_preference: f64,
    pub valuation_base_musd: f64,
    pub valuation_stage_multiplier: f64,
    pub valuation_sigma: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgency {
    pub name: String,
    pub clusters: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawPolicyKind {
    Grants,
    TaxIncentive,
    PublicFund,
    Incubator,
    SharedInfrastructure,
    CooperationMatching,
    ResearcherMobility,
}

/// One government instrument. Fields that only some kinds use are optional here; `validate.rs`
/// requires the ones a kind needs and refuses the ones it does not.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub name: String,
    /// `false` switches the instrument off (a variant can do it by name): no money, no effect, no draws.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    pub kind: RawPolicyKind,
    pub agency: String,
    pub clusters: Vec<String>,
    pub start_year: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_year: Option<i32>,
    pub budget_musd_per_year: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_firm_age_years: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_employees: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_musd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_musd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investments_per_year: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spinoff_multiplier: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rent_subsidy_share: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_boost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_multiplier: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance_bonus: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spillover_multiplier: Option<f64>,
}

/// Monte Carlo experiment: replications, named what-if variants, sweeps. Absent: a single run.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawExperiment {
    pub replications: u32,
    /// Name of the scenario as written, the variant every other is compared with.
    #[serde(default = "default_baseline")]
    pub baseline: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<RawVariant>,
    /// Each entry lists values of one parameter; several entries form a grid (cartesian product).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sweeps: Vec<RawSweep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latin_hypercube: Option<RawLatinHypercube>,
    /// Metrics the answers report (default: `experiment::DEFAULT_OUTCOMES`); `effects.csv` has them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<Vec<String>>,
    /// `[first, last]` year over which effects are cumulated, the last being the year of the
    /// final-year effects (default: the whole run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Vec<i32>>,
    /// Global sensitivity analysis over `uncertainties`: "sobol" or "morris" (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Sobol: base samples N; Morris: trajectories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u32>,
    /// Sobol: also second-order indices (N (2k + 2) runs instead of N (k + 2)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_order: Option<bool>,
    /// Morris: grid levels (even).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<u32>,
    /// Seed of the design (scrambling, trajectories, bootstrap), apart from the simulation seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design_seed: Option<u64>,
    /// What nobody knows: parameters sampled by the design, each with a range and a distribution.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncertainties: Vec<RawUncertainty>,
}

/// One uncertain parameter of a sensitivity design.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawUncertainty {
    pub parameter: String,
    pub min: f64,
    pub max: f64,
    /// "uniform" (default), "triangular" (with `mode`) or "log_uniform".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<f64>,
}

fn default_baseline() -> String {
    "baseline".to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Dotted parameter path -> value.
    pub set: toml::Table,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub parameter: String,
    pub values: Vec<toml::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatinHypercube {
    pub samples: u32,
    pub seed: u64,
    pub ranges: Vec<RawRange>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRange {
    pub parameter: String,
    pub min: f64,
    pub max: f64,
}

/// The synthetic Bio industry Status Survey: who is sampled and how variables are recorded.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSurvey {
    pub first_year: i32,
    pub last_year: i32,
    pub responses: u32,
    /// Technology fields counted as biopharmaceutical firms.
    pub fields: Vec<String>,
    /// "drop" (firm-years without sales are not in the sample) or "log1p" (ln(1 + sales in k$)).
    pub zero_sales: String,
    /// What the open-innovation dummy counts: "technology_and_investment" (technological alliances
    /// and equity investment ties) or "any_cooperation" (technological or non-technological).
    pub open_innovation: String,
    pub significance: f64,
    /// "hc1" (heteroskedasticity-robust, as the study) or "cluster_firm" (clustered by firm).
    pub standard_errors: String,
}

/// Parameters `biocluster calibrate` may move, with bounds, and its budget.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalibration {
    /// Replications per evaluation (common random numbers: always replications 0..n).
    pub replications: u32,
    /// Budget in simulations (evaluations x replications).
    pub budget: u32,
    /// Fresh replications (n.. n + this) used to report the fit of the best parameters.
    pub validation_replications: u32,
    /// Fresh replications for each +-10 % robustness check of the fit (0: no checks).
    #[serde(default)]
    pub robustness_replications: u32,
    /// The search: a Latin hypercube then Nelder-Mead (the default), or CMA-ES.
    #[serde(default, skip_serializing_if = "RawOptimiser::is_default")]
    pub optimiser: RawOptimiser,
    /// Weight of the stated findings' loss in the objective.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub findings_weight: f64,
    /// Weight of each implied finding (`implied = true` in the targets file: read from the study's
    /// silence) relative to a stated one, within the findings' loss.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub implied_weight: f64,
    /// Weight of the fitted facts' loss (0: the facts are only reported).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub facts_weight: f64,
    /// Facts of the facts file fitted jointly with the findings, by name; the others stay untargeted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<String>,
    pub parameters: Vec<RawCalibrationParameter>,
}

/// How `biocluster calibrate` searches the parameter box.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawOptimiser {
    /// A Latin hypercube over the bounds, then Nelder-Mead from its best point.
    #[default]
    NelderMead,
    /// CMA-ES (Hansen 2016), started at the scenario's values.
    Cmaes,
}

impl RawOptimiser {
    fn is_default(&self) -> bool {
        *self == RawOptimiser::NelderMead
    }
}

fn one() -> f64 {
    1.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalibrationParameter {
    pub path: String,
    pub min: f64,
    pub max: f64,
}

fn enabled_by_default() -> bool {
    true
}

//! Scenarios: TOML text -> [`raw::RawScenario`] (unknown keys refused) -> validated [`Scenario`].
//!
//! Every scenario is read on top of the embedded default (`scenarios/default.toml`): tables merge
//! key by key, arrays (`[[clusters]]`, `[[agencies]]`, `[[policies]]`) replace the default's. The
//! validated [`Scenario`] is read-only; the model never sees TOML.

pub mod measurements;
pub mod raw;
mod validate;
pub use validate::{MAX_AGENTS, MAX_NAME_CHARS, name_problem};

use std::path::Path;

use crate::error::{Error, Problem, Result};
use crate::kinds::{ClusterType, Stage};
pub use raw::{
    RawAlliances as AllianceParams, RawEntry as EntryParams, RawFinance as FinanceParams, RawFirms as FirmParams,
    RawInvestors as InvestorParams, RawListing as ListingParams, RawPharma as PharmaParams,
    RawResearch as ResearchParams, RawRevenue as RevenueParams, RawSpillover as SpilloverParams,
    RawUniversities as UniversityParams,
};

/// The embedded default scenario: a Korea-like pair of clusters.
pub const DEFAULT_TOML: &str = include_str!("../../scenarios/default.toml");

/// A validated scenario. Parameter tables whose raw form needs no conversion are reused as they
/// are (their ranges have been checked); the others are converted to typed forms.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub start_year: i32,
    pub years: u32,
    pub clusters: Vec<Cluster>,
    pub firms: FirmParams,
    pub business_models: BusinessModels,
    pub universities: UniversityParams,
    pub pharma: PharmaParams,
    pub investors: InvestorParams,
    pub research: ResearchParams,
    pub spillover: SpilloverParams,
    pub alliances: AllianceParams,
    pub pipeline: PipelineParams,
    pub licensing: LicensingParams,
    pub revenue: RevenueParams,
    pub finance: FinanceParams,
    pub entry: EntryParams,
    pub exit: ExitParams,
    pub listing: ListingParams,
    pub agencies: Vec<Agency>,
    pub policies: Vec<Policy>,
    pub survey: SurveyParams,
    /// The merged raw scenario, kept so outputs can record exactly what ran.
    pub raw: raw::RawScenario,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub cluster_type: ClusterType,
    pub x_km: f64,
    pub y_km: f64,
    pub radius_km: f64,
    pub environment: Environment,
    pub population: raw::RawPopulation,
}

/// Environment levels of a cluster, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Environment {
    pub infrastructure: f64,
    pub public_research: f64,
    pub pharma_presence: f64,
    pub vc_presence: f64,
    pub labour_pool: f64,
}

#[derive(Debug, Clone)]
pub struct BusinessModelParams {
    pub rd_staff_share: f64,
    pub service_staff_share: f64,
    pub project_launches_per_year: f64,
    pub licenses_from_stage: Stage,
}

#[derive(Debug, Clone)]
pub struct BusinessModels {
    /// Indexed by `BusinessModel as usize`.
    pub by_model: [BusinessModelParams; 3],
    pub switch_probability_per_year: f64,
    pub switch_runway_months: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct StageParams {
    pub success_rate: f64,
    pub duration_years: f64,
    pub cost_musd: f64,
}

#[derive(Debug, Clone)]
pub struct PipelineParams {
    /// Indexed by `Stage::index()`.
    pub stages: [StageParams; 6],
    pub duration_shape: f64,
    pub partner_uplift: f64,
    pub partner_uplift_from_stage: Stage,
    pub peak_sales_median_musd_per_year: f64,
    pub peak_sales_sigma: f64,
    pub ramp_years: f64,
    pub product_life_years: f64,
    pub funding_wait_years: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct DealTerms {
    pub deal_value_musd: f64,
    pub royalty_rate: f64,
}

#[derive(Debug, Clone)]
pub struct LicensingParams {
    /// Indexed by `Stage::index()`: terms for a project licensed at that stage.
    pub terms: [DealTerms; 6],
    pub upfront_share: f64,
    pub deal_value_sigma: f64,
    pub codevelopment_cost_share: f64,
    pub university_license_fee_musd: f64,
}

#[derive(Debug, Clone)]
pub struct ExitParams {
    pub takeover_rate_per_year: f64,
    pub sales_multiple: f64,
    pub closure_rate_per_year: f64,
    pub min_stage_for_takeover: Stage,
    pub partner_preference: f64,
    pub valuation_base_musd: f64,
    pub valuation_stage_multiplier: f64,
    pub valuation_sigma: f64,
}

/// What the survey's open-innovation dummy counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenInnovation {
    /// The survey's open-innovation activity types: joint, contract and university research,
    /// licensing in or out, co-development (the technological alliances) and equity investment ties.
    TechnologyAndInvestment,
    /// Any technological or non-technological cooperation (the union of the two cooperation dummies).
    AnyCooperation,
}

/// The standard errors of the survey's regressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyErrors {
    /// Heteroskedasticity-robust (HC1), as the study reports.
    Hc1,
    /// Clustered by firm: a firm answers in several survey years, and its answers are not
    /// independent draws.
    ClusterFirm,
}

impl SurveyErrors {
    pub fn name(self) -> &'static str {
        match self {
            SurveyErrors::Hc1 => "hc1",
            SurveyErrors::ClusterFirm => "cluster_firm",
        }
    }
}

/// How zero-sales firm-years enter the survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroSales {
    /// Not sampled: ln(0) is undefined, so the analysed responses are firms with sales.
    Drop,
    /// Sampled, with ln(1 + sales in thousand $).
    Log1p,
}

#[derive(Debug, Clone)]
pub struct SurveyParams {
    pub first_year: i32,
    pub last_year: i32,
    pub responses: u32,
    /// Technology field indices counted as biopharmaceutical firms.
    pub fields: Vec<usize>,
    pub zero_sales: ZeroSales,
    pub open_innovation: OpenInnovation,
    pub significance: f64,
    pub standard_errors: SurveyErrors,
}

#[derive(Debug, Clone)]
pub struct Agency {
    pub name: String,
    /// Indices into `Scenario::clusters`.
    pub clusters: Vec<usize>,
}

/// A government instrument with its budget, schedule, eligibility and cluster scope.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    /// Switched on (the default) or off by the scenario or a variant.
    pub enabled: bool,
    pub agency: usize,
    pub clusters: Vec<usize>,
    pub start_year: i32,
    pub end_year: Option<i32>,
    pub budget_musd_per_year: f64,
    pub max_firm_age_years: Option<f64>,
    pub max_employees: Option<f64>,
    pub instrument: Instrument,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Instrument {
    Grants { grant_musd: f64 },
    TaxIncentive { rate: f64 },
    PublicFund { round_musd: f64, investments_per_year: f64 },
    Incubator { spinoff_multiplier: f64, rent_subsidy_share: f64 },
    SharedInfrastructure { infrastructure_boost: f64 },
    CooperationMatching { search_multiplier: f64, acceptance_bonus: f64 },
    ResearcherMobility { spillover_multiplier: f64 },
}

impl Instrument {
    /// The `kind` a scenario file gives this instrument.
    pub fn kind(&self) -> &'static str {
        match self {
            Instrument::Grants { .. } => "grants",
            Instrument::TaxIncentive { .. } => "tax_incentive",
            Instrument::PublicFund { .. } => "public_fund",
            Instrument::Incubator { .. } => "incubator",
            Instrument::SharedInfrastructure { .. } => "shared_infrastructure",
            Instrument::CooperationMatching { .. } => "cooperation_matching",
            Instrument::ResearcherMobility { .. } => "researcher_mobility",
        }
    }
}

impl Policy {
    /// Whether the instrument runs in `year`: switched on, with money, within its schedule. An
    /// instrument without money is not a lever: it has no effect and draws nothing.
    pub fn active_in(&self, year: i32) -> bool {
        self.is_live() && year >= self.start_year && self.end_year.is_none_or(|end| year <= end)
    }
    /// Switched on and funded: the instrument exists in the simulated world (a public fund is an
    /// investor from the start, though it invests only from its start year).
    pub fn is_live(&self) -> bool {
        self.enabled && self.budget_musd_per_year > 0.0
    }
    pub fn covers(&self, cluster: usize) -> bool {
        self.clusters.contains(&cluster)
    }
    /// Eligibility of a firm of this age and size.
    pub fn admits(&self, age_years: f64, employees: f64) -> bool {
        self.max_firm_age_years.is_none_or(|max| age_years <= max)
            && self.max_employees.is_none_or(|max| employees <= max)
    }
}

impl Scenario {
    /// The embedded default scenario.
    pub fn default_scenario() -> Scenario {
        Self::from_toml_str("", "<embedded default>").expect("the embedded default scenario is valid")
    }

    /// Reads a scenario file and layers it over its base file (`scenario.base`, if any), which is
    /// layered over the default.
    pub fn load(path: &Path) -> Result<Scenario> {
        let start = path.canonicalize().map_err(|source| Error::ReadScenario { path: path.to_path_buf(), source })?;
        let table = load_layers(path, &mut vec![start])?;
        Self::from_table(table, &path.display().to_string())
    }

    /// Parses scenario text (layered over the default); `file` names it in error messages.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Scenario> {
        let table = parse_table(text, file)?;
        Self::from_table(table, file)
    }

    /// Builds a scenario from a TOML table layered over the default.
    pub fn from_table(table: toml::Table, file: &str) -> Result<Scenario> {
        if table.get("scenario").and_then(|s| s.get("base")).is_some() {
            return Err(Error::invalid_scenario(
                file,
                "scenario.base",
                "is read only from a scenario file (biocluster run FILE), relative to it",
            ));
        }
        let mut merged = parse_table(DEFAULT_TOML, "<embedded default>")?;
        merge(&mut merged, table);
        let raw: raw::RawScenario = serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(|err| {
            let path = key_of(&err.path().to_string());
            Error::InvalidScenario { file: file.to_string(), problems: vec![serde_problem(path, &err.into_inner())] }
        })?;
        Self::from_raw(raw, file)
    }

    /// Validates a raw scenario (e.g. one edited in code, as sweeps do).
    pub fn from_raw(raw: raw::RawScenario, file: &str) -> Result<Scenario> {
        validate::validate(raw).map_err(|problems| Error::InvalidScenario { file: file.to_string(), problems })
    }

    /// The range validation allows for each numeric parameter, keyed as validation errors key them.
    pub fn ranges(&self) -> Vec<(String, f64, f64)> {
        validate::ranges(self.raw.clone())
    }

    /// The scenario exactly as it ran, as TOML (defaults filled in).
    pub fn resolved_toml(&self) -> String {
        toml::to_string(&self.raw).expect("a raw scenario always serialises")
    }

    /// The same ecosystem `factor` times larger: populations, per-cluster start-up rates and policy
    /// budgets scaled, everything per agent unchanged. Used to measure how cost grows with size.
    pub fn scaled(&self, factor: f64) -> Result<Scenario> {
        let mut raw = self.raw.clone();
        for cluster in &mut raw.clusters {
            let p = &mut cluster.population;
            for n in
                [&mut p.firms, &mut p.established_firms, &mut p.universities, &mut p.pharma_partners, &mut p.investors]
            {
                *n = (f64::from(*n) * factor).round() as u32;
            }
        }
        raw.entry.startups_per_year *= factor;
        for policy in &mut raw.policies {
            policy.budget_musd_per_year *= factor;
        }
        Self::from_raw(raw, &format!("{} scaled x{factor}", self.name))
    }

    pub fn months(&self) -> u32 {
        self.years * 12
    }
}

/// Most base files a chain may hold (a file, its base, the base's base, ...).
const MAX_BASES: usize = 8;

/// A scenario file's table layered over its `scenario.base` chain. A base is a path relative to the
/// file that names it; its `[experiment]` and `[calibration]` sections are not inherited (they say
/// what to do with a file, not what the world is). `chain` holds the files read so far (a cycle is
/// refused, naming it).
fn load_layers(path: &Path, chain: &mut Vec<std::path::PathBuf>) -> Result<toml::Table> {
    let file = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|source| Error::ReadScenario { path: path.to_path_buf(), source })?;
    let mut table = parse_table(&text, &file)?;
    let Some(base) = table.get_mut("scenario").and_then(|s| s.as_table_mut()).and_then(|s| s.remove("base")) else {
        return Ok(table);
    };
    let problem = |message: String| Error::invalid_scenario(&file, "scenario.base", message);
    let Some(base) = base.as_str() else {
        return Err(problem(format!("must be the path of a scenario file, relative to this one (got {base})")));
    };
    let base_path = path.parent().unwrap_or(Path::new(".")).join(base);
    let canonical =
        base_path.canonicalize().map_err(|e| problem(format!("cannot read `{}`: {e}", base_path.display())))?;
    if chain.contains(&canonical) {
        let names: Vec<String> = chain.iter().chain([&canonical]).map(|p| p.display().to_string()).collect();
        return Err(problem(format!("makes a cycle of base files: {}", names.join(" -> "))));
    }
    if chain.len() > MAX_BASES {
        return Err(problem(format!("starts a chain of more than {MAX_BASES} base files")));
    }
    chain.push(canonical);
    let mut merged = load_layers(&base_path, chain)?;
    merged.remove("experiment");
    merged.remove("calibration");
    merge(&mut merged, table);
    Ok(merged)
}

fn parse_table(text: &str, file: &str) -> Result<toml::Table> {
    text.parse::<toml::Table>()
        .map_err(|err| Error::MalformedToml { file: file.to_string(), message: err.to_string().trim_end().to_string() })
}

/// Layers `over` onto `base`: tables merge recursively, every other value (arrays too) replaces.
pub fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// A serde error as a problem: the message's first line (the rest repeats the key), and for a
/// missing field, the field's own key.
fn serde_problem(path: String, err: &toml::de::Error) -> Problem {
    let text = err.to_string();
    let message = text.lines().next().unwrap_or_default().trim().to_string();
    if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`')) {
        let key = if path == "(top level)" { field.to_string() } else { format!("{path}.{field}") };
        return Problem { key, message: "is missing; this key is required here".to_string() };
    }
    Problem { key: path, message }
}

/// serde_path_to_error prints the root as "."; a key path reads better without it.
fn key_of(path: &str) -> String {
    if path == "." { "(top level)".to_string() } else { path.to_string() }
}

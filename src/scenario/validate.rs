//! RawScenario -> Scenario: ranges and cross-field checks. Every problem names its dotted key and
//! what is allowed there; all problems are reported at once.

use super::raw::*;
use super::*;
use crate::error::Problem;

#[derive(Default)]
struct Check {
    problems: Vec<Problem>,
    /// Every numeric range checked, as (key, lowest, highest): what a form offering the parameter
    /// may allow (`ranges`).
    ranges: Vec<(String, f64, f64)>,
}

/// Most agents a run may hold, every one it ever had (alive or not): a 100x run peaked at 528 MB with
/// 117,558 firms, and a run stopped at this bound by runaway entry at 1.6 GB, so it keeps a run within a
/// few GB. The initial population is checked against it here; a run whose entries would pass it stops
/// with an error.
pub const MAX_AGENTS: usize = 1_000_000;

/// The largest magnitude any unbounded parameter may take (M$, knowledge units, years, rates): far
/// beyond every real value (the largest budgets are thousands of M$), yet small enough that sums and
/// products of the model's quantities stay finite. 1e308 in a budget overflowed to inf and NaN.
pub const MAX_MAGNITUDE: f64 = 1e9;
/// The smallest value a parameter that must be positive may take: a divisor (a wage, a duration)
/// near zero overflows what it divides.
pub const MIN_POSITIVE: f64 = 1e-9;

impl Check {
    fn fail(&mut self, key: &str, message: String) {
        self.problems.push(Problem { key: key.to_string(), message });
    }
    /// `lo <= v <= hi`, finite.
    fn range(&mut self, key: &str, v: f64, lo: f64, hi: f64) {
        self.ranges.push((key.to_string(), lo, hi));
        if !v.is_finite() || v < lo || v > hi {
            let allowed = if hi == f64::INFINITY {
                format!("a finite number >= {lo}")
            } else {
                format!("a number in [{lo}, {hi}]")
            };
            self.fail(key, format!("must be {allowed} (got {v})"));
        }
    }
    fn probability(&mut self, key: &str, v: f64) {
        self.range(key, v, 0.0, 1.0);
    }
    /// At least 0 and at most [`MAX_MAGNITUDE`].
    fn non_negative(&mut self, key: &str, v: f64) {
        self.range(key, v, 0.0, MAX_MAGNITUDE);
    }
    /// Within [`MIN_POSITIVE`, `MAX_MAGNITUDE`].
    fn positive(&mut self, key: &str, v: f64) {
        self.range(key, v, MIN_POSITIVE, MAX_MAGNITUDE);
    }
    fn stage(&mut self, key: &str, s: &str) -> Stage {
        Stage::parse(s).unwrap_or_else(|| {
            self.fail(key, format!("must be one of {} (got \"{s}\")", Stage::NAMES.join(", ")));
            Stage::Discovery
        })
    }
}

/// Applies `$how` (a `Check` method) to each listed field of `$table`, keyed `$prefix.field`.
macro_rules! check_fields {
    ($c:expr, $prefix:literal, $table:expr, $how:ident: [$($field:ident),+ $(,)?]) => {
        $( $c.$how(concat!($prefix, ".", stringify!($field)), $table.$field as f64); )+
    };
}

pub(super) fn validate(raw: RawScenario) -> Result<Scenario, Vec<Problem>> {
    check(raw, &mut Check::default())
}

/// The range validation allows for each numeric parameter of `raw`, keyed as in its error messages
/// (`clusters[0].environment.vc_presence`, `policies[2].rate`): the bounds an interactive form offers.
pub(super) fn ranges(raw: RawScenario) -> Vec<(String, f64, f64)> {
    let mut c = Check::default();
    let _ = check(raw, &mut c);
    c.ranges
}

fn check(raw: RawScenario, c: &mut Check) -> Result<Scenario, Vec<Problem>> {
    // [scenario]
    if let Some(problem) = name_problem(&raw.scenario.name) {
        c.fail("scenario.name", format!("{problem} (it names the output folder)"));
    }
    c.range("scenario.start_year", raw.scenario.start_year as f64, 1900.0, 2200.0);
    c.range("scenario.years", raw.scenario.years as f64, 1.0, 200.0);

    // [[clusters]]
    if raw.clusters.is_empty() {
        c.fail("clusters", "must list at least one cluster".into());
    }
    let initial = raw.initial_agents();
    if initial > MAX_AGENTS as u64 {
        c.fail(
            "clusters",
            format!(
                "the populations add up to {initial} agents; a run holds at most {MAX_AGENTS} (several GB of memory)"
            ),
        );
    }
    let mut clusters = Vec::new();
    for (i, rc) in raw.clusters.iter().enumerate() {
        let key = |k: &str| format!("clusters[{i}].{k}");
        if let Some(problem) = name_problem(&rc.name) {
            c.fail(&key("name"), format!("{problem} (it labels rows of the CSV files and the charts)"));
        } else if rc.name == "all" {
            c.fail(&key("name"), "\"all\" is reserved: the time series' rows for the whole ecosystem carry it".into());
        }
        if raw.clusters[..i].iter().any(|o| o.name == rc.name) {
            c.fail(&key("name"), format!("duplicate cluster name \"{}\"", rc.name));
        }
        c.range(&key("x_km"), rc.x_km, -20_000.0, 20_000.0);
        c.range(&key("y_km"), rc.y_km, -20_000.0, 20_000.0);
        c.positive(&key("radius_km"), rc.radius_km);
        let environment = match (&rc.environment, &rc.measurements) {
            (Some(e), None) => {
                for (name, v) in [
                    ("infrastructure", e.infrastructure),
                    ("public_research", e.public_research),
                    ("pharma_presence", e.pharma_presence),
                    ("vc_presence", e.vc_presence),
                    ("labour_pool", e.labour_pool),
                ] {
                    c.probability(&key(&format!("environment.{name}")), v);
                }
                Environment {
                    infrastructure: e.infrastructure,
                    public_research: e.public_research,
                    pharma_presence: e.pharma_presence,
                    vc_presence: e.vc_presence,
                    labour_pool: e.labour_pool,
                }
            }
            (None, Some(m)) => {
                for (name, v) in measurements::fields(m) {
                    c.non_negative(&key(&format!("measurements.{name}")), v);
                }
                measurements::environment(m)
            }
            (Some(_), Some(_)) => {
                c.fail(
                    &key("measurements"),
                    "give the environment as levels ([clusters.environment]) or as the measurements they are \
                     computed from ([clusters.measurements]), not both"
                        .into(),
                );
                measurements::environment(&measurements::HALF_LEVEL)
            }
            (None, None) => {
                c.fail(
                    &key("environment"),
                    "missing: give [clusters.environment] (levels in [0, 1]: infrastructure, public_research, \
                     pharma_presence, vc_presence, labour_pool) or [clusters.measurements] (scenarios/README.md)"
                        .into(),
                );
                measurements::environment(&measurements::HALF_LEVEL)
            }
        };
        let p = &rc.population;
        for (name, v) in [
            ("firms", p.firms),
            ("established_firms", p.established_firms),
            ("universities", p.universities),
            ("pharma_partners", p.pharma_partners),
            ("investors", p.investors),
        ] {
            c.range(&key(&format!("population.{name}")), v as f64, 0.0, 1_000_000.0);
        }
        clusters.push(Cluster {
            name: rc.name.clone(),
            cluster_type: match rc.cluster_type {
                RawClusterType::GovernmentLed => ClusterType::GovernmentLed,
                RawClusterType::PrivateLed => ClusterType::PrivateLed,
            },
            x_km: rc.x_km,
            y_km: rc.y_km,
            radius_km: rc.radius_km,
            environment,
            population: p.clone(),
        });
    }

    // [firms]
    let f = &raw.firms;
    check_fields!(c, "firms", f, probability: [share_product, share_platform, share_hybrid, initial_marketed_probability]);
    check_fields!(c, "firms", f, non_negative: [initial_age_max_years, initial_employees_sigma, initial_cash_sigma, overhead_musd_per_month, productivity_sigma, market_sigma]);
    check_fields!(c, "firms", f, positive: [initial_employees_median, initial_cash_median_musd, wage_musd_per_employee_year, employees_per_project]);
    check_fields!(c, "firms", f, positive: [established_employees_median, established_cash_median_musd, staff_per_research_team, established_market_median_musd]);
    check_fields!(c, "firms", f, non_negative: [established_employees_sigma, established_age_years, established_market_sigma]);
    c.range("firms.established_products", f.established_products as f64, 0.0, 100.0);
    c.range("firms.initial_projects_max", f.initial_projects_max as f64, 0.0, 50.0);
    let share_sum = f.share_product + f.share_platform + f.share_hybrid;
    if (share_sum - 1.0).abs() > 1e-6 {
        c.fail(
            "firms.share_product",
            format!("share_product + share_platform + share_hybrid must sum to 1 (got {share_sum})"),
        );
    }

    // [business_models]
    let bm = &raw.business_models;
    let mut model = |name: &str, m: &RawBusinessModel| {
        let key = |k: &str| format!("business_models.{name}.{k}");
        c.probability(&key("rd_staff_share"), m.rd_staff_share);
        c.probability(&key("service_staff_share"), m.service_staff_share);
        if m.rd_staff_share + m.service_staff_share > 1.0 + 1e-9 {
            c.fail(&key("service_staff_share"), "rd_staff_share + service_staff_share must be <= 1".into());
        }
        c.range(&key("project_launches_per_year"), m.project_launches_per_year, 0.0, 12.0);
        BusinessModelParams {
            rd_staff_share: m.rd_staff_share,
            service_staff_share: m.service_staff_share,
            project_launches_per_year: m.project_launches_per_year,
            licenses_from_stage: c.stage(&key("licenses_from_stage"), &m.licenses_from_stage),
        }
    };
    let by_model = [model("product", &bm.product), model("platform", &bm.platform), model("hybrid", &bm.hybrid)];
    c.range("business_models.switch_probability_per_year", bm.switch_probability_per_year, 0.0, 12.0);
    c.non_negative("business_models.switch_runway_months", bm.switch_runway_months);

    // Agents
    check_fields!(c, "universities", raw.universities, non_negative: [budget_median_musd_per_year, budget_sigma]);
    c.non_negative("pharma.dealmaking_budget_musd_per_year", raw.pharma.dealmaking_budget_musd_per_year);
    c.range("pharma.alliance_capacity", raw.pharma.alliance_capacity as f64, 0.0, 10_000.0);
    c.range("pharma.gap_fields", raw.pharma.gap_fields as f64, 1.0, crate::kinds::N_FIELDS as f64);
    c.range("pharma.scouting_per_year", raw.pharma.scouting_per_year, 0.0, 120.0);
    check_fields!(c, "investors", raw.investors, non_negative: [fund_musd, annual_commitments_musd]);

    // Mechanisms
    let r = &raw.research;
    check_fields!(c, "research", r, non_negative: [firm_productivity, university_productivity, learning_by_doing, initial_knowledge_firm, initial_knowledge_university]);
    check_fields!(c, "research", r, probability: [rd_elasticity, depreciation_per_year]);
    c.positive("research.knowledge_half_saturation", r.knowledge_half_saturation);

    let s = &raw.spillover;
    check_fields!(c, "spillover", s, probability: [local_rate, tie_rate, nontech_tie_share, optimal_cognitive_distance, openness_firm, openness_university, openness_pharma]);
    check_fields!(c, "spillover", s, positive: [distance_decay_km, absorptive_half_stock, cognitive_tolerance]);

    let a = &raw.alliances;
    c.range("alliances.searches_per_year", a.searches_per_year, 0.0, 12.0);
    c.range("alliances.candidates", a.candidates as f64, 1.0, 1000.0);
    check_fields!(c, "alliances", a, probability: [local_share, acceptance_probability, acceptance_quality_weight, nontech_base_share]);
    check_fields!(c, "alliances", a, non_negative: [preferential_exponent, prior_tie_bonus, search_cost_musd, university_fee_musd_per_month]);
    check_fields!(c, "alliances", a, positive: [distance_decay_km, revenue_half_musd_per_year]);
    c.range("alliances.tech_dissolution_per_year", a.tech_dissolution_per_year, 0.0, 12.0);
    c.range("alliances.nontech_dissolution_per_year", a.nontech_dissolution_per_year, 0.0, 12.0);
    c.range("alliances.firm_capacity", a.firm_capacity as f64, 1.0, 10_000.0);
    c.range("alliances.university_capacity", a.university_capacity as f64, 0.0, 10_000.0);

    let p = &raw.pipeline;
    let mut stage = |name: &str, st: &RawStage| {
        c.probability(&format!("pipeline.{name}.success_rate"), st.success_rate);
        c.range(&format!("pipeline.{name}.duration_years"), st.duration_years, 1.0 / 12.0, 50.0);
        c.non_negative(&format!("pipeline.{name}.cost_musd"), st.cost_musd);
        StageParams { success_rate: st.success_rate, duration_years: st.duration_years, cost_musd: st.cost_musd }
    };
    let stages = [
        stage("discovery", &p.discovery),
        stage("preclinical", &p.preclinical),
        stage("phase1", &p.phase1),
        stage("phase2", &p.phase2),
        stage("phase3", &p.phase3),
        stage("filing", &p.filing),
    ];
    c.range("pipeline.duration_shape", p.duration_shape, 0.5, 1000.0);
    c.range("pipeline.partner_uplift", p.partner_uplift, 0.0, 10.0);
    c.range("pipeline.funding_wait_years", p.funding_wait_years, 0.0, 100.0);
    check_fields!(c, "pipeline", p, positive: [peak_sales_median_musd_per_year, ramp_years, product_life_years]);
    c.non_negative("pipeline.peak_sales_sigma", p.peak_sales_sigma);
    let partner_uplift_from_stage = c.stage("pipeline.partner_uplift_from_stage", &p.partner_uplift_from_stage);

    let l = &raw.licensing;
    let mut terms = |name: &str, t: &RawDealTerms| {
        c.non_negative(&format!("licensing.{name}.deal_value_musd"), t.deal_value_musd);
        c.probability(&format!("licensing.{name}.royalty_rate"), t.royalty_rate);
        DealTerms { deal_value_musd: t.deal_value_musd, royalty_rate: t.royalty_rate }
    };
    let terms = [
        terms("discovery", &l.discovery),
        terms("preclinical", &l.preclinical),
        terms("phase1", &l.phase1),
        terms("phase2", &l.phase2),
        terms("phase3", &l.phase3),
        terms("filing", &l.filing),
    ];
    check_fields!(c, "licensing", l, probability: [upfront_share, codevelopment_cost_share]);
    check_fields!(c, "licensing", l, non_negative: [deal_value_sigma, university_license_fee_musd]);

    let rv = &raw.revenue;
    check_fields!(c, "revenue", rv, probability: [own_market_access, firm_partner_access, partner_commission_share, cogs_share, manufacturing_cost_saving, base_service_demand, service_demand_per_alliance, service_demand_pharma_presence, contract_facilities_dependence, selling_staff_share, regulatory_filing_speedup]);
    c.non_negative("revenue.service_revenue_musd_per_employee_year", rv.service_revenue_musd_per_employee_year);
    c.positive("revenue.service_market_musd_per_year", rv.service_market_musd_per_year);
    c.range("revenue.service_market_infrastructure", rv.service_market_infrastructure, 0.0, 100.0);
    c.range("revenue.commercial_market_expansion", rv.commercial_market_expansion, 0.0, 100.0);
    c.range("revenue.service_start_years", rv.service_start_years, 0.0, 50.0);
    c.probability("revenue.selling_cost_share", rv.selling_cost_share);

    let fi = &raw.finance;
    check_fields!(c, "finance", fi, probability: [staff_budget_share, profit_reinvestment_share, hire_rate_per_month, layoff_rate_per_month, infrastructure_cost_saving, remote_investor_factor, ipo_window_open_probability, ipo_window_stay_probability]);
    check_fields!(c, "finance", fi, non_negative: [min_runway_months, round_sigma, stage_round_multiplier, financing_alliance_boost]);
    c.range("finance.target_operating_margin", fi.target_operating_margin, 0.0, 0.9);
    check_fields!(c, "finance", fi, positive: [target_runway_months, round_median_musd, ipo_median_musd, follow_on_median_musd]);
    for (key, v) in [
        ("finance.rounds_per_year", fi.rounds_per_year),
        ("finance.follow_on_rate_per_year", fi.follow_on_rate_per_year),
    ] {
        c.range(key, v, 0.0, 12.0);
    }

    let en = &raw.entry;
    check_fields!(c, "entry", en, positive: [musd_research_per_spinoff, seed_median_musd, founding_employees]);
    check_fields!(c, "entry", en, non_negative: [spinout_min_employees, startups_per_year, seed_sigma]);
    c.range("entry.spinout_rate_per_year", en.spinout_rate_per_year, 0.0, 12.0);
    c.probability("entry.knowledge_transfer_share", en.knowledge_transfer_share);

    let ex = &raw.exit;
    c.range("exit.takeover_rate_per_year", ex.takeover_rate_per_year, 0.0, 12.0);
    c.range("exit.closure_rate_per_year", ex.closure_rate_per_year, 0.0, 12.0);
    c.range("exit.sales_multiple", ex.sales_multiple, 0.0, 100.0);
    check_fields!(c, "exit", ex, non_negative: [partner_preference, valuation_sigma]);
    check_fields!(c, "exit", ex, positive: [valuation_base_musd, valuation_stage_multiplier]);
    let min_stage_for_takeover = c.stage("exit.min_stage_for_takeover", &ex.min_stage_for_takeover);

    let li = &raw.listing;
    c.range("listing.tech_track_from_year", li.tech_track_from_year as f64, 1900.0, 2200.0);
    for (key, v) in [
        ("listing.tech_rate_per_year", li.tech_rate_per_year),
        ("listing.regular_rate_per_year", li.regular_rate_per_year),
        ("listing.delisting_rate_per_year", li.delisting_rate_per_year),
    ] {
        c.range(key, v, 0.0, 12.0);
    }
    check_fields!(c, "listing", li, non_negative: [tech_min_age_years, regular_min_sales_musd, grace_years, min_sales_musd]);
    c.range("listing.cost_share", li.cost_share, 0.0, 0.5);

    // [[agencies]] and [[policies]]: names must resolve.
    let cluster_index = |name: &str| raw.clusters.iter().position(|rc| rc.name == name);
    let cluster_names = raw.clusters.iter().map(|rc| format!("\"{}\"", rc.name)).collect::<Vec<_>>().join(", ");
    let mut agencies = Vec::new();
    for (i, ra) in raw.agencies.iter().enumerate() {
        if let Some(problem) = name_problem(&ra.name) {
            c.fail(&format!("agencies[{i}].name"), problem);
        }
        if raw.agencies[..i].iter().any(|o| o.name == ra.name) {
            c.fail(&format!("agencies[{i}].name"), format!("duplicate agency name \"{}\"", ra.name));
        }
        let mut idx = Vec::new();
        for name in &ra.clusters {
            match cluster_index(name) {
                Some(k) => idx.push(k),
                None => c.fail(
                    &format!("agencies[{i}].clusters"),
                    format!("unknown cluster \"{name}\"; clusters are {cluster_names}"),
                ),
            }
        }
        agencies.push(Agency { name: ra.name.clone(), clusters: idx });
    }
    let mut policies = Vec::new();
    for (i, rp) in raw.policies.iter().enumerate() {
        if let Some(policy) = validate_policy(c, i, rp, &raw, &agencies, &cluster_names) {
            policies.push(policy);
        }
    }

    let sv = &raw.survey;
    let last_simulated = raw.scenario.start_year + raw.scenario.years as i32 - 1;
    // A survey beyond the horizon is allowed (it is then empty); calibration checks coverage.
    let _ = last_simulated;
    c.range("survey.first_year", sv.first_year as f64, raw.scenario.start_year as f64, 2200.0);
    c.range("survey.last_year", sv.last_year as f64, sv.first_year as f64, 2200.0);
    c.range("survey.responses", sv.responses as f64, 10.0, 1_000_000.0);
    c.range("survey.significance", sv.significance, 0.001, 0.5);
    let mut survey_fields = Vec::new();
    for name in &sv.fields {
        match crate::kinds::FIELDS.iter().position(|f| f == name) {
            Some(i) => survey_fields.push(i),
            None => c.fail(
                "survey.fields",
                format!("unknown field \"{name}\"; fields are {}", crate::kinds::FIELDS.join(", ")),
            ),
        }
    }
    if sv.fields.is_empty() {
        c.fail("survey.fields", "must list at least one technology field".into());
    }
    let zero_sales = match sv.zero_sales.as_str() {
        "drop" => ZeroSales::Drop,
        "log1p" => ZeroSales::Log1p,
        other => {
            c.fail("survey.zero_sales", format!("must be \"drop\" or \"log1p\" (got \"{other}\")"));
            ZeroSales::Drop
        }
    };
    let open_innovation = match sv.open_innovation.as_str() {
        "technology_and_investment" => OpenInnovation::TechnologyAndInvestment,
        "any_cooperation" => OpenInnovation::AnyCooperation,
        other => {
            c.fail(
                "survey.open_innovation",
                format!("must be \"technology_and_investment\" or \"any_cooperation\" (got \"{other}\")"),
            );
            OpenInnovation::TechnologyAndInvestment
        }
    };
    let standard_errors = match sv.standard_errors.as_str() {
        "hc1" => SurveyErrors::Hc1,
        "cluster_firm" => SurveyErrors::ClusterFirm,
        other => {
            c.fail("survey.standard_errors", format!("must be \"hc1\" or \"cluster_firm\" (got \"{other}\")"));
            SurveyErrors::Hc1
        }
    };
    if let Some(cal) = &raw.calibration {
        c.range("calibration.replications", cal.replications as f64, 1.0, 100_000.0);
        c.range("calibration.budget", cal.budget as f64, cal.replications as f64, 1e9);
        c.range("calibration.validation_replications", cal.validation_replications as f64, 0.0, 100_000.0);
        c.range("calibration.robustness_replications", cal.robustness_replications as f64, 0.0, 100_000.0);
        if cal.parameters.is_empty() {
            c.fail("calibration.parameters", "must name at least one parameter".into());
        }
        c.range("calibration.findings_weight", cal.findings_weight, 0.0, 1e6);
        c.range("calibration.facts_weight", cal.facts_weight, 0.0, 1e6);
        c.range("calibration.implied_weight", cal.implied_weight, 0.0, 1.0);
        if cal.findings_weight == 0.0 && cal.facts_weight == 0.0 {
            c.fail("calibration.findings_weight", "and facts_weight are both 0: the objective would be empty".into());
        }
        if cal.facts_weight > 0.0 && cal.facts.is_empty() {
            c.fail(
                "calibration.facts",
                format!(
                    "is empty but facts_weight is {}: name the facts to fit (names from the facts file) or set facts_weight = 0",
                    cal.facts_weight
                ),
            );
        }
        if !cal.facts.is_empty() && cal.facts_weight == 0.0 {
            c.fail(
                "calibration.facts_weight",
                format!(
                    "is 0 but {} facts are named to fit: give them a weight > 0, or leave `facts` out",
                    cal.facts.len()
                ),
            );
        }
        for (i, name) in cal.facts.iter().enumerate() {
            if cal.facts[..i].contains(name) {
                c.fail(&format!("calibration.facts[{i}]"), format!("names \"{name}\" twice"));
            }
        }
        for (i, p) in cal.parameters.iter().enumerate() {
            let bounded = |x: f64| x.is_finite() && x.abs() <= MAX_MAGNITUDE;
            if !(bounded(p.min) && bounded(p.max) && p.min < p.max) {
                c.fail(
                    &format!("calibration.parameters[{i}]"),
                    format!("needs min < max, both within +-{MAX_MAGNITUDE:e} (got {} .. {})", p.min, p.max),
                );
            }
        }
    }

    if !c.problems.is_empty() {
        return Err(std::mem::take(&mut c.problems));
    }
    Ok(Scenario {
        name: raw.scenario.name.clone(),
        description: raw.scenario.description.clone(),
        seed: raw.scenario.seed,
        start_year: raw.scenario.start_year,
        years: raw.scenario.years,
        clusters,
        firms: raw.firms.clone(),
        business_models: BusinessModels {
            by_model,
            switch_probability_per_year: bm.switch_probability_per_year,
            switch_runway_months: bm.switch_runway_months,
        },
        universities: raw.universities.clone(),
        pharma: raw.pharma.clone(),
        investors: raw.investors.clone(),
        research: raw.research.clone(),
        spillover: raw.spillover.clone(),
        alliances: raw.alliances.clone(),
        pipeline: PipelineParams {
            stages,
            duration_shape: p.duration_shape,
            partner_uplift: p.partner_uplift,
            partner_uplift_from_stage,
            peak_sales_median_musd_per_year: p.peak_sales_median_musd_per_year,
            peak_sales_sigma: p.peak_sales_sigma,
            ramp_years: p.ramp_years,
            product_life_years: p.product_life_years,
            funding_wait_years: p.funding_wait_years,
        },
        licensing: LicensingParams {
            terms,
            upfront_share: l.upfront_share,
            deal_value_sigma: l.deal_value_sigma,
            codevelopment_cost_share: l.codevelopment_cost_share,
            university_license_fee_musd: l.university_license_fee_musd,
        },
        revenue: raw.revenue.clone(),
        finance: raw.finance.clone(),
        entry: raw.entry.clone(),
        exit: ExitParams {
            takeover_rate_per_year: ex.takeover_rate_per_year,
            closure_rate_per_year: ex.closure_rate_per_year,
            sales_multiple: ex.sales_multiple,
            min_stage_for_takeover,
            partner_preference: ex.partner_preference,
            valuation_base_musd: ex.valuation_base_musd,
            valuation_stage_multiplier: ex.valuation_stage_multiplier,
            valuation_sigma: ex.valuation_sigma,
        },
        listing: raw.listing.clone(),
        agencies,
        policies,
        survey: SurveyParams {
            first_year: sv.first_year,
            last_year: sv.last_year,
            responses: sv.responses,
            fields: survey_fields,
            zero_sales,
            open_innovation,
            standard_errors,
            significance: sv.significance,
        },
        raw,
    })
}

fn validate_policy(
    c: &mut Check,
    i: usize,
    rp: &RawPolicy,
    raw: &RawScenario,
    agencies: &[Agency],
    cluster_names: &str,
) -> Option<Policy> {
    let key = |k: &str| format!("policies[{i}].{k}");
    if let Some(problem) = name_problem(&rp.name) {
        c.fail(&key("name"), problem);
    }
    if raw.policies[..i].iter().any(|o| o.name == rp.name) {
        c.fail(&key("name"), format!("duplicate policy name \"{}\"", rp.name));
    }
    let agency = raw.agencies.iter().position(|a| a.name == rp.agency);
    if agency.is_none() {
        let names = raw.agencies.iter().map(|a| format!("\"{}\"", a.name)).collect::<Vec<_>>().join(", ");
        c.fail(&key("agency"), format!("unknown agency \"{}\"; agencies are [{names}]", rp.agency));
    }
    let mut clusters = Vec::new();
    for name in &rp.clusters {
        match raw.clusters.iter().position(|rc| &rc.name == name) {
            None => c.fail(&key("clusters"), format!("unknown cluster \"{name}\"; clusters are {cluster_names}")),
            Some(k) => {
                if let Some(a) = agency.and_then(|a| agencies.get(a))
                    && !a.clusters.contains(&k)
                {
                    c.fail(
                        &key("clusters"),
                        format!("cluster \"{name}\" is not served by agency \"{}\" (see its `clusters`)", a.name),
                    );
                }
                clusters.push(k);
            }
        }
    }
    if rp.clusters.is_empty() {
        c.fail(&key("clusters"), "must name at least one cluster".into());
    }
    c.range(&key("start_year"), rp.start_year as f64, 1900.0, 2200.0);
    if let Some(end) = rp.end_year
        && end < rp.start_year
    {
        c.fail(&key("end_year"), format!("must be >= start_year {} (got {end})", rp.start_year));
    }
    c.non_negative(&key("budget_musd_per_year"), rp.budget_musd_per_year);
    if let Some(v) = rp.max_firm_age_years {
        c.non_negative(&key("max_firm_age_years"), v);
    }
    if let Some(v) = rp.max_employees {
        c.non_negative(&key("max_employees"), v);
    }

    // Each kind takes its own fields; any other kind-specific field is refused.
    use RawPolicyKind as K;
    let kind_name = serde_json::to_value(rp.kind).ok()?.as_str()?.to_string();
    let fields: [(&str, Option<f64>); 10] = [
        ("grant_musd", rp.grant_musd),
        ("rate", rp.rate),
        ("round_musd", rp.round_musd),
        ("investments_per_year", rp.investments_per_year),
        ("spinoff_multiplier", rp.spinoff_multiplier),
        ("rent_subsidy_share", rp.rent_subsidy_share),
        ("infrastructure_boost", rp.infrastructure_boost),
        ("search_multiplier", rp.search_multiplier),
        ("acceptance_bonus", rp.acceptance_bonus),
        ("spillover_multiplier", rp.spillover_multiplier),
    ];
    let wanted: &[&str] = match rp.kind {
        K::Grants => &["grant_musd"],
        K::TaxIncentive => &["rate"],
        K::PublicFund => &["round_musd", "investments_per_year"],
        K::Incubator => &["spinoff_multiplier", "rent_subsidy_share"],
        K::SharedInfrastructure => &["infrastructure_boost"],
        K::CooperationMatching => &["search_multiplier", "acceptance_bonus"],
        K::ResearcherMobility => &["spillover_multiplier"],
    };
    let mut value = |name: &str| -> f64 {
        let v = fields.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v);
        v.unwrap_or_else(|| {
            c.fail(&key(name), format!("is required for a policy of kind \"{kind_name}\""));
            0.0
        })
    };
    let instrument = match rp.kind {
        K::Grants => Instrument::Grants { grant_musd: value("grant_musd") },
        K::TaxIncentive => Instrument::TaxIncentive { rate: value("rate") },
        K::PublicFund => Instrument::PublicFund {
            round_musd: value("round_musd"),
            investments_per_year: value("investments_per_year"),
        },
        K::Incubator => Instrument::Incubator {
            spinoff_multiplier: value("spinoff_multiplier"),
            rent_subsidy_share: value("rent_subsidy_share"),
        },
        K::SharedInfrastructure => {
            Instrument::SharedInfrastructure { infrastructure_boost: value("infrastructure_boost") }
        }
        K::CooperationMatching => Instrument::CooperationMatching {
            search_multiplier: value("search_multiplier"),
            acceptance_bonus: value("acceptance_bonus"),
        },
        K::ResearcherMobility => Instrument::ResearcherMobility { spillover_multiplier: value("spillover_multiplier") },
    };
    for (name, v) in fields {
        if v.is_some() && !wanted.contains(&name) {
            c.fail(
                &key(name),
                format!("does not apply to a policy of kind \"{kind_name}\", which takes: {}", wanted.join(", ")),
            );
        }
    }
    match instrument {
        Instrument::Grants { grant_musd } => c.positive(&key("grant_musd"), grant_musd),
        Instrument::TaxIncentive { rate } => c.probability(&key("rate"), rate),
        Instrument::PublicFund { round_musd, investments_per_year } => {
            c.positive(&key("round_musd"), round_musd);
            c.range(&key("investments_per_year"), investments_per_year, 0.0, 10_000.0);
        }
        Instrument::Incubator { spinoff_multiplier, rent_subsidy_share } => {
            c.range(&key("spinoff_multiplier"), spinoff_multiplier, 0.0, 100.0);
            c.probability(&key("rent_subsidy_share"), rent_subsidy_share);
        }
        Instrument::SharedInfrastructure { infrastructure_boost } => {
            c.probability(&key("infrastructure_boost"), infrastructure_boost)
        }
        Instrument::CooperationMatching { search_multiplier, acceptance_bonus } => {
            c.range(&key("search_multiplier"), search_multiplier, 0.0, 100.0);
            c.probability(&key("acceptance_bonus"), acceptance_bonus);
        }
        Instrument::ResearcherMobility { spillover_multiplier } => {
            c.range(&key("spillover_multiplier"), spillover_multiplier, 0.0, 100.0)
        }
    }
    Some(Policy {
        name: rp.name.clone(),
        enabled: rp.enabled,
        agency: agency.unwrap_or(0),
        clusters,
        start_year: rp.start_year,
        end_year: rp.end_year,
        budget_musd_per_year: rp.budget_musd_per_year,
        max_firm_age_years: rp.max_firm_age_years,
        max_employees: rp.max_employees,
        instrument,
    })
}

/// Longest name a scenario, cluster or variant may have: names become folder names, CSV cells and chart
/// labels (a chart legend has room for about this many characters).
pub const MAX_NAME_CHARS: usize = 64;

/// Why `name` cannot name a scenario, a cluster or a variant, if it cannot: 1 to [`MAX_NAME_CHARS`]
/// letters, digits, '-', '_' or '.', not starting with '.'. So a name never leaves its folder ("..", "/"),
/// never hides it, and never needs quoting in a CSV cell.
pub fn name_problem(name: &str) -> Option<String> {
    let allowed = |ch: char| ch.is_ascii_alphanumeric() || "-_.".contains(ch);
    if name.is_empty() || name.len() > MAX_NAME_CHARS || !name.chars().all(allowed) || name.starts_with('.') {
        Some(format!(
            "must be 1 to {MAX_NAME_CHARS} letters, digits, '-', '_' or '.', not starting with '.' (got \"{}\")",
            name.escape_debug()
        ))
    } else {
        None
    }
}

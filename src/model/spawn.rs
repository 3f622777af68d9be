//! The initial population, drawn from the scenario, and the helpers entry uses to add firms.

use bevy_ecs::prelude::*;

use super::components::*;
use super::ledger::{Account, External, Flow, Ledger};
use super::resources::{AllianceBook, Registry};
use super::rng::{Draws, SpawnRng};
use crate::kinds::{BusinessModel, KnowledgeVec, N_FIELDS, Stage};
use crate::scenario::Scenario;

/// Registers a freshly spawned agent in the registry, the ledger and the alliance book.
pub fn register(
    registry: &mut Registry,
    ledger: &mut Ledger,
    book: &mut AllianceBook,
    entity: Entity,
    kind: AgentKind,
    home: Home,
) -> u32 {
    let id = registry.register(entity, kind, home);
    ledger.open(id, kind);
    book.ensure(id);
    id
}

/// A random point in a cluster's disc.
pub fn place(scenario: &Scenario, cluster: usize, rng: &mut impl Draws) -> Home {
    let c = &scenario.clusters[cluster];
    let r = c.radius_km * rng.uniform().sqrt();
    let angle = std::f64::consts::TAU * rng.uniform();
    Home { cluster, x_km: c.x_km + r * angle.cos(), y_km: c.y_km + r * angle.sin() }
}

/// Draws a business model from the scenario's shares.
pub fn draw_model(scenario: &Scenario, rng: &mut impl Draws) -> BusinessModel {
    let f = &scenario.firms;
    let i = rng.weighted(&[f.share_product, f.share_platform, f.share_hybrid]).unwrap_or(0);
    BusinessModel::ALL[i]
}

/// Knowledge concentrated on a focus field: `level` there, a tenth of it elsewhere.
pub fn focused_knowledge(focus: usize, level: f64) -> KnowledgeVec {
    let mut k = [level * 0.1; N_FIELDS];
    k[focus] = level;
    k
}

pub fn spawn_population(world: &mut World, scenario: &Scenario) {
    let mut rng = world.remove_resource::<SpawnRng>().expect("rng streams inserted first");
    let mut registry = Registry::new(scenario.clusters.len());
    let mut ledger = Ledger::default();
    let mut book = AllianceBook::default();
    let mut project_ids = 0u32;

    for (c, cluster) in scenario.clusters.iter().enumerate() {
        let env = cluster.environment;
        for _ in 0..cluster.population.universities {
            let home = place(scenario, c, &mut rng);
            let id = registry.next_id();
            let budget = rng.lognormal(
                scenario.universities.budget_median_musd_per_year * (0.5 + env.public_research),
                scenario.universities.budget_sigma,
            );
            let mut k = [0.0; N_FIELDS];
            for v in &mut k {
                *v = scenario.research.initial_knowledge_university * (0.5 + rng.uniform());
            }
            let e = world
                .spawn((
                    AgentId(id),
                    AgentKind::University,
                    home,
                    Knowledge(k),
                    University { budget_musd_per_year: budget },
                ))
                .id();
            register(&mut registry, &mut ledger, &mut book, e, AgentKind::University, home);
        }
        for _ in 0..cluster.population.pharma_partners {
            let home = place(scenario, c, &mut rng);
            let id = registry.next_id();
            let mut k = [0.0; N_FIELDS];
            for v in &mut k {
                *v = 2.0 * scenario.research.initial_knowledge_university * (0.5 + rng.uniform());
            }
            let mut gaps: Vec<usize> = Vec::new();
            while gaps.len() < scenario.pharma.gap_fields as usize {
                let f = rng.index(N_FIELDS);
                if !gaps.contains(&f) {
                    gaps.push(f);
                }
            }
            gaps.sort_unstable();
            let pharma = Pharma { gap_fields: gaps };
            let e = world.spawn((AgentId(id), AgentKind::Pharma, home, Knowledge(k), pharma, Pipeline::default())).id();
            register(&mut registry, &mut ledger, &mut book, e, AgentKind::Pharma, home);
            ledger.transfer(
                Account::External(External::PharmaGroups),
                Account::Agent(id),
                scenario.pharma.dealmaking_budget_musd_per_year,
                Flow::PharmaBudget,
            );
        }
        for _ in 0..cluster.population.investors {
            let home = place(scenario, c, &mut rng);
            let id = registry.next_id();
            let e = world.spawn((AgentId(id), AgentKind::Investor, home, Investor { public_policy: None })).id();
            register(&mut registry, &mut ledger, &mut book, e, AgentKind::Investor, home);
            ledger.transfer(
                Account::External(External::LimitedPartners),
                Account::Agent(id),
                scenario.investors.fund_musd,
                Flow::FundCommitment,
            );
        }
        for k in 0..cluster.population.established_firms + cluster.population.firms {
            let established = k < cluster.population.established_firms;
            let (r, l, b) = (&mut registry, &mut ledger, &mut book);
            spawn_initial_firm(world, scenario, c, established, &mut rng, r, l, b, &mut project_ids);
        }
    }

    for (a, agency) in scenario.agencies.iter().enumerate() {
        let cluster = agency.clusters.first().copied().unwrap_or(0);
        let c = &scenario.clusters[cluster];
        let home = Home { cluster, x_km: c.x_km, y_km: c.y_km };
        let id = registry.next_id();
        let e = world.spawn((AgentId(id), AgentKind::Agency, home, Agency { index: a })).id();
        register(&mut registry, &mut ledger, &mut book, e, AgentKind::Agency, home);
    }

    registry.public_funds = vec![None; scenario.policies.len()];
    for (p, policy) in scenario.policies.iter().enumerate() {
        // A fund without money or switched off does not exist (nor shifts any other agent's id).
        if let (crate::scenario::Instrument::PublicFund { .. }, true) = (policy.instrument, policy.is_live()) {
            let cluster = policy.clusters[0];
            let c = &scenario.clusters[cluster];
            let home = Home { cluster, x_km: c.x_km, y_km: c.y_km };
            let id = registry.next_id();
            let e = world.spawn((AgentId(id), AgentKind::Investor, home, Investor { public_policy: Some(p) })).id();
            register(&mut registry, &mut ledger, &mut book, e, AgentKind::Investor, home);
            registry.public_funds[p] = Some(id);
        }
    }
    for _ in 0..project_ids {
        registry.new_project_id();
    }

    world.insert_resource(registry);
    world.insert_resource(ledger);
    world.insert_resource(book);
    world.insert_resource(rng);
}

/// Months from founding until a firm's service business has something to sell: exponential with
/// mean `revenue.service_start_years` (a platform, assay or tool takes time to build).
pub fn service_build_months(scenario: &Scenario, rng: &mut impl Draws) -> i64 {
    let mean = scenario.revenue.service_start_years * 12.0;
    if mean <= 0.0 { 0 } else { (-mean * (1.0 - rng.uniform()).ln()).round() as i64 }
}

/// An initial firm: a young dedicated biotech, or (`established`) an established maker (a hybrid
/// that does not switch) with a manufacturing and marketed-portfolio business of its own, marketed
/// products, its own sales channels and a stock listing.
#[allow(clippy::too_many_arguments)]
fn spawn_initial_firm(
    world: &mut World,
    scenario: &Scenario,
    cluster: usize,
    established: bool,
    rng: &mut SpawnRng,
    registry: &mut Registry,
    ledger: &mut Ledger,
    book: &mut AllianceBook,
    project_ids: &mut u32,
) {
    let f = &scenario.firms;
    let home = place(scenario, cluster, rng);
    let model = if established { BusinessModel::Hybrid } else { draw_model(scenario, rng) };
    let focus = rng.index(N_FIELDS);
    let (age_years, employees, cash, knowledge_level) = if established {
        (
            f.established_age_years * (0.5 + rng.uniform()),
            rng.lognormal(f.established_employees_median, f.established_employees_sigma).max(2.0),
            rng.lognormal(f.established_cash_median_musd, f.initial_cash_sigma),
            3.0 * scenario.research.initial_knowledge_firm * (0.5 + rng.uniform()),
        )
    } else {
        (
            f.initial_age_max_years * rng.uniform(),
            rng.lognormal(f.initial_employees_median, f.initial_employees_sigma).clamp(2.0, 2000.0),
            rng.lognormal(f.initial_cash_median_musd, f.initial_cash_sigma),
            scenario.research.initial_knowledge_firm * (0.5 + rng.uniform()),
        )
    };
    let knowledge = focused_knowledge(focus, knowledge_level);
    let founded_month = -((age_years * 12.0).round() as i64);

    let mut pipeline = Pipeline::default();
    let launches = scenario.business_models.by_model[model as usize].project_launches_per_year;
    let max_launches = scenario.business_models.by_model[BusinessModel::Product as usize].project_launches_per_year;
    let share = if max_launches > 0.0 { (launches / max_launches).min(1.0) } else { 0.0 };
    let n_projects = (f64::from(f.initial_projects_max + 1) * rng.uniform() * share).floor() as u32;
    for _ in 0..n_projects {
        // Older firms hold later projects; discovery and preclinical dominate (assumed).
        let maturity = (age_years / 10.0).min(3.0);
        let stage_weights = [4.0, 2.0, 1.5, 1.0, 0.4 * maturity, 0.1 * maturity];
        let stage = Stage::ALL[rng.weighted(&stage_weights).unwrap_or(0)];
        let sp = scenario.pipeline.stages[stage.index()];
        let duration = rng.duration(sp.duration_years * 12.0, scenario.pipeline.duration_shape).round().max(1.0) as u32;
        *project_ids += 1;
        let mut project = Project::new(*project_ids, focus, stage, duration, cluster);
        project.months_in_stage = (rng.uniform() * duration as f64) as u32;
        pipeline.projects.push(project);
    }
    let n_products = if established {
        f.established_products
    } else {
        u32::from(rng.chance(f.initial_marketed_probability * age_years / f.initial_age_max_years.max(1e-9)))
    };
    for _ in 0..n_products {
        // A marketed product (biosimilar, diagnostic, tool...) launched some years ago; an established
        // maker's portfolio spreads over the products' life.
        let back_years = if established { scenario.pipeline.product_life_years } else { scenario.pipeline.ramp_years };
        pipeline.products.push(Product {
            field: focus,
            peak_sales_musd_per_year: rng
                .lognormal(scenario.pipeline.peak_sales_median_musd_per_year, scenario.pipeline.peak_sales_sigma),
            launch_month: -((rng.uniform() * back_years * 12.0) as i64),
            licensee: None,
            royalty_rate: 0.0,
            codeveloper: None,
            origin_cluster: cluster,
        });
    }

    let id = registry.next_id();
    let productivity = rng.lognormal(1.0, f.productivity_sigma);
    let build = service_build_months(scenario, rng);
    let origin = if established { Origin::Established } else { Origin::Initial };
    let mut firm = Firm::new(model, origin, founded_month, employees, focus, productivity, founded_month + build);
    firm.market_scale = rng.lognormal(1.0, f.market_sigma);
    let sells_services = scenario.business_models.by_model[model as usize].service_staff_share > 0.0;
    let first_product = pipeline.products.iter().map(|p| p.launch_month).min();
    let first_service = sells_services.then_some(firm.services_from_month);
    firm.first_sales_month = first_product.into_iter().chain(first_service).filter(|&m| m <= 0).min();
    if established {
        // Established makers are listed (KOSPI or KOSDAQ), sell through their own channels and run a
        // manufacturing and marketed-portfolio business with a market of its own.
        firm.listed = true;
        firm.listed_month = Some(founded_month / 2);
        firm.own_channels = true;
        firm.own_market_musd_per_year =
            Some(rng.lognormal(f.established_market_median_musd, f.established_market_sigma));
    }
    let bundle: FirmBundle =
        (AgentId(id), AgentKind::Firm, home, Knowledge(knowledge), firm, pipeline, ProjectSpend::default());
    let e = world.spawn(bundle).id();
    register(registry, ledger, book, e, AgentKind::Firm, home);
    ledger.transfer(Account::External(External::Founders), Account::Agent(id), cash, Flow::OpeningCapital);
}

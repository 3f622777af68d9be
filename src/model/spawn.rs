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
            let e = world.spawn((AgentId(id), AgentKind::Pharma, home, Knowledge(k), Pharma { gap_fields: gaps })).id();
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
        for _ in 0..cluster.population.firms {
            spawn_initial_firm(world, scenario, c, &mut rng, &mut registry, &mut ledger, &mut book, &mut project_ids);
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
        if let crate::scenario::Instrument::PublicFund { .. } = policy.instrument {
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

#[allow(clippy::too_many_arguments)]
fn spawn_initial_firm(
    world: &mut World,
    scenario: &Scenario,
    cluster: usize,
    rng: &mut SpawnRng,
    registry: &mut Registry,
    ledger: &mut Ledger,
    book: &mut AllianceBook,
    project_ids: &mut u32,
) {
    let f = &scenario.firms;
    let home = place(scenario, cluster, rng);
    let model = draw_model(scenario, rng);
    let focus = rng.index(N_FIELDS);
    let age_years = f.initial_age_max_years * rng.uniform();
    let employees = rng.lognormal(f.initial_employees_median, f.initial_employees_sigma).clamp(2.0, 2000.0);
    let cash = rng.lognormal(f.initial_cash_median_musd, f.initial_cash_sigma);
    let knowledge = focused_knowledge(focus, scenario.research.initial_knowledge_firm * (0.5 + rng.uniform()));

    let mut pipeline = Pipeline::default();
    let launches = scenario.business_models.by_model[model as usize].project_launches_per_year;
    let max_launches = scenario.business_models.by_model[BusinessModel::Product as usize].project_launches_per_year;
    let share = if max_launches > 0.0 { (launches / max_launches).min(1.0) } else { 0.0 };
    let n_projects = (f64::from(f.initial_projects_max + 1) * rng.uniform() * share).floor() as u32;
    for _ in 0..n_projects {
        // Older firms hold later projects; discovery and preclinical dominate (assumed).
        let stage_weights = [4.0, 2.0, 1.5, 1.0, 0.4 * age_years / 10.0, 0.1 * age_years / 10.0];
        let stage = Stage::ALL[rng.weighted(&stage_weights).unwrap_or(0)];
        let sp = scenario.pipeline.stages[stage.index()];
        let duration = rng.duration(sp.duration_years * 12.0, scenario.pipeline.duration_shape).round().max(1.0) as u32;
        *project_ids += 1;
        pipeline.projects.push(Project {
            id: *project_ids,
            field: focus,
            stage,
            months_in_stage: (rng.uniform() * duration as f64) as u32,
            duration_months: duration,
            licensee: None,
            royalty_rate: 0.0,
            milestone_musd: 0.0,
            codeveloper: None,
        });
    }
    if rng.chance(f.initial_marketed_probability * age_years / f.initial_age_max_years.max(1e-9)) {
        // A marketed product (biosimilar, diagnostic, tool...) launched some years ago.
        pipeline.products.push(Product {
            field: focus,
            peak_sales_musd_per_year: rng
                .lognormal(scenario.pipeline.peak_sales_median_musd_per_year, scenario.pipeline.peak_sales_sigma),
            launch_month: -((rng.uniform() * scenario.pipeline.ramp_years * 12.0) as i64),
            licensee: None,
            royalty_rate: 0.0,
            codeveloper: None,
        });
    }

    let id = registry.next_id();
    let firm = Firm {
        model,
        status: Status::Alive,
        origin: Origin::Initial,
        founded_month: -((age_years * 12.0).round() as i64),
        exit_month: None,
        listed: false,
        employees,
        focus,
        rd_month: 0.0,
        burn_month: 0.0,
        revenue_trailing: 0.0,
        productivity: rng.lognormal(1.0, f.productivity_sigma),
    };
    let e = world
        .spawn((AgentId(id), AgentKind::Firm, home, Knowledge(knowledge), firm, pipeline, ProjectSpend::default()))
        .id();
    register(registry, ledger, book, e, AgentKind::Firm, home);
    ledger.transfer(Account::External(External::Founders), Account::Agent(id), cash, Flow::OpeningCapital);
}

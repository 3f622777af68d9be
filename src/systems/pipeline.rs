//! Drug development pipeline (MODEL.md mechanism 4): projects move discovery -> preclinical ->
//! phase I -> II -> III -> filing -> approval.
//!
//! - Launch: a firm whose business model launches projects starts one in its focus field with
//!   monthly probability (`business_models.<model>.project_launches_per_year` / 12) x teams x q, q its
//!   knowledge quality and teams = max(1, R&D staff / `firms.staff_per_research_team`), while it holds
//!   fewer than 1 + employees / `firms.employees_per_project` and can afford it: its uncommitted cash
//!   plus a year of free cash flow covers a year of discovery.
//! - Funding: a stage costs `pipeline.<stage>.cost_musd` per compound (DiMasi et al. 2016 for the
//!   clinical phases), spread evenly over its mean duration and paid by the licensee, shared with a
//!   co-developer, or borne by the owner. A firm starts a stage after discovery that it bears alone (or
//!   its share of) only when its cash not yet committed to stages under way, plus a year of free
//!   cash flow (sales less cost of sales and costs), covers that share of the stage's cost; until then the project waits, costs
//!   nothing and is the firm's natural licensing offer. After `pipeline.funding_wait_years` of waiting
//!   it is shelved. A pharma owner (an acquirer) funds stages from its group's R&D budget.
//! - Duration: on entering a stage a project draws its duration from a gamma distribution with mean
//!   `pipeline.<stage>.duration_years` and shape `pipeline.duration_shape`. A regulatory alliance
//!   shortens filing by `revenue.regulatory_filing_speedup`.
//! - Outcome: at the end of a stage the project succeeds with probability
//!   `pipeline.<stage>.success_rate` (BIO/Informa 2011-2020 for phase I to filing), raised by
//!   `pipeline.partner_uplift` (relative) from `pipeline.partner_uplift_from_stage` on when a large
//!   partner licensed or co-develops it (Danzon et al. 2005). Success pays the licensee's milestone;
//!   success at filing is an approval and the project becomes a marketed product with log-normal
//!   peak sales. Failure ends the project and its licensing or co-development alliance.
//! - Acquired projects (moved into a pharma partner's pipeline by a takeover, see `exit`) follow the
//!   same stage rates and durations; their approvals count for the cluster where they were developed.

use bevy_ecs::prelude::*;

use super::saturation;
use crate::kinds::{AllianceKind, Stage};
use crate::model::Tick;
use crate::model::components::{
    AcquirerPipelines, AgentId, Firm, Home, Knowledge, Pipeline, Product, Project, ProjectSpend,
};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, Params, PipelineStats, Registry, YearCounters};
use crate::model::rng::{Draws, PipelineRng};
use crate::scenario::Scenario;

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems((advance_firm_projects, advance_acquired_projects).chain().in_set(Tick::Pipeline));
}

/// The shared state a project's month touches.
struct Work<'a> {
    params: &'a Scenario,
    month: u32,
    book: &'a mut AllianceBook,
    ledger: &'a mut Ledger,
    stats: &'a mut PipelineStats,
    rng: &'a mut PipelineRng,
}

/// Who owns a pipeline: a firm pays its stages from its own cash; a pharma partner's group funds
/// what the partner acquired.
#[derive(Clone, Copy, PartialEq)]
enum Owner {
    /// A firm and its monthly free cash flow (trailing revenue less cost of sales and last month's
    /// costs, projects included; M$, at least 0).
    Firm(u32, f64),
    Pharma(u32),
}

impl Owner {
    fn id(self) -> u32 {
        match self {
            Owner::Firm(id, _) | Owner::Pharma(id) => id,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn advance_firm_projects(
    clock: Res<Clock>,
    params: Res<Params>,
    mut registry: ResMut<Registry>,
    mut firms: Query<(&AgentId, &Home, &Firm, &mut Pipeline, &Knowledge, &mut ProjectSpend)>,
    mut book: ResMut<AllianceBook>,
    mut ledger: ResMut<Ledger>,
    mut stats: ResMut<PipelineStats>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<PipelineRng>,
) {
    for (id, home, firm, pipeline, knowledge, spend) in &mut firms {
        let (pipeline, spend) = (pipeline.into_inner(), spend.into_inner());
        spend.0 = 0.0;
        if !firm.is_alive() {
            continue;
        }
        // Launch.
        // Larger firms run more research teams and launch proportionally more projects.
        let model = &params.business_models.by_model[firm.model as usize];
        let teams = (firm.employees * model.rd_staff_share / params.firms.staff_per_research_team).max(1.0);
        let launches = model.project_launches_per_year * teams;
        let room = 1.0 + firm.employees / params.firms.employees_per_project;
        let quality = saturation(knowledge.0[firm.focus], params.research.knowledge_half_saturation);
        // A new project must be affordable: a year of discovery from the cash not yet committed to
        // the projects under way plus a year of free cash flow.
        let free_cash_flow = -firm.net_burn();
        let discovery = params.pipeline.stages[Stage::Discovery.index()];
        let year_of_discovery = discovery.cost_musd / discovery.duration_years;
        let uncommitted = ledger.balance(id.0) - remaining_commitments(&params, pipeline);
        let affordable = uncommitted + 12.0 * free_cash_flow.max(0.0) >= year_of_discovery;
        if (pipeline.projects.len() as f64) < room.floor()
            && affordable
            && rng.chance((launches / 12.0 * quality).min(1.0))
        {
            let project_id = registry.new_project_id();
            stats.launched += 1;
            let duration = draw_duration(&params, Stage::Discovery, &mut rng);
            pipeline.projects.push(Project::new(project_id, firm.focus, Stage::Discovery, duration, home.cluster));
        }
        let mut work = Work {
            params: &params,
            month: clock.month,
            book: &mut book,
            ledger: &mut ledger,
            stats: &mut stats,
            rng: &mut rng,
        };
        let (own_spend, approvals) = develop(Owner::Firm(id.0, free_cash_flow.max(0.0)), pipeline, &mut work);
        spend.0 = own_spend;
        counters.clusters[home.cluster].approvals += approvals.len() as u32;
    }
}

#[allow(clippy::too_many_arguments)]
fn advance_acquired_projects(
    clock: Res<Clock>,
    params: Res<Params>,
    mut pharmas: AcquirerPipelines,
    mut book: ResMut<AllianceBook>,
    mut ledger: ResMut<Ledger>,
    mut stats: ResMut<PipelineStats>,
    mut counters: ResMut<YearCounters>,
    mut rng: ResMut<PipelineRng>,
) {
    for (id, mut pipeline) in &mut pharmas {
        if pipeline.projects.is_empty() {
            continue;
        }
        let mut work = Work {
            params: &params,
            month: clock.month,
            book: &mut book,
            ledger: &mut ledger,
            stats: &mut stats,
            rng: &mut rng,
        };
        let (_, approvals) = develop(Owner::Pharma(id.0), &mut pipeline, &mut work);
        for cluster in approvals {
            counters.clusters[cluster].approvals_acquired += 1;
        }
    }
}

/// One month of an owner's projects: funding, costs, progress and outcomes. Returns what the owner
/// itself spent (M$) and the origin clusters of this month's approvals.
fn develop(owner: Owner, pipeline: &mut Pipeline, w: &mut Work) -> (f64, Vec<usize>) {
    let p = &w.params.pipeline;
    let cost_share = w.params.licensing.codevelopment_cost_share;
    let owner_id = owner.id();
    let mut own_spend = 0.0;
    // (index, approved) of projects leaving the pipeline this month.
    let mut finished: Vec<(usize, bool)> = Vec::new();
    let regulatory = w.book.has_active(owner_id, AllianceKind::Regulatory);

    // What the owner still has to pay for the stages under way: a new stage is funded from the rest.
    let mut committed = remaining_commitments(w.params, pipeline);
    for (i, project) in pipeline.projects.iter_mut().enumerate() {
        let stage = p.stages[project.stage.index()];
        let (owner_part, partner) = cost_split(project, cost_share);
        // A stage the owner cannot pay for waits (firms only: a pharma group funds its own).
        if let Owner::Firm(_, free_cash_flow) = owner
            && project.months_in_stage == 0
            && project.stage > Stage::Discovery
            && owner_part > 0.0
        {
            // Cash not yet committed to the stages under way, plus a year of free cash flow (later
            // years' are not counted on: sales can fall while a trial runs).
            let means = w.ledger.balance(owner_id) - committed + 12.0 * free_cash_flow;
            if means < owner_part * stage.cost_musd {
                project.months_waiting += 1;
                if f64::from(project.months_waiting) > p.funding_wait_years * 12.0 {
                    finished.push((i, false));
                    w.stats.shelved += 1;
                    end_partnership(w.book, owner_id, project, w.month);
                }
                continue;
            }
            project.months_waiting = 0;
            committed += owner_part * stage.cost_musd;
        }
        let monthly = stage.cost_musd / (stage.duration_years * 12.0);
        if let Some(partner) = partner {
            pay_project_cost(w.ledger, partner, monthly * (1.0 - owner_part), true);
        }
        pay_project_cost(w.ledger, owner_id, monthly * owner_part, matches!(owner, Owner::Pharma(_)));
        own_spend += monthly * owner_part;

        project.months_in_stage += 1;
        let mut due = project.duration_months as f64;
        if regulatory && project.stage == Stage::Filing {
            due *= 1.0 - w.params.revenue.regulatory_filing_speedup;
        }
        if (project.months_in_stage as f64) < due {
            continue;
        }
        let partnered = project.has_large_partner() && project.stage >= p.partner_uplift_from_stage;
        let chance = success_probability(w.params, project.stage, partnered);
        let success = w.rng.chance(chance);
        w.stats.record(project.stage, partnered, success, project.months_in_stage);
        if matches!(owner, Owner::Pharma(_)) {
            w.stats.acquired_attempts[project.stage.index()] += 1;
        }
        if success && let Some(licensee) = project.licensee {
            w.ledger.transfer(
                Account::Agent(licensee),
                Account::Agent(owner_id),
                project.milestone_musd,
                Flow::Milestone,
            );
        }
        match (success, project.stage.next()) {
            (true, Some(next)) => {
                project.stage = next;
                project.months_in_stage = 0;
                project.duration_months = draw_duration(w.params, next, w.rng);
            }
            (true, None) => finished.push((i, true)),
            (false, _) => {
                finished.push((i, false));
                end_partnership(w.book, owner_id, project, w.month);
            }
        }
    }
    let mut approvals = Vec::new();
    for &(i, approved) in finished.iter().rev() {
        let project = pipeline.projects.remove(i);
        if approved {
            approvals.push(project.origin_cluster);
            let peak = w.rng.lognormal(p.peak_sales_median_musd_per_year, p.peak_sales_sigma);
            pipeline.products.push(Product {
                field: project.field,
                peak_sales_musd_per_year: peak,
                launch_month: i64::from(w.month),
                licensee: project.licensee,
                royalty_rate: project.royalty_rate,
                codeveloper: project.codeveloper,
                origin_cluster: project.origin_cluster,
            });
        }
    }
    approvals.reverse();
    (own_spend, approvals)
}

/// What an owner still has to pay (its share) for the stages under way: discovery, and stages
/// started, to their drawn end.
pub fn remaining_commitments(params: &Scenario, pipeline: &Pipeline) -> f64 {
    let share = params.licensing.codevelopment_cost_share;
    pipeline
        .projects
        .iter()
        .filter(|project| project.months_in_stage > 0 || project.stage == Stage::Discovery)
        .map(|project| {
            let stage = params.pipeline.stages[project.stage.index()];
            let monthly = stage.cost_musd / (stage.duration_years * 12.0);
            let left = f64::from(project.duration_months.saturating_sub(project.months_in_stage));
            cost_split(project, share).0 * monthly * left
        })
        .sum()
}

/// The owner's share of a project's costs and the partner paying the rest: a licensee pays all,
/// a co-developer `licensing.codevelopment_cost_share`.
fn cost_split(project: &Project, codevelopment_share: f64) -> (f64, Option<u32>) {
    match (project.licensee, project.codeveloper) {
        (Some(licensee), _) => (0.0, Some(licensee)),
        (None, Some(codev)) => (1.0 - codevelopment_share, Some(codev)),
        (None, None) => (1.0, None),
    }
}

/// Pays a month of project costs. A pharma partner's group funds development it takes on (licensed,
/// co-developed or acquired projects) from its R&D budget, not from the partner's dealmaking budget.
fn pay_project_cost(ledger: &mut Ledger, payer: u32, amount: f64, group_funded: bool) {
    if group_funded {
        ledger.transfer(Account::External(External::PharmaGroups), Account::Agent(payer), amount, Flow::PharmaBudget);
    }
    ledger.transfer(Account::Agent(payer), Account::External(External::Suppliers), amount, Flow::ProjectCosts);
}

/// Ends the licensing or co-development alliance tied to a failed or shelved project.
fn end_partnership(book: &mut AllianceBook, owner: u32, project: &Project, month: u32) {
    for (partner, kind) in
        [(project.licensee, AllianceKind::Licensing), (project.codeveloper, AllianceKind::CoDevelopment)]
    {
        if let Some(partner) = partner
            && let Some(idx) = book.active_between(owner, partner, kind)
        {
            book.end(idx, month);
        }
    }
}

/// Success probability of a stage, with the large-partner uplift where it applies.
pub fn success_probability(scenario: &Scenario, stage: Stage, partnered: bool) -> f64 {
    let base = scenario.pipeline.stages[stage.index()].success_rate;
    if partnered { (base * (1.0 + scenario.pipeline.partner_uplift)).min(1.0) } else { base }
}

fn draw_duration(scenario: &Scenario, stage: Stage, rng: &mut PipelineRng) -> u32 {
    let mean = scenario.pipeline.stages[stage.index()].duration_years * 12.0;
    rng.duration(mean, scenario.pipeline.duration_shape).round().max(1.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_uplift_raises_but_caps_success() {
        let s = Scenario::default_scenario();
        let base = success_probability(&s, Stage::Phase2, false);
        let with = success_probability(&s, Stage::Phase2, true);
        assert_eq!(base, 0.289);
        assert!((with - 0.289 * 1.15).abs() < 1e-12);
        assert!(success_probability(&s, Stage::Filing, true) <= 1.0);
    }

    #[test]
    fn a_licensee_pays_all_and_a_codeveloper_its_share() {
        let mut p = Project::new(1, 0, Stage::Phase1, 12, 0);
        assert_eq!(cost_split(&p, 0.5), (1.0, None));
        p.codeveloper = Some(7);
        assert_eq!(cost_split(&p, 0.4), (0.6, Some(7)));
        p.licensee = Some(9);
        assert_eq!(cost_split(&p, 0.4), (0.0, Some(9)));
    }
}

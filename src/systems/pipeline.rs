//! Drug development pipeline (MODEL.md mechanism 4): projects move discovery -> preclinical ->
//! phase I -> II -> III -> filing -> approval.
//!
//! - Launch: a firm whose business model launches projects starts one in its focus field with
//!   monthly probability (`business_models.<model>.project_launches_per_year` / 12) x q, q its
//!   knowledge quality, while it holds fewer than 1 + employees / `firms.employees_per_project`.
//! - Duration: on entering a stage a project draws its duration from a gamma distribution with mean
//!   `pipeline.<stage>.duration_years` and shape `pipeline.duration_shape`. A regulatory alliance
//!   shortens filing by `revenue.regulatory_filing_speedup`.
//! - Outcome: at the end of a stage the project succeeds with probability
//!   `pipeline.<stage>.success_rate` (BIO/Informa 2011-2020 for phase I to filing), raised by
//!   `pipeline.partner_uplift` (relative) from `pipeline.partner_uplift_from_stage` on when a large
//!   partner licensed or co-develops it (Danzon et al. 2005). Success pays the licensee's milestone;
//!   success at filing is an approval and the project becomes a marketed product with log-normal
//!   peak sales. Failure ends the project and its licensing or co-development alliance.
//! - Cost: each month a stage costs `pipeline.<stage>.cost_musd` / mean duration, paid by the
//!   licensee, or shared with a co-developer, or by the firm.

use bevy_ecs::prelude::*;

use super::saturation;
use crate::kinds::{AllianceKind, Stage};
use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Home, Knowledge, Pipeline, Product, Project, ProjectSpend};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, Params, PipelineStats, Registry, YearCounters};
use crate::model::rng::{Draws, PipelineRng};
use crate::scenario::Scenario;

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(advance_projects.in_set(Tick::Pipeline));
}

#[allow(clippy::too_many_arguments)]
fn advance_projects(
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
    let p = &params.pipeline;
    for (id, home, firm, mut pipeline, knowledge, mut spend) in &mut firms {
        spend.0 = 0.0;
        if !firm.is_alive() {
            continue;
        }
        let firm_id = id.0;

        // Launch.
        let launches = params.business_models.by_model[firm.model as usize].project_launches_per_year;
        let room = 1.0 + firm.employees / params.firms.employees_per_project;
        let quality = saturation(knowledge.0[firm.focus], params.research.knowledge_half_saturation);
        if (pipeline.projects.len() as f64) < room.floor() && rng.chance(launches / 12.0 * quality) {
            let project_id = registry.new_project_id();
            let duration = draw_duration(&params, Stage::Discovery, &mut rng);
            pipeline.projects.push(Project {
                id: project_id,
                field: firm.focus,
                stage: Stage::Discovery,
                months_in_stage: 0,
                duration_months: duration,
                licensee: None,
                royalty_rate: 0.0,
                milestone_musd: 0.0,
                codeveloper: None,
            });
        }

        // Costs of this month's work.
        let cost_share = params.licensing.codevelopment_cost_share;
        for project in &pipeline.projects {
            let stage = p.stages[project.stage.index()];
            let monthly = stage.cost_musd / (stage.duration_years * 12.0);
            let (firm_part, partner) = match (project.licensee, project.codeveloper) {
                (Some(licensee), _) => (0.0, Some((licensee, monthly))),
                (None, Some(codev)) => (monthly * (1.0 - cost_share), Some((codev, monthly * cost_share))),
                (None, None) => (monthly, None),
            };
            if let Some((partner, amount)) = partner {
                ledger.transfer(
                    Account::Agent(partner),
                    Account::External(External::Suppliers),
                    amount,
                    Flow::ProjectCosts,
                );
            }
            ledger.transfer(
                Account::Agent(firm_id),
                Account::External(External::Suppliers),
                firm_part,
                Flow::ProjectCosts,
            );
            spend.0 += firm_part;
        }

        // Progress and outcomes.
        let regulatory = book.has_active(firm_id, AllianceKind::Regulatory);
        // (index, approved) of projects leaving the pipeline this month.
        let mut finished: Vec<(usize, bool)> = Vec::new();
        for (i, project) in pipeline.projects.iter_mut().enumerate() {
            project.months_in_stage += 1;
            let mut due = project.duration_months as f64;
            if regulatory && project.stage == Stage::Filing {
                due *= 1.0 - params.revenue.regulatory_filing_speedup;
            }
            if (project.months_in_stage as f64) < due {
                continue;
            }
            let partnered = project.has_large_partner() && project.stage >= p.partner_uplift_from_stage;
            let chance = success_probability(&params, project.stage, partnered);
            let success = rng.chance(chance);
            stats.record(project.stage, partnered, success, project.months_in_stage);
            if success && let Some(licensee) = project.licensee {
                ledger.transfer(
                    Account::Agent(licensee),
                    Account::Agent(firm_id),
                    project.milestone_musd,
                    Flow::Milestone,
                );
            }
            match (success, project.stage.next()) {
                (true, Some(next)) => {
                    project.stage = next;
                    project.months_in_stage = 0;
                    project.duration_months = draw_duration(&params, next, &mut rng);
                }
                (true, None) => finished.push((i, true)),
                (false, _) => {
                    finished.push((i, false));
                    end_partnership(&mut book, firm_id, project, clock.month);
                }
            }
        }
        for &(i, approved) in finished.iter().rev() {
            let project = pipeline.projects.remove(i);
            if approved {
                counters.clusters[home.cluster].approvals += 1;
                let peak = rng.lognormal(p.peak_sales_median_musd_per_year, p.peak_sales_sigma);
                pipeline.products.push(Product {
                    field: project.field,
                    peak_sales_musd_per_year: peak,
                    launch_month: i64::from(clock.month),
                    licensee: project.licensee,
                    royalty_rate: project.royalty_rate,
                    codeveloper: project.codeveloper,
                });
            }
        }
    }
}

/// Ends the licensing or co-development alliance tied to a failed project.
fn end_partnership(book: &mut AllianceBook, firm: u32, project: &Project, month: u32) {
    for (partner, kind) in
        [(project.licensee, AllianceKind::Licensing), (project.codeveloper, AllianceKind::CoDevelopment)]
    {
        if let Some(partner) = partner
            && let Some(idx) = book.active_between(firm, partner, kind)
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
}

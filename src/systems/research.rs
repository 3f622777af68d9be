//! Research (MODEL.md mechanism 1): R&D spend becomes knowledge; learning by doing; depreciation.
//!
//! Universities spend their budget each month, less what they paid partner firms for contract work.
//! Firms: dK[focus] = `research.firm_productivity` x R^`research.rd_elasticity` + `research.learning_by_doing`
//! x (active projects), with R the firm's R&D spend last month (M$). Universities are funded monthly
//! by the treasury (their research budget) and produce basic knowledge broadly:
//! dK[f] = `research.university_productivity` x (B/12)^elasticity / n_fields in every field.
//! All stocks depreciate at `research.depreciation_per_year`. Pharma partners' stocks are held
//! constant (their research is outside the cluster model).

use bevy_ecs::prelude::*;

use crate::kinds::N_FIELDS;
use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Knowledge, Pipeline, University};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::Params;

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(accumulate_knowledge.in_set(Tick::Research));
}

fn accumulate_knowledge(
    params: Res<Params>,
    mut ledger: ResMut<Ledger>,
    mut universities: Query<(&AgentId, &University, &mut Knowledge), Without<Firm>>,
    mut firms: Query<(&Firm, &Pipeline, &mut Knowledge), Without<University>>,
) {
    let r = &params.research;
    let keep = monthly_retention(r.depreciation_per_year);
    for (id, university, mut knowledge) in &mut universities {
        let monthly_budget = university.budget_musd_per_year / 12.0;
        ledger.transfer(
            Account::External(External::Treasury),
            Account::Agent(id.0),
            monthly_budget,
            Flow::ResearchFunding,
        );
        // Spends what it holds: contract work it bought from firms last month came out of this budget.
        let spend = ledger.balance(id.0).max(0.0);
        ledger.transfer(Account::Agent(id.0), Account::External(External::Suppliers), spend, Flow::ResearchSpend);
        let gain = r.university_productivity * monthly_budget.powf(r.rd_elasticity) / N_FIELDS as f64;
        for k in &mut knowledge.0 {
            *k = *k * keep + gain;
        }
    }
    for (firm, pipeline, knowledge) in &mut firms {
        let knowledge = knowledge.into_inner();
        if !firm.is_alive() {
            continue;
        }
        let gain = firm_gain(
            r.firm_productivity,
            r.rd_elasticity,
            firm.rd_month,
            r.learning_by_doing,
            pipeline.projects.len(),
        );
        for k in &mut knowledge.0 {
            *k *= keep;
        }
        knowledge.0[firm.focus] += gain;
    }
}

/// Share of a stock kept after one month of depreciation at a yearly rate.
pub fn monthly_retention(depreciation_per_year: f64) -> f64 {
    (1.0 - depreciation_per_year).powf(1.0 / 12.0)
}

/// Knowledge a firm adds in its focus field in one month.
pub fn firm_gain(productivity: f64, elasticity: f64, rd_month: f64, learning_by_doing: f64, n_projects: usize) -> f64 {
    productivity * rd_month.max(0.0).powf(elasticity) + learning_by_doing * n_projects as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_of_retention_matches_the_yearly_rate() {
        assert!((monthly_retention(0.1).powi(12) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn more_rd_gives_more_knowledge_with_diminishing_returns() {
        let g1 = firm_gain(1.0, 0.7, 0.1, 0.0, 0);
        let g2 = firm_gain(1.0, 0.7, 0.2, 0.0, 0);
        assert!(g2 > g1 && g2 < 2.0 * g1);
    }
}

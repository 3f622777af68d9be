//! Government policy instruments (MODEL.md mechanism 10; seed 003's list, seed 004): R&D grants,
//! tax incentives, public funds, incubators, shared infrastructure, cooperation matching and
//! researcher mobility. Each has a yearly budget, a start (and optional end) year, eligibility
//! (firm age, size) and a cluster scope.
//!
//! Money: at each year start the agency returns last year's unspent money to the treasury and
//! receives the budgets of its active instruments. Grants are awarded once a year (annual call),
//! tax credits and rent subsidies monthly, programme spending (shared facilities, mobility
//! fellowships) in twelfths. Public funds receive their budget as fund capital and invest in
//! finance-like rounds. Non-monetary effects (infrastructure level, spin-off, search and
//! spillover multipliers) are set in [`PolicyEffects`] for the other mechanisms to read.

use bevy_ecs::prelude::*;

use super::saturation;
use crate::kinds::N_FIELDS;
use crate::model::Tick;
use crate::model::components::{AgentId, Firm, Home, Knowledge};
use crate::model::ledger::{Account, External, Flow, Ledger};
use crate::model::resources::{Clock, InstrumentUse, Params, PolicyEffects, Registry};
use crate::model::rng::{Draws, PolicyRng};
use crate::scenario::{Instrument, Scenario};

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems((open_policy_year, pay_instruments).chain().in_set(Tick::Policy));
}

/// Year start: settle last year's budgets, fund this year's, and set the instruments' effects.
fn open_policy_year(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    mut ledger: ResMut<Ledger>,
    mut effects: ResMut<PolicyEffects>,
    mut used: ResMut<InstrumentUse>,
) {
    if !clock.is_year_start() {
        return;
    }
    let year = clock.year();
    for &agency in &registry.agencies {
        let unspent = ledger.balance(agency);
        ledger.transfer(Account::Agent(agency), Account::External(External::Treasury), unspent, Flow::BudgetReturn);
    }
    used.rows.extend(effects.year_rows());
    let claims = std::mem::take(&mut effects.claims);
    *effects = year_effects(&params, year);
    effects.claims = claims;
    for (p, policy) in params.policies.iter().enumerate() {
        if !policy.active_in(year) {
            continue;
        }
        let agency = registry.agencies[policy.agency];
        ledger.transfer(
            Account::External(External::Treasury),
            Account::Agent(agency),
            policy.budget_musd_per_year,
            Flow::BudgetAllocation,
        );
        if let (Instrument::PublicFund { .. }, Some(fund)) = (policy.instrument, registry.public_funds[p]) {
            let capital = effects.draw(p, policy.budget_musd_per_year);
            ledger.transfer(Account::Agent(agency), Account::Agent(fund), capital, Flow::FundCommitment);
        }
    }
}

/// The effects and budgets of the instruments active in `year` (switched on, funded, in their
/// schedule); the others have no effect.
pub fn year_effects(scenario: &Scenario, year: i32) -> PolicyEffects {
    let n = scenario.clusters.len();
    let n_policies = scenario.policies.len();
    let mut e = PolicyEffects {
        year,
        infrastructure: scenario.clusters.iter().map(|c| c.environment.infrastructure).collect(),
        spinoff_multiplier: vec![1.0; n],
        search_multiplier: vec![1.0; n],
        acceptance_bonus: vec![0.0; n],
        mobility_multiplier: vec![1.0; n],
        active: vec![false; n_policies],
        remaining_budget: vec![0.0; n_policies],
        demand: vec![0.0; n_policies],
        paid: vec![0.0; n_policies],
        claims: Vec::new(),
    };
    for (p, policy) in scenario.policies.iter().enumerate() {
        if !policy.active_in(year) {
            continue;
        }
        e.active[p] = true;
        e.remaining_budget[p] = policy.budget_musd_per_year;
        for &c in &policy.clusters {
            match policy.instrument {
                Instrument::SharedInfrastructure { infrastructure_boost } => {
                    e.infrastructure[c] = (e.infrastructure[c] + infrastructure_boost).min(1.0);
                }
                Instrument::Incubator { spinoff_multiplier, .. } => e.spinoff_multiplier[c] *= spinoff_multiplier,
                Instrument::CooperationMatching { search_multiplier, acceptance_bonus } => {
                    e.search_multiplier[c] *= search_multiplier;
                    e.acceptance_bonus[c] = (e.acceptance_bonus[c] + acceptance_bonus).min(1.0);
                }
                Instrument::ResearcherMobility { spillover_multiplier } => {
                    e.mobility_multiplier[c] *= spillover_multiplier
                }
                _ => {}
            }
        }
    }
    e
}

/// What the instruments ask of an alive firm: id, cluster, eligibility (age, size), R&D and burn,
/// and its knowledge in its focus field (the grants' merit score).
struct Applicant {
    id: u32,
    cluster: usize,
    age_years: f64,
    employees: f64,
    rd_month: f64,
    burn_month: f64,
    focus_knowledge: f64,
}

/// Serves one month's claims on an entitlement (tax credits, rent subsidies, reimbursed search
/// costs). The year's remaining budget is paced over the months left, so January's claimants do not
/// spend December's money; when the claims exceed this month's share, every claimant receives the
/// same fraction of its claim, so no firm is served before another. Puts what each is paid in `paid`
/// (a buffer reused from month to month).
pub fn serve_pro_rata(
    effects: &mut PolicyEffects,
    p: usize,
    month_of_year: u32,
    claims: &[(u32, f64)],
    paid: &mut Vec<f64>,
) {
    let demand: f64 = claims.iter().map(|(_, c)| c).sum();
    let months_left = f64::from(12 - month_of_year.min(11));
    let available = effects.remaining_budget[p].max(0.0) / months_left;
    paid.clear();
    if demand <= available {
        paid.extend(claims.iter().map(|(_, c)| *c));
    } else {
        // claim / demand is unchanged when every claim scales alike (a doubled tax-credit rate under
        // a binding budget pays exactly what the single rate pays).
        paid.extend(claims.iter().map(|(_, c)| available * (c / demand)));
    }
    let total: f64 = paid.iter().sum();
    effects.remaining_budget[p] = (effects.remaining_budget[p] - total).max(0.0);
    effects.count(p, demand, total);
}

/// Pays each claimant of `due` what [`serve_pro_rata`] put beside its claim in `paid`, from `agency`.
fn pay_claims(ledger: &mut Ledger, agency: Account, due: &[(u32, f64)], paid: &[f64], flow: Flow) {
    for (&(firm, _), &amount) in due.iter().zip(paid) {
        ledger.transfer(agency, Account::Agent(firm), amount, flow);
    }
}

/// The instruments' working lists, kept from month to month: alive firms with what the instruments
/// ask of them, one instrument's claims, and what each claim is paid.
#[derive(Default)]
struct Scratch {
    alive: Vec<Applicant>,
    due: Vec<(u32, f64)>,
    paid: Vec<f64>,
}

/// Monthly payouts: grants (first month of the year), tax credits, rent subsidies, reimbursed search
/// costs, programme spend, public-fund rounds.
#[allow(clippy::too_many_arguments)]
fn pay_instruments(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    firms: Query<(&AgentId, &Home, &Firm, &Knowledge)>,
    mut ledger: ResMut<Ledger>,
    mut effects: ResMut<PolicyEffects>,
    mut streams: ResMut<PolicyRng>,
    mut scratch: Local<Scratch>,
) {
    let Scratch { alive, due, paid } = &mut *scratch;
    let year = clock.year();
    let month_of_year = clock.month % 12;
    let claims = std::mem::take(&mut effects.claims);
    // The instruments read a few fields of every alive firm: gathered once, in query order, rather
    // than walked out of the firm table once per instrument.
    alive.clear();
    alive.extend(firms.iter().filter(|(_, _, firm, _)| firm.is_alive()).map(|(id, home, firm, k)| Applicant {
        id: id.0,
        cluster: home.cluster,
        age_years: firm.age_years(clock.month),
        employees: firm.employees,
        rd_month: firm.rd_month,
        burn_month: firm.burn_month,
        focus_knowledge: k.0[firm.focus.min(N_FIELDS - 1)],
    }));
    for (p, policy) in params.policies.iter().enumerate() {
        if !policy.active_in(year) {
            continue;
        }
        let rng = streams.instrument(p);
        let agency = Account::Agent(registry.agencies[policy.agency]);
        let applicants =
            || alive.iter().filter(|a| policy.covers(a.cluster) && policy.admits(a.age_years, a.employees));
        match policy.instrument {
            Instrument::Grants { grant_musd } if clock.is_year_start() => {
                // Annual call, a declared merit rule: the best-scored eligible firms win while the
                // budget lasts; scores mix knowledge with reviewers' noise.
                let half = params.research.knowledge_half_saturation;
                let mut scored: Vec<(f64, u32)> =
                    applicants().map(|a| (saturation(a.focus_knowledge, half) + rng.uniform(), a.id)).collect();
                scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut paid_total = 0.0;
                for &(_, firm) in &scored {
                    if effects.remaining_budget[p] < grant_musd {
                        break;
                    }
                    let paid = effects.draw(p, grant_musd);
                    ledger.transfer(agency, Account::Agent(firm), paid, Flow::Grant);
                    paid_total += paid;
                }
                effects.count(p, scored.len() as f64 * grant_musd, paid_total);
            }
            Instrument::TaxIncentive { rate } => {
                due.clear();
                due.extend(applicants().map(|a| (a.id, rate * a.rd_month)));
                serve_pro_rata(&mut effects, p, month_of_year, due, paid);
                pay_claims(&mut ledger, agency, due, paid, Flow::TaxCredit);
            }
            Instrument::Incubator { rent_subsidy_share, .. } => {
                let rent = rent_subsidy_share * params.firms.overhead_musd_per_month;
                due.clear();
                due.extend(applicants().map(|a| (a.id, rent)));
                serve_pro_rata(&mut effects, p, month_of_year, due, paid);
                pay_claims(&mut ledger, agency, due, paid, Flow::RentSubsidy);
            }
            Instrument::CooperationMatching { .. } => {
                due.clear();
                due.extend(claims.iter().filter(|(q, ..)| *q == p).map(|&(_, firm, cost)| (firm, cost)));
                serve_pro_rata(&mut effects, p, month_of_year, due, paid);
                pay_claims(&mut ledger, agency, due, paid, Flow::MatchingSubsidy);
            }
            Instrument::SharedInfrastructure { .. } | Instrument::ResearcherMobility { .. } => {
                let due = policy.budget_musd_per_year / 12.0;
                let spend = effects.draw(p, due);
                effects.count(p, due, spend);
                ledger.transfer(agency, Account::External(External::Suppliers), spend, Flow::ProgrammeSpend);
            }
            Instrument::PublicFund { round_musd, investments_per_year } => {
                let Some(fund) = registry.public_funds[p] else {
                    continue;
                };
                // Like a VC, the fund invests in firms that need money (short runway), picked at
                // random from its own stream.
                let min_runway = params.finance.min_runway_months;
                let n = rng.poisson(investments_per_year / 12.0);
                if n == 0 {
                    continue;
                }
                let candidates: Vec<u32> =
                    applicants().filter(|a| ledger.balance(a.id) < min_runway * a.burn_month).map(|a| a.id).collect();
                if candidates.is_empty() {
                    continue;
                }
                let mut invested = 0.0;
                for _ in 0..n {
                    if ledger.balance(fund) < round_musd {
                        break;
                    }
                    let firm = candidates[rng.index(candidates.len())];
                    ledger.transfer(Account::Agent(fund), Account::Agent(firm), round_musd, Flow::PublicFundRound);
                    invested += round_musd;
                }
                effects.count(p, f64::from(n) * round_musd, invested);
            }
            Instrument::Grants { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_infrastructure_raises_only_its_clusters_and_caps_at_one() {
        let s = Scenario::default_scenario();
        let before = year_effects(&s, 2005);
        let after = year_effects(&s, 2015);
        assert_eq!(before.infrastructure[0], s.clusters[0].environment.infrastructure);
        assert!(after.infrastructure[0] > before.infrastructure[0]);
        assert_eq!(after.infrastructure[1], before.infrastructure[1]);
        assert!(after.infrastructure.iter().all(|v| *v <= 1.0));
    }
}

//! World-wide resources: parameters, the clock, the agent registry, the alliance book, policy
//! effects and the counters the observation system reads.

use std::ops::Deref;
use std::sync::Arc;

use bevy_ecs::prelude::{Entity, Resource};

use super::components::{AgentKind, Home};
use crate::kinds::{AllianceKind, Stage};
use crate::scenario::Scenario;

/// The validated scenario, shared read-only by every system.
#[derive(Resource, Clone)]
pub struct Params(pub Arc<Scenario>);

impl Deref for Params {
    type Target = Scenario;
    fn deref(&self) -> &Scenario {
        &self.0
    }
}

/// Simulated time: one tick is one month.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Clock {
    /// Months since the start (0-based) of the tick being run.
    pub month: u32,
    pub start_year: i32,
    started: bool,
}

impl Clock {
    pub fn new(start_year: i32) -> Self {
        Clock { month: 0, start_year, started: false }
    }
    pub fn advance(&mut self) {
        if self.started {
            self.month += 1;
        }
        self.started = true;
    }
    pub fn year(&self) -> i32 {
        self.start_year + (self.month / 12) as i32
    }
    pub fn is_year_start(&self) -> bool {
        self.month.is_multiple_of(12)
    }
    pub fn is_year_end(&self) -> bool {
        self.month % 12 == 11
    }
}

/// Ids of the agents located in one cluster, by kind.
#[derive(Debug, Clone, Default)]
pub struct ClusterMembers {
    pub firms: Vec<u32>,
    pub universities: Vec<u32>,
    pub pharma: Vec<u32>,
    pub investors: Vec<u32>,
}

/// Who is who: agent ids to entities, kinds, homes, and lists by cluster and kind.
#[derive(Resource, Debug, Default)]
pub struct Registry {
    pub entities: Vec<Entity>,
    pub kind: Vec<AgentKind>,
    pub home: Vec<Home>,
    /// False once a firm has failed or been acquired; always true for other agents.
    pub alive: Vec<bool>,
    /// The month the population would have grown past `scenario::MAX_AGENTS`, if it did: the run
    /// stops there and reports it instead of exhausting memory.
    pub overflow_month: Option<u32>,
    /// (firm id, month) of every exit so far, in the order they happened: exited firms leave the
    /// world at the next year end (`model::compact`), so the end-of-run audits read them here.
    pub exits: Vec<(u32, u32)>,
    pub by_cluster: Vec<ClusterMembers>,
    pub pharma: Vec<u32>,
    pub investors: Vec<u32>,
    /// Agent id of each scenario agency, by agency index.
    pub agencies: Vec<u32>,
    /// Agent id of the public fund run by each policy (None for other kinds).
    pub public_funds: Vec<Option<u32>>,
    next_project_id: u32,
}

impl Registry {
    pub fn new(n_clusters: usize) -> Self {
        Registry { by_cluster: vec![ClusterMembers::default(); n_clusters], ..Default::default() }
    }

    /// The id the next registered agent will get.
    pub fn next_id(&self) -> u32 {
        self.entities.len() as u32
    }

    pub fn register(&mut self, entity: Entity, kind: AgentKind, home: Home) -> u32 {
        let id = self.next_id();
        self.entities.push(entity);
        self.kind.push(kind);
        self.home.push(home);
        self.alive.push(true);
        let members = &mut self.by_cluster[home.cluster];
        match kind {
            AgentKind::Firm => members.firms.push(id),
            AgentKind::University => members.universities.push(id),
            AgentKind::Pharma => {
                members.pharma.push(id);
                self.pharma.push(id);
            }
            AgentKind::Investor => {
                members.investors.push(id);
                self.investors.push(id);
            }
            AgentKind::Agency => self.agencies.push(id),
        }
        id
    }

    pub fn new_project_id(&mut self) -> u32 {
        self.next_project_id += 1;
        self.next_project_id
    }

    pub fn distance_km(&self, a: u32, b: u32) -> f64 {
        self.home[a as usize].distance_km(&self.home[b as usize])
    }
}

/// One alliance between a firm and a partner (firm, university, pharma partner or investor).
#[derive(Debug, Clone)]
pub struct Alliance {
    pub firm: u32,
    pub partner: u32,
    pub kind: AllianceKind,
    pub formed_month: u32,
    pub ended_month: Option<u32>,
}

impl Alliance {
    pub fn other(&self, id: u32) -> u32 {
        if self.firm == id { self.partner } else { self.firm }
    }
    /// Active at any time during months `from..=to`.
    pub fn active_during(&self, from: u32, to: u32) -> bool {
        self.formed_month <= to && self.ended_month.is_none_or(|end| end >= from)
    }
}

/// One of an agent's active alliances, as its list holds it: the alliance's index, the agent at the
/// other end, its kind, and whether this agent is the alliance's firm (the side that formed it). The
/// mechanisms ask these of every tie each month; keeping them in the agent's own list spares a visit
/// to the alliance itself, somewhere in the list of every alliance ever formed.
#[derive(Debug, Clone, Copy)]
pub struct Tie {
    pub alliance: u32,
    pub other: u32,
    pub kind: AllianceKind,
    pub firm_side: bool,
}

/// A counterfactual run: alliances of the blocked kinds are never formed, by anyone or (with `firm`)
/// by one firm (`causal.rs` measures what a firm's cooperation of a kind does to its sales by running
/// the same seeds without it). Nothing is blocked in every other run. The search and the partner's
/// acceptance are still drawn, so every random stream stays in step until the missing alliance
/// changes what happens.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counterfactual {
    pub blocked: [bool; AllianceKind::ALL.len()],
    /// Only this firm's alliances are blocked; `None`: everyone's.
    pub firm: Option<u32>,
}

impl Counterfactual {
    pub fn blocking(kinds: impl IntoIterator<Item = AllianceKind>, firm: Option<u32>) -> Self {
        let mut blocked = [false; AllianceKind::ALL.len()];
        for kind in kinds {
            blocked[kind as usize] = true;
        }
        Counterfactual { blocked, firm }
    }
    /// Whether an alliance of `kind` between `a` and `b` may not form.
    pub fn blocks(&self, kind: AllianceKind, a: u32, b: u32) -> bool {
        self.blocked[kind as usize] && self.firm.is_none_or(|f| f == a || f == b)
    }
}

/// Every alliance ever formed, with each agent's active and past ties.
#[derive(Resource, Debug, Default)]
pub struct AllianceBook {
    pub alliances: Vec<Alliance>,
    /// Each agent's active ties, by agent id; up to four held in place (most agents have fewer), so
    /// a monthly loop over firms in id order reads them in order rather than from a heap block each.
    active: Vec<smallvec::SmallVec<[Tie; 4]>>,
    partners_ever: Vec<Vec<u32>>,
    /// Alliances formed in the current tick, for the deal-signing step.
    pub formed_this_month: Vec<u32>,
}

impl AllianceBook {
    /// Makes room for agents up to `id`.
    pub fn ensure(&mut self, id: u32) {
        let n = id as usize + 1;
        if self.active.len() < n {
            self.active.resize_with(n, smallvec::SmallVec::new);
            self.partners_ever.resize_with(n, Vec::new);
        }
    }

    pub fn form(&mut self, firm: u32, partner: u32, kind: AllianceKind, month: u32) -> u32 {
        self.ensure(firm.max(partner));
        let idx = self.alliances.len() as u32;
        self.alliances.push(Alliance { firm, partner, kind, formed_month: month, ended_month: None });
        for (a, b) in [(firm, partner), (partner, firm)] {
            self.active[a as usize].push(Tie { alliance: idx, other: b, kind, firm_side: a == firm });
            if !self.partners_ever[a as usize].contains(&b) {
                self.partners_ever[a as usize].push(b);
            }
        }
        self.formed_this_month.push(idx);
        idx
    }

    pub fn end(&mut self, idx: u32, month: u32) {
        let alliance = &mut self.alliances[idx as usize];
        if alliance.ended_month.is_some() {
            return;
        }
        alliance.ended_month = Some(month);
        let (a, b) = (alliance.firm, alliance.partner);
        for agent in [a, b] {
            let list = &mut self.active[agent as usize];
            if let Some(pos) = list.iter().position(|t| t.alliance == idx) {
                list.remove(pos);
            }
        }
    }

    /// Ends every active alliance of an agent (on exit).
    pub fn end_all_of(&mut self, id: u32, month: u32) {
        self.ensure(id);
        for tie in self.active[id as usize].clone() {
            self.end(tie.alliance, month);
        }
    }

    pub fn active_of(&self, id: u32) -> &[Tie] {
        self.active.get(id as usize).map_or(&[], |v| v.as_slice())
    }

    pub fn degree(&self, id: u32) -> usize {
        self.active_of(id).len()
    }

    pub fn has_active(&self, id: u32, kind: AllianceKind) -> bool {
        self.active_of(id).iter().any(|t| t.kind == kind)
    }

    pub fn count_active(&self, id: u32, pred: impl Fn(AllianceKind) -> bool) -> usize {
        self.active_of(id).iter().filter(|t| pred(t.kind)).count()
    }

    /// Every agent this one has ever been allied with, in order of first alliance.
    pub fn previous_partners(&self, id: u32) -> &[u32] {
        self.partners_ever.get(id as usize).map_or(&[], |v| v.as_slice())
    }

    pub fn were_partners(&self, a: u32, b: u32) -> bool {
        self.partners_ever.get(a as usize).is_some_and(|v| v.contains(&b))
    }

    pub fn active_between(&self, a: u32, b: u32, kind: AllianceKind) -> Option<u32> {
        self.active_of(a).iter().find(|t| t.kind == kind && t.other == b).map(|t| t.alliance)
    }
}

/// Effects of the policy instruments active this year, per cluster, and their budgets.
#[derive(Resource, Debug, Clone, Default)]
pub struct PolicyEffects {
    /// The year these effects and budgets belong to.
    pub year: i32,
    /// Effective infrastructure level (environment plus shared-infrastructure boosts, <= 1).
    pub infrastructure: Vec<f64>,
    pub spinoff_multiplier: Vec<f64>,
    pub search_multiplier: Vec<f64>,
    pub acceptance_bonus: Vec<f64>,
    pub mobility_multiplier: Vec<f64>,
    /// Whether each policy runs this year (switched on, funded, in its schedule).
    pub active: Vec<bool>,
    /// Budget left this year, by policy index (M$).
    pub remaining_budget: Vec<f64>,
    /// What firms claimed or applied for this year, by policy index (M$).
    pub demand: Vec<f64>,
    /// What was paid out this year, by policy index (M$).
    pub paid: Vec<f64>,
    /// Search costs awaiting reimbursement by a matching programme: (policy, firm, M$). Paid the
    /// next month, so a programme's money is shared out among all of a month's claimants at once.
    pub claims: Vec<(usize, u32, f64)>,
}

impl PolicyEffects {
    /// Takes up to `amount` from a policy's remaining budget; returns what was granted.
    pub fn draw(&mut self, policy: usize, amount: f64) -> f64 {
        let granted = amount.min(self.remaining_budget[policy]).max(0.0);
        self.remaining_budget[policy] -= granted;
        granted
    }

    /// Counts an application or claim of `demand` M$ of which `paid` was served.
    pub fn count(&mut self, policy: usize, demand: f64, paid: f64) {
        self.demand[policy] += demand;
        self.paid[policy] += paid;
    }

    /// This year's use of each instrument that ran.
    pub fn year_rows(&self) -> impl Iterator<Item = InstrumentYear> + '_ {
        (0..self.active.len()).filter(|&p| self.active[p]).map(|p| InstrumentYear {
            year: self.year,
            policy: p,
            demand_musd: self.demand[p],
            paid_musd: self.paid[p],
        })
    }
}

/// One instrument's year: what was asked of it and what it paid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstrumentYear {
    pub year: i32,
    /// Index into the scenario's policies.
    pub policy: usize,
    pub demand_musd: f64,
    pub paid_musd: f64,
}

/// Every past year's instrument use, so a run can say when a budget bound.
#[derive(Resource, Debug, Clone, Default)]
pub struct InstrumentUse {
    pub rows: Vec<InstrumentYear>,
}

/// Whether the IPO window is open this year.
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct IpoWindow {
    pub open: bool,
}

/// Events counted per cluster during the current year.
#[derive(Debug, Clone, Default)]
pub struct ClusterCounters {
    pub spinoffs: u32,
    pub spinouts: u32,
    pub startups: u32,
    pub failures: u32,
    pub acquisitions: u32,
    pub ipos: u32,
    pub alliances_formed_tech: u32,
    pub alliances_formed_nontech: u32,
    pub approvals: u32,
    /// Approvals of projects developed here and acquired by a pharma partner.
    pub approvals_acquired: u32,
    /// Sales of acquired products developed here, booked by their pharma owners (M$).
    pub acquired_product_sales_musd: f64,
    /// Licensing deals signed (upfront paid).
    pub licensing_deals: u32,
    pub listings_tech: u32,
    pub listings_regular: u32,
    pub delistings: u32,
    pub model_switches: u32,
}

#[derive(Resource, Debug, Clone, Default)]
pub struct YearCounters {
    pub clusters: Vec<ClusterCounters>,
}

/// Stage outcomes over the whole run, split by whether a large partner was on board.
#[derive(Resource, Debug, Clone, Default)]
pub struct PipelineStats {
    pub attempts: [u64; 6],
    pub successes: [u64; 6],
    pub partnered_attempts: [u64; 6],
    pub partnered_successes: [u64; 6],
    /// Sum of months spent in each stage by projects that completed it.
    pub months_in_stage: [u64; 6],
    /// Projects held at the start, launched since, shelved for want of money, lost with a failed
    /// firm, and moved to an acquirer: for the conservation test.
    pub initial_projects: u64,
    pub launched: u64,
    pub shelved: u64,
    pub lost_in_failures: u64,
    pub transferred_in_takeovers: u64,
    /// Products held at the start, withdrawn at the end of their life, lost with a failed firm.
    pub initial_products: u64,
    pub withdrawn: u64,
    pub products_lost_in_failures: u64,
    pub products_transferred: u64,
    /// Stage outcomes of projects in an acquirer's pipeline (also counted in `attempts`).
    pub acquired_attempts: [u64; 6],
}

impl PipelineStats {
    pub fn record(&mut self, stage: Stage, partnered: bool, success: bool, months: u32) {
        let i = stage.index();
        if partnered {
            self.partnered_attempts[i] += 1;
            self.partnered_successes[i] += u64::from(success);
        } else {
            self.attempts[i] += 1;
            self.successes[i] += u64::from(success);
        }
        self.months_in_stage[i] += u64::from(months);
    }
}

//! Entity kinds and their data. Every agent has an [`AgentId`], an [`AgentKind`] and a [`Home`];
//! firms, universities and pharma partners also hold [`Knowledge`].
//!
//! Invariant: an entity's set of components never changes after it is spawned (exits are a
//! status, not a despawn), so each kind lives in one archetype and queries visit agents in spawn
//! order, which is id order. Mechanisms rely on this for deterministic iteration.

use bevy_ecs::prelude::Component;

use crate::kinds::{BusinessModel, KnowledgeVec, Stage};

/// Dense id, in spawn order; also the agent's ledger account and its index in registries.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentId(pub u32);

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgentKind {
    Firm,
    University,
    Pharma,
    Agency,
    Investor,
}

impl AgentKind {
    pub fn name(self) -> &'static str {
        match self {
            AgentKind::Firm => "firm",
            AgentKind::University => "university",
            AgentKind::Pharma => "pharma",
            AgentKind::Agency => "agency",
            AgentKind::Investor => "investor",
        }
    }
}

/// Where an agent sits: its cluster (index into the scenario's clusters) and position in km.
#[derive(Component, Debug, Clone, Copy)]
pub struct Home {
    pub cluster: usize,
    pub x_km: f64,
    pub y_km: f64,
}

impl Home {
    pub fn distance_km(&self, other: &Home) -> f64 {
        (self.x_km - other.x_km).hypot(self.y_km - other.y_km)
    }
}

/// Knowledge stock by technology field, in knowledge units (assumed scale; see docs/model.md).
#[derive(Component, Debug, Clone, Copy)]
pub struct Knowledge(pub KnowledgeVec);

impl Knowledge {
    pub fn total(&self) -> f64 {
        self.0.iter().sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Alive,
    Failed,
    Acquired,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Alive => "alive",
            Status::Failed => "failed",
            Status::Acquired => "acquired",
        }
    }
}

/// How a firm came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Initial,
    UniversitySpinoff,
    Spinout,
    Startup,
    /// An established maker present from the start (large domestic pharma, biosimilar or CMO firm).
    Established,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::Initial => "initial",
            Origin::UniversitySpinoff => "university_spinoff",
            Origin::Spinout => "spinout",
            Origin::Startup => "startup",
            Origin::Established => "established",
        }
    }
}

/// A dedicated biotech firm's state (cash lives in the ledger).
#[derive(Component, Debug, Clone)]
pub struct Firm {
    pub model: BusinessModel,
    pub status: Status,
    pub origin: Origin,
    /// Founding month relative to the simulation start (negative for firms older than the run).
    pub founded_month: i64,
    pub exit_month: Option<u32>,
    pub listed: bool,
    pub employees: f64,
    /// Main technology field (index into `kinds::FIELDS`).
    pub focus: usize,
    /// R&D spend in the last month (M$), staff and projects.
    pub rd_month: f64,
    /// Total operating cost in the last month (M$).
    pub burn_month: f64,
    /// Revenue over roughly the last 12 months (M$; exponentially smoothed).
    pub revenue_trailing: f64,
    /// Firm-specific commercial productivity (log-normal, median 1): scales what its services sell
    /// and the market they reach (not its drugs: a product's peak sales are its own). Firms differ in
    /// ways no survey control captures.
    pub productivity: f64,
    /// Firm-specific size of its own market (log-normal, median 1): the demand for what it offers,
    /// which sets how big it grows but not what an employee sells (firms differ in demand as much as
    /// in efficiency: Hottman, Redding & Weinstein 2016).
    pub market_scale: f64,
    /// Month from which its service business has something to sell (a platform takes time to build).
    pub services_from_month: i64,
    /// Month of its first sales of any kind, if any yet (before the run for older firms).
    pub first_sales_month: Option<i64>,
    /// Cost of goods, partner commissions and co-developers' shares paid this month (M$).
    pub cost_of_sales_month: f64,
    /// The same over roughly the last 12 months (exponentially smoothed, like `revenue_trailing`).
    pub cost_of_sales_trailing: f64,
    /// Month the firm listed on the stock market (negative: before the run).
    pub listed_month: Option<i64>,
    /// Established makers sell through their own channels: their whole market, no partner needed.
    pub own_channels: bool,
    /// An established maker's own manufacturing and marketed-portfolio business (generics,
    /// biosimilars, contract manufacturing): the market its service staff reach, M$ a year, in place
    /// of the scenario's small-firm service market. `None` for other firms.
    pub own_market_musd_per_year: Option<f64>,
    /// Service sales a month per employee at current demand, and the monthly service market the firm
    /// can reach (M$), as last seen by the revenue system: what it plans its service staff on.
    pub service_yield: f64,
    pub service_market: f64,
    /// Service sales this month, and over roughly the last 12 months (smoothed like `revenue_trailing`).
    pub service_sales_month: f64,
    pub service_sales_trailing: f64,
}

impl Firm {
    /// A new, unlisted firm without sales history.
    pub fn new(
        model: BusinessModel,
        origin: Origin,
        founded_month: i64,
        employees: f64,
        focus: usize,
        productivity: f64,
        services_from_month: i64,
    ) -> Firm {
        Firm {
            model,
            status: Status::Alive,
            origin,
            founded_month,
            exit_month: None,
            listed: false,
            employees,
            focus,
            rd_month: 0.0,
            burn_month: 0.0,
            revenue_trailing: 0.0,
            productivity,
            market_scale: 1.0,
            services_from_month,
            first_sales_month: None,
            cost_of_sales_month: 0.0,
            cost_of_sales_trailing: 0.0,
            listed_month: None,
            own_channels: false,
            own_market_musd_per_year: None,
            service_yield: 0.0,
            service_market: 0.0,
            service_sales_month: 0.0,
            service_sales_trailing: 0.0,
        }
    }
    pub fn is_alive(&self) -> bool {
        self.status == Status::Alive
    }
    pub fn age_years(&self, month: u32) -> f64 {
        (month as i64 - self.founded_month) as f64 / 12.0
    }
    /// Last month's costs plus the smoothed cost of sales, per month (M$).
    pub fn monthly_costs(&self) -> f64 {
        self.burn_month + self.cost_of_sales_trailing / 12.0
    }
    /// Monthly costs less smoothed monthly revenue: positive when the firm lives on its cash.
    pub fn net_burn(&self) -> f64 {
        self.monthly_costs() - self.revenue_trailing / 12.0
    }
}

/// A drug development project.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: u32,
    pub field: usize,
    pub stage: Stage,
    pub months_in_stage: u32,
    pub duration_months: u32,
    /// Pharma partner that licensed the project (pays costs and milestones, sells on approval).
    pub licensee: Option<u32>,
    /// Royalty rate and milestone per remaining stage, fixed at signing.
    pub royalty_rate: f64,
    pub milestone_musd: f64,
    /// Pharma partner sharing costs in a co-development alliance.
    pub codeveloper: Option<u32>,
    /// Cluster of the firm that launched it: an acquired project's approvals and sales are
    /// attributed there.
    pub origin_cluster: usize,
    /// Months the project has waited for money to start its current stage (0 while funded).
    pub months_waiting: u32,
}

impl Project {
    /// A project of its own (no partner, no deal terms), just entering `stage`.
    pub fn new(id: u32, field: usize, stage: Stage, duration_months: u32, origin_cluster: usize) -> Project {
        Project {
            id,
            field,
            stage,
            months_in_stage: 0,
            duration_months,
            licensee: None,
            royalty_rate: 0.0,
            milestone_musd: 0.0,
            codeveloper: None,
            origin_cluster,
            months_waiting: 0,
        }
    }

    /// Developed with a large partner (Danzon et al.: higher late-stage success).
    pub fn has_large_partner(&self) -> bool {
        self.licensee.is_some() || self.codeveloper.is_some()
    }
}

/// An approved, marketed product.
#[derive(Debug, Clone)]
pub struct Product {
    pub field: usize,
    pub peak_sales_musd_per_year: f64,
    /// Launch month relative to the simulation start (negative if launched before it).
    pub launch_month: i64,
    /// Pharma licensee selling it and paying royalties, if licensed out.
    pub licensee: Option<u32>,
    pub royalty_rate: f64,
    /// Co-development partner taking its cost share of the profits.
    pub codeveloper: Option<u32>,
    /// Cluster of the firm that developed it (see [`Project::origin_cluster`]).
    pub origin_cluster: usize,
}

/// A firm's projects and marketed products; pharma partners hold one too, for what they acquire.
#[derive(Component, Debug, Clone, Default)]
pub struct Pipeline {
    pub projects: Projects,
    pub products: Vec<Product>,
}

/// A pipeline's projects: most firms run one or two, held in the component itself (so the monthly
/// loops read them in firm order with the rest of the row, not from a heap block per firm); more
/// spill to the heap.
pub type Projects = smallvec::SmallVec<[Project; 2]>;

impl Pipeline {
    /// The furthest stage reached by an active project, if any.
    pub fn max_stage(&self) -> Option<Stage> {
        self.projects.iter().map(|p| p.stage).max()
    }
    /// 0 (none or discovery) .. 6 (marketed product): a coarse maturity score.
    pub fn maturity(&self) -> usize {
        if !self.products.is_empty() { 6 } else { self.max_stage().map_or(0, |s| s.index()) }
    }
}

/// Pharma partners' pipelines (the projects and products they acquired), kept disjoint from firms'
/// so a system can hold both.
pub type AcquirerPipelines<'w, 's> = bevy_ecs::system::Query<
    'w,
    's,
    (&'static AgentId, &'static mut Pipeline),
    (bevy_ecs::query::With<Pharma>, bevy_ecs::query::Without<Firm>),
>;

/// Project spend the firm itself bore this month (M$), written by the pipeline, read by finance.
#[derive(Component, Debug, Default, Clone, Copy)]
pub struct ProjectSpend(pub f64);

#[derive(Component, Debug, Clone)]
pub struct University {
    pub budget_musd_per_year: f64,
}

#[derive(Component, Debug, Clone)]
pub struct Pharma {
    /// Fields where its own pipeline has gaps: where it licenses and acquires.
    pub gap_fields: Vec<usize>,
}

#[derive(Component, Debug, Clone)]
pub struct Investor {
    /// `Some(policy index)` for a public fund run under a policy instrument.
    pub public_policy: Option<usize>,
}

#[derive(Component, Debug, Clone)]
pub struct Agency {
    /// Index into the scenario's agencies.
    pub index: usize,
}

/// The components every firm is spawned with (initial population, entry) and respawned with when
/// the firm table is compacted.
pub type FirmBundle = (AgentId, AgentKind, Home, Knowledge, Firm, Pipeline, ProjectSpend);

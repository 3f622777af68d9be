//! Double-entry cash ledger: the only place balances change.
//!
//! Every cash change is a [`Ledger::transfer`] between two accounts, so money is conserved by
//! construction: the sum of all balances, agents' and the outside world's, stays zero. The outside
//! world is a set of named external accounts (customers, suppliers, the treasury, ...), which go
//! negative as they source money. The ledger also tallies flows by kind for the outputs.

use std::collections::BTreeMap;

use bevy_ecs::prelude::Resource;

use super::components::AgentKind;

/// Accounts outside the simulated ecosystem: where money comes from and goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum External {
    /// Government treasury: funds agencies' budgets and universities' research.
    Treasury,
    /// Buyers of products and services.
    Customers,
    /// Staff, suppliers, CROs, landlords: where operating costs go.
    Suppliers,
    /// Founders and angels: seed and opening capital of firms.
    Founders,
    /// Limited partners of venture funds.
    LimitedPartners,
    /// Public equity markets (IPOs, follow-on offerings).
    PublicMarkets,
    /// Pharma partners' global parent groups (their dealmaking budgets).
    PharmaGroups,
    /// Selling shareholders of acquired firms.
    Shareholders,
    /// Creditors who absorb a failed firm's unpaid bills.
    Creditors,
}

impl External {
    pub const ALL: [External; 9] = [
        External::Treasury,
        External::Customers,
        External::Suppliers,
        External::Founders,
        External::LimitedPartners,
        External::PublicMarkets,
        External::PharmaGroups,
        External::Shareholders,
        External::Creditors,
    ];
}

/// An account: an agent (by id) or an external account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Account {
    Agent(u32),
    External(External),
}

/// What a transfer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flow {
    OpeningCapital,
    Wages,
    Overhead,
    ProjectCosts,
    Cogs,
    ProductSales,
    Services,
    LicensingUpfront,
    Milestone,
    Royalty,
    PartnerCommission,
    CoDevelopmentShare,
    UniversityFee,
    UniversityLicense,
    SearchCost,
    Seed,
    VcRound,
    PublicFundRound,
    IpoProceeds,
    FollowOn,
    Grant,
    TaxCredit,
    RentSubsidy,
    MatchingSubsidy,
    ProgrammeSpend,
    BudgetAllocation,
    BudgetReturn,
    ResearchFunding,
    ResearchSpend,
    FundCommitment,
    AcquisitionPrice,
    AcquiredCash,
    PharmaBudget,
    WriteOff,
}

pub const N_FLOWS: usize = Flow::ALL.len();

impl Flow {
    /// Every flow kind, in discriminant order.
    pub const ALL: [Flow; 34] = {
        use Flow::*;
        [
            OpeningCapital,
            Wages,
            Overhead,
            ProjectCosts,
            Cogs,
            ProductSales,
            Services,
            LicensingUpfront,
            Milestone,
            Royalty,
            PartnerCommission,
            CoDevelopmentShare,
            UniversityFee,
            UniversityLicense,
            SearchCost,
            Seed,
            VcRound,
            PublicFundRound,
            IpoProceeds,
            FollowOn,
            Grant,
            TaxCredit,
            RentSubsidy,
            MatchingSubsidy,
            ProgrammeSpend,
            BudgetAllocation,
            BudgetReturn,
            ResearchFunding,
            ResearchSpend,
            FundCommitment,
            AcquisitionPrice,
            AcquiredCash,
            PharmaBudget,
            WriteOff,
        ]
    };

    /// Flows that count as a firm's sales in the survey sense.
    pub fn is_revenue(self) -> bool {
        matches!(
            self,
            Flow::ProductSales
                | Flow::Services
                | Flow::LicensingUpfront
                | Flow::Milestone
                | Flow::Royalty
        )
    }
    /// Public money received by firms.
    pub fn is_public_support(self) -> bool {
        matches!(
            self,
            Flow::Grant
                | Flow::TaxCredit
                | Flow::PublicFundRound
                | Flow::RentSubsidy
                | Flow::MatchingSubsidy
        )
    }
}

/// The kind of either end of a transfer, for auditing routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Party {
    Agent(AgentKind),
    External(External),
}

#[derive(Resource, Default)]
pub struct Ledger {
    balance: Vec<f64>,
    kind: Vec<AgentKind>,
    external: BTreeMap<External, f64>,
    /// Per agent, inflows this simulated year by flow (reset by `start_year`).
    year_in: Vec<[f64; N_FLOWS]>,
    /// Per agent, revenue received this month (reset by `take_month_revenue`).
    month_revenue: Vec<f64>,
    /// Per agent, lifetime inflows and outflows, for reconciliation.
    total_in: Vec<f64>,
    total_out: Vec<f64>,
    /// Per agent, the last month any money moved in or out.
    last_flow_month: Vec<Option<u32>>,
    /// Totals by (flow, payer kind, payee kind) since the start.
    routes: BTreeMap<(Flow, Party, Party), f64>,
    month: u32,
}

impl Ledger {
    /// Opens an account for a new agent; its id must be the next one.
    pub fn open(&mut self, id: u32, kind: AgentKind) {
        assert_eq!(
            id as usize,
            self.balance.len(),
            "agent ids are dense and opened in order"
        );
        self.balance.push(0.0);
        self.kind.push(kind);
        self.year_in.push([0.0; N_FLOWS]);
        self.month_revenue.push(0.0);
        self.total_in.push(0.0);
        self.total_out.push(0.0);
        self.last_flow_month.push(None);
    }

    pub fn set_month(&mut self, month: u32) {
        self.month = month;
    }

    /// Moves `amount` (M$, >= 0) from one account to another. Non-finite or negative amounts are
    /// a bug in a mechanism; they move nothing rather than corrupt the books.
    pub fn transfer(&mut self, from: Account, to: Account, amount: f64, flow: Flow) {
        // Tiny negatives are rounding residue (e.g. returning a budget spent to the last cent).
        debug_assert!(
            amount.is_finite() && amount > -1e-9,
            "bad transfer {amount} for {flow:?}"
        );
        if !(amount.is_finite() && amount > 0.0) {
            return;
        }
        let payer = self.debit(from, amount);
        let payee = self.credit(to, amount, flow);
        *self.routes.entry((flow, payer, payee)).or_insert(0.0) += amount;
    }

    fn debit(&mut self, account: Account, amount: f64) -> Party {
        match account {
            Account::Agent(id) => {
                let i = id as usize;
                self.balance[i] -= amount;
                self.total_out[i] += amount;
                self.last_flow_month[i] = Some(self.month);
                Party::Agent(self.kind[i])
            }
            Account::External(e) => {
                *self.external.entry(e).or_insert(0.0) -= amount;
                Party::External(e)
            }
        }
    }

    fn credit(&mut self, account: Account, amount: f64, flow: Flow) -> Party {
        match account {
            Account::Agent(id) => {
                let i = id as usize;
                self.balance[i] += amount;
                self.total_in[i] += amount;
                self.year_in[i][flow as usize] += amount;
                if flow.is_revenue() {
                    self.month_revenue[i] += amount;
                }
                self.last_flow_month[i] = Some(self.month);
                Party::Agent(self.kind[i])
            }
            Account::External(e) => {
                *self.external.entry(e).or_insert(0.0) += amount;
                Party::External(e)
            }
        }
    }

    pub fn balance(&self, id: u32) -> f64 {
        self.balance[id as usize]
    }

    /// Inflows to an agent this year for one flow kind.
    pub fn year_inflow(&self, id: u32, flow: Flow) -> f64 {
        self.year_in[id as usize][flow as usize]
    }

    pub fn year_inflows(&self, id: u32) -> &[f64; N_FLOWS] {
        &self.year_in[id as usize]
    }

    /// Revenue received this month, and resets it.
    pub fn take_month_revenue(&mut self, id: u32) -> f64 {
        std::mem::take(&mut self.month_revenue[id as usize])
    }

    /// Resets the yearly tallies.
    pub fn start_year(&mut self) {
        for row in &mut self.year_in {
            *row = [0.0; N_FLOWS];
        }
    }

    pub fn last_flow_month(&self, id: u32) -> Option<u32> {
        self.last_flow_month[id as usize]
    }

    pub fn external_balance(&self, e: External) -> f64 {
        self.external.get(&e).copied().unwrap_or(0.0)
    }

    /// Sum of every balance, agents' and external: zero if money is conserved.
    pub fn net_total(&self) -> f64 {
        self.balance.iter().sum::<f64>() + self.external.values().sum::<f64>()
    }

    /// Largest |balance - (inflows - outflows)| over agents: zero if no balance changed outside
    /// a transfer.
    pub fn max_reconciliation_gap(&self) -> f64 {
        (0..self.balance.len())
            .map(|i| (self.balance[i] - (self.total_in[i] - self.total_out[i])).abs())
            .fold(0.0, f64::max)
    }

    pub fn routes(&self) -> &BTreeMap<(Flow, Party, Party), f64> {
        &self.routes
    }

    pub fn n_accounts(&self) -> usize {
        self.balance.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_conserve_money_and_reconcile() {
        let mut ledger = Ledger::default();
        ledger.open(0, AgentKind::Firm);
        ledger.open(1, AgentKind::Pharma);
        ledger.transfer(
            Account::External(External::PharmaGroups),
            Account::Agent(1),
            100.0,
            Flow::PharmaBudget,
        );
        ledger.transfer(
            Account::Agent(1),
            Account::Agent(0),
            12.5,
            Flow::LicensingUpfront,
        );
        ledger.transfer(
            Account::Agent(0),
            Account::External(External::Suppliers),
            3.0,
            Flow::Wages,
        );
        assert!((ledger.balance(0) - 9.5).abs() < 1e-12);
        assert!(ledger.net_total().abs() < 1e-12);
        assert!(ledger.max_reconciliation_gap() < 1e-12);
        assert_eq!(ledger.year_inflow(0, Flow::LicensingUpfront), 12.5);
    }

    #[test]
    fn flow_list_is_in_discriminant_order() {
        for (i, f) in Flow::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
        }
    }

    #[test]
    fn negative_and_nan_amounts_move_nothing_in_release() {
        let mut ledger = Ledger::default();
        ledger.open(0, AgentKind::Firm);
        if cfg!(not(debug_assertions)) {
            ledger.transfer(
                Account::External(External::Founders),
                Account::Agent(0),
                f64::NAN,
                Flow::Seed,
            );
            assert_eq!(ledger.balance(0), 0.0);
        }
    }
}

//! Double-entry cash ledger: the only place balances change.
//!
//! Every cash change is a [`Ledger::transfer`] between two accounts, so money is conserved by
//! construction: the sum of all balances, agents' and the outside world's, stays zero. The outside
//! world is a set of named external accounts (customers, suppliers, the treasury, ...), which go
//! negative as they source money. The ledger also tallies flows by kind for the outputs.

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
    SellingCosts,
    Liquidation,
}

pub const N_FLOWS: usize = Flow::ALL.len();

impl Flow {
    /// Every flow kind, in discriminant order.
    pub const ALL: [Flow; 36] = {
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
            SellingCosts,
            Liquidation,
        ]
    };

    /// Flows that count as a firm's sales in the survey sense.
    pub fn is_revenue(self) -> bool {
        matches!(self, Flow::ProductSales | Flow::Services | Flow::LicensingUpfront | Flow::Milestone | Flow::Royalty)
    }
    /// Money an agent spends to operate: staff, overheads, projects, cost of goods, partners' and
    /// universities' shares, search. Not financing, takeovers or write-offs.
    pub fn is_operating_cost(self) -> bool {
        matches!(
            self,
            Flow::Wages
                | Flow::Overhead
                | Flow::SellingCosts
                | Flow::ProjectCosts
                | Flow::Cogs
                | Flow::PartnerCommission
                | Flow::CoDevelopmentShare
                | Flow::UniversityFee
                | Flow::UniversityLicense
                | Flow::SearchCost
        )
    }
    /// Public money received by firms.
    pub fn is_public_support(self) -> bool {
        matches!(
            self,
            Flow::Grant | Flow::TaxCredit | Flow::PublicFundRound | Flow::RentSubsidy | Flow::MatchingSubsidy
        )
    }
}

/// The kind of either end of a transfer, for auditing routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Party {
    Agent(AgentKind),
    External(External),
}

const AGENT_KINDS: [AgentKind; 5] =
    [AgentKind::Firm, AgentKind::University, AgentKind::Pharma, AgentKind::Agency, AgentKind::Investor];
const N_PARTIES: usize = AGENT_KINDS.len() + External::ALL.len();

impl Party {
    fn index(self) -> usize {
        match self {
            Party::Agent(kind) => kind as usize,
            Party::External(e) => AGENT_KINDS.len() + e as usize,
        }
    }
    fn from_index(i: usize) -> Party {
        if i < AGENT_KINDS.len() {
            Party::Agent(AGENT_KINDS[i])
        } else {
            Party::External(External::ALL[i - AGENT_KINDS.len()])
        }
    }
}

/// One agent's account: balance and the tallies every transfer touches, in one small row (the
/// yearly inflows by flow live apart, in `Ledger::year_in`, so the rows of many agents share cache
/// lines).
#[derive(Debug, Clone)]
struct AgentAccount {
    balance: f64,
    kind: AgentKind,
    /// Operating costs paid this simulated year (reset by `start_year`).
    year_costs: f64,
    /// Revenue received this month (reset by `take_month_revenue`).
    month_revenue: f64,
    /// Lifetime inflows and outflows, for reconciliation.
    total_in: f64,
    total_out: f64,
    /// The last month any money moved in or out.
    last_flow_month: Option<u32>,
}

#[derive(Resource)]
pub struct Ledger {
    accounts: Vec<AgentAccount>,
    /// Each agent's row in `year_in`. Agents retired by [`Ledger::retire`] (exited firms, after their
    /// exit year) share row 0, which nothing reads, so the rows that money still reaches stay dense.
    year_row: Vec<u32>,
    /// Inflows this simulated year by row (see `year_row`) and flow (reset by `start_year`).
    year_in: Vec<[f64; N_FLOWS]>,
    /// Balances of the external accounts, by `External` discriminant.
    external: [f64; External::ALL.len()],
    /// Totals by (flow, payer kind, payee kind) since the start, flattened.
    routes: Vec<f64>,
    month: u32,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            accounts: Vec::new(),
            year_row: Vec::new(),
            year_in: Vec::new(),
            external: [0.0; External::ALL.len()],
            routes: vec![0.0; N_FLOWS * N_PARTIES * N_PARTIES],
            month: 0,
        }
    }
}

impl Ledger {
    /// Opens an account for a new agent; its id must be the next one.
    pub fn open(&mut self, id: u32, kind: AgentKind) {
        assert_eq!(id as usize, self.accounts.len(), "agent ids are dense and opened in order");
        self.accounts.push(AgentAccount {
            balance: 0.0,
            kind,
            year_costs: 0.0,
            month_revenue: 0.0,
            total_in: 0.0,
            total_out: 0.0,
            last_flow_month: None,
        });
        if self.year_in.is_empty() {
            self.year_in.push([0.0; N_FLOWS]);
        }
        self.year_row.push(self.year_in.len() as u32);
        self.year_in.push([0.0; N_FLOWS]);
    }

    /// Gives up the yearly-inflow rows of agents that `alive` says have left (exited firms, once their
    /// exit year is recorded); the others keep their tallies in fresh, dense rows, in id order.
    pub fn retire(&mut self, alive: &[bool]) {
        // Rows follow id order (agents open in id order), so every kept row moves down or stays:
        // compacted in place, without a second buffer.
        let mut next = 1;
        for (id, &alive) in alive.iter().enumerate() {
            let row = &mut self.year_row[id];
            if alive {
                debug_assert!(*row as usize >= next, "yearly rows in id order");
                self.year_in[next] = self.year_in[*row as usize];
                *row = next as u32;
                next += 1;
            } else {
                *row = 0;
            }
        }
        self.year_in.truncate(next);
    }

    fn year_in_of(&self, id: u32) -> &[f64; N_FLOWS] {
        &self.year_in[self.year_row[id as usize] as usize]
    }

    pub fn set_month(&mut self, month: u32) {
        self.month = month;
    }

    /// Moves `amount` (M$, >= 0) from one account to another. Non-finite or negative amounts are
    /// a bug in a mechanism; they move nothing rather than corrupt the books.
    #[inline]
    pub fn transfer(&mut self, from: Account, to: Account, amount: f64, flow: Flow) {
        // Tiny negatives are rounding residue (e.g. returning a budget spent to the last cent).
        debug_assert!(amount.is_finite() && amount > -1e-9, "bad transfer {amount} for {flow:?}");
        if !(amount.is_finite() && amount > 0.0) {
            return;
        }
        let payer = self.debit(from, amount, flow);
        let payee = self.credit(to, amount, flow);
        self.routes[(flow as usize * N_PARTIES + payer) * N_PARTIES + payee] += amount;
    }

    /// Takes `amount` from an account; returns the payer's party index (see [`Party`]).
    #[inline]
    fn debit(&mut self, account: Account, amount: f64, flow: Flow) -> usize {
        match account {
            Account::Agent(id) => {
                let a = &mut self.accounts[id as usize];
                a.balance -= amount;
                if flow.is_operating_cost() {
                    a.year_costs += amount;
                }
                a.total_out += amount;
                a.last_flow_month = Some(self.month);
                Party::Agent(a.kind).index()
            }
            Account::External(e) => {
                self.external[e as usize] -= amount;
                Party::External(e).index()
            }
        }
    }

    /// Gives `amount` to an account; returns the payee's party index.
    #[inline]
    fn credit(&mut self, account: Account, amount: f64, flow: Flow) -> usize {
        match account {
            Account::Agent(id) => {
                let a = &mut self.accounts[id as usize];
                a.balance += amount;
                a.total_in += amount;
                if flow.is_revenue() {
                    a.month_revenue += amount;
                }
                a.last_flow_month = Some(self.month);
                let index = Party::Agent(a.kind).index();
                self.year_in[self.year_row[id as usize] as usize][flow as usize] += amount;
                index
            }
            Account::External(e) => {
                self.external[e as usize] += amount;
                Party::External(e).index()
            }
        }
    }

    pub fn balance(&self, id: u32) -> f64 {
        self.accounts[id as usize].balance
    }

    /// Inflows to an agent this year for one flow kind.
    pub fn year_inflow(&self, id: u32, flow: Flow) -> f64 {
        self.year_in_of(id)[flow as usize]
    }

    pub fn year_inflows(&self, id: u32) -> &[f64; N_FLOWS] {
        self.year_in_of(id)
    }

    /// Revenue (sales in the survey sense, see [`Flow::is_revenue`]) received this year.
    pub fn year_revenue(&self, id: u32) -> f64 {
        let year_in = self.year_in_of(id);
        Flow::ALL.iter().filter(|f| f.is_revenue()).map(|&f| year_in[f as usize]).sum()
    }

    /// Operating costs an agent paid this year (see [`Flow::is_operating_cost`]).
    pub fn year_costs(&self, id: u32) -> f64 {
        self.accounts[id as usize].year_costs
    }

    /// Revenue received this month, and resets it.
    pub fn take_month_revenue(&mut self, id: u32) -> f64 {
        std::mem::take(&mut self.accounts[id as usize].month_revenue)
    }

    /// Resets the yearly tallies.
    pub fn start_year(&mut self) {
        for a in &mut self.accounts {
            a.year_costs = 0.0;
        }
        for year_in in &mut self.year_in {
            *year_in = [0.0; N_FLOWS];
        }
    }

    pub fn last_flow_month(&self, id: u32) -> Option<u32> {
        self.accounts[id as usize].last_flow_month
    }

    pub fn external_balance(&self, e: External) -> f64 {
        self.external[e as usize]
    }

    /// Sum of every balance, agents' and external: zero if money is conserved.
    pub fn net_total(&self) -> f64 {
        self.accounts.iter().map(|a| a.balance).sum::<f64>() + self.external.iter().sum::<f64>()
    }

    /// Largest |balance - (inflows - outflows)| over agents: zero if no balance changed outside
    /// a transfer.
    pub fn max_reconciliation_gap(&self) -> f64 {
        self.accounts.iter().map(|a| (a.balance - (a.total_in - a.total_out)).abs()).fold(0.0, f64::max)
    }

    /// Money moved so far by (flow, payer kind, payee kind), for routes that carried any.
    pub fn routes(&self) -> Vec<(Flow, Party, Party, f64)> {
        let mut out = Vec::new();
        for (i, &amount) in self.routes.iter().enumerate() {
            if amount > 0.0 {
                let payee = i % N_PARTIES;
                let payer = (i / N_PARTIES) % N_PARTIES;
                let flow = i / (N_PARTIES * N_PARTIES);
                out.push((Flow::ALL[flow], Party::from_index(payer), Party::from_index(payee), amount));
            }
        }
        out
    }

    pub fn n_accounts(&self) -> usize {
        self.accounts.len()
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
        ledger.transfer(Account::External(External::PharmaGroups), Account::Agent(1), 100.0, Flow::PharmaBudget);
        ledger.transfer(Account::Agent(1), Account::Agent(0), 12.5, Flow::LicensingUpfront);
        ledger.transfer(Account::Agent(0), Account::External(External::Suppliers), 3.0, Flow::Wages);
        assert!((ledger.balance(0) - 9.5).abs() < 1e-12);
        assert!(ledger.net_total().abs() < 1e-12);
        assert!(ledger.max_reconciliation_gap() < 1e-12);
        assert_eq!(ledger.year_inflow(0, Flow::LicensingUpfront), 12.5);
    }

    #[test]
    fn retiring_keeps_the_live_agents_tallies_and_drops_the_rest() {
        let mut ledger = Ledger::default();
        for id in 0..6 {
            ledger.open(id, AgentKind::Firm);
            ledger.transfer(
                Account::External(External::Customers),
                Account::Agent(id),
                f64::from(id + 1),
                Flow::ProductSales,
            );
        }
        let alive = [true, false, true, false, false, true];
        ledger.retire(&alive);
        // Twice: a second compaction starts from rows already compacted.
        ledger.retire(&alive);
        assert_eq!(ledger.year_in.len(), 1 + 3);
        for (id, &alive) in alive.iter().enumerate() {
            let expected = if alive { f64::from(id as u32 + 1) } else { 0.0 };
            assert_eq!(ledger.year_inflow(id as u32, Flow::ProductSales), expected, "agent {id}");
        }
        ledger.transfer(Account::External(External::Customers), Account::Agent(5), 0.5, Flow::ProductSales);
        assert_eq!(ledger.year_inflow(5, Flow::ProductSales), 6.5);
        assert_eq!(ledger.year_inflow(2, Flow::ProductSales), 3.0);
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
            ledger.transfer(Account::External(External::Founders), Account::Agent(0), f64::NAN, Flow::Seed);
            assert_eq!(ledger.balance(0), 0.0);
        }
    }
}

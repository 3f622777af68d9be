//! The ECS model's data: components, resources, the ledger, random streams, the initial population,
//! and the [`Tick`] sets the mechanisms put their systems in. Building the schedule and running a
//! replication live one floor up, in [`crate::simulation`], so that data never imports mechanisms.

pub mod compact;
pub mod components;
pub mod ledger;
pub mod resources;
pub mod rng;
pub mod spawn;

use bevy_ecs::prelude::*;

/// One simulated month, in the order a reader should think about it.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tick {
    /// Advance the month.
    Clock,
    /// Government instruments: yearly budgets, grants, tax credits, subsidies.
    Policy,
    /// New firms: university spin-offs, spin-outs, start-ups.
    Entry,
    /// R&D turns into knowledge; knowledge depreciates.
    Research,
    /// Knowledge flows within and between clusters and along alliance ties.
    Spillover,
    /// Alliances end and form (open innovation).
    Alliances,
    /// Deal terms for new licensing, co-development and university alliances.
    Licensing,
    /// Projects launch, advance, fail or get approved.
    Pipeline,
    /// Firms switch business model (yearly).
    BusinessModels,
    /// Product sales, services, royalties.
    Revenue,
    /// Costs, hiring, VC rounds, follow-ons.
    Finance,
    /// Stock-market listings and delistings.
    Listing,
    /// Failures and takeovers.
    Exit,
    /// Observation: yearly time series and firm panel (reads only).
    Record,
}

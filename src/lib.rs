//! biocluster: an agent-based simulator of biotech/biopharma cluster ecosystems.
//!
//! A scenario (TOML, [`scenario`]) becomes a bevy_ecs world ([`model`]) of firms, universities,
//! pharma partners, agencies and investors; one [`systems`] file per mechanism runs each simulated
//! month in the order [`simulation::build_schedule`] lists; [`observe`] records what a survey-minded
//! analyst would want to see. ARCHITECTURE.md has the bird's eye view.

pub mod calibration;
pub mod causal;
pub mod cli;
pub mod error;
pub mod experiment;
pub mod facts;
pub mod format;
pub mod kinds;
pub mod model;
pub mod observe;
pub mod regression;
pub mod report;
pub mod run_output;
pub mod scenario;
pub mod sensitivity;
pub mod serve;
pub mod simulation;
pub mod stats;
pub mod survey;
pub mod systems;
pub mod targets;

pub use error::{Error, Result};
pub use scenario::Scenario;

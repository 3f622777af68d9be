//! Errors the library reports to its caller. The binary prints them and exits with code 2.

use std::path::PathBuf;

/// Everything that can go wrong outside the model itself: reading a scenario, writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read scenario file `{path}`: {source}")]
    ReadScenario { path: PathBuf, source: std::io::Error },

    #[error("malformed TOML in `{file}`: {message}")]
    MalformedToml { file: String, message: String },

    #[error("invalid scenario `{file}`:\n{}", format_problems(.problems))]
    InvalidScenario { file: String, problems: Vec<Problem> },

    #[error("cannot read facts file `{path}`: {source}")]
    ReadFacts { path: PathBuf, source: std::io::Error },

    #[error("invalid facts file `{file}`:\n{}", format_problems(.problems))]
    InvalidFacts { file: String, problems: Vec<Problem> },

    #[error("cannot read targets file `{path}`: {source}")]
    ReadTargets { path: PathBuf, source: std::io::Error },

    #[error("invalid targets file `{file}`:\n{}", format_problems(.problems))]
    InvalidTargets { file: String, problems: Vec<Problem> },

    #[error("cannot write output to `{path}`: {source}")]
    WriteOutput { path: PathBuf, source: std::io::Error },

    #[error("{0}")]
    Usage(String),
}

/// One thing wrong with a scenario: the dotted key and what is allowed there.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl Error {
    /// An invalid scenario with one problem: `key` and what is wrong there.
    pub fn invalid_scenario(file: impl Into<String>, key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::InvalidScenario {
            file: file.into(),
            problems: vec![Problem { key: key.into(), message: message.into() }],
        }
    }
}

fn format_problems(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  - `{}`: {}", p.key, p.message)).collect::<Vec<_>>().join("\n")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

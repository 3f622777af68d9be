//! Command line: turns arguments into calls on the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::error::Result;
use crate::model::run_replication;
use crate::observe::write::write_run;
use crate::scenario::Scenario;

#[derive(Debug, Parser)]
#[command(name = "biocluster", version, about = "Agent-based simulator of biotech/biopharma cluster ecosystems")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (the embedded Korea-like default when no file is given).
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario TOML file, read on top of the embedded default.
    pub scenario: Option<PathBuf>,
    /// Folder under which `<scenario name>/` is written.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replication index (selects independent random streams for the same seed).
    #[arg(long, default_value_t = 0)]
    pub replication: u64,
    /// Scale populations, start-up rates and policy budgets by this factor (e.g. 10).
    #[arg(long)]
    pub scale: Option<f64>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

pub fn parse() -> Cli {
    Cli::parse()
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run_scenario(args),
    }
}

fn run_scenario(args: RunArgs) -> Result<()> {
    let mut scenario = match &args.scenario {
        Some(path) => Scenario::load(path)?,
        None => Scenario::default_scenario(),
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
        scenario.raw.scenario.seed = seed;
    }
    if let Some(factor) = args.scale {
        if !(factor.is_finite() && factor > 0.0) {
            return Err(crate::Error::Usage(format!("--scale must be a number > 0 (got {factor})")));
        }
        scenario = scenario.scaled(factor)?;
    }
    let dir = args.out.join(&scenario.name);
    // Fail on an unwritable output folder before simulating, not after.
    crate::observe::write::write_atomic(&dir.join(".biocluster-write-check"), b"")?;
    let _ = std::fs::remove_file(dir.join(".biocluster-write-check"));

    let scenario = Arc::new(scenario);
    let years = scenario.years;
    let tty = std::io::stderr().is_terminal();
    let quiet = args.quiet;
    let name = scenario.name.clone();
    let started = std::time::Instant::now();
    let record = run_replication(Arc::clone(&scenario), args.replication, |year| {
        if quiet {
            return;
        }
        if tty {
            eprint!("\r{name}: simulated year {year}/{years}");
        } else if year % 10 == 0 || year == years {
            eprintln!("{name}: simulated year {year}/{years}");
        }
    });
    if tty && !quiet {
        eprintln!();
    }
    let simulated = started.elapsed().as_secs_f64();
    let written = write_run(&dir, &scenario, args.replication, &record)?;
    if !quiet {
        eprintln!(
            "{name}: {years} years simulated in {simulated:.2} s, written in {:.2} s: {}",
            started.elapsed().as_secs_f64() - simulated,
            written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

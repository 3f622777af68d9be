//! The `biocluster` binary: parse the command line, run it, map errors to exit code 2.

use std::process::ExitCode;

fn main() -> ExitCode {
    match biocluster::cli::run(biocluster::cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

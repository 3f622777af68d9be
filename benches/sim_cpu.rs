//! CPU time of the simulation alone: replication 0 of the default scenario at a scale, run in one
//! process, without the process start, the scenario file, the checks and the output files a
//! `biocluster run` adds. Used by `benches/throughput.sh` for both builds it compares (the base gets
//! a copy of this file), so it uses only what every version of the crate since c93978b exposes.
//!
//!   cargo run --release --example sim_cpu -- SCALE REPS
//!
//! Prints the CPU nanoseconds of REPS replications after one more run first to warm the heap and
//! the caches, read from /proc/thread-self/schedstat (Linux; the simulation runs on this thread).

use std::sync::Arc;

use biocluster::Scenario;
use biocluster::simulation::run_replication;

fn cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux /proc/thread-self/schedstat");
    stat.split_whitespace().next().and_then(|t| t.parse().ok()).expect("schedstat starts with the CPU time in ns")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(scale), Some(reps)) =
        (args.get(1).and_then(|s| s.parse::<f64>().ok()), args.get(2).and_then(|s| s.parse::<u32>().ok()))
    else {
        eprintln!("usage: sim_cpu SCALE REPS");
        std::process::exit(2);
    };
    let scenario = match Scenario::default_scenario().scaled(scale) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("sim_cpu: scale {scale}: {e}");
            std::process::exit(2);
        }
    };
    std::hint::black_box(run_replication(Arc::clone(&scenario), 0, |_| {}));
    let start = cpu_ns();
    for _ in 0..reps {
        std::hint::black_box(run_replication(Arc::clone(&scenario), 0, |_| {}));
    }
    println!("{}", cpu_ns() - start);
}

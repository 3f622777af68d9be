//! Command line: turns arguments into calls on the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::error::Result;
use crate::experiment::Experiment;
use crate::experiment::run::Options;
use crate::facts::Facts;
use crate::observe::write::write_files;
use crate::run_output::write_run;
use crate::scenario::Scenario;
use crate::simulation::run_replication;

#[derive(Debug, Parser)]
#[command(name = "biocluster", version, about = "Agent-based simulator of biotech/biopharma cluster ecosystems")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (the embedded Korea-like default when no file is given); a scenario with an
    /// [experiment] section runs all its variants and replications in parallel.
    Run(RunArgs),
    /// Calibrate the parameters a scenario's [calibration] section names against survey targets.
    Calibrate(CalibrateArgs),
    /// Merge the shards of an experiment (OUTPUT_DIR = <out>/<scenario name>) into its outputs.
    Merge {
        /// The experiment's output folder, holding `shards/`.
        dir: PathBuf,
    },
    /// Write ready-to-submit Slurm scripts running an experiment as an array of shards.
    Slurm(SlurmArgs),
    /// Draw the charts of an output folder (a run, an experiment or a calibration) and write its
    /// self-contained report.html.
    Report(ReportArgs),
    /// Scenario discovery: the box of uncertain inputs (PRIM) in which an outcome of a sensitivity
    /// experiment falls below or above a value (writes discovery.csv and charts into the folder).
    Discover(DiscoverArgs),
    /// The classroom: a local web page with sliders for the policy levers and each cluster's
    /// environment and population, live charts, run comparison and replication fans; with
    /// --classroom, students join with a code and the teacher sees every run.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Scenario the page opens with: a shipped id (korea-default, korea-policy-levers, korea-four-clusters,
    /// korea-calibrated, belgium, beijing) or a TOML file.
    pub scenario: Option<PathBuf>,
    /// Address to listen on (127.0.0.1: this machine only; 0.0.0.0 for a class network).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port (0: any free port, printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Class mode: students join with the class code; the teacher's page (/teacher, teacher code)
    /// shows every student's runs. Results go to <out>/classroom/ as they arrive.
    #[arg(long)]
    pub classroom: bool,
    /// The class code students enter (default: a random one, or the one of the lesson in
    /// <out>/classroom/).
    #[arg(long, requires = "classroom")]
    pub code: Option<String>,
    /// The teacher's code (default: random, or the lesson's).
    #[arg(long, requires = "classroom")]
    pub teacher_code: Option<String>,
    /// Folder under which classroom/ is written.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Simulation worker threads (default: all cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Memory for finished runs, in MB (all users together; the oldest are forgotten beyond it).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub memory_mb: u64,
}

#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    /// Output folder of an experiment with a sensitivity design (holding samples.csv).
    pub dir: PathBuf,
    /// The outcome (one of the experiment's outcomes, e.g. firms_alive).
    #[arg(long)]
    pub outcome: String,
    /// Cases of interest: the outcome below this value.
    #[arg(long, conflicts_with = "above", required_unless_present = "above")]
    pub below: Option<f64>,
    /// Cases of interest: the outcome above this value.
    #[arg(long)]
    pub above: Option<f64>,
    /// The lever whose sampled worlds are searched (default: the scenario as written).
    #[arg(long)]
    pub lever: Option<String>,
    /// Share of the points inside peeled off at each step.
    #[arg(long, default_value_t = 0.05)]
    pub peel: f64,
    /// Smallest share of all points a box may keep.
    #[arg(long, default_value_t = 0.05)]
    pub min_mass: f64,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output folder, e.g. output/korea-default.
    pub dir: PathBuf,
    #[command(flatten)]
    pub charts: ChartArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ChartArgs {
    /// Years of the alliance network pictures, e.g. 2010,2029 (default: a third in, two thirds in,
    /// the last year).
    #[arg(long, value_delimiter = ',')]
    pub network_years: Vec<i32>,
    /// Also write every chart as 16:9 single-panel pictures with large fonts, for slides
    /// (`slides/<chart>-N.png`, 1280 x 720).
    #[arg(long)]
    pub slides: bool,
}

impl ChartArgs {
    fn options(&self) -> crate::report::Options {
        crate::report::Options { network_years: self.network_years.clone(), slides: self.slides }
    }
}

#[derive(Debug, clap::Args)]
pub struct SlurmArgs {
    /// Scenario TOML file with an [experiment] section.
    pub scenario: PathBuf,
    /// Number of array tasks (shards).
    #[arg(long)]
    pub shards: usize,
    /// Slurm partition (default: the cluster's default partition).
    #[arg(long)]
    pub partition: Option<String>,
    /// Wall-time limit per task, in Slurm's format.
    #[arg(long, default_value = "01:00:00")]
    pub time: String,
    /// CPUs per task (worker threads of each shard).
    #[arg(long, default_value_t = 2)]
    pub cpus: usize,
    /// Folder under which `<scenario name>/` is written (must be visible to the compute nodes).
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Stylized-facts file every shard measures (default: the embedded scenarios/facts/korea.toml).
    #[arg(long)]
    pub facts: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Scenario TOML file with a [calibration] section.
    pub scenario: PathBuf,
    /// Targets file (e.g. scenarios/targets/lee_korea_bioclusters.toml).
    #[arg(long)]
    pub targets: PathBuf,
    /// Stylized-facts file (default: the embedded scenarios/facts/korea.toml): the facts the
    /// calibration names in `calibration.facts` are fitted, all are shown beside the fit.
    #[arg(long)]
    pub facts: Option<PathBuf>,
    /// Folder under which `<scenario name>-calibration/` is written.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No search: score the scenario's own values and validate them on the fresh replications (and
    /// the +-10 % robustness checks, if the calibration asks for them), e.g. for a calibrated file.
    #[arg(long)]
    pub validate_only: bool,
    #[arg(long)]
    pub quiet: bool,
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
    /// Worker threads for experiments (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Keep the finished replications of an interrupted experiment and run only the rest.
    #[arg(long)]
    pub resume: bool,
    /// Run only shard I of N of an experiment's runs (`I/N`, or `slurm` to read the Slurm array
    /// task variables); combine the shards with `biocluster merge`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Scale populations, start-up rates and policy budgets by this factor (e.g. 10).
    #[arg(long)]
    pub scale: Option<f64>,
    /// Stylized-facts file measured on every run (default: the embedded scenarios/facts/korea.toml).
    #[arg(long)]
    pub facts: Option<PathBuf>,
    /// Write charts (charts/) and report.html after the run (the default).
    #[arg(long, overrides_with = "no_report")]
    pub report: bool,
    /// Skip the charts and report.html.
    #[arg(long)]
    pub no_report: bool,
    /// Single runs: also measure cooperation's causal effect on sales (causal_effects.csv): one more
    /// run per surveyed cooperating firm and cooperation dummy, that firm's alliances of the kind
    /// blocked (seconds at survey size).
    #[arg(long)]
    pub causal: bool,
    #[command(flatten)]
    pub charts: ChartArgs,
    /// Name this run's output folder `<scenario name>-LABEL` (instead of `<scenario name>`, plus
    /// `-seedS`, `-xF` and `-repR` for a --seed, --scale or --replication given here).
    #[arg(long)]
    pub label: Option<String>,
    /// Replace the outputs of a different run (another scenario under the same name) in the folder.
    #[arg(long)]
    pub force: bool,
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
        Command::Calibrate(args) => run_calibration(args),
        Command::Merge { dir } => {
            let files = crate::experiment::shard::merge(&dir)?;
            eprintln!(
                "merged shards into {}",
                files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            );
            report(&dir, &crate::report::Options::default(), false)
        }
        Command::Slurm(args) => write_slurm(args),
        Command::Report(args) => report(&args.dir, &args.charts.options(), false),
        Command::Serve(args) => serve(args),
        Command::Discover(args) => {
            let threshold = match (args.below, args.above) {
                (Some(v), _) => crate::report::discover::Threshold::Below(v),
                (None, Some(v)) => crate::report::discover::Threshold::Above(v),
                (None, None) => unreachable!("clap requires one"),
            };
            let options = crate::report::discover::Options {
                outcome: args.outcome,
                threshold,
                lever: args.lever,
                peel: args.peel,
                min_mass: args.min_mass,
            };
            let found = crate::report::discover::run(&args.dir, &options)?;
            eprintln!("{}", found.summary);
            eprintln!("wrote {}", found.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
            Ok(())
        }
    }
}

fn serve(args: ServeArgs) -> Result<()> {
    let server = crate::serve::start(crate::serve::Options {
        scenario: args.scenario,
        host: args.host,
        port: args.port,
        classroom: args.classroom,
        join_code: args.code,
        teacher_code: args.teacher_code,
        out: args.out,
        workers: args.workers,
        memory_bytes: usize::try_from(args.memory_mb).unwrap_or(usize::MAX / (1 << 20)) << 20,
    })?;
    // Written, not println!: a closed stdout (piped into `head`) must not stop the server.
    use std::io::Write as _;
    let mut text = format!("biocluster serve: open http://{} in a browser (Ctrl-C stops)\n", server.addr);
    if let (Some(join), Some(teacher)) = (&server.join_code, &server.teacher_code) {
        text.push_str(&format!("class code for students: {join}\n"));
        text.push_str(&format!("teacher page: http://{}/teacher, teacher code: {teacher}\n", server.addr));
    }
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
    server.wait();
    Ok(())
}

/// A run's output folder: `<out>/<scenario name>`, with `-LABEL` when labelled, else with what the
/// command line changed (`-seedS` for a seed other than the file's, `-xF` for a scale, `-repR` for
/// a replication other than 0), so runs of one scenario with different seeds keep their own folders.
fn output_folder(args: &RunArgs, scenario: &Scenario, file_seed: u64) -> Result<std::path::PathBuf> {
    let mut name = scenario.name.clone();
    if let Some(label) = &args.label {
        if let Some(why) = crate::scenario::name_problem(label) {
            return Err(crate::Error::Usage(format!("--label: {why} (it names a folder)")));
        }
        name = format!("{name}-{label}");
    } else {
        if scenario.seed != file_seed {
            name = format!("{name}-seed{}", scenario.seed);
        }
        if let Some(factor) = args.scale {
            name = format!("{name}-x{factor}");
        }
        if args.replication != 0 {
            name = format!("{name}-rep{}", args.replication);
        }
    }
    Ok(args.out.join(name))
}

/// Refuses to replace the outputs of a different run without --force: `old` (what the folder holds)
/// differs from `new` (what this run is).
fn refuse_replacing(dir: &std::path::Path, what: &str, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    Err(crate::Error::Usage(format!(
        "`{}` holds the outputs of a different {what} (another scenario under the same name, or other settings); \
         to keep both, give this run its own folder with --label NAME (`{}-NAME`); to replace them, add --force",
        dir.display(),
        dir.display()
    )))
}

fn run_scenario(args: RunArgs) -> Result<()> {
    let mut scenario = match &args.scenario {
        Some(path) => Scenario::load(path)?,
        None => Scenario::default_scenario(),
    };
    let file_seed = scenario.seed;
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
    let facts = Facts::load_or_default(args.facts.as_deref())?;
    let dir = output_folder(&args, &scenario, file_seed)?;
    let file = args.scenario.as_ref().map_or("<embedded default>".to_string(), |p| p.display().to_string());
    let experiment = Experiment::from_scenario(&scenario, &file)?.map(|e| e.with_facts(facts.clone()));
    if experiment.is_some() {
        check_writable(&dir)?;
    }
    if let Some(spec) = &args.shard {
        let shard = crate::experiment::shard::Shard::parse(spec)?;
        let experiment = experiment.ok_or_else(|| {
            crate::Error::Usage(format!("--shard needs a scenario with an [experiment] section; `{file}` has none"))
        })?;
        let options = Options { threads: args.threads, resume: false, quiet: args.quiet };
        let folder = crate::experiment::shard::run_shard(&experiment, &dir, shard, &options)?;
        if !args.quiet {
            eprintln!("{}: shard {}/{} done in {}", experiment.name, shard.index, shard.count, folder.display());
        }
        return Ok(());
    }
    if let Some(experiment) = experiment {
        if !args.resume
            && let Ok(old) = std::fs::read_to_string(dir.join("experiment.json"))
            && !crate::experiment::run::same_experiment(&old, &crate::experiment::run::manifest(&experiment))
        {
            refuse_replacing(&dir, "experiment", args.force)?;
        }
        run_experiment(&experiment, &dir, &args)?;
        return if args.no_report { Ok(()) } else { report(&dir, &args.charts.options(), args.quiet) };
    }
    if args.resume {
        return Err(crate::Error::Usage(format!(
            "--resume continues an interrupted experiment; `{file}` has no [experiment] section (a single run starts afresh)"
        )));
    }

    if let Ok(old) = std::fs::read_to_string(dir.join("scenario.resolved.toml"))
        && !crate::observe::write::same_run(&old, &crate::observe::write::resolved_text(&scenario, args.replication))
    {
        refuse_replacing(&dir, "run", args.force)?;
    }
    // Written into a fresh hidden folder and swapped into place only once complete.
    let staged = crate::observe::staged::Staged::new(&dir)?;
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
    record.check_finite(&file)?;
    let mut written = write_run(staged.path(), &scenario, args.replication, &record, &facts)?;
    if args.causal {
        let responses = crate::survey::sample(&scenario, args.replication, &record.panel);
        let regressions = crate::survey::regressions(&responses, scenario.survey.standard_errors);
        let effects = crate::causal::effects(&scenario, args.replication, &responses, &regressions);
        written.extend(write_files(staged.path(), &[("causal_effects.csv", crate::causal::csv(&effects))])?);
    }
    let staging = staged.path().to_path_buf();
    let final_path = |p: &std::path::Path| dir.join(p.strip_prefix(&staging).unwrap_or(p));
    if !quiet {
        eprintln!(
            "{name}: {years} years simulated in {simulated:.2} s, written in {:.2} s: {}",
            started.elapsed().as_secs_f64() - simulated,
            written.iter().map(|p| final_path(p).display().to_string()).collect::<Vec<_>>().join(", ")
        );
        let (hits, computed) = facts.hits(&facts.evaluate(&record));
        let missing = facts.facts.len() - computed;
        let na = if missing > 0 { format!(" ({missing} not computable)") } else { String::new() };
        eprintln!("{name}: stylized facts: {hits} of {computed} in band{na}; see facts.csv");
    }
    let built = if args.no_report { None } else { Some(crate::report::build(staged.path(), &args.charts.options())?) };
    staged.commit()?;
    if let Some(built) = built
        && !quiet
    {
        report_line(&built, &dir, &final_path(&built.html));
    }
    Ok(())
}

/// Draws the charts of an output folder and writes its report.html.
fn report(dir: &std::path::Path, options: &crate::report::Options, quiet: bool) -> Result<()> {
    let built = crate::report::build(dir, options)?;
    if !quiet {
        report_line(&built, dir, &built.html);
    }
    Ok(())
}

fn report_line(built: &crate::report::Built, dir: &std::path::Path, html: &std::path::Path) {
    eprintln!(
        "report: {} charts (PNG, SVG and their data as CSV) in {}/charts, drawn in {:.2} s; open {}",
        built.figures.len(),
        dir.display(),
        built.seconds,
        html.display()
    );
}

fn run_experiment(experiment: &Experiment, dir: &std::path::Path, args: &RunArgs) -> Result<()> {
    let started = std::time::Instant::now();
    if !args.quiet {
        eprintln!(
            "{}: {} variants x {} replications = {} runs",
            experiment.name,
            experiment.variants.len(),
            experiment.replications,
            experiment.n_units()
        );
    }
    let options = Options { threads: args.threads, resume: args.resume, quiet: args.quiet };
    let report = crate::experiment::run::run(experiment, dir, &options)?;
    if !args.quiet {
        eprintln!(
            "{}: {} runs done ({} reused) in {:.1} s; wrote {}",
            experiment.name,
            report.units_run,
            report.units_reused,
            started.elapsed().as_secs_f64(),
            report.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        if experiment.variants.len() > 1 || experiment.design.is_some() {
            let path = dir.join("answers.txt");
            let answers = std::fs::read_to_string(&path)
                .map_err(|source| crate::error::Error::WriteOutput { path: path.clone(), source })?;
            eprintln!("\n{answers}");
        }
    }
    Ok(())
}

fn run_calibration(args: CalibrateArgs) -> Result<()> {
    let scenario = Scenario::load(&args.scenario)?;
    let targets = crate::calibration::Targets::load(&args.targets)?;
    let facts = Facts::load_or_default(args.facts.as_deref())?;
    crate::calibration::parameters(&scenario)?;
    crate::calibration::fitted_facts(&scenario, &facts)?;
    let dir = args.out.join(format!("{}-calibration", scenario.name));
    check_writable(&dir)?;
    let pool = crate::experiment::run::thread_pool(args.threads)?;
    let started = std::time::Instant::now();
    let cal = scenario.raw.calibration.clone().expect("checked above");
    if !args.quiet {
        if args.validate_only {
            eprintln!(
                "{}: validating the scenario's values of {} parameters on {} fresh replications (no search)",
                scenario.name,
                cal.parameters.len(),
                cal.validation_replications.max(1)
            );
        } else {
            eprintln!(
                "{}: calibrating {} parameters, {} replications per evaluation, budget {} simulations",
                scenario.name,
                cal.parameters.len(),
                cal.replications,
                cal.budget
            );
        }
    }
    let (calibration, validation) = pool.install(|| -> Result<_> {
        let calibration = crate::calibration::calibrate_or_check(&scenario, &targets, &facts, !args.validate_only)?;
        let mut validation = crate::calibration::report::validate(
            &calibration,
            &targets,
            &facts,
            u64::from(cal.validation_replications.max(1)),
        );
        if cal.robustness_replications > 0 {
            let first = calibration.replications;
            let reps = first..first + u64::from(cal.robustness_replications);
            validation.robustness = Some(crate::calibration::report::robustness(&calibration, &targets, reps));
        }
        Ok((calibration, validation))
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let files = crate::calibration::report::write(&dir, &calibration, &targets, &facts, &validation, seconds)?;
    if !args.quiet {
        eprintln!(
            "{}: {} evaluations in {seconds:.0} s; best loss {:.4} (start {:.4})",
            scenario.name,
            calibration.history.len(),
            calibration.best.loss,
            calibration.start_loss
        );
        eprintln!("wrote {}", files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
        if let Ok(report) = std::fs::read_to_string(dir.join("report.md")) {
            eprintln!("\n{report}");
        }
    }
    report(&dir, &crate::report::Options::default(), args.quiet)
}

fn write_slurm(args: SlurmArgs) -> Result<()> {
    // Both go into the sbatch scripts verbatim: nothing but what Slurm's own syntax uses.
    let plain = |value: &str, extra: &str| {
        !value.is_empty() && value.chars().all(|ch| ch.is_ascii_alphanumeric() || extra.contains(ch))
    };
    if !plain(&args.time, ":-") {
        return Err(crate::Error::Usage(format!(
            "--time must be a Slurm time limit of digits, ':' and '-' (e.g. 2:00:00 or 1-00:00:00; got {:?})",
            args.time
        )));
    }
    if let Some(partition) = &args.partition
        && !plain(partition, "_-.,")
    {
        return Err(crate::Error::Usage(format!(
            "--partition must be a partition name of letters, digits, '_', '-', '.' or ',' (got {partition:?})"
        )));
    }
    let scenario = Scenario::load(&args.scenario)?;
    let file = args.scenario.display().to_string();
    let experiment = Experiment::from_scenario(&scenario, &file)?
        .ok_or_else(|| crate::Error::Usage(format!("`{file}` has no [experiment] section to shard")))?;
    if args.shards == 0 || args.cpus == 0 {
        return Err(crate::Error::Usage("--shards and --cpus must be at least 1".into()));
    }
    // Checked here, not first on the compute nodes.
    if let Some(path) = &args.facts {
        Facts::load(path)?;
    }
    let absolute = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let out = absolute(&args.out);
    let dir = out.join(&scenario.name);
    let binary = std::env::current_exe()
        .map_err(|e| crate::Error::Usage(format!("cannot locate the biocluster binary: {e}")))?;
    let options = crate::experiment::shard::SlurmOptions {
        shards: args.shards,
        partition: args.partition.clone(),
        time: args.time.clone(),
        cpus: args.cpus,
        facts: args.facts.as_deref().map(absolute),
    };
    let scripts =
        crate::experiment::shard::slurm_scripts(&experiment, &binary, &absolute(&args.scenario), &out, &dir, &options);
    let slurm = dir.join("slurm");
    for (name, text) in
        [("array.sbatch", &scripts.array), ("merge.sbatch", &scripts.merge), ("submit.sh", &scripts.submit)]
    {
        crate::observe::write::write_atomic(&slurm.join(name), text.as_bytes())?;
    }
    eprintln!(
        "wrote {}/{{array.sbatch, merge.sbatch, submit.sh}}: {} runs in {} array tasks.\nSubmit with: bash {}",
        slurm.display(),
        experiment.n_units(),
        args.shards,
        slurm.join("submit.sh").display()
    );
    Ok(())
}

/// Fails on an unwritable output folder before any simulation, not after. The probe file is named
/// after the process, so shards starting together in one folder do not trip over each other.
fn check_writable(dir: &std::path::Path) -> Result<()> {
    let err = |source| crate::Error::WriteOutput { path: dir.to_path_buf(), source };
    std::fs::create_dir_all(dir).map_err(err)?;
    // An exclusive probe with an unpredictable name, removed when dropped.
    tempfile::Builder::new().prefix(".biocluster-write-check-").tempfile_in(dir).map_err(err)?;
    Ok(())
}

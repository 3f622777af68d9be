//! The server's state: sessions and their rate limits, the runs, batches and uploads it keeps, the
//! simulation pool and what its workers do, the exercises and the page (script, styles and font
//! inlined). `api.rs` is the HTTP face of it.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::Options;
use super::class::{Class, ResultRow};
use super::levers::{self, Base};
use super::pool::Pool;
use super::reply::{ApiError, SESSION_BURST, SESSION_RATE, too_many};
use super::runs::{self, Batch, Job, Run, Status};
use crate::error::{Error, Result};

/// Most replications per variant one request may ask for.
pub const MAX_REPLICATIONS: u32 = 50;
/// Sessions, joins and code attempts per address: a burst, and per second after it.
pub(super) const ADDRESS_BURST: f64 = 60.0;
pub(super) const ADDRESS_RATE: f64 = 2.0;
/// Finished runs, batches and uploads kept per user (older ones are forgotten; pinned runs live in
/// the page).
pub(super) const RUNS_KEPT: usize = 8;
pub(super) const BATCHES_KEPT: usize = 2;
pub(super) const UPLOADS_KEPT: usize = 4;
/// Sessions kept; beyond, the longest idle is forgotten.
pub(super) const MAX_SESSIONS: usize = 1_000;

pub(super) const PAGE_HTML: &str = include_str!("page/index.html");
pub(super) const PAGE_CSS: &str = include_str!("page/style.css");
pub(super) const PAGE_JS: &str = include_str!("page/app.js");
pub(super) const FONT: &[u8] = include_bytes!("../report/font/DejaVuSans.ttf");
pub(super) const EXERCISES: &str = include_str!("exercises.toml");

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Role {
    Solo,
    Student,
    Teacher,
}

pub(super) struct Bucket {
    pub(super) tokens: f64,
    pub(super) last: Instant,
}

impl Bucket {
    pub(super) fn new(burst: f64) -> Bucket {
        Bucket { tokens: burst, last: Instant::now() }
    }
    pub(super) fn take(&mut self, burst: f64, rate: f64) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + rate * now.duration_since(self.last).as_secs_f64()).min(burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub(super) struct Session {
    pub(super) client: u64,
    pub(super) name: String,
    pub(super) role: Role,
    pub(super) bucket: Bucket,
    pub(super) runs: VecDeque<u64>,
    pub(super) batches: VecDeque<u64>,
    pub(super) uploads: VecDeque<String>,
}

#[derive(Default)]
pub(super) struct Registry {
    pub(super) sessions: BTreeMap<String, Session>,
    pub(super) addresses: BTreeMap<IpAddr, Bucket>,
    pub(super) runs: BTreeMap<u64, Arc<Run>>,
    pub(super) batches: BTreeMap<u64, Arc<Batch>>,
    pub(super) uploads: BTreeMap<String, Arc<Base>>,
}

pub struct App {
    pub class: Option<Arc<Class>>,
    pub(super) scenarios: Vec<Arc<Base>>,
    pub(super) pool: Pool<Job>,
    pub(super) registry: Mutex<Registry>,
    pub(super) next_id: AtomicU64,
    pub(super) exercises: Value,
    pub(super) page: String,
    pub(super) stopping: AtomicBool,
    /// Bytes of streamed years all finished runs may hold together (`Options::memory_bytes`; a
    /// survey-sized run holds about 3 MB, the default about 0.3 MB).
    pub(super) memory_bytes: usize,
}

impl App {
    pub fn new(options: &Options) -> Result<App> {
        let mut scenarios: Vec<Arc<Base>> =
            levers::SHIPPED.iter().map(|(id, _, _)| Arc::new(levers::shipped(id).expect("shipped"))).collect();
        if let Some(path) = &options.scenario {
            let id = path.to_string_lossy().to_string();
            if let Some(i) = scenarios.iter().position(|s| s.id == id) {
                let chosen = scenarios.remove(i);
                scenarios.insert(0, chosen);
            } else {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| Error::ReadScenario { path: path.clone(), source })?;
                let (base, _) = levers::load(&base_id(path), &path.display().to_string(), &text)?;
                scenarios.insert(0, Arc::new(base));
            }
        }
        let class = if options.classroom {
            let class =
                Class::open(&options.out.join("classroom"), options.join_code.clone(), options.teacher_code.clone())?;
            Some(Arc::new(class))
        } else {
            None
        };
        let workers = options.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let recorder = class.clone();
        let pool = Pool::new(workers.max(1), move |job| work(job, recorder.as_deref()));
        let exercises = exercises()?;
        let page = page();
        Ok(App {
            class,
            scenarios,
            pool,
            registry: Mutex::new(Registry::default()),
            next_id: AtomicU64::new(1),
            exercises,
            page,
            stopping: AtomicBool::new(false),
            memory_bytes: options.memory_bytes,
        })
    }

    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.pool.shutdown();
    }

    pub(super) fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The caller's session (header `x-session`), charged one request.
    pub(super) fn session(&self, headers: &HeaderMap) -> Result<(u64, Role, String), ApiError> {
        let token = headers.get("x-session").and_then(|v| v.to_str().ok()).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "x-session",
                "no session: open the page, or POST /api/session (class mode: /api/join) for a token",
            )
        })?;
        let mut registry = self.registry.lock().expect("registry lock");
        let session = registry.sessions.get_mut(token).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "x-session",
                "unknown or expired session: reload the page (class mode: join again with your name)",
            )
        })?;
        if !session.bucket.take(SESSION_BURST, SESSION_RATE) {
            return Err(too_many());
        }
        Ok((session.client, session.role, session.name.clone()))
    }

    /// Charges one request to an address (for requests made before a session exists).
    pub(super) fn address(&self, ip: IpAddr) -> Result<(), ApiError> {
        let mut registry = self.registry.lock().expect("registry lock");
        if registry.addresses.len() > 10_000 {
            registry.addresses.clear();
        }
        let bucket = registry.addresses.entry(ip).or_insert_with(|| Bucket::new(ADDRESS_BURST));
        if bucket.take(ADDRESS_BURST, ADDRESS_RATE) { Ok(()) } else { Err(too_many()) }
    }

    pub(super) fn new_session(&self, name: String, role: Role) -> String {
        use rand::TryRng as _;
        let mut rng = rand::rngs::SysRng;
        let token: String = (0..2)
            .map(|_| format!("{:016x}", rng.try_next_u64().expect("the operating system's random source works")))
            .collect();
        let mut registry = self.registry.lock().expect("registry lock");
        // A student who joins again under the same name (after a reload or a server restart) is the
        // same client: their queue position and fair share carry over.
        let client = registry
            .sessions
            .values()
            .find(|s| role == Role::Student && s.role == Role::Student && s.name == name)
            .map_or_else(|| self.id(), |s| s.client);
        if registry.sessions.len() >= MAX_SESSIONS {
            let oldest =
                registry.sessions.iter().min_by(|a, b| a.1.bucket.last.cmp(&b.1.bucket.last)).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                registry.sessions.remove(&k);
            }
        }
        registry.sessions.insert(
            token.clone(),
            Session {
                client,
                name,
                role,
                bucket: Bucket::new(SESSION_BURST),
                runs: VecDeque::new(),
                batches: VecDeque::new(),
                uploads: VecDeque::new(),
            },
        );
        token
    }

    pub(super) fn scenario(&self, client: u64, id: &str) -> Result<Arc<Base>, ApiError> {
        if let Some(base) = self.scenarios.iter().find(|s| s.id == id) {
            return Ok(Arc::clone(base));
        }
        let registry = self.registry.lock().expect("registry lock");
        if let Some(base) = registry.uploads.get(&upload_key(client, id)) {
            return Ok(Arc::clone(base));
        }
        let known: Vec<&str> = self.scenarios.iter().map(|s| s.id.as_str()).collect();
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "scenario",
            format!("unknown scenario `{id}`; scenarios are {} (or one you uploaded)", known.join(", ")),
        ))
    }

    /// Remembers a user's run, batch or upload; forgets their oldest beyond the limits.
    pub(super) fn keep(&self, client: u64, what: Kept) {
        let mut registry = self.registry.lock().expect("registry lock");
        let Some(session) = registry.sessions.values_mut().find(|s| s.client == client) else { return };
        let (dropped_runs, dropped_batches, dropped_uploads) = match what {
            Kept::Run(id) => {
                session.runs.push_back(id);
                (trim(&mut session.runs, RUNS_KEPT), Vec::new(), Vec::new())
            }
            Kept::Batch(id) => {
                session.batches.push_back(id);
                (Vec::new(), trim(&mut session.batches, BATCHES_KEPT), Vec::new())
            }
            Kept::Upload(id) => {
                session.uploads.push_back(id);
                (Vec::new(), Vec::new(), trim(&mut session.uploads, UPLOADS_KEPT))
            }
        };
        for id in dropped_runs {
            if let Some(run) = registry.runs.remove(&id) {
                run.cancelled.store(true, Ordering::Relaxed);
            }
        }
        // All users' finished runs share a memory budget: beyond it the oldest are forgotten (their
        // years live on in the pages that showed them; a forgotten run's files can no longer be fetched).
        let mut stored: usize = registry.runs.values().map(|r| r.stored_bytes()).sum();
        let finished: Vec<(u64, usize)> = registry
            .runs
            .values()
            .filter(|r| !matches!(r.status(), Status::Queued | Status::Running))
            .map(|r| (r.id, r.stored_bytes()))
            .collect();
        for (id, bytes) in finished {
            if stored <= self.memory_bytes {
                break;
            }
            registry.runs.remove(&id);
            stored -= bytes;
        }
        for id in dropped_batches {
            if let Some(batch) = registry.batches.remove(&id) {
                batch.cancelled.store(true, Ordering::Relaxed);
            }
        }
        for id in dropped_uploads {
            registry.uploads.remove(&id);
        }
    }

    pub(super) fn run(&self, client: u64, id: u64) -> Result<Arc<Run>, ApiError> {
        let registry = self.registry.lock().expect("registry lock");
        registry.runs.get(&id).filter(|r| r.client == client).cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "id",
                format!("no run {id} of yours (the server keeps your last {RUNS_KEPT} runs, fewer when its memory budget is full)"),
            )
        })
    }
}

pub(super) enum Kept {
    Run(u64),
    Batch(u64),
    Upload(String),
}

pub(super) fn trim<T>(queue: &mut VecDeque<T>, keep: usize) -> Vec<T> {
    let mut out = Vec::new();
    while queue.len() > keep {
        out.extend(queue.pop_front());
    }
    out
}

pub(super) fn upload_key(client: u64, id: &str) -> String {
    format!("{client}/{id}")
}

pub(super) fn base_id(path: &std::path::Path) -> String {
    path.file_stem().map_or_else(|| "scenario".into(), |s| s.to_string_lossy().to_string())
}

/// What a simulation worker does with a job.
pub(super) fn work(job: Job, class: Option<&Class>) {
    match job {
        Job::Run(run) => {
            let outcomes = runs::execute_run(&run);
            if let (Some(outcomes), Some(class), Some(student)) = (outcomes, class, &run.student) {
                let row = ResultRow {
                    finished_unix: SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
                    student: student.clone(),
                    run: run.id,
                    scenario: run.scenario_id.clone(),
                    exercise: run.exercise.clone().unwrap_or_default(),
                    prediction: run.prediction,
                    settings: run.changed.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "),
                    seed: run.scenario.seed,
                    replication: run.replication,
                    outcomes,
                };
                if let Err(e) = class.record(row) {
                    eprintln!("error: a class result could not be saved: {e}");
                }
            }
            if outcomes.is_some() {
                run.finished();
            }
        }
        Job::Replication { batch, variant, index } => runs::execute_replication(&batch, variant, index),
        Job::File { run, file, reply } => {
            let _ = reply.send(runs::file(&run, file));
        }
    }
}

/// The exercises shipped with the page (`exercises.toml`), as JSON.
pub(super) fn exercises() -> Result<Value> {
    let table: toml::Table = EXERCISES.parse().map_err(|e: toml::de::Error| Error::MalformedToml {
        file: "src/serve/exercises.toml".into(),
        message: e.to_string(),
    })?;
    Ok(serde_json::to_value(table).expect("TOML converts to JSON"))
}

/// The page: HTML with its styles, script and font inlined (nothing fetched from anywhere).
pub(super) fn page() -> String {
    use base64::Engine as _;
    let font = base64::engine::general_purpose::STANDARD.encode(FONT);
    PAGE_HTML.replace("/*STYLE*/", &PAGE_CSS.replace("FONT_BASE64", &font)).replace("/*SCRIPT*/", PAGE_JS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::Outcomes;
    use serde_json::json;

    #[test]
    fn the_page_references_nothing_outside_itself() {
        let page = page();
        for needle in ["http://", "https://", "//cdn", "src=\"/", "href=\"http", "@import", "url(http"] {
            assert!(!page.contains(needle), "the page contains `{needle}`");
        }
        assert!(page.contains("data:font/ttf;base64,"), "the font is inlined");
    }

    #[test]
    fn the_exercises_parse_and_name_shipped_scenarios() {
        let exercises = exercises().unwrap();
        let list = exercises["exercises"].as_array().unwrap();
        assert!(list.len() >= 5);
        for e in list {
            let scenario = e["scenario"].as_str().unwrap();
            let base = levers::shipped(scenario).unwrap_or_else(|| panic!("exercise {} names {scenario}", e["id"]));
            let settings: BTreeMap<String, Value> =
                serde_json::from_value(e.get("settings").cloned().unwrap_or(json!({}))).unwrap();
            base.with(&settings).unwrap_or_else(|p| panic!("exercise {}: {p:?}", e["id"]));
            for key in ["id", "title", "question", "predict", "outcome", "explain"] {
                assert!(e[key].as_str().is_some_and(|s| !s.is_empty()), "exercise {} lacks {key}", e["id"]);
            }
            let outcome = e["outcome"].as_str().unwrap();
            assert!(serde_json::to_value(Outcomes::default()).unwrap().get(outcome).is_some(), "{outcome}");
        }
    }
}

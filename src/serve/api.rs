//! The HTTP API of `biocluster serve` and the page it serves.
//!
//! Every request body is JSON read with unknown fields refused; every error is a 4xx (or 503) with
//! `{"error": what is wrong and what is allowed, "field": the field, "problems": [...]}`, and the
//! server goes on. Nothing a request says becomes a path: scenarios are shipped ids or uploads held
//! in memory, and the only folder written is the class folder (`<out>/classroom/`).

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::class::{Class, ResultRow};
use super::levers::{self, Base};
use super::pool::Pool;
use super::runs::{self, Batch, Job, Run, Status};
use super::{Options, Outcomes};
use crate::error::{Error, Problem, Result};

/// Largest request body: a scenario upload is a few KB; 256 KiB leaves room, nothing more.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Most replications per variant one request may ask for.
pub const MAX_REPLICATIONS: u32 = 50;
/// Requests a session may make in a burst, and per second after it.
const SESSION_BURST: f64 = 60.0;
const SESSION_RATE: f64 = 30.0;
/// Sessions, joins and code attempts per address: a burst, and per second after it.
const ADDRESS_BURST: f64 = 60.0;
const ADDRESS_RATE: f64 = 2.0;
/// Finished runs, batches and uploads kept per user (older ones are forgotten; pinned runs live in
/// the page).
const RUNS_KEPT: usize = 8;
const BATCHES_KEPT: usize = 2;
const UPLOADS_KEPT: usize = 4;
/// Sessions kept; beyond, the longest idle is forgotten.
const MAX_SESSIONS: usize = 1_000;

const PAGE_HTML: &str = include_str!("page/index.html");
const PAGE_CSS: &str = include_str!("page/style.css");
const PAGE_JS: &str = include_str!("page/app.js");
const FONT: &[u8] = include_bytes!("../report/font/DejaVuSans.ttf");
const EXERCISES: &str = include_str!("exercises.toml");

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Solo,
    Student,
    Teacher,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(burst: f64) -> Bucket {
        Bucket { tokens: burst, last: Instant::now() }
    }
    fn take(&mut self, burst: f64, rate: f64) -> bool {
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

struct Session {
    client: u64,
    name: String,
    role: Role,
    bucket: Bucket,
    runs: VecDeque<u64>,
    batches: VecDeque<u64>,
    uploads: VecDeque<String>,
}

#[derive(Default)]
struct Registry {
    sessions: BTreeMap<String, Session>,
    addresses: BTreeMap<IpAddr, Bucket>,
    runs: BTreeMap<u64, Arc<Run>>,
    batches: BTreeMap<u64, Arc<Batch>>,
    uploads: BTreeMap<String, Arc<Base>>,
}

pub struct App {
    pub class: Option<Arc<Class>>,
    scenarios: Vec<Arc<Base>>,
    pool: Pool<Job>,
    registry: Mutex<Registry>,
    next_id: AtomicU64,
    exercises: Value,
    page: String,
    stopping: AtomicBool,
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
        })
    }

    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.pool.shutdown();
    }

    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The caller's session (header `x-session`), charged one request.
    fn session(&self, headers: &HeaderMap) -> Result<(u64, Role, String), ApiError> {
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
    fn address(&self, ip: IpAddr) -> Result<(), ApiError> {
        let mut registry = self.registry.lock().expect("registry lock");
        if registry.addresses.len() > 10_000 {
            registry.addresses.clear();
        }
        let bucket = registry.addresses.entry(ip).or_insert_with(|| Bucket::new(ADDRESS_BURST));
        if bucket.take(ADDRESS_BURST, ADDRESS_RATE) { Ok(()) } else { Err(too_many()) }
    }

    fn new_session(&self, name: String, role: Role) -> String {
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

    fn scenario(&self, client: u64, id: &str) -> Result<Arc<Base>, ApiError> {
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
    fn keep(&self, client: u64, what: Kept) {
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
        for id in dropped_batches {
            if let Some(batch) = registry.batches.remove(&id) {
                batch.cancelled.store(true, Ordering::Relaxed);
            }
        }
        for id in dropped_uploads {
            registry.uploads.remove(&id);
        }
    }

    fn run(&self, client: u64, id: u64) -> Result<Arc<Run>, ApiError> {
        let registry = self.registry.lock().expect("registry lock");
        registry.runs.get(&id).filter(|r| r.client == client).cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "id",
                format!("no run {id} of yours (runs older than your last {RUNS_KEPT} are forgotten)"),
            )
        })
    }
}

enum Kept {
    Run(u64),
    Batch(u64),
    Upload(String),
}

fn trim<T>(queue: &mut VecDeque<T>, keep: usize) -> Vec<T> {
    let mut out = Vec::new();
    while queue.len() > keep {
        out.extend(queue.pop_front());
    }
    out
}

fn upload_key(client: u64, id: &str) -> String {
    format!("{client}/{id}")
}

fn base_id(path: &std::path::Path) -> String {
    path.file_stem().map_or_else(|| "scenario".into(), |s| s.to_string_lossy().to_string())
}

/// What a simulation worker does with a job.
fn work(job: Job, class: Option<&Class>) {
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
fn exercises() -> Result<Value> {
    let table: toml::Table = EXERCISES.parse().map_err(|e: toml::de::Error| Error::MalformedToml {
        file: "src/serve/exercises.toml".into(),
        message: e.to_string(),
    })?;
    Ok(serde_json::to_value(table).expect("TOML converts to JSON"))
}

/// The page: HTML with its styles, script and font inlined (nothing fetched from anywhere).
fn page() -> String {
    use base64::Engine as _;
    let font = base64::engine::general_purpose::STANDARD.encode(FONT);
    PAGE_HTML.replace("/*STYLE*/", &PAGE_CSS.replace("FONT_BASE64", &font)).replace("/*SCRIPT*/", PAGE_JS)
}

// ----------------------------------------------------------------------------------------------
// Errors and bodies

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    field: String,
    message: String,
    problems: Vec<Problem>,
}

impl ApiError {
    fn new(status: StatusCode, field: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, field: field.to_string(), message: message.into(), problems: Vec::new() }
    }
    fn problems(problems: Vec<Problem>) -> ApiError {
        let first = problems.first().map(|p| p.key.clone()).unwrap_or_default();
        let message = problems.iter().map(|p| format!("`{}` {}", p.key, p.message)).collect::<Vec<_>>().join("; ");
        ApiError { status: StatusCode::BAD_REQUEST, field: first, message, problems }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problems: Vec<Value> =
            self.problems.iter().map(|p| json!({ "key": p.key, "message": p.message })).collect();
        let body = json!({ "error": self.message, "field": self.field, "problems": problems });
        (self.status, axum::Json(body)).into_response()
    }
}

fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "x-session",
        format!("too many requests: at most {SESSION_RATE} a second per user (bursts of {SESSION_BURST}); slow down"),
    )
}

/// A JSON body: too large, malformed, a wrong type or an unknown field each named.
fn body<T: DeserializeOwned>(bytes: std::result::Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = bytes.map_err(|e| {
        let status = if e.status() == StatusCode::PAYLOAD_TOO_LARGE { e.status() } else { StatusCode::BAD_REQUEST };
        ApiError::new(
            status,
            "body",
            format!("the request body could not be read ({e}); at most {MAX_BODY_BYTES} bytes"),
        )
    })?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_string() } else { path };
        ApiError::new(StatusCode::BAD_REQUEST, &field, format!("malformed request: {}", e.into_inner()))
    })
}

type ApiResult = std::result::Result<Response, ApiError>;

fn json_response(value: Value) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

fn download(name: &str, content_type: &'static str, text: String) -> ApiResult {
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!("attachment; filename=\"{name}\"");
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ASCII file names"));
    Ok(response)
}

// ----------------------------------------------------------------------------------------------
// Routes

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(page_handler))
        .route("/teacher", get(page_handler))
        .route("/api/info", get(info))
        .route("/api/session", post(session))
        .route("/api/join", post(join))
        .route("/api/teacher", post(teacher))
        .route("/api/scenarios/{id}", get(scenario))
        .route("/api/upload", post(upload))
        .route("/api/toml", post(settings_toml))
        .route("/api/runs", post(start_run))
        .route("/api/runs/{id}", get(poll_run).delete(cancel_run))
        .route("/api/runs/{id}/scenario.toml", get(run_toml))
        .route("/api/runs/{id}/files/{name}", get(run_file))
        .route("/api/batches", post(start_batch))
        .route("/api/batches/{id}", get(poll_batch).delete(cancel_batch))
        .route("/api/state", get(state))
        .route("/api/class", get(class_view))
        .route("/api/class/exercise", post(push_exercise))
        .route("/api/class/results.csv", get(class_csv))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "path", format!("no page or API call at `{}`", uri.path()))
}

async fn page_handler(State(app): State<Arc<App>>) -> Response {
    let mut response = app.page.clone().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // The page may load nothing from elsewhere: the browser enforces it.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; font-src data:; img-src data: blob:; connect-src 'self'",
        ),
    );
    response
}

async fn info(State(app): State<Arc<App>>) -> ApiResult {
    let scenarios: Vec<Value> = app
        .scenarios
        .iter()
        .map(|s| json!({ "id": s.id, "file": s.file, "description": s.scenario.description }))
        .collect();
    json_response(json!({
        "mode": if app.class.is_some() { "classroom" } else { "solo" },
        "version": env!("CARGO_PKG_VERSION"),
        "scenarios": scenarios,
        "exercises": app.exercises["exercises"],
        "workers": app.pool.workers(),
        "max_replications": MAX_REPLICATIONS,
        "columns": crate::observe::TS_COLUMNS,
        "files": runs::FILES,
    }))
}

async fn session(State(app): State<Arc<App>>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> ApiResult {
    app.address(peer.ip())?;
    if app.class.is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "code",
            "this server runs a class: join with your name and the class code",
        ));
    }
    let token = app.new_session(String::new(), Role::Solo);
    json_response(json!({ "token": token, "role": "solo" }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinRequest {
    name: String,
    code: String,
}

async fn join(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> ApiResult {
    app.address(peer.ip())?;
    let request: JoinRequest = body(bytes)?;
    let Some(class) = &app.class else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "code",
            "this server runs no class (start it with --classroom)",
        ));
    };
    let name = request.name.trim().to_string();
    if let Some(problem) = student_name_problem(&name) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "name", problem));
    }
    if !codes_match(&request.code, &class.join_code) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "code", "wrong class code: ask your teacher for it"));
    }
    let token = app.new_session(name.clone(), Role::Student);
    json_response(json!({ "token": token, "role": "student", "name": name, "exercise": class.exercise() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    code: String,
}

async fn teacher(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> ApiResult {
    app.address(peer.ip())?;
    let request: CodeRequest = body(bytes)?;
    let Some(class) = &app.class else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "code",
            "this server runs no class (start it with --classroom)",
        ));
    };
    if !codes_match(&request.code, &class.teacher_code) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "code",
            "wrong teacher code (printed when the server started)",
        ));
    }
    let token = app.new_session("teacher".into(), Role::Teacher);
    json_response(json!({ "token": token, "role": "teacher", "join_code": class.join_code }))
}

/// Codes compared without case (read off a projector) and in constant time.
fn codes_match(given: &str, code: &str) -> bool {
    let (a, b) = (given.trim().to_ascii_uppercase(), code.to_ascii_uppercase());
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A student's name: 1-40 letters, digits, spaces and `.-_'` (it appears in the teacher's table and
/// the class CSV, never in a path).
fn student_name_problem(name: &str) -> Option<String> {
    let ok = |c: char| c.is_alphanumeric() || " .-_'".contains(c);
    if name.is_empty() || name.chars().count() > 40 || !name.chars().all(ok) {
        Some(format!(
            "a name is 1 to 40 letters, digits, spaces and . - _ ' (got `{}`)",
            name.chars().take(60).collect::<String>()
        ))
    } else {
        None
    }
}

async fn scenario(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let base = app.scenario(client, &id)?;
    json_response(scenario_json(&base, None))
}

fn scenario_json(base: &Base, note: Option<String>) -> Value {
    let s = &base.scenario;
    json!({
        "id": base.id,
        "file": base.file,
        "name": s.name,
        "description": s.description,
        "start_year": s.start_year,
        "years": s.years,
        "clusters": s.clusters.iter().map(|c| json!({ "name": c.name, "type": c.cluster_type.name() })).collect::<Vec<_>>(),
        "levers": base.levers,
        "note": note,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadRequest {
    #[serde(default)]
    file_name: Option<String>,
    toml: String,
}

async fn upload(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let request: UploadRequest = body(bytes)?;
    let file_name = request.file_name.unwrap_or_else(|| "upload.toml".into());
    if file_name.is_empty()
        || file_name.len() > 100
        || !file_name.chars().all(|c| c.is_ascii_alphanumeric() || "._- ".contains(c))
        || file_name.starts_with('.')
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "file_name",
            "a file name is 1 to 100 letters, digits and . _ - (no folders; it only labels messages)",
        ));
    }
    let id = format!("upload-{}", base_id(std::path::Path::new(&file_name)));
    let (base, note) = match levers::load(&id, &file_name, &request.toml) {
        Ok(loaded) => loaded,
        Err(Error::InvalidScenario { problems, .. }) => {
            let mut e = ApiError::problems(problems);
            e.message = format!("{file_name} is not a valid scenario: {}", e.message);
            return Err(e);
        }
        Err(other) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "toml", other.to_string())),
    };
    let view = scenario_json(&base, note);
    app.registry.lock().expect("registry lock").uploads.insert(upload_key(client, &id), Arc::new(base));
    app.keep(client, Kept::Upload(upload_key(client, &id)));
    json_response(view)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    scenario: String,
    #[serde(default)]
    settings: BTreeMap<String, Value>,
    #[serde(default)]
    replication: u64,
    #[serde(default)]
    exercise: Option<String>,
    #[serde(default)]
    prediction: Option<f64>,
}

/// Largest replication number (the CLI takes any u64; the page keeps to what a person types).
const MAX_REPLICATION: u64 = 1_000_000_000;

fn check_replication(replication: u64, field: &str) -> Result<(), ApiError> {
    if replication > MAX_REPLICATION {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            field,
            format!("must be a whole number in [0, {MAX_REPLICATION}] (got {replication})"),
        ));
    }
    Ok(())
}

/// The settings that differ from the scenario's own values.
fn changed(base: &Base, settings: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    settings
        .iter()
        .filter(|(k, v)| {
            base.levers.iter().find(|l| &&l.key == k).is_none_or(|l| match v {
                Value::Bool(b) => f64::from(u8::from(*b)) != l.value,
                Value::Number(n) => n.as_f64() != Some(l.value),
                _ => true,
            })
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn start_run(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> ApiResult {
    let (client, role, name) = app.session(&headers)?;
    let request: RunRequest = body(bytes)?;
    check_replication(request.replication, "replication")?;
    if let Some(p) = request.prediction
        && !p.is_finite()
    {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "prediction", "must be a number"));
    }
    if let Some(e) = &request.exercise
        && !exercise_ids(&app).contains(&e.as_str())
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "exercise",
            format!("unknown exercise `{e}`; exercises are {}", exercise_ids(&app).join(", ")),
        ));
    }
    let base = app.scenario(client, &request.scenario)?;
    let scenario = base.with(&request.settings).map_err(ApiError::problems)?;
    let id = app.id();
    let run = Arc::new(Run {
        id,
        client,
        scenario: Arc::new(scenario),
        scenario_id: base.id.clone(),
        replication: request.replication,
        changed: changed(&base, &request.settings),
        exercise: request.exercise,
        prediction: request.prediction,
        student: (role == Role::Student).then_some(name),
        cancelled: AtomicBool::new(false),
        progress: Mutex::new(runs::Progress::default()),
    });
    app.pool
        .submit(client, id, Job::Run(Arc::clone(&run)))
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue", e))?;
    app.registry.lock().expect("registry lock").runs.insert(id, run);
    app.keep(client, Kept::Run(id));
    json_response(json!({ "id": id, "queue_position": app.pool.position(client, id) }))
}

fn exercise_ids(app: &App) -> Vec<&str> {
    app.exercises["exercises"].as_array().map_or(Vec::new(), |a| a.iter().filter_map(|e| e["id"].as_str()).collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PollQuery {
    #[serde(default)]
    from: usize,
}

async fn poll_run(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    query: std::result::Result<Query<PollQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let Query(query) = query.map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "from", format!("{e}: `from` is the number of years already received"))
    })?;
    let run = app.run(client, id)?;
    let position = app.pool.position(client, id);
    json_response(run.view(query.from, position))
}

async fn cancel_run(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<u64>) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let run = app.run(client, id)?;
    run.cancelled.store(true, Ordering::Relaxed);
    app.pool.withdraw(client, |job| job == id);
    if run.status() == Status::Queued {
        run.progress.lock().expect("run lock").status = Some(Status::Cancelled);
    }
    json_response(json!({ "id": id, "status": "cancelled" }))
}

/// The settings as a scenario file the CLI runs to the same outputs.
fn toml_text(
    base: &Base,
    scenario: &crate::scenario::Scenario,
    changed: &BTreeMap<String, Value>,
    replication: u64,
) -> String {
    let mut text = format!(
        "# Scenario written by `biocluster serve` from {} ({}), with {} setting(s) changed:\n",
        base.id,
        base.file,
        changed.len()
    );
    for (k, v) in changed {
        text.push_str(&format!("#   {k} = {v}\n"));
    }
    text.push_str(&format!(
        "# Every parameter is written out. The CLI reproduces the page's run byte for byte:\n#   biocluster run THIS_FILE.toml --replication {replication}\n\n"
    ));
    text.push_str(&scenario.resolved_toml());
    text
}

fn file_stem(scenario: &crate::scenario::Scenario) -> String {
    scenario.name.clone()
}

async fn run_toml(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<u64>) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let run = app.run(client, id)?;
    let base = app.scenario(client, &run.scenario_id)?;
    let text = toml_text(&base, &run.scenario, &run.changed, run.replication);
    download(&format!("{}.toml", file_stem(&run.scenario)), "application/toml; charset=utf-8", text)
}

async fn settings_toml(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let request: RunRequest = body(bytes)?;
    check_replication(request.replication, "replication")?;
    let base = app.scenario(client, &request.scenario)?;
    let scenario = base.with(&request.settings).map_err(ApiError::problems)?;
    let text = toml_text(&base, &scenario, &changed(&base, &request.settings), request.replication);
    download(&format!("{}.toml", file_stem(&scenario)), "application/toml; charset=utf-8", text)
}

async fn run_file(State(app): State<Arc<App>>, headers: HeaderMap, Path((id, name)): Path<(u64, String)>) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let Some(file) = runs::FILES.iter().find(|f| **f == name) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "name",
            format!("no file `{name}`; files are {}", runs::FILES.join(", ")),
        ));
    };
    let run = app.run(client, id)?;
    if run.status() != Status::Done {
        return Err(ApiError::new(StatusCode::CONFLICT, "id", format!("run {id} has not finished")));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job_id = app.id();
    app.pool
        .submit(client, job_id, Job::File { run, file, reply: tx })
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue", e))?;
    let text =
        rx.await.map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue", "the server is stopping"))?;
    let content_type = if file.ends_with(".json") { "application/json" } else { "text/csv; charset=utf-8" };
    download(file, content_type, text)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest {
    scenario: String,
    #[serde(default)]
    settings: BTreeMap<String, Value>,
    /// The pinned baseline's settings (same scenario): run on the same replications.
    #[serde(default)]
    baseline: Option<BTreeMap<String, Value>>,
    replications: u32,
    #[serde(default)]
    first_replication: u64,
}

async fn start_batch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let request: BatchRequest = body(bytes)?;
    if !(1..=MAX_REPLICATIONS).contains(&request.replications) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "replications",
            format!("must be a whole number in [1, {MAX_REPLICATIONS}] (got {})", request.replications),
        ));
    }
    check_replication(request.first_replication, "first_replication")?;
    let base = app.scenario(client, &request.scenario)?;
    let mut variants =
        vec![("current".to_string(), Arc::new(base.with(&request.settings).map_err(ApiError::problems)?))];
    if let Some(baseline) = &request.baseline {
        let scenario = base.with(baseline).map_err(|problems| {
            let mut e = ApiError::problems(problems);
            e.field = format!("baseline.{}", e.field);
            e
        })?;
        variants.push(("baseline".to_string(), Arc::new(scenario)));
    }
    let replications: Vec<u64> = (0..u64::from(request.replications)).map(|i| request.first_replication + i).collect();
    let id = app.id();
    let batch = Arc::new(Batch {
        id,
        client,
        results: Mutex::new(vec![vec![None; replications.len()]; variants.len()]),
        variants,
        replications,
        cancelled: AtomicBool::new(false),
    });
    // Job ids: the batch's id in the high bits, so cancelling withdraws exactly its jobs.
    let jobs: Vec<(u64, Job)> = (0..batch.replications.len())
        .flat_map(|index| (0..batch.variants.len()).map(move |variant| (variant, index)))
        .map(|(variant, index)| (batch_job(id), Job::Replication { batch: Arc::clone(&batch), variant, index }))
        .collect();
    app.pool.submit_all(client, jobs).map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue", e))?;
    app.registry.lock().expect("registry lock").batches.insert(id, batch);
    app.keep(client, Kept::Batch(id));
    json_response(json!({ "id": id }))
}

/// Every job of batch `id` carries this id in the queue.
fn batch_job(id: u64) -> u64 {
    id | 1 << 63
}

fn find_batch(app: &App, client: u64, id: u64) -> Result<Arc<Batch>, ApiError> {
    let registry = app.registry.lock().expect("registry lock");
    registry.batches.get(&id).filter(|b| b.client == client).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "id",
            format!("no replication batch {id} of yours (only your last {BATCHES_KEPT} are kept)"),
        )
    })
}

async fn poll_batch(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<u64>) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let batch = find_batch(&app, client, id)?;
    let waiting = app.pool.position(client, batch_job(id)).unwrap_or(0);
    json_response(batch.view(waiting))
}

async fn cancel_batch(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<u64>) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let batch = find_batch(&app, client, id)?;
    batch.cancelled.store(true, Ordering::Relaxed);
    app.pool.withdraw(client, |job| job == batch_job(id));
    json_response(json!({ "id": id, "status": "cancelled" }))
}

async fn state(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult {
    let (_, role, name) = app.session(&headers)?;
    let exercise = app.class.as_ref().and_then(|c| c.exercise());
    let role = match role {
        Role::Solo => "solo",
        Role::Student => "student",
        Role::Teacher => "teacher",
    };
    json_response(json!({ "role": role, "name": name, "exercise": exercise, "queued": app.pool.queued() }))
}

fn teacher_only(app: &App, headers: &HeaderMap) -> Result<Arc<Class>, ApiError> {
    let (_, role, _) = app.session(headers)?;
    match (&app.class, role) {
        (Some(class), Role::Teacher) => Ok(Arc::clone(class)),
        (None, _) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "x-session",
            "this server runs no class (start it with --classroom)",
        )),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "x-session",
            "only the teacher sees the class: sign in at /teacher with the teacher code",
        )),
    }
}

async fn class_view(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult {
    let class = teacher_only(&app, &headers)?;
    let results = class.results();
    let mut students: BTreeMap<String, (usize, Option<Outcomes>)> = BTreeMap::new();
    {
        let registry = app.registry.lock().expect("registry lock");
        for s in registry.sessions.values().filter(|s| s.role == Role::Student) {
            students.entry(s.name.clone()).or_default();
        }
    }
    for r in &results {
        let entry = students.entry(r.student.clone()).or_default();
        entry.0 += 1;
        entry.1 = Some(r.outcomes);
    }
    let students: Vec<Value> =
        students.into_iter().map(|(name, (runs, last))| json!({ "name": name, "runs": runs, "last": last })).collect();
    json_response(json!({
        "join_code": class.join_code,
        "exercise": class.exercise(),
        "students": students,
        "results": results,
        "queued": app.pool.queued(),
        "folder": class.dir().display().to_string(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExerciseRequest {
    exercise: Option<String>,
}

async fn push_exercise(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> ApiResult {
    let class = teacher_only(&app, &headers)?;
    let request: ExerciseRequest = body(bytes)?;
    if let Some(e) = &request.exercise
        && !exercise_ids(&app).contains(&e.as_str())
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "exercise",
            format!("unknown exercise `{e}`; exercises are {}", exercise_ids(&app).join(", ")),
        ));
    }
    class
        .push_exercise(request.exercise.clone())
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "exercise", e.to_string()))?;
    json_response(json!({ "exercise": request.exercise }))
}

async fn class_csv(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult {
    let class = teacher_only(&app, &headers)?;
    download("class-results.csv", "text/csv; charset=utf-8", class.results_csv())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_references_nothing_outside_itself() {
        let page = page();
        for needle in ["http://", "https://", "//cdn", "src=\"/", "href=\"http", "@import", "url(http"] {
            assert!(!page.contains(needle), "the page contains `{needle}`");
        }
        assert!(page.contains("data:font/ttf;base64,"), "the font is inlined");
    }

    #[test]
    fn names_and_codes() {
        assert!(student_name_problem("Ada Lovelace").is_none());
        assert!(student_name_problem("../../etc/passwd").is_some());
        assert!(student_name_problem("").is_some());
        assert!(codes_match(" abcd12", "ABCD12"));
        assert!(!codes_match("ABCD1", "ABCD12"));
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

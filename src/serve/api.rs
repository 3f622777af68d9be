//! The HTTP API of `biocluster serve` and the page it serves.
//!
//! Every request body is JSON read with unknown fields refused; every error is a 4xx (or 503) with
//! `{"error": what is wrong and what is allowed, "field": the field, "problems": [...]}`, and the
//! server goes on. Nothing a request says becomes a path: scenarios are shipped ids or uploads held
//! in memory, and the only folder written is the class folder (`<out>/classroom/`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Outcomes;
use super::app::*;
use super::class::Class;
use super::levers::{self, Base};
use super::reply::*;
use super::runs::{self, Batch, Job, Run, Status};
use crate::error::Error;

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

async fn join(State(app): State<Arc<App>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, bytes: Body) -> ApiResult {
    app.address(peer.ip())?;
    let request: JoinRequest = body(bytes)?;
    let Some(class) = &app.class else {
        return Err(no_class("code"));
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

async fn teacher(State(app): State<Arc<App>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, bytes: Body) -> ApiResult {
    app.address(peer.ip())?;
    let request: CodeRequest = body(bytes)?;
    let Some(class) = &app.class else {
        return Err(no_class("code"));
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

async fn upload(State(app): State<Arc<App>>, headers: HeaderMap, bytes: Body) -> ApiResult {
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

/// The scenario a run request asks for: its base and the settings applied, validated, with its
/// replication in range.
fn requested(app: &App, client: u64, request: &RunRequest) -> Result<(Arc<Base>, crate::scenario::Scenario), ApiError> {
    check_replication(request.replication, "replication")?;
    let base = app.scenario(client, &request.scenario)?;
    let scenario = base.with(&request.settings).map_err(ApiError::problems)?;
    Ok((base, scenario))
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

async fn start_run(State(app): State<Arc<App>>, headers: HeaderMap, bytes: Body) -> ApiResult {
    let (client, role, name) = app.session(&headers)?;
    let request: RunRequest = body(bytes)?;
    if let Some(p) = request.prediction
        && !p.is_finite()
    {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "prediction", "must be a number"));
    }
    check_exercise(&app, request.exercise.as_deref())?;
    let (base, scenario) = requested(&app, client, &request)?;
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

/// An exercise named in a request must be one of the page's.
fn check_exercise(app: &App, exercise: Option<&str>) -> Result<(), ApiError> {
    match exercise {
        Some(e) if !exercise_ids(app).contains(&e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "exercise",
            format!("unknown exercise `{e}`; exercises are {}", exercise_ids(app).join(", ")),
        )),
        _ => Ok(()),
    }
}

/// The error of a class request to a server that runs no class.
fn no_class(field: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, field, "this server runs no class (start it with --classroom)")
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
    json_text(run.view(query.from, position))
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

async fn settings_toml(State(app): State<Arc<App>>, headers: HeaderMap, bytes: Body) -> ApiResult {
    let (client, _, _) = app.session(&headers)?;
    let request: RunRequest = body(bytes)?;
    let (base, scenario) = requested(&app, client, &request)?;
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

async fn start_batch(State(app): State<Arc<App>>, headers: HeaderMap, bytes: Body) -> ApiResult {
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
        (None, _) => Err(no_class("x-session")),
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

async fn push_exercise(State(app): State<Arc<App>>, headers: HeaderMap, bytes: Body) -> ApiResult {
    let class = teacher_only(&app, &headers)?;
    let request: ExerciseRequest = body(bytes)?;
    check_exercise(&app, request.exercise.as_deref())?;
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
    fn names_and_codes() {
        assert!(student_name_problem("Ada Lovelace").is_none());
        assert!(student_name_problem("../../etc/passwd").is_some());
        assert!(student_name_problem("").is_some());
        assert!(codes_match(" abcd12", "ABCD12"));
        assert!(!codes_match("ABCD1", "ABCD12"));
    }
}

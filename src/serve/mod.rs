//! `biocluster serve`: the model as a local web application for the classroom.
//!
//! One page (HTML, script, styles and font embedded in the binary, no network needed) talks to a
//! small JSON API (`api.rs`, axum on tokio). Simulations run on a bounded pool of plain threads
//! shared fairly between users (`pool.rs`); a run streams its years to the page as they are
//! simulated. Settings are scenario keys validated as a file is (`levers.rs`), so what a student
//! builds on the page downloads as a scenario file the CLI runs to the same bytes. Class mode
//! (`class.rs`) adds join and teacher codes and writes the class's results as they arrive.
//!
//! The web layer sits on top: it calls the simulation, the survey and the report's network layout,
//! and nothing below imports it.

pub mod api;
pub mod app;
pub mod class;
pub mod levers;
pub mod pool;
pub mod reply;
pub mod runs;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};

/// How the server is started (`biocluster serve`).
#[derive(Debug, Clone)]
pub struct Options {
    /// Scenario selected when the page opens: a shipped id or a file (read at start).
    pub scenario: Option<PathBuf>,
    pub host: String,
    pub port: u16,
    /// Class mode: students join with a code, the teacher sees the class.
    pub classroom: bool,
    pub join_code: Option<String>,
    pub teacher_code: Option<String>,
    /// Folder of class results (`<out>/classroom/`).
    pub out: PathBuf,
    /// Simulation workers (default: the machine's cores).
    pub workers: Option<usize>,
    /// Memory all finished runs' streamed years may hold together, in bytes (the oldest are forgotten
    /// beyond it).
    pub memory_bytes: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            scenario: None,
            host: "127.0.0.1".into(),
            port: 8080,
            classroom: false,
            join_code: None,
            teacher_code: None,
            out: PathBuf::from("output"),
            workers: None,
            memory_bytes: 256 * 1024 * 1024,
        }
    }
}

/// What a run is judged by on the page, in the class table and in replication effects.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct Outcomes {
    /// Firms alive in the last year.
    pub firms_alive: f64,
    /// Firms' revenue in the last year, M$.
    pub revenue_musd: f64,
    /// Drug approvals over the run.
    pub approvals: f64,
    /// Public money spent over the run (to firms and programmes), M$.
    pub public_spend_musd: f64,
    /// Active alliances at the end.
    pub alliances_active: f64,
}

/// A running server: its address, and a handle that stops it.
pub struct Server {
    pub addr: SocketAddr,
    pub join_code: Option<String>,
    pub teacher_code: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Stops accepting requests and waits for the server to end (simulations in flight finish).
    pub fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Serves until the process is interrupted.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the server on its own threads and returns once it listens.
pub fn start(options: Options) -> Result<Server> {
    let app = Arc::new(app::App::new(&options)?);
    let (join_code, teacher_code) = match &app.class {
        Some(c) => (Some(c.join_code.clone()), Some(c.teacher_code.clone())),
        None => (None, None),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("http")
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the web server: {e}")))?;
    let address = format!("{}:{}", options.host, options.port);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&address))
        .map_err(|e| Error::Usage(format!("cannot listen on {address}: {e} (another --port?)")))?;
    let addr = listener.local_addr().map_err(|e| Error::Usage(format!("cannot listen on {address}: {e}")))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = api::router(Arc::clone(&app));
    let thread = std::thread::Builder::new()
        .name("server".into())
        .spawn(move || {
            runtime.block_on(async move {
                let stop = async {
                    tokio::select! {
                        _ = rx => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                };
                let service = router.into_make_service_with_connect_info::<SocketAddr>();
                if let Err(e) = axum::serve(listener, service).with_graceful_shutdown(stop).await {
                    eprintln!("error: the web server stopped: {e}");
                }
            });
            app.shutdown();
        })
        .map_err(|e| Error::Usage(format!("cannot start the web server: {e}")))?;
    Ok(Server { addr, join_code, teacher_code, shutdown: Some(tx), thread: Some(thread) })
}

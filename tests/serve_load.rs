//! Class-mode load: 40 simulated students (HTTP clients on 127.0.0.1) join a class served by the
//! `biocluster` binary and each run the default scenario at once, polling as the page does, then each
//! ask for 10 replications against a baseline (800 simulations queued), while a teacher watches. Every run must complete and every request succeed; the latency of page
//! requests (page, run polls, state, class view) while runs queue and the server's peak memory are
//! reported (stderr and `target/serve-load.txt`), the memory bounded. Each client stops by itself
//! when its run is done (or after a bound on its polls).

#[path = "common/http.rs"]
mod http;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

const STUDENTS: usize = 40;
/// Replications each student then asks for (twice: with and without their change).
const REPLICATIONS: u64 = 10;
/// Polls a student makes at most (5 a second for 10 minutes): the loop ends by itself.
const MAX_POLLS: usize = 3_000;

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn forty_students_run_at_once_and_the_page_stays_responsive() {
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_biocluster"))
        .args(["serve", "--classroom", "--code", "LOAD40", "--teacher-code", "TEACH40", "--port", "0", "--out"])
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let pid = server.0.id();
    let mut first = String::new();
    let mut lines = BufReader::new(stdout);
    lines.read_line(&mut first).unwrap();
    // Keep reading what the server prints (its codes), so its stdout never blocks or breaks.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let address =
        first.split("http://").nth(1).and_then(|s| s.split_whitespace().next()).expect("the server prints its address");
    let addr: SocketAddr = address.parse().unwrap();
    let idle_rss = status_kb(pid, "VmRSS:");

    let latencies: Arc<Mutex<Vec<(&'static str, f64)>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let timed = |kind: &'static str, latencies: &Mutex<Vec<(&'static str, f64)>>, f: &dyn Fn() -> http::Reply| {
        let t = Instant::now();
        let reply = f();
        latencies.lock().unwrap().push((kind, t.elapsed().as_secs_f64() * 1000.0));
        reply
    };
    let started = Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut threads = Vec::new();
    for i in 0..STUDENTS {
        let (latencies, failures, done) = (Arc::clone(&latencies), Arc::clone(&failures), Arc::clone(&done));
        threads.push(std::thread::spawn(move || {
            let fail = |what: String| failures.lock().unwrap().push(what);
            let page = timed("page", &latencies, &|| http::get(addr, "/", None));
            if page.status != 200 {
                return fail(format!("student {i}: page {}", page.status));
            }
            let joined =
                http::post(addr, "/api/join", None, &json!({ "name": format!("student {i}"), "code": "LOAD40" }));
            if joined.status != 200 {
                return fail(format!("student {i}: join {} {}", joined.status, joined.body));
            }
            let token = joined.json()["token"].as_str().unwrap().to_string();
            let t = Some(token.as_str());
            let run = http::post(
                addr,
                "/api/runs",
                t,
                &json!({ "scenario": "korea-default", "replication": i, "exercise": "luck", "prediction": 300 }),
            );
            if run.status != 200 {
                return fail(format!("student {i}: run {} {}", run.status, run.body));
            }
            let id = run.json()["id"].as_u64().unwrap();
            let mut years = 0;
            for poll in 0..MAX_POLLS {
                let reply =
                    timed("run poll", &latencies, &|| http::get(addr, &format!("/api/runs/{id}?from={years}"), t));
                if reply.status != 200 {
                    return fail(format!("student {i}: poll {} {}", reply.status, reply.body));
                }
                let view = reply.json();
                years += view["years"].as_array().unwrap().len();
                if poll % 10 == 0 {
                    let state = timed("state", &latencies, &|| http::get(addr, "/api/state", t));
                    if state.status != 200 {
                        return fail(format!("student {i}: state {}", state.status));
                    }
                }
                match view["status"].as_str() {
                    Some("done") => {
                        if years != 30 {
                            return fail(format!("student {i}: {years} years"));
                        }
                        break;
                    }
                    Some("queued" | "running") => std::thread::sleep(Duration::from_millis(200)),
                    other => return fail(format!("student {i}: run ended as {other:?}")),
                }
            }
            if years != 30 {
                return fail(format!("student {i}: not done after {MAX_POLLS} polls"));
            }
            // Then everyone presses Replicate (10 replications against the scenario as written):
            // 800 simulations queue, and the page must stay responsive while they run.
            let batch = http::post(
                addr,
                "/api/batches",
                t,
                &json!({ "scenario": "korea-default", "settings": { "policies[0].budget_musd_per_year": 40.0 }, "baseline": {}, "replications": REPLICATIONS }),
            );
            if batch.status != 200 {
                return fail(format!("student {i}: batch {} {}", batch.status, batch.body));
            }
            let id = batch.json()["id"].as_u64().unwrap();
            for poll in 0..MAX_POLLS {
                let reply = timed("batch poll", &latencies, &|| http::get(addr, &format!("/api/batches/{id}"), t));
                if reply.status != 200 {
                    return fail(format!("student {i}: batch poll {} {}", reply.status, reply.body));
                }
                let view = reply.json();
                if view["done"] == view["total"] {
                    if view["effects"]["firms_alive"]["n"] != REPLICATIONS {
                        return fail(format!("student {i}: effect over {} replications", view["effects"]["firms_alive"]["n"]));
                    }
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return;
                }
                if poll % 4 == 0 {
                    let page = timed("page", &latencies, &|| http::get(addr, "/", None));
                    if page.status != 200 {
                        return fail(format!("student {i}: page {}", page.status));
                    }
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            fail(format!("student {i}: replications not done after {MAX_POLLS} polls"));
        }));
    }
    // The teacher watches the class while it runs.
    let teacher = http::post(addr, "/api/teacher", None, &json!({ "code": "TEACH40" })).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut peak_rss = 0;
    while done.load(std::sync::atomic::Ordering::Relaxed) + failures.lock().unwrap().len() < STUDENTS
        && started.elapsed() < Duration::from_secs(600)
    {
        let class = timed("class view", &latencies, &|| http::get(addr, "/api/class", Some(&teacher)));
        assert_eq!(class.status, 200, "{}", class.body);
        peak_rss = peak_rss.max(status_kb(pid, "VmRSS:"));
        std::thread::sleep(Duration::from_millis(500));
    }
    for t in threads {
        t.join().unwrap();
    }
    let wall = started.elapsed().as_secs_f64();
    let failures = failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(done.load(std::sync::atomic::Ordering::Relaxed), STUDENTS);
    let class = http::get(addr, "/api/class", Some(&teacher)).json();
    assert_eq!(class["results"].as_array().unwrap().len(), STUDENTS);
    let saved = std::fs::read_to_string(out.path().join("classroom/results.csv")).unwrap();
    assert_eq!(saved.lines().count(), STUDENTS + 1);

    let hwm = status_kb(pid, "VmHWM:");
    let latencies = latencies.lock().unwrap().clone();
    let mut report = format!(
        "biocluster serve --classroom, {STUDENTS} students each running the default scenario at once, then \
         {REPLICATIONS} replications against a baseline ({} simulations in all, {} workers), all done in {wall:.1} s\n",
        STUDENTS * (1 + 2 * REPLICATIONS as usize),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut all: Vec<f64> = latencies.iter().map(|l| l.1).collect();
    all.sort_by(f64::total_cmp);
    for kind in ["page", "run poll", "state", "batch poll", "class view"] {
        let mut v: Vec<f64> = latencies.iter().filter(|l| l.0 == kind).map(|l| l.1).collect();
        v.sort_by(f64::total_cmp);
        report.push_str(&format!(
            "{kind:>10}: {:>5} requests, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms\n",
            v.len(),
            percentile(&v, 0.5),
            percentile(&v, 0.95),
            percentile(&v, 1.0)
        ));
    }
    report.push_str(&format!(
        "       all: {:>5} requests, p50 {:.1} ms, p95 {:.1} ms (target < 250 ms)\nserver memory: {:.0} MB idle, peak resident {:.0} MB\n",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        idle_rss as f64 / 1024.0,
        hwm.max(peak_rss) as f64 / 1024.0
    ));
    eprintln!("{report}");
    let target = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../serve-load.txt");
    std::fs::write(target, &report).unwrap();
    // Memory is bounded: the server keeps a few runs per student, not every record.
    assert!(hwm < 1024 * 1024, "the server peaked at {} MB", hwm / 1024);
}

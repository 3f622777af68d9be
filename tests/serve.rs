//! `biocluster serve` over HTTP: the page is self-contained, a run streams its years and its
//! downloads (scenario file and CSVs) rerun with the CLI to the same bytes, bad and hostile input
//! gets a 4xx naming the field while the server goes on, and a class survives a restart.

#[path = "common/http.rs"]
mod http;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use biocluster::serve::{self, Options, Server};
use serde_json::{Value, json};

fn start(options: Options) -> Server {
    serve::start(Options { port: 0, workers: Some(2), ..options }).expect("the server starts")
}

fn session(addr: SocketAddr) -> String {
    let r = http::post(addr, "/api/session", None, &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["token"].as_str().unwrap().to_string()
}

/// Polls a run until it has finished; returns its years and the last view.
fn finish(addr: SocketAddr, token: &str, id: u64) -> (Vec<Value>, Value) {
    let mut years = Vec::new();
    let started = Instant::now();
    loop {
        let r = http::get(addr, &format!("/api/runs/{id}?from={}", years.len()), Some(token));
        assert_eq!(r.status, 200, "{}", r.body);
        let view = r.json();
        years.extend(view["years"].as_array().unwrap().iter().cloned());
        match view["status"].as_str() {
            Some("done") => return (years, view),
            Some("queued" | "running") => {}
            other => panic!("run {id} ended as {other:?}: {view}"),
        }
        assert!(started.elapsed() < Duration::from_secs(300), "run {id} did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn error_of(r: &http::Reply) -> (String, String) {
    let v = r.json();
    (v["field"].as_str().unwrap_or_default().to_string(), v["error"].as_str().unwrap_or_default().to_string())
}

#[test]
fn the_page_is_one_self_contained_document() {
    let server = start(Options::default());
    let r = http::get(server.addr, "/", None);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    for needle in ["http://", "https://", "//cdn", " src=\"/", " href=\"/"] {
        assert!(!r.body.contains(needle), "the page references `{needle}`");
    }
    let csp = r.header("content-security-policy").expect("a content security policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(r.body.contains("data:font/ttf;base64,"));
    let info = http::get(server.addr, "/api/info", None).json();
    assert_eq!(info["mode"], "solo");
    assert!(info["scenarios"].as_array().unwrap().len() >= 6);
    assert!(info["exercises"].as_array().unwrap().len() >= 5);
    server.stop();
}

#[test]
fn a_run_streams_its_years_and_its_downloads_rerun_with_the_cli_to_the_same_bytes() {
    let server = start(Options::default());
    let addr = server.addr;
    let token = session(addr);
    let scenario = http::get(addr, "/api/scenarios/korea-default", Some(&token)).json();
    let levers = scenario["levers"].as_array().unwrap();
    // The default gives its clusters' environments as measurements: their levers are the measurements.
    let vc =
        levers.iter().find(|l| l["key"] == "clusters[0].measurements.vc_musd_per_year").expect("an environment lever");
    assert_eq!(vc["min"], 0.0);
    assert!(vc["meaning"].as_str().unwrap().contains("Venture capital"));
    assert!(levers.iter().any(|l| l["key"] == "policies[0].budget_musd_per_year"));
    assert!(levers.iter().any(|l| l["key"] == "clusters[1].population.firms" && l["kind"] == "integer"));

    let settings = json!({ "clusters[0].measurements.vc_musd_per_year": 150.0, "policies[0].budget_musd_per_year": 35.0, "policies[4].enabled": false });
    let started = http::post(
        addr,
        "/api/runs",
        Some(&token),
        &json!({ "scenario": "korea-default", "settings": settings, "replication": 3 }),
    );
    assert_eq!(started.status, 200, "{}", started.body);
    let id = started.json()["id"].as_u64().unwrap();
    let (years, view) = finish(addr, &token, id);
    assert_eq!(years.len(), 30);
    assert_eq!(years[0]["year"], 2000);
    assert_eq!(years[29]["year"], 2029);
    let network = &years[10]["network"];
    assert!(network["nodes"].as_array().unwrap().len() > 50, "{network}");
    assert!(!network["edges"].as_array().unwrap().is_empty());
    assert_eq!(view["survey"]["responses"], 400);
    assert!(view["outcomes"]["firms_alive"].as_f64().unwrap() > 0.0);

    // The scenario file of the run, run by the CLI, gives the files the page offers, byte for byte.
    let toml = http::get(addr, &format!("/api/runs/{id}/scenario.toml"), Some(&token));
    assert_eq!(toml.status, 200);
    assert!(toml.header("content-disposition").unwrap().contains("korea-default.toml"));
    assert!(toml.body.contains("--replication 3"));
    assert!(toml.body.contains("policies[0].budget_musd_per_year = 35.0"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("from-the-page.toml");
    std::fs::write(&file, &toml.body).unwrap();
    let out = dir.path().join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_biocluster"))
        .args([
            "run",
            file.to_str().unwrap(),
            "--replication",
            "3",
            "--no-report",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let cli = out.join("korea-default-rep3");
    for name in ["timeseries.csv", "panel.csv", "network_edges.csv", "network_nodes.csv", "instruments.csv"] {
        let served = http::get(addr, &format!("/api/runs/{id}/files/{name}"), Some(&token));
        assert_eq!(served.status, 200, "{name}: {}", served.body);
        let written = std::fs::read_to_string(cli.join(name)).unwrap();
        assert!(served.body == written, "{name} from the page differs from the CLI's");
    }
    // The settings' TOML before any run is the same file.
    let before = http::post(
        addr,
        "/api/toml",
        Some(&token),
        &json!({ "scenario": "korea-default", "settings": settings, "replication": 3 }),
    );
    assert_eq!(before.body, toml.body);
    server.stop();
}

#[test]
fn bad_and_hostile_input_gets_a_4xx_naming_the_field_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Options {
        classroom: true,
        join_code: Some("JOIN42".into()),
        teacher_code: Some("TEACH42".into()),
        out: dir.path().to_path_buf(),
        ..Options::default()
    });
    let addr = server.addr;
    let check = |r: http::Reply, status: u16, field: &str, says: &str| {
        assert_eq!(r.status, status, "expected {status} for `{field}`: {}", r.body);
        let (f, message) = error_of(&r);
        assert_eq!(f, field, "{}", r.body);
        assert!(message.contains(says), "`{message}` should say `{says}`");
    };
    // Class mode: no anonymous sessions, codes checked, names checked.
    check(http::post(addr, "/api/session", None, &json!({})), 403, "code", "class code");
    check(
        http::post(addr, "/api/join", None, &json!({ "name": "Ada", "code": "WRONG" })),
        403,
        "code",
        "wrong class code",
    );
    check(
        http::post(addr, "/api/join", None, &json!({ "name": "../../etc/passwd", "code": "JOIN42" })),
        400,
        "name",
        "letters",
    );
    check(http::post(addr, "/api/teacher", None, &json!({ "code": "JOIN42" })), 403, "code", "wrong teacher code");
    let joined = http::post(addr, "/api/join", None, &json!({ "name": "Ada", "code": "join42" }));
    assert_eq!(joined.status, 200, "{}", joined.body);
    let token = joined.json()["token"].as_str().unwrap().to_string();
    let t = Some(token.as_str());
    check(http::get(addr, "/api/class", t), 403, "x-session", "only the teacher");
    check(http::get(addr, "/api/state", None), 401, "x-session", "no session");
    check(http::get(addr, "/api/state", Some("forged")), 401, "x-session", "unknown");

    // Malformed and mistyped JSON, unknown fields.
    let raw = |body: &[u8]| {
        http::request(
            addr,
            "POST",
            "/api/runs",
            &[("x-session", &token), ("content-type", "application/json")],
            Some(body),
        )
    };
    check(raw(b"{\"scenario\": "), 400, "scenario", "malformed request: EOF");
    check(raw(b"{\"scenario\": \"korea-default\", \"replication\": \"three\"}"), 400, "replication", "invalid type");
    check(raw(b"{\"scenario\": \"korea-default\", \"bogus\": 1}"), 400, "bogus", "unknown field `bogus`");
    // Out of range and unknown levers, named by key and with what is allowed.
    let run = |settings: Value| {
        http::post(addr, "/api/runs", t, &json!({ "scenario": "korea-default", "settings": settings }))
    };
    check(
        run(json!({ "clusters[0].measurements.pharma_establishments": -1.5 })),
        400,
        "clusters[0].measurements.pharma_establishments",
        "[0, ",
    );
    check(run(json!({ "clusters[1].population.firms": -3 })), 400, "clusters[1].population.firms", "[0, 1000000]");
    check(run(json!({ "clusters[1].population.firms": 2.5 })), 400, "clusters[1].population.firms", "whole number");
    check(run(json!({ "policies[0].enabled": "yes" })), 400, "policies[0].enabled", "true or false");
    check(
        run(json!({ "firms.wage_musd_per_employee_year": 1.0 })),
        400,
        "firms.wage_musd_per_employee_year",
        "not a lever",
    );
    check(
        http::post(addr, "/api/runs", t, &json!({ "scenario": "korea-default", "replication": 1u64 << 40 })),
        400,
        "replication",
        "[0, 1000000000]",
    );
    check(
        http::post(addr, "/api/runs", t, &json!({ "scenario": "korea-default", "exercise": "nope" })),
        400,
        "exercise",
        "unknown exercise",
    );
    // Path-like names: never a path, always refused.
    check(
        http::post(addr, "/api/runs", t, &json!({ "scenario": "../../etc/passwd" })),
        400,
        "scenario",
        "unknown scenario",
    );
    check(http::get(addr, "/api/scenarios/..%2F..%2Fetc%2Fpasswd", t), 400, "scenario", "unknown scenario");
    check(http::get(addr, "/api/runs/1/files/..%2F..%2Fetc%2Fpasswd", t), 404, "name", "no file");
    check(http::get(addr, "/etc/passwd", t), 404, "path", "no page");
    check(
        http::post(addr, "/api/upload", t, &json!({ "file_name": "../../x.toml", "toml": "" })),
        400,
        "file_name",
        "no folders",
    );
    // Uploads: malformed TOML and invalid values, named.
    check(http::post(addr, "/api/upload", t, &json!({ "toml": "[scenario\nname = 1" })), 400, "toml", "malformed TOML");
    let bad = http::post(
        addr,
        "/api/upload",
        t,
        &json!({ "file_name": "mine.toml", "toml": "[scenario]\nyears = 900\n[[clusters]]\nname = \"a\"\ntype = \"government_led\"\nx_km = 0.0\ny_km = 0.0\nradius_km = 5.0\n[clusters.environment]\ninfrastructure = 2.0\npublic_research = 0.5\npharma_presence = 0.5\nvc_presence = 0.5\nlabour_pool = 0.5\n[clusters.population]\nfirms = 10\nuniversities = 1\npharma_partners = 1\ninvestors = 1\n" }),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let keys: Vec<String> =
        bad.json()["problems"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap().to_string()).collect();
    assert!(
        keys.contains(&"scenario.years".to_string())
            && keys.contains(&"clusters[0].environment.infrastructure".to_string()),
        "{keys:?}"
    );
    check(
        http::post(addr, "/api/upload", t, &json!({ "toml": "[mystery]\nx = 1\n" })),
        400,
        "mystery",
        "unknown field",
    );
    // Oversized bodies.
    let huge = json!({ "toml": "#".repeat(400 * 1024) });
    let r = http::post(addr, "/api/upload", t, &huge);
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(error_of(&r).0, "body");
    // Replication batches: bounds.
    check(
        http::post(addr, "/api/batches", t, &json!({ "scenario": "korea-default", "replications": 0 })),
        400,
        "replications",
        "[1, 50]",
    );
    check(
        http::post(addr, "/api/batches", t, &json!({ "scenario": "korea-default", "replications": 51 })),
        400,
        "replications",
        "[1, 50]",
    );
    check(
        http::post(
            addr,
            "/api/batches",
            t,
            &json!({ "scenario": "korea-default", "replications": 2, "baseline": { "clusters[0].measurements.vc_musd_per_year": -7.0 } }),
        ),
        400,
        "baseline.clusters[0].measurements.vc_musd_per_year",
        "[0, ",
    );
    check(http::get(addr, "/api/runs/999999", t), 404, "id", "no run");
    check(http::get(addr, "/api/runs/1?from=minus", t), 400, "from", "years already received");

    // Too many requests from one client: 429, and the others are still served.
    let limited = (0..200).map(|_| http::get(addr, "/api/state", t)).find(|r| r.status == 429);
    check(limited.expect("200 requests at once should meet the rate limit"), 429, "x-session", "too many requests");

    // The server goes on: the page, the API and a valid run.
    assert_eq!(http::get(addr, "/", None).status, 200);
    let other = http::post(addr, "/api/join", None, &json!({ "name": "Bo", "code": "JOIN42" })).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = http::post(
        addr,
        "/api/runs",
        Some(&other),
        &json!({ "scenario": "korea-default", "settings": { "clusters[0].population.firms": 20 } }),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    finish(addr, &other, ok.json()["id"].as_u64().unwrap());
    // Nothing was written outside the class folder.
    let written: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(written, ["classroom"]);
    server.stop();
}

#[test]
fn a_class_keeps_its_codes_results_and_exercise_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options { classroom: true, out: dir.path().to_path_buf(), ..Options::default() };
    let server = start(options.clone());
    let (addr, join, teach) = (server.addr, server.join_code.clone().unwrap(), server.teacher_code.clone().unwrap());
    assert_ne!(join, teach);
    let teacher =
        http::post(addr, "/api/teacher", None, &json!({ "code": teach })).json()["token"].as_str().unwrap().to_string();
    let pushed = http::post(addr, "/api/class/exercise", Some(&teacher), &json!({ "exercise": "luck" }));
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    for (name, replication) in [("Ada", 1), ("Bo", 2)] {
        let joined = http::post(addr, "/api/join", None, &json!({ "name": name, "code": join })).json();
        assert_eq!(joined["exercise"], "luck");
        let token = joined["token"].as_str().unwrap().to_string();
        let run = http::post(
            addr,
            "/api/runs",
            Some(&token),
            &json!({ "scenario": "korea-default", "replication": replication, "exercise": "luck", "prediction": 300.0 }),
        );
        finish(addr, &token, run.json()["id"].as_u64().unwrap());
    }
    // The result is recorded when the worker finishes the run, before the page sees "done".
    let class = http::get(addr, "/api/class", Some(&teacher)).json();
    assert_eq!(class["results"].as_array().unwrap().len(), 2, "{class}");
    let csv = http::get(addr, "/api/class/results.csv", Some(&teacher));
    assert_eq!(csv.body.lines().count(), 3);
    server.stop();

    let on_disk = std::fs::read_to_string(dir.path().join("classroom/results.csv")).unwrap();
    assert_eq!(on_disk, csv.body);
    let again = start(options);
    assert_eq!(again.join_code.as_deref(), Some(join.as_str()));
    let teacher = http::post(again.addr, "/api/teacher", None, &json!({ "code": teach })).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let class = http::get(again.addr, "/api/class", Some(&teacher)).json();
    assert_eq!(class["exercise"], "luck");
    let results = class["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["student"], "Ada");
    assert_eq!(results[0]["prediction"], 300.0);
    assert!(Path::new(&dir.path().join("classroom/class.json")).exists());
    again.stop();
}

#[test]
fn replications_give_a_fan_and_a_paired_effect_against_the_baseline() {
    let server = start(Options::default());
    let addr = server.addr;
    let token = session(addr);
    let started = http::post(
        addr,
        "/api/batches",
        Some(&token),
        &json!({
            "scenario": "korea-default",
            "settings": { "clusters[0].population.firms": 100 },
            "baseline": {},
            "replications": 4,
        }),
    );
    assert_eq!(started.status, 200, "{}", started.body);
    let id = started.json()["id"].as_u64().unwrap();
    let view = loop {
        let view = http::get(addr, &format!("/api/batches/{id}"), Some(&token)).json();
        if view["done"] == view["total"] {
            break view;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(view["total"], 8);
    let fans = view["fans"].as_array().unwrap();
    assert_eq!(fans.len(), 2);
    let firms = fans[0]["metrics"]["firms_alive"].as_array().unwrap();
    assert_eq!(firms.len(), 30);
    let [lo, mid, hi] = [0, 1, 2].map(|k| firms[0][k].as_f64().unwrap());
    assert!(lo <= mid && mid <= hi);
    // Twice the government-led complex's initial firms: more firms in 2000.
    assert!(fans[0]["metrics"]["firms_alive"][0][1].as_f64() > fans[1]["metrics"]["firms_alive"][0][1].as_f64());
    // The effect is the mean of the paired differences over replications 0-3, as the library gives them.
    let base = biocluster::serve::levers::shipped("korea-default").unwrap();
    let settings = [("clusters[0].population.firms".to_string(), json!(100))].into_iter().collect();
    let (more, plain) =
        (std::sync::Arc::new(base.with(&settings).unwrap()), std::sync::Arc::new(base.scenario.clone()));
    let last_firms = |s: &std::sync::Arc<biocluster::Scenario>, rep| {
        let record = biocluster::simulation::run_replication(s.clone(), rep, |_| {});
        biocluster::serve::runs::outcomes(&record).firms_alive
    };
    let expected: f64 = (0..4).map(|rep| last_firms(&more, rep) - last_firms(&plain, rep)).sum::<f64>() / 4.0;
    let effect = &view["effects"]["firms_alive"];
    assert_eq!(effect["n"], 4);
    assert!((effect["mean"].as_f64().unwrap() - expected).abs() < 1e-9, "{effect} vs {expected}");
    assert!(effect["lo"].as_f64().unwrap() < expected && expected < effect["hi"].as_f64().unwrap());
    server.stop();
}

/// The binary prints its address and codes; a closed stdout (piped into `head`) does not stop it.
#[test]
fn the_server_outlives_a_closed_stdout() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_biocluster"))
        .args(["serve", "--classroom", "--port", "0", "--out"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let addr: SocketAddr = first.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let page = http::get(addr, "/", None);
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(alive, "the server stopped when its stdout closed");
    assert_eq!(page.status, 200);
}

/// Finished runs share a memory budget: beyond it the oldest are forgotten (404 naming why), the
/// newest kept, whoever ran them.
#[test]
fn finished_runs_beyond_the_memory_budget_are_forgotten_oldest_first() {
    // A default run streams about 0.2-0.3 MB: a 0.5 MB budget holds about two finished ones (the budget
    // is applied as each run starts).
    let server = start(Options { memory_bytes: 1 << 19, ..Options::default() });
    let addr = server.addr;
    let (a, b) = (session(addr), session(addr));
    let mut ids = Vec::new();
    for (i, token) in [&a, &b, &a, &b, &a, &b].into_iter().enumerate() {
        let run = http::post(addr, "/api/runs", Some(token), &json!({ "scenario": "korea-default", "replication": i }));
        let id = run.json()["id"].as_u64().unwrap();
        finish(addr, token, id);
        ids.push((token.clone(), id));
    }
    let kept: Vec<bool> =
        ids.iter().map(|(t, id)| http::get(addr, &format!("/api/runs/{id}"), Some(t)).status == 200).collect();
    assert_eq!(&kept[..2], [false, false], "the oldest are forgotten: {kept:?}");
    assert!(kept[5] && kept[4], "the newest are kept: {kept:?}");
    let (token, id) = &ids[0];
    let gone = http::get(addr, &format!("/api/runs/{id}"), Some(token));
    assert_eq!(gone.status, 404);
    assert!(gone.json()["error"].as_str().unwrap().contains("memory budget"), "{}", gone.body);
    server.stop();
}

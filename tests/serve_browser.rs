//! `biocluster serve` in a real browser: headless Chromium driven through ChromeDriver (the W3C
//! WebDriver protocol, spoken with the tests' small HTTP client). A user opens the page, moves a
//! slider with the keyboard, runs, sees the charts fill and the network drawn, pins two runs and
//! compares them, replicates against the pinned baseline, downloads the scenario file and reruns
//! it with the CLI to the same bytes; the browser logs no error. Screenshots are written to
//! `target/serve-screenshots/` for a person to look at.
//!
//! Needs Chromium and ChromeDriver (Debian: chromium, chromium-driver; or BIOCLUSTER_CHROMIUM and
//! BIOCLUSTER_CHROMEDRIVER). Without them the test says so and passes, unless
//! BIOCLUSTER_REQUIRE_BROWSER=1 (set by .ci/run, which installs both), where it fails.

#[path = "common/http.rs"]
mod http;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn find(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(variable) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// Chromium and ChromeDriver, or `None` (the test then passes, saying so) unless
/// BIOCLUSTER_REQUIRE_BROWSER=1, where their absence fails it.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let found = find("BIOCLUSTER_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"])
        .zip(find("BIOCLUSTER_CHROMEDRIVER", &["chromedriver"]));
    if found.is_none() {
        assert!(
            std::env::var("BIOCLUSTER_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "BIOCLUSTER_REQUIRE_BROWSER=1 but Chromium or ChromeDriver is missing"
        );
        eprintln!("skipped: Chromium and ChromeDriver are needed (Debian packages chromium, chromium-driver)");
    }
    found
}

/// Waits (30 s at most) for the browser to save `path`, then a moment for it to finish writing.
fn wait_for_file(path: &Path, what: &str) {
    let started = Instant::now();
    while !path.exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "{what}");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
}

struct Driver {
    addr: SocketAddr,
    session: String,
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http::request(self.addr, "DELETE", &format!("/session/{}", self.session), &[], None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(chromedriver: &Path, chromium: &Path, downloads: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1800"],
                "prefs": { "download.default_directory": downloads, "download.prompt_for_download": false },
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let r = http::post(addr, "/session", None, &capabilities);
        assert_eq!(r.status, 200, "no WebDriver session: {}", r.body);
        let session = r.json()["value"]["sessionId"].as_str().unwrap().to_string();
        let driver = Driver { addr, session, child };
        // Headless Chromium saves downloads only where it is told to.
        driver.call("POST", "/goog/cdp/execute", json!({ "cmd": "Browser.setDownloadBehavior", "params": { "behavior": "allow", "downloadPath": downloads } }));
        driver
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let r =
            if method == "GET" { http::get(self.addr, &path, None) } else { http::post(self.addr, &path, None, &body) };
        let v = r.json();
        assert!(r.status == 200, "WebDriver {method} {path}: {}", r.body);
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    fn script(&self, source: &str, args: Value) -> Value {
        self.call("POST", "/execute/sync", json!({ "script": source, "args": args }))
    }

    /// Waits until `condition` (a script returning a truthy value) holds; returns its value.
    fn wait(&self, what: &str, condition: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.script(condition, json!([]));
            if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
                return v;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn element(&self, css: &str) -> String {
        let v = self.call("POST", "/element", json!({ "using": "css selector", "value": css }));
        v.as_object().unwrap().values().next().unwrap().as_str().unwrap().to_string()
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), json!({}));
    }

    fn keys(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/value"), json!({ "text": text }));
    }

    fn clear(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/clear"), json!({}));
    }

    fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let data = self.call("GET", "/screenshot", json!({}));
        let png = base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    fn browser_log(&self) -> Vec<Value> {
        self.call("POST", "/se/log", json!({ "type": "browser" })).as_array().cloned().unwrap_or_default()
    }
}

#[test]
fn a_user_moves_a_slider_runs_compares_replicates_and_downloads_in_a_real_browser() {
    let Some((chromium, chromedriver)) = browser() else { return };
    let server =
        biocluster::serve::start(biocluster::serve::Options { port: 0, workers: Some(2), ..Default::default() })
            .expect("the server starts");
    let url = format!("http://{}/", server.addr);
    let downloads = tempfile::tempdir().unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../serve-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let driver = Driver::start(&chromedriver, &chromium, downloads.path());
    driver.go(&url);
    driver.wait("the levers", "return document.querySelectorAll('#levers details').length");

    // Move a slider with the keyboard: the VC invested in the government-led complex, three steps up.
    driver.script("document.querySelectorAll('#levers details').forEach(d => d.open = true)", json!([]));
    let slider = "input[data-slider='clusters[0].measurements.vc_musd_per_year']";
    let value_of = |attribute: &str| -> f64 {
        driver
            .script(&format!("return Number(document.querySelector(\"{slider}\").{attribute})"), json!([]))
            .as_f64()
            .unwrap()
    };
    let (before, step) = (value_of("value"), value_of("step"));
    driver.keys(slider, "\u{E014}\u{E014}\u{E014}");
    let after = driver.script("return S.settings['clusters[0].measurements.vc_musd_per_year']", json!([]));
    assert!(
        (after.as_f64().expect("the slider changed the setting") - (before + 3.0 * step)).abs() < 1e-9,
        "{before} -> {after}"
    );
    let number = driver.script(
        "return Number(document.querySelector(\"input[data-key='clusters[0].measurements.vc_musd_per_year']\").value)",
        json!([]),
    );
    assert_eq!(number, after, "the number box follows the slider");

    // Run at full speed; the charts fill and the network is drawn.
    driver.script(
        "const s = document.getElementById('speed'); s.value = '0'; s.dispatchEvent(new Event('change'))",
        json!([]),
    );
    driver.click("#run-button");
    driver.wait("the first run", "return S.run && S.run.status === 'done' && S.shown === S.run.years.length");
    let paths = driver.script("return document.querySelectorAll('#chart-firms path').length", json!([]));
    assert_eq!(paths, 2, "one line per cluster");
    let nodes = driver.script("return Number(document.querySelector('#network svg').dataset.nodes)", json!([]));
    assert!(nodes.as_f64().unwrap() > 100.0, "{nodes}");
    driver.wait("the survey chart", "return document.querySelector('#survey svg')");
    driver.screenshot(&shots.join("1-run.png"));
    // Every chart saves as an SVG file, for slides.
    driver.click("#chart-firms .save-svg");
    let svg = downloads.path().join("firms-alive.svg");
    wait_for_file(&svg, "the chart was not saved");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("Firms alive") && text.contains("<path"),
        "{}",
        &text[..200.min(text.len())]
    );
    driver.click("#pin-button");

    // A second run with doubled national grants, typed into the number box.
    let budget = "input[data-key='policies[0].budget_musd_per_year']";
    driver.clear(budget);
    driver.keys(budget, "40\u{E004}");
    assert_eq!(driver.script("return S.settings['policies[0].budget_musd_per_year']", json!([])).as_f64(), Some(40.0));
    driver.click("#run-button");
    driver.wait(
        "the second run",
        "return S.run && S.run.status === 'done' && S.shown === S.run.years.length && S.run.id !== S.pins[0].id",
    );
    driver.click("#pin-button");
    assert_eq!(driver.script("return S.pins.length", json!([])), json!(2));
    // Compare: the current run and both pins are drawn, the pins dashed.
    let dashed =
        driver.script("return document.querySelectorAll('#chart-firms path[stroke-dasharray]').length", json!([]));
    assert_eq!(dashed, json!(4), "two pins x two clusters, dashed");
    driver.screenshot(&shots.join("2-compare.png"));

    // Replicate against the first pin (the baseline): a fan and a paired effect table.
    driver.clear("#replicate-n");
    driver.keys("#replicate-n", "4");
    driver.click("#replicate-button");
    driver.wait("the replications", "return S.batch && S.batch.finished");
    assert!(
        driver.script("return document.querySelectorAll('#fan svg polygon').length", json!([])).as_u64().unwrap() >= 2
    );
    let effects = driver.script("return document.querySelector('#effects').textContent", json!([]));
    assert!(effects.as_str().unwrap().contains("Firms alive at the end"), "{effects}");
    driver.screenshot(&shots.join("3-replicate.png"));

    // Download the run's scenario file; the CLI reruns it to the bytes the page offers.
    driver.click("#download-run-toml");
    let toml_path = downloads.path().join("korea-default.toml");
    wait_for_file(&toml_path, "the scenario file was not downloaded");
    let token = driver.script("return S.token", json!([]));
    let run_id = driver.script("return S.run.id", json!([])).as_u64().unwrap();
    let served = http::get(server.addr, &format!("/api/runs/{run_id}/files/timeseries.csv"), token.as_str());
    assert_eq!(served.status, 200);
    let out = downloads.path().join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_biocluster"))
        .args(["run", toml_path.to_str().unwrap(), "--no-report", "--quiet", "--out", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let written = std::fs::read_to_string(out.join("korea-default/timeseries.csv")).unwrap();
    assert!(written == served.body, "the CLI's rerun of the downloaded file differs from the page's run");

    // A guided exercise: Run waits for a prediction, then shows it beside the result.
    driver.script(
        "const s = document.getElementById('exercise-select'); s.value = 'grow'; s.dispatchEvent(new Event('change'))",
        json!([]),
    );
    driver.wait(
        "the exercise",
        "return !document.getElementById('exercise-box').hidden && S.exercise && S.scenario.id === 'korea-default'",
    );
    driver.click("#run-button");
    assert!(
        driver
            .script("return document.getElementById('err-prediction').textContent", json!([]))
            .as_str()
            .unwrap()
            .contains("prediction")
    );
    driver.keys("#prediction", "300");
    driver.click("#run-button");
    driver.wait("the exercise's result", "return !document.getElementById('exercise-explain').hidden");
    driver.screenshot(&shots.join("4-exercise.png"));

    let errors: Vec<Value> =
        driver.browser_log().into_iter().filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING").collect();
    assert!(errors.is_empty(), "the browser logged: {errors:?}");
    drop(driver);
    server.stop();
}

#[test]
fn a_class_joins_the_teacher_pushes_an_exercise_and_sees_every_run() {
    let Some((chromium, chromedriver)) = browser() else { return };
    let out = tempfile::tempdir().unwrap();
    let server = biocluster::serve::start(biocluster::serve::Options {
        port: 0,
        workers: Some(2),
        classroom: true,
        join_code: Some("CLASS7".into()),
        teacher_code: Some("TEACH7".into()),
        out: out.path().to_path_buf(),
        ..Default::default()
    })
    .expect("the server starts");
    let addr = server.addr;
    // Three students have already run the grants exercise with their own budgets.
    for (name, budget) in [("Ada", 0.0), ("Bo", 40.0), ("Cy", 120.0)] {
        let token = http::post(addr, "/api/join", None, &json!({ "name": name, "code": "CLASS7" })).json()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let run = http::post(
            addr,
            "/api/runs",
            Some(&token),
            &json!({ "scenario": "korea-policy-levers", "settings": { "policies[0].budget_musd_per_year": budget }, "exercise": "grants-budget", "prediction": 300 }),
        );
        assert_eq!(run.status, 200, "{}", run.body);
    }
    let downloads = tempfile::tempdir().unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../serve-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let driver = Driver::start(&chromedriver, &chromium, downloads.path());

    // The teacher opens the class and pushes an exercise.
    driver.go(&format!("http://{addr}/teacher"));
    driver.wait("the teacher's sign-in", "return !document.getElementById('teacher-login').hidden");
    driver.keys("#teacher-code", "TEACH7\u{E007}");
    driver.wait("three students' runs", "return S.classView && S.classView.results.length === 3");
    driver.script("document.getElementById('push-select').value = 'grants-budget'", json!([]));
    driver.click("#push-button");
    driver.wait("the pushed exercise", "return S.classView && S.classView.exercise === 'grants-budget'");

    // A student joins with the form and finds the exercise set.
    driver.go(&format!("http://{addr}/"));
    driver.wait("the join form", "return !document.getElementById('join-view').hidden");
    driver.keys("#join-name", "Eve");
    driver.keys("#join-code", "class7\u{E007}");
    driver.wait(
        "the pushed exercise",
        "return S.exercise && S.exercise.id === 'grants-budget' && S.scenario.id === 'korea-policy-levers'",
    );
    let budget = "input[data-key='policies[0].budget_musd_per_year']";
    driver.script("document.querySelectorAll('#levers details').forEach(d => d.open = true)", json!([]));
    driver.clear(budget);
    driver.keys(budget, "80\u{E004}");
    driver.keys("#prediction", "330");
    driver.script(
        "const s = document.getElementById('speed'); s.value = '0'; s.dispatchEvent(new Event('change'))",
        json!([]),
    );
    driver.click("#run-button");
    driver.wait("the student's result", "return !document.getElementById('exercise-explain').hidden");
    driver.screenshot(&shots.join("5-student.png"));

    // Back to the teacher: four runs in the chart and the table; the class exported as CSV.
    driver.go(&format!("http://{addr}/teacher"));
    driver.wait(
        "four runs",
        "return S.classView && S.classView.results.length === 4 && document.querySelector('#class-chart svg')",
    );
    let points = driver.script("return Number(document.querySelector('#class-chart svg').dataset.points)", json!([]));
    assert_eq!(points.as_u64(), Some(4));
    let table = driver.script("return document.getElementById('class-runs').textContent", json!([]));
    assert!(table.as_str().unwrap().contains("Eve"), "{table}");
    driver.screenshot(&shots.join("6-teacher.png"));
    driver.click("#export-button");
    let csv = downloads.path().join("class-results.csv");
    wait_for_file(&csv, "the class CSV was not downloaded");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.contains("Eve,") && text.contains("policies[0].budget_musd_per_year=80"), "{text}");
    assert_eq!(text, std::fs::read_to_string(out.path().join("classroom/results.csv")).unwrap());

    let errors: Vec<Value> =
        driver.browser_log().into_iter().filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING").collect();
    assert!(errors.is_empty(), "the browser logged: {errors:?}");
    drop(driver);
    server.stop();
}

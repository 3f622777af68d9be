//! The HTML report in a real browser: headless Chromium opens the reports of a single run and of
//! an experiment, offline; every chart image must load (non-zero natural size) and nothing may be
//! logged to the console or raise an error.
//!
//! Needs Chromium (`chromium`, `chromium-browser` or `google-chrome` on PATH, or the
//! BIOCLUSTER_CHROMIUM variable). Without it the test says so and passes, unless
//! BIOCLUSTER_REQUIRE_BROWSER=1 (set by .ci/run, which installs Debian's chromium), where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("BIOCLUSTER_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Installed first in <head>: records window errors (scripts and failed resource loads, caught in
/// the capture phase) and console.error/console.warn calls; after `load`, writes the natural size
/// of every image and the errors into the DOM, which --dump-dom prints.
const PROBE: &str = r#"<script>(function(){var errs=[];window.addEventListener('error',function(e){errs.push('error: '+(e.message||(e.target&&e.target.tagName)||'?'))},true);
['error','warn'].forEach(function(k){var o=console[k];console[k]=function(){errs.push(k+': '+[].join.call(arguments,' '));o.apply(console,arguments)}});
window.addEventListener('load',function(){var r=document.createElement('pre');r.id='probe-result';r.textContent=JSON.stringify({images:[].map.call(document.images,function(i){return [i.naturalWidth,i.naturalHeight]}),errors:errs});document.body.appendChild(r)})})();</script>"#;

fn check_in_browser(browser: &Path, report: &Path) {
    let html = std::fs::read_to_string(report).unwrap();
    let n_images = html.matches("<img ").count();
    assert!(n_images > 0, "{} has no images", report.display());
    assert!(!html.contains("http://") && !html.contains("https://"), "the report must not reference the network");
    let probe = report.with_file_name("report.probe.html");
    std::fs::write(&probe, html.replacen("<head>", &format!("<head>{PROBE}"), 1)).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", std::path::absolute(&probe).unwrap().display());
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", &url])
        // Files, not pipes: the dumped DOM (images inline) would fill a pipe nobody reads yet.
        .stdout(Stdio::from(std::fs::File::create(profile.path().join("dom.html")).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(profile.path().join("stderr.txt")).unwrap()))
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dom = std::fs::read_to_string(profile.path().join("dom.html")).unwrap();
    let stderr = std::fs::read_to_string(profile.path().join("stderr.txt")).unwrap();
    let start = dom.find("<pre id=\"probe-result\">").unwrap_or_else(|| panic!("no probe result; stderr:\n{stderr}"));
    let json = &dom[start + "<pre id=\"probe-result\">".len()..];
    let json = &json[..json.find("</pre>").unwrap()];
    let result: serde_json::Value = serde_json::from_str(&json.replace("&quot;", "\"").replace("&amp;", "&")).unwrap();
    let images = result["images"].as_array().unwrap();
    assert_eq!(images.len(), n_images);
    for (i, size) in images.iter().enumerate() {
        let (w, h) = (size[0].as_u64().unwrap(), size[1].as_u64().unwrap());
        assert!(w > 0 && h > 0, "image {} of {} did not load ({w} x {h})", i + 1, report.display());
    }
    assert_eq!(result["errors"].as_array().unwrap().len(), 0, "errors in {}: {}", report.display(), result["errors"]);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages from {}:\n{}", report.display(), console.join("\n"));
    let _ = std::fs::remove_file(probe);
}

#[test]
fn reports_open_in_headless_chromium_with_every_chart_loaded_and_no_errors() {
    let Some(browser) = chromium() else {
        if std::env::var("BIOCLUSTER_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("Chromium not found and BIOCLUSTER_REQUIRE_BROWSER=1");
        }
        eprintln!("SKIPPED: no Chromium found (install Debian's chromium or set BIOCLUSTER_CHROMIUM)");
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_biocluster");
    let status = Command::new(bin).args(["run", "--quiet", "--out"]).arg(out.path()).status().unwrap();
    assert!(status.success());
    check_in_browser(&browser, &out.path().join("korea-default/report.html"));

    let scenario = out.path().join("experiment.toml");
    std::fs::write(
        &scenario,
        r#"
[scenario]
name = "browser-experiment"
years = 5
[experiment]
replications = 3
[[experiment.variants]]
name = "rich_grants"
[experiment.variants.set]
"policies.national_rd_grants.budget_musd_per_year" = 60.0
"#,
    )
    .unwrap();
    let status = Command::new(bin).args(["run", "--quiet", "--out"]).arg(out.path()).arg(&scenario).status().unwrap();
    assert!(status.success());
    check_in_browser(&browser, &out.path().join("browser-experiment/report.html"));
}

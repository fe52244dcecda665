//! `xos serve` over real HTTP: the binary listens on a loopback port and the
//! tests talk to it with an HTTP client (and raw TCP where a client would
//! normalise the request). No mocks.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, multipart};
use serde_json::Value;

use common::{manifest, stdout, xos};

/// A running `xos serve`, stopped when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// The served folder (a private copy of `examples/` unless told).
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Serves a private copy of `examples/`.
    fn examples(args: &[&str]) -> Server {
        let temp = tempfile::tempdir().unwrap();
        copy_dir(&manifest().join("examples"), temp.path());
        let dir = temp.path().to_path_buf();
        Server::start(&dir, args, Some(temp))
    }

    fn start(dir: &Path, args: &[&str], temp: Option<tempfile::TempDir>) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xos"))
            .arg("serve")
            .arg(dir)
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .env_remove("XOS_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start xos serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("xos serve: listening on http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| {
                let mut err = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("unexpected first line {line:?}; stderr: {err}")
            })
            .parse()
            .unwrap();
        Server {
            child,
            addr,
            dir: dir.to_path_buf(),
            _temp: temp,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn example(path: &str) -> String {
    std::fs::read_to_string(manifest().join("examples").join(path)).unwrap()
}

fn run_form(spec: &str, data: &str) -> multipart::Form {
    multipart::Form::new().text("spec", spec.to_string()).part(
        "data",
        multipart::Part::text(data.to_string()).file_name("checkout.csv"),
    )
}

/// A raw HTTP/1.1 GET, exactly as written (clients normalise `..`).
fn raw_get(addr: SocketAddr, target: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

#[test]
fn the_list_names_every_example_with_its_verdict() {
    let server = Server::examples(&[]);
    let body: Value = client()
        .get(server.url("/api/v1/experiments"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let list = body["experiments"].as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "checkout_redesign",
            "search_ranking",
            "pricing_page",
            "signup_flow"
        ]
    );
    let checkout = &list[0];
    assert_eq!(checkout["verdict"], "launch");
    assert_eq!(checkout["rule"], "clear_win");
    assert_eq!(checkout["owner"], "growth-squad");
    assert_eq!(checkout["health"], "healthy");
    assert_eq!(checkout["spec"], "checkout/checkout.xos");
    assert_eq!(checkout["primary"]["metric"], "conversion");
    let lift = checkout["primary"]["abs_lift"].as_f64().unwrap();
    assert!((lift - (1320.0 / 10050.0 - 0.12)).abs() < 1e-12, "{lift}");
    // 20,050 units of a planned 2 × 47,03x.
    let share = checkout["sample_share"].as_f64().unwrap();
    assert!(share > 0.2 && share < 0.22, "{share}");
    assert_eq!(checkout["failed"], false);
}

#[test]
fn report_and_memos_equal_xos_run() {
    let server = Server::examples(&[]);
    let spec = server.dir.join("checkout/checkout.xos");
    let spec = spec.to_str().unwrap();
    for (path, format, content_type) in [
        ("report", "json", "application/json"),
        ("memo.md", "md", "text/markdown; charset=utf-8"),
        ("memo.html", "html", "text/html; charset=utf-8"),
    ] {
        let response = client()
            .get(server.url(&format!("/api/v1/experiments/checkout_redesign/{path}")))
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], content_type);
        let expected = stdout(&xos(&["run", spec, "--format", format]));
        assert_eq!(response.text().unwrap(), expected, "{path}");
    }
    let missing = client()
        .get(server.url("/api/v1/experiments/nope/report"))
        .send()
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().unwrap();
    assert!(body["error"].as_str().unwrap().contains("`nope`"));
}

#[test]
fn run_evaluates_an_uploaded_spec_and_csv() {
    let server = Server::examples(&[]);
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(run_form(
            &example("checkout/checkout.xos"),
            &example("checkout/checkout.csv"),
        ))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let uploaded: Value = response.json().unwrap();
    let on_disk: Value = serde_json::from_str(&stdout(&xos(&[
        "run",
        "examples/checkout/checkout.xos",
        "--format",
        "json",
    ])))
    .unwrap();
    // The same statistics and decision; only the data's name differs.
    assert_eq!(uploaded["decision"], on_disk["decision"]);
    assert_eq!(uploaded["metrics"], on_disk["metrics"]);
    assert_eq!(uploaded["health"], on_disk["health"]);
    assert_eq!(uploaded["settings"]["data"], "checkout.csv");
}

#[test]
fn an_uploaded_spec_reads_no_file() {
    let server = Server::examples(&[]);
    // The data path is never opened: the upload is the data.
    let spec = example("checkout/checkout.xos").replace("\"checkout.csv\"", "\"/etc/passwd\"");
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(run_form(&spec, &example("checkout/checkout.csv")))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // A policy file is refused where it is named.
    let spec = example("checkout/checkout.xos").replace(
        "    settings {",
        "    policy \"../../rules/strict.xos\"\n    settings {",
    );
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(run_form(&spec, &example("checkout/checkout.csv")))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().unwrap();
    let d = &body["diagnostics"][0];
    assert_eq!(d["code"], "xos::serve::reads_files");
    assert_eq!(d["file"], "spec.xos");
    let line = spec.lines().position(|l| l.contains("policy \"")).unwrap() + 1;
    assert_eq!(d["line"], line);
    assert_eq!(d["column"], 5);
    // Without data, nothing to evaluate: the spec's own path is not read.
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(multipart::Form::new().text("spec", example("checkout/checkout.xos")))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().unwrap();
    assert!(body["error"].as_str().unwrap().contains("`data` part"));
}

#[test]
fn invalid_specs_and_data_get_located_diagnostics() {
    let server = Server::examples(&[]);
    let spec = example("checkout/checkout.xos").replace("rate(conversions)", "rate(conversions");
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(run_form(&spec, &example("checkout/checkout.csv")))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().unwrap();
    let d = &body["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "spec.xos");
    // `primary conversion = rate(conversions {`: the `{` where `)` belongs.
    assert_eq!(d["line"], 16, "{d}");
    assert_eq!(d["column"], 43, "{d}");

    let data = example("checkout/checkout.csv").replace("1320", "-5");
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(run_form(&example("checkout/checkout.xos"), &data))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().unwrap();
    let d = &body["diagnostics"][0];
    assert_eq!(d["file"], "checkout.csv");
    // `treatment,10050,-5`: the count starts at column 17.
    assert_eq!(d["line"], 3);
    assert_eq!(d["column"], 17);

    // Not multipart at all; no spec part; a spec that is not UTF-8.
    let response = client()
        .post(server.url("/api/v1/run"))
        .body("hello")
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(multipart::Form::new().text("data", "x"))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(
            multipart::Form::new()
                .part("spec", multipart::Part::bytes(vec![0xff, 0xfe]))
                .text("data", "x"),
        )
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn check_and_plan() {
    let server = Server::examples(&[]);
    let form = multipart::Form::new().text("spec", example("checkout/checkout.xos"));
    let body: Value = client()
        .post(server.url("/api/v1/check"))
        .multipart(form)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(body["experiment"], "checkout_redesign");

    let broken = example("checkout/checkout.xos").replace("guardrail_cancel", "guardrail_cancel)");
    let response = client()
        .post(server.url("/api/v1/check"))
        .multipart(multipart::Form::new().text("spec", broken))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().unwrap();
    assert_eq!(body["ok"], false);
    assert!(body["diagnostics"][0]["line"].as_u64().is_some());

    // The plan of a spec is `xos plan --format json`.
    let response = client()
        .post(server.url("/api/v1/plan"))
        .multipart(multipart::Form::new().text("spec", example("checkout/checkout.xos")))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let plan: Value = response.json().unwrap();
    let cli: Value = serde_json::from_str(&stdout(&xos(&[
        "plan",
        "examples/checkout/checkout.xos",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(plan, cli);

    // The calculator: the same numbers from its inputs, and a power curve.
    let calc: Value = client()
        .post(server.url("/api/v1/plan"))
        .json(&serde_json::json!({
            "baseline": 0.12, "mde": 0.05, "relative": true,
            "alpha": 0.05, "power": 0.8, "daily_units": 20000
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(calc["control"], cli["per_variant"]["control"]);
    assert_eq!(calc["total"], cli["total"]);
    assert_eq!(calc["days"], cli["days"]);
    assert_eq!(calc["curve"].as_array().unwrap().len(), 40);
    let response = client()
        .post(server.url("/api/v1/plan"))
        .json(&serde_json::json!({ "baseline": 2.0, "mde": 0.05 }))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = client()
        .post(server.url("/api/v1/plan"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn uploads_over_the_limit_get_413_with_a_clear_message() {
    let server = Server::examples(&["--max-upload", "4K"]);
    let big = "x".repeat(8 * 1024);
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(run_form(&example("checkout/checkout.xos"), &big))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().unwrap();
    assert_eq!(
        body["error"],
        "the upload is larger than this server's limit of 4096 bytes (`xos serve --max-upload`)"
    );
    // Under the limit it works.
    let response = client()
        .post(server.url("/api/v1/run"))
        .multipart(run_form(
            &example("checkout/checkout.xos"),
            &example("checkout/checkout.csv"),
        ))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[test]
fn the_token_guards_every_request() {
    let server = Server::examples(&["--token", "s3cret"]);
    for path in [
        "/",
        "/api/v1/experiments",
        "/assets/live.js",
        "/api/v1/events",
    ] {
        let response = client().get(server.url(path)).send().unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(response.headers().contains_key("www-authenticate"));
    }
    let wrong = client()
        .get(server.url("/api/v1/experiments"))
        .bearer_auth("s3cre")
        .send()
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = client()
        .get(server.url("/api/v1/experiments"))
        .bearer_auth("s3cret")
        .send()
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    // A page opened with ?token= sets the cookie and drops the token from the URL.
    let response = client()
        .get(server.url("/?sort=owner&token=s3cret"))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/?sort=owner");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("xos_token=s3cret;"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let page = client()
        .get(server.url("/?sort=owner"))
        .header("cookie", "xos_token=s3cret")
        .send()
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // The API does not take the token from the query string.
    let response = client()
        .get(server.url("/api/v1/experiments?token=s3cret"))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn binding_beyond_loopback_needs_a_token() {
    let output = Command::new(env!("CARGO_BIN_EXE_xos"))
        .args(["serve", "examples", "--bind", "0.0.0.0:0"])
        .current_dir(manifest())
        .env_remove("XOS_TOKEN")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("xos::serve::token_required"), "{stderr}");
    assert!(stderr.contains("--token"), "{stderr}");
}

#[test]
fn url_paths_never_escape_the_folder() {
    let server = Server::examples(&[]);
    for target in [
        "/experiments/..%2F..%2F..%2Fetc%2Fpasswd/source",
        "/experiments/../../../etc/passwd",
        "/experiments/%2e%2e/source",
        "/api/v1/experiments/..%2Fcheckout%2Fcheckout.csv/report",
        "/../../../../etc/passwd",
        "/assets/../../Cargo.toml",
        "/assets/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/experiments/checkout/checkout.csv",
    ] {
        let (status, response) = raw_get(server.addr, target);
        assert!(
            status == 404 || status == 400,
            "{target}: {status}\n{response}"
        );
        assert!(!response.contains("root:"), "{target}");
        assert!(!response.contains("[package]"), "{target}");
        assert!(!response.contains("conversions,"), "{target}");
    }
    // The source of a served spec is reachable by its experiment's name only.
    let (status, response) = raw_get(server.addr, "/experiments/checkout_redesign/source");
    assert_eq!(status, 200);
    assert!(response.contains("experiment checkout_redesign {"));
}

#[test]
fn headers_cors_and_escaping() {
    let temp = tempfile::tempdir().unwrap();
    copy_dir(&manifest().join("examples/checkout"), temp.path());
    let spec = temp.path().join("checkout.xos");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("\"growth-squad\"", "\"<script>alert(1)</script>\"");
    std::fs::write(&spec, text).unwrap();
    let server = Server::start(temp.path(), &[], None);
    let response = client().get(server.url("/")).send().unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let html = response.text().unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));
    let page = client()
        .get(server.url("/experiments/checkout_redesign"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!page.contains("<script>alert"));
    // CORS is off by default: a cross-origin request gets no allowance.
    let response = client()
        .get(server.url("/api/v1/experiments"))
        .header("origin", "http://evil.example")
        .send()
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    drop(server);

    let server = Server::examples(&["--cors", "http://app.example"]);
    let preflight = client()
        .request(reqwest::Method::OPTIONS, server.url("/api/v1/run"))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-integration-api-key")
        .send()
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://app.example"
    );
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("x-integration-api-key") && allowed.contains("x-integration-provider")
    );
    let other = client()
        .get(server.url("/api/v1/experiments"))
        .header("origin", "http://evil.example")
        .send()
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[test]
fn pages_render() {
    let server = Server::examples(&[]);
    let index = client().get(server.url("/")).send().unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    let html = index.text().unwrap();
    for name in [
        "checkout_redesign",
        "pricing_page",
        "search_ranking",
        "signup_flow",
    ] {
        assert!(
            html.contains(&format!("href=\"/experiments/{name}\"")),
            "{name}"
        );
    }
    assert!(html.contains("<script src=\"/assets/live.js\" defer></script>"));
    // Sorting by verdict puts launch before hold; descending reverses.
    for (query, launch_first) in [("/?sort=verdict", true), ("/?sort=verdict&desc=1", false)] {
        let sorted = client()
            .get(server.url(query))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let hold = sorted.find("data-name=\"search_ranking\"").unwrap();
        let launch = sorted.find("data-name=\"checkout_redesign\"").unwrap();
        assert_eq!(launch < hold, launch_first, "{query}");
    }
    let page = client()
        .get(server.url("/experiments/checkout_redesign"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("data-live=\"checkout_redesign\""));
    assert!(page.contains("One-page checkout"));
    assert!(page.contains("<svg"), "the lift chart");
    assert!(page.contains("/api/v1/experiments/checkout_redesign/memo.md"));
    let plan =
        client()
            .get(server.url(
                "/plan?baseline=12&mde=5&scale=relative&alpha=5&power=80&split=50&daily=20000",
            ))
            .send()
            .unwrap()
            .text()
            .unwrap();
    let cli: Value = serde_json::from_str(&stdout(&xos(&[
        "plan",
        "examples/checkout/checkout.xos",
        "--format",
        "json",
    ])))
    .unwrap();
    assert!(plan.contains(&format!(
        "<td class=\"num\" id=\"n-total\">{}</td>",
        cli["total"]
    )));
    assert!(plan.contains("<polyline class=\"power\""));
    let bad = client()
        .get(server.url("/plan?baseline=abc"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(bad.contains("`abc` is not a number"));
    let policies = client()
        .get(server.url("/policies"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(policies.contains("clear_win"));
    assert!(policies.contains("severe_guardrail"));
    assert!(!policies.contains("FAIL"));
    let missing = client()
        .get(server.url("/experiments/nope"))
        .send()
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[test]
fn try_infers_a_spec_and_locates_diagnostics() {
    let server = Server::examples(&[]);
    let csv = "variant,users,conversions,guardrail_cancel,revenue_sum,revenue_sum_sq\n\
               control,10000,1200,120,250000,15000000\n\
               treatment,10050,1320,118,280000,17500000\n";
    let form = multipart::Form::new().part(
        "csv_file",
        multipart::Part::text(csv).file_name("two_arm.csv"),
    );
    let page = client()
        .post(server.url("/try"))
        .multipart(form)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("experiment two_arm {"), "{page}");
    assert!(page.contains("primary conversion = rate(conversions)"));
    assert!(page.contains("class=\"memo\""));
    // A broken spec: the diagnostic is located in the spec box's text.
    let broken = "experiment two_arm {\n    variants { control 50% treatment 50% }\n    primary conversion = rate(conversion)\n}\n";
    let form = multipart::Form::new()
        .text("csv", csv)
        .text("file_name", "two_arm.csv")
        .text("spec", broken);
    let page = client()
        .post(server.url("/try"))
        .multipart(form)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("two_arm.csv:1:"), "{page}");
    assert!(page.contains("class=\"diagnostic error\""));
    // Download gives the spec as a file named after the experiment.
    let response = client()
        .post(server.url("/try/spec.xos"))
        .multipart(multipart::Form::new().text("spec", broken))
        .send()
        .unwrap();
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"two_arm.xos\""
    );
    assert_eq!(response.text().unwrap(), broken);
}

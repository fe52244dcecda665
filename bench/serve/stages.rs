//! Where a `POST /api/v1/run` request of `xos serve` spends its time, stage by
//! stage, in one process (no socket): the cached plan look-up, the CSV, the
//! evaluation, the JSON report, and the whole request through the router
//! (middleware, multipart, handler, response) on a current-thread runtime.
//! `bash bench/serve/run.sh` measures the same request over TCP under load.
//!
//!     cargo bench --bench serve

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;
use xos::serve::app::{AppState, router};
use xos::serve::{ServeOptions, sandbox};

const BOUNDARY: &str = "xosbenchboundary";

fn example(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/checkout");
    std::fs::read_to_string(root.join(name)).expect("example file")
}

/// The body `bench/serve/run.sh` posts: parts `spec` and `data`.
fn multipart_body(spec: &str, csv: &str) -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n{spec}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"data\"; \
         filename=\"checkout.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{BOUNDARY}--\r\n"
    )
    .into_bytes()
}

fn stages(c: &mut Criterion) {
    let spec = example("checkout.xos");
    let csv = example("checkout.csv");
    let cache = sandbox::PlanCache::default();
    let limit = xos::serve::DEFAULT_MAX_UPLOAD;
    let checked = sandbox::check(&cache, &spec, "checkout.csv").expect("valid spec");
    let data = sandbox::load(
        &checked.plan,
        csv.clone().into_bytes(),
        "checkout.csv",
        limit,
    )
    .expect("valid data");
    let report = xos::evaluate_decide_report(&checked.plan, &data, None);

    let dir = tempfile::tempdir().expect("temp dir");
    let state = Arc::new(AppState {
        options: ServeOptions::new(dir.path().to_path_buf()),
        dir: dir.path().to_path_buf(),
        store: Default::default(),
        changes: tokio::sync::broadcast::channel(16).0,
        plans: sandbox::PlanCache::default(),
        stop: Arc::new(AtomicBool::new(false)),
    });
    let app = router(state);
    let body = bytes_of(multipart_body(&spec, &csv));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("serve_run");
    group.bench_function("check (cached plan)", |b| {
        b.iter(|| sandbox::check(&cache, &spec, "checkout.csv").expect("valid spec"))
    });
    group.bench_function("load csv", |b| {
        b.iter(|| {
            sandbox::load(
                &checked.plan,
                csv.clone().into_bytes(),
                "checkout.csv",
                limit,
            )
            .expect("valid data")
        })
    });
    group.bench_function("evaluate_decide_report", |b| {
        b.iter(|| xos::evaluate_decide_report(&checked.plan, &data, None))
    });
    group.bench_function("report to_json", |b| {
        b.iter(|| xos::output::report::to_json(&report))
    });
    group.bench_function("whole request through the router", |b| {
        b.iter(|| {
            let request = Request::post("/api/v1/run")
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .header("content-length", body.len())
                .body(Body::from(body.clone()))
                .expect("request");
            runtime.block_on(async {
                let response = app.clone().oneshot(request).await.expect("response");
                assert!(response.status().is_success());
                axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body")
            })
        })
    });
    group.finish();
}

fn bytes_of(body: Vec<u8>) -> axum::body::Bytes {
    axum::body::Bytes::from(body)
}

criterion_group!(benches, stages);
criterion_main!(benches);

/// The allocator of the `xos` binary (src/bin/xos/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

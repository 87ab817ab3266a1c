//! Dispatching `tools/call` to a `#[tool]` function vs to a hand-registered closure
//! (`ToolDef::from_fn`) doing the same work: the request goes through the whole in-process
//! Streamable HTTP service (stateless legacy era, JSON answer), so the numbers are what a caller
//! sees minus the network. The issue asks for the two to be within 5%. The second group calls the
//! two alternately and prints the ratio of their total times, which machine load skews least.
//!
//! Run: `cargo bench -p mcp-tests --bench macro_dispatch`.

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::BodyExt;
use mcp_server::prelude::*;
use tower::ServiceExt;

/// Add two integers.
#[tool]
fn add(
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
) -> i64 {
    a + b
}

/// The same tool as a method of a `#[tools]` impl block.
struct Calculator;

#[tools]
impl Calculator {
    /// Add two integers.
    #[tool]
    fn add_method(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddArgs {
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
}

fn router() -> Router {
    McpServer::builder("bench")
        .tool(add)
        .tools(Calculator)
        .tool(
            ToolDef::from_fn(
                "add_closure",
                |_ctx: Context, AddArgs { a, b }| async move { a + b },
            )
            .description("Add two integers."),
        )
        .build()
        .expect("the bench server builds")
        .http(HttpConfig::default().stateless())
        .into_router()
}

fn body(tool: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{tool}","arguments":{{"a":2,"b":3}}}}}}"#
    )
}

async fn call(router: &Router, body: &'static str) -> bytes::Bytes {
    let req = Request::post("/mcp")
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(Body::from(body))
        .expect("a valid request");
    let resp = router.clone().oneshot(req).await.expect("infallible");
    resp.into_body().collect().await.expect("a body").to_bytes()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let router = router();
    let bodies: Vec<(&str, &'static str)> = ["add_closure", "add", "add_method"]
        .into_iter()
        .map(|tool| (tool, &*Box::leak(body(tool).into_boxed_str())))
        .collect();
    for (tool, body) in &bodies {
        let answer = rt.block_on(call(&router, body));
        assert!(
            std::str::from_utf8(&answer).is_ok_and(|a| a.contains(r#""text":"5""#)),
            "{tool}: {answer:?}"
        );
    }

    // Each variant on its own, as criterion usually measures.
    let mut group = c.benchmark_group("tools_call_add");
    for (tool, body) in &bodies {
        group.bench_function(*tool, |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(call(&router, body).await) });
        });
    }
    group.finish();

    // The macro variants and the closure called alternately, call by call, so that a change of
    // machine load affects both alike; the time reported is the macro variant's, and the ratio
    // of the totals is printed at the end.
    let closure = bodies[0].1;
    let mut group = c.benchmark_group("interleaved_with_closure");
    for (tool, body) in &bodies[1..] {
        let totals = Cell::new((Duration::ZERO, Duration::ZERO));
        group.bench_function(*tool, |b| {
            b.iter_custom(|iters| {
                let (mut mine, mut theirs) = (Duration::ZERO, Duration::ZERO);
                for i in 0..iters {
                    let order = if i % 2 == 0 {
                        [(body, true), (&closure, false)]
                    } else {
                        [(&closure, false), (body, true)]
                    };
                    for (b, is_mine) in order {
                        let start = Instant::now();
                        black_box(rt.block_on(call(&router, b)));
                        let took = start.elapsed();
                        if is_mine {
                            mine += took;
                        } else {
                            theirs += took;
                        }
                    }
                }
                let (m, t) = totals.get();
                totals.set((m + mine, t + theirs));
                mine
            });
        });
        let (mine, theirs) = totals.get();
        eprintln!(
            "interleaved_with_closure/{tool}: macro / closure = {:.3}",
            mine.as_secs_f64() / theirs.as_secs_f64()
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

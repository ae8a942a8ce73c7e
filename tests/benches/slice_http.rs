//! The cost of the `http` slice per call: an HTTP GET to a local server on
//! 127.0.0.1 through the attenuated output (the filter interposer checks
//! the rule, then calls the host) against the same component with
//! `wasi:http` granted directly. Plain `std::time` measurements, printed as
//! a table; each variant runs `--calls N` requests (default 200, interleaved
//! with the other variants' calls) in each of `--rounds R` rounds (default
//! 3), and each variant's best round counts.
//!
//! `cargo bench -p airlock-tests --bench slice_http --profile dev` (the dev
//! profile optimizes wasmtime; components built first: `just build-components`).

use airlock_tests::compose;
use airlock_tests::net::{HttpServer, call, probe_session, probe_spec};
use std::time::{Duration, Instant};

const ALLOW: &[&str] = &["wasi:http/*@0.2"];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One variant: a composed probe and the request it repeats.
struct Variant {
    name: &'static str,
    bytes: Vec<u8>,
    method: &'static str,
    url: String,
    expect_ok: bool,
}

/// Per-call times of each variant: `calls` requests each, interleaved one by
/// one (A, B, C, A, B, C, ...) so that load on the machine hits all alike.
fn per_call(variants: &[Variant], calls: usize) -> Vec<Duration> {
    let mut probes: Vec<_> = variants.iter().map(|v| probe_session(&v.bytes)).collect();
    let mut total = vec![Duration::ZERO; variants.len()];
    for round in 0..calls + 10 {
        for (i, (v, probe)) in variants.iter().zip(&mut probes).enumerate() {
            let start = Instant::now();
            let r = call(probe, "http-request", &[v.method, &v.url]);
            // The first ten calls warm up (connections, caches).
            if round >= 10 {
                total[i] += start.elapsed();
            }
            assert_eq!(r.is_ok(), v.expect_ok, "{}: {r:?}", v.name);
        }
    }
    total.into_iter().map(|t| t / calls as u32).collect()
}

fn main() {
    let calls = arg("--calls", 200);
    let rounds = arg("--rounds", 3);
    let server = HttpServer::start();
    let filtered = probe_spec(
        ALLOW,
        &format!("http = [\"GET 127.0.0.1:{}\"]", server.port),
    );
    let direct = probe_spec(ALLOW, "grant = [\"wasi:http/*\"]");
    let filtered = compose(&filtered)
        .expect("composing the filtered probe")
        .bytes;
    let direct = compose(&direct).expect("composing the direct probe").bytes;
    let variants = [
        Variant {
            name: "direct (wasi:http granted)",
            bytes: direct,
            method: "GET",
            url: server.url("/direct"),
            expect_ok: true,
        },
        Variant {
            name: "attenuated, allowed",
            bytes: filtered.clone(),
            method: "GET",
            url: server.url("/filtered"),
            expect_ok: true,
        },
        Variant {
            name: "attenuated, denied (POST)",
            bytes: filtered,
            method: "POST",
            url: server.url("/denied"),
            expect_ok: false,
        },
    ];
    let mut best = vec![Duration::MAX; variants.len()];
    for _ in 0..rounds {
        for (b, t) in best.iter_mut().zip(per_call(&variants, calls)) {
            *b = (*b).min(t);
        }
    }
    assert_eq!(
        server.count("POST", "/denied"),
        0,
        "a denied request arrived"
    );
    println!(
        "http slice, {calls} calls x {rounds} rounds, GET to 127.0.0.1:{} (best round)",
        server.port
    );
    println!("{:<30} {:>12} {:>8}", "variant", "per call", "ratio");
    for (v, t) in variants.iter().zip(&best) {
        let ratio = t.as_secs_f64() / best[0].as_secs_f64();
        println!(
            "{:<30} {:>9.1} us {:>7.3}x",
            v.name,
            t.as_secs_f64() * 1e6,
            ratio
        );
    }
    let added = best[1].as_secs_f64() - best[0].as_secs_f64();
    println!("added per allowed call: {:.1} us", added * 1e6);
}

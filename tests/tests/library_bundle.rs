//! The library bundle (examples/libraries/airlock.toml): markdown, text, stats
//! and digest composed with no root, so that the output re-exports all four
//! interfaces and imports nothing. Called here from Rust (wasmtime); the same
//! file is called from Node (tests/js) and Python (tests/python).

use airlock_core::manifest::Manifest;
use airlock_core::spec::CompositionSpec;
use airlock_host::Val;
use airlock_host::{HostConfig, Session};
use airlock_tests::{compose, import_names, workspace};
use sha2::{Digest, Sha256};

fn bundle() -> Vec<u8> {
    let path = workspace().join("examples/libraries/airlock.toml");
    let spec = CompositionSpec::from_manifest(&Manifest::load(&path).unwrap(), &path).unwrap();
    compose(&spec).unwrap().bytes
}

fn list(values: &[f64]) -> Val {
    Val::List(values.iter().map(|v| Val::Float64(*v)).collect())
}

#[test]
fn the_bundle_exports_four_libraries_and_imports_nothing() {
    let path = workspace().join("examples/libraries/airlock.toml");
    let spec = CompositionSpec::from_manifest(&Manifest::load(&path).unwrap(), &path).unwrap();
    let composed = compose(&spec).unwrap();
    assert_eq!(import_names(&composed.bytes).unwrap(), Vec::<String>::new());
    assert_eq!(
        composed.report.output_exports,
        [
            "airlock:markdown/markdown@0.1.0",
            "airlock:text/text@0.1.0",
            "airlock:stats/stats@0.1.0",
            "airlock:digest/digest@0.1.0",
        ]
    );

    let mut session = Session::new(
        &airlock_host::engine(),
        &composed.bytes,
        &HostConfig::default(),
    )
    .unwrap();
    let values = [3.5, -1.0, 10.0, 4.0];
    let mean = session
        .call_export(Some("airlock:stats/stats"), "mean", &[list(&values)])
        .unwrap();
    assert_eq!(mean, [Val::Result(Ok(Some(Box::new(Val::Float64(4.125)))))]);
    let data = b"airlock".to_vec();
    let sha = session
        .call_export(
            Some("airlock:digest/digest"),
            "sha256",
            &[Val::List(data.iter().map(|b| Val::U8(*b)).collect())],
        )
        .unwrap();
    assert_eq!(sha, [Val::String(hex::encode(Sha256::digest(&data)))]);
    let slug = session
        .call_export(
            Some("airlock:text/text"),
            "slugify",
            &[Val::String("Café résumé: 2 notes!".into())],
        )
        .unwrap();
    assert_eq!(slug, [Val::String("café-résumé-2-notes".into())]);
}

/// The time of one call into the composed `stats.mean` from Rust (wasmtime's
/// dynamic `Val` API, like wasmtime-py's); compare `node examples/libraries/main.js`
/// and `python examples/libraries/main.py`. Run with
/// `cargo test -p airlock-tests --test library_bundle -- --ignored --nocapture`
/// (wasmtime is optimized even in the dev profile).
#[test]
#[ignore = "a measurement, not a test"]
fn time_one_call() {
    let bytes = bundle();
    let start = std::time::Instant::now();
    let mut session =
        Session::new(&airlock_host::engine(), &bytes, &HostConfig::default()).unwrap();
    println!(
        "rust: compile and instantiate: {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    for n in [1usize, 1000] {
        let values: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
        let arg = [list(&values)];
        let func = session.func(Some("airlock:stats/stats"), "mean").unwrap();
        let mut out = [Val::Bool(false)];
        let calls = 20_000;
        for _ in 0..1000 {
            func.call(session.store_mut(), &arg, &mut out).unwrap();
        }
        let start = std::time::Instant::now();
        for _ in 0..calls {
            func.call(session.store_mut(), &arg, &mut out).unwrap();
        }
        let per_call = start.elapsed().as_secs_f64() / f64::from(calls);
        println!(
            "rust: stats.mean of {n} values: {:.2} µs per call",
            per_call * 1e6
        );
    }
}

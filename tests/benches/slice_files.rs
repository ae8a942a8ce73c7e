//! The cost of the `files` slice per file read: `std::fs::read` of a small
//! file, in a loop inside the probe (`tests/probes/fs-probe`, `read-many`),
//! through the narrowed slice (the files interposer resolves the path under
//! its root, then calls the host) against the same probe with
//! `wasi:filesystem` granted directly. Plain `std::time` measurements,
//! printed as a table; each variant reads `--reads N` times (default 500) in
//! each of `--rounds R` alternating rounds (default 3), and the best round
//! counts.
//!
//! `cargo bench -p airlock-tests --bench slice_files` (components built
//! first: `just build-components`).

use airlock_core::manifest::Manifest;
use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Preopen, Session, Val};
use airlock_tests::{compose, workspace};
use std::path::Path;
use std::time::{Duration, Instant};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The probe composed alone with `extra` in its `[components.probe]`.
fn composed(dir: &Path, extra: &str) -> Vec<u8> {
    let probe = workspace().join("target/wasm32-wasip2/component/fs_probe.wasm");
    assert!(probe.exists(), "run `just build-components` first");
    let text = format!(
        "[output]\nroot = \"probe\"\n[allow]\ninterfaces = [\"wasi:filesystem/*@0.2\", \"wasi:io/*@0.2\"]\n\
         [components.probe]\npath = \"{}\"\n{extra}\n",
        probe.display()
    );
    let path = dir.join("airlock.toml");
    let manifest = Manifest::parse(&text, &path).expect("manifest");
    let spec = CompositionSpec::from_manifest(&manifest, &path).expect("spec");
    compose(&spec).expect("composing the probe").bytes
}

struct Variant {
    name: &'static str,
    bytes: Vec<u8>,
    path: &'static str,
}

/// Time per read of `reads` reads in one call (after a warm-up).
fn per_read(v: &Variant, docs: &Path, reads: usize) -> Duration {
    let config = HostConfig {
        dirs: vec![Preopen {
            host: docs.to_path_buf(),
            guest: "/docs".into(),
            read_only: true,
        }],
        ..HostConfig::default()
    };
    let mut s = Session::new(&airlock_host::engine(), &v.bytes, &config).expect("instantiating");
    let mut run = |times: usize| {
        let args = [Val::String(v.path.into()), Val::U32(times as u32)];
        let out = s
            .call_export(Some("airlock:fs-probe/fs"), "read-many", &args)
            .expect("calling read-many");
        match &out[0] {
            Val::Result(Ok(Some(n))) => assert_eq!(**n, Val::U64(11 * times as u64)),
            other => panic!("{}: {other:?}", v.name),
        }
    };
    run(20);
    let start = Instant::now();
    run(reads);
    start.elapsed() / reads as u32
}

fn main() {
    let reads = arg("--reads", 500);
    let rounds = arg("--rounds", 3);
    let tmp = tempfile::tempdir().expect("tempdir");
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(docs.join("public/sub/deeper")).unwrap();
    std::fs::write(docs.join("public/a.txt"), "public text").unwrap();
    std::fs::write(docs.join("public/sub/deeper/c.txt"), "public text").unwrap();
    let narrowed = composed(
        tmp.path(),
        r#"files = { dir = "/docs/public", as = "/data" }"#,
    );
    let direct = composed(tmp.path(), r#"grant = ["wasi:filesystem/*", "wasi:io/*"]"#);
    let variants = [
        Variant {
            name: "direct (wasi:filesystem granted)",
            bytes: direct.clone(),
            path: "/docs/public/a.txt",
        },
        Variant {
            name: "narrowed slice",
            bytes: narrowed.clone(),
            path: "/data/a.txt",
        },
        Variant {
            name: "direct, 2 dirs deeper",
            bytes: direct,
            path: "/docs/public/sub/deeper/c.txt",
        },
        Variant {
            name: "narrowed, 2 dirs deeper",
            bytes: narrowed,
            path: "/data/sub/deeper/c.txt",
        },
    ];
    let mut best = vec![Duration::MAX; variants.len()];
    for _ in 0..rounds {
        for (i, v) in variants.iter().enumerate() {
            best[i] = best[i].min(per_read(v, &docs, reads));
        }
    }
    println!(
        "files slice, std::fs::read of an 11-byte file, {reads} reads x {rounds} rounds (best round)"
    );
    println!("{:<34} {:>12} {:>8}", "variant", "per read", "ratio");
    for (i, (v, t)) in variants.iter().zip(&best).enumerate() {
        let base = best[i - i % 2];
        println!(
            "{:<34} {:>9.1} us {:>7.3}x",
            v.name,
            t.as_secs_f64() * 1e6,
            t.as_secs_f64() / base.as_secs_f64()
        );
    }
    let added = best[1].as_secs_f64() - best[0].as_secs_f64();
    println!("added per read: {:.1} us", added * 1e6);
}

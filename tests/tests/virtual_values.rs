//! Virtual values (`env`, `args`, `cwd`, `clock`, `random` in airlock.toml),
//! served inside the composed output: proven in wasmtime with a host that
//! records every authority-yielding call it serves.

use airlock::host::{self, HostConfig, Preopen, Session, Stdin, Val};
use airlock::manifest::Manifest;
use airlock::spec::CompositionSpec;
use airlock::virtualize::{Virtuals, splitmix64};
use airlock_tests::{
    app_sections, compose, example_manifest, import_names, run_app, sample_document, set_grant,
    workspace,
};

/// The example app's spec with `extra` appended to its manifest (whose last
/// table is `[components.telemetry]`).
fn example_with_telemetry(extra: &str) -> CompositionSpec {
    let path = example_manifest();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.trim_end()
            .rsplit("\n\n")
            .next()
            .unwrap()
            .starts_with("[components.telemetry]"),
        "the example manifest ends with the telemetry table"
    );
    let text = format!("{}\n{extra}\n", text.trim_end());
    let manifest = Manifest::parse(&text, &path).unwrap();
    let spec = CompositionSpec::from_manifest(&manifest, &path).unwrap();
    for inst in &spec.instances {
        assert!(
            inst.path.exists(),
            "`{}` is missing: run `just build-components` first",
            inst.path.display()
        );
    }
    spec
}

/// Runs the composed app on the sample; returns the telemetry `env` attempt and
/// how many `get-environment` calls reached the host.
fn env_attempt(bytes: &[u8]) -> (String, u64) {
    let dir = tempfile::tempdir().unwrap();
    let config = HostConfig {
        dirs: vec![Preopen {
            host: dir.path().into(),
            guest: "/data".into(),
            read_only: true,
        }],
        args: vec!["app.wasm".into()],
        env: vec![
            ("HOME".into(), "/host".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "host-secret".into()),
            ("LANG".into(), "C".into()),
        ],
        stdin: Stdin::Bytes(sample_document()),
        ..HostConfig::default()
    };
    let out = run_app(bytes, config);
    let sections = app_sections(&out.stdout);
    let line = sections["telemetry"]
        .iter()
        .find_map(|l| l.strip_prefix("attempt env: "))
        .expect("telemetry reports an env attempt")
        .to_string();
    let calls = out
        .calls
        .get("wasi:cli/environment#get-environment")
        .copied()
        .unwrap_or(0);
    (line, calls)
}

#[test]
fn telemetry_sees_exactly_its_virtual_environment_and_never_the_hosts() {
    let spec = example_with_telemetry(r#"env = { HOME = "/virtual" }"#);
    let composed = compose(&spec).unwrap();
    let audit = composed.report.to_text();
    assert!(
        audit.contains("telemetry: env HOME=/virtual (fixed)"),
        "{audit}"
    );
    // The app is granted the environment, so the output imports it; the
    // telemetry library's calls must still be answered inside.
    assert!(
        import_names(&composed.bytes)
            .unwrap()
            .iter()
            .any(|n| n.starts_with("wasi:cli/environment@")),
    );
    let (line, host_calls) = env_attempt(&composed.bytes);
    assert!(
        line.contains("1 variables visible; HOME found, AWS_SECRET_ACCESS_KEY not found"),
        "{line}"
    );
    assert_eq!(host_calls, 0, "get-environment reached the host");

    // Control: granted the environment, the same library sees the host's
    // three variables through the host, and the recorder counts the call.
    let mut granted = example_with_telemetry("");
    set_grant(&mut granted, "telemetry", &["wasi:cli/environment"]);
    let composed = compose(&granted).unwrap();
    let (line, host_calls) = env_attempt(&composed.bytes);
    assert!(
        line.contains("3 variables visible; HOME found, AWS_SECRET_ACCESS_KEY found"),
        "{line}"
    );
    assert!(host_calls >= 1);
}

#[test]
fn virtual_values_for_a_granted_interface_are_refused() {
    let mut spec = example_with_telemetry(r#"env = { HOME = "/virtual" }"#);
    set_grant(&mut spec, "telemetry", &["wasi:cli/environment"]);
    let err = compose(&spec).err().expect("refused").to_string();
    assert!(
        err.contains("`telemetry` is given virtual values (`env`) for `wasi:cli/environment@"),
        "{err}"
    );
    assert!(err.contains("granted (by `wasi:cli/environment`)"), "{err}");
}

/// A component that exports what it gets from random, clocks and the
/// environment, so a test can call them directly.
const PROBE_WIT: &str = "package test:probe;
interface rng {
    bytes: func(n: u64) -> list<u8>;
    random-u64: func() -> u64;
    insecure-bytes: func(n: u64) -> list<u8>;
    seed: func() -> tuple<u64, u64>;
    wall: func() -> u64;
    wall-nanos: func() -> u32;
    monotonic: func() -> u64;
    env: func() -> list<tuple<string, string>>;
    args: func() -> list<string>;
    cwd: func() -> option<string>;
}
world probe {
    import wasi:random/random@0.2.12;
    import wasi:random/insecure@0.2.12;
    import wasi:random/insecure-seed@0.2.12;
    import wasi:clocks/wall-clock@0.2.12;
    import wasi:clocks/monotonic-clock@0.2.12;
    import wasi:cli/environment@0.2.12;
    export rng;
}";

/// Each export forwards to the import, returning the import's return area.
const PROBE_WAT: &str = r#"(module
  (import "wasi:random/random@0.2.12" "get-random-bytes" (func $bytes (param i64 i32)))
  (import "wasi:random/random@0.2.12" "get-random-u64" (func $u64 (result i64)))
  (import "wasi:random/insecure@0.2.12" "get-insecure-random-bytes" (func $ibytes (param i64 i32)))
  (import "wasi:random/insecure-seed@0.2.12" "insecure-seed" (func $seed (param i32)))
  (import "wasi:clocks/wall-clock@0.2.12" "now" (func $now (param i32)))
  (import "wasi:clocks/monotonic-clock@0.2.12" "now" (func $mono (result i64)))
  (import "wasi:cli/environment@0.2.12" "get-environment" (func $env (param i32)))
  (import "wasi:cli/environment@0.2.12" "get-arguments" (func $args (param i32)))
  (import "wasi:cli/environment@0.2.12" "initial-cwd" (func $cwd (param i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    global.get $bump
    local.get 2
    i32.add
    i32.const 1
    i32.sub
    i32.const 0
    local.get 2
    i32.sub
    i32.and
    local.tee $p
    local.get 3
    i32.add
    global.set $bump
    local.get $p)
  (func (export "test:probe/rng#bytes") (param i64) (result i32)
    local.get 0 i32.const 16 call $bytes i32.const 16)
  (func (export "test:probe/rng#random-u64") (result i64) call $u64)
  (func (export "test:probe/rng#insecure-bytes") (param i64) (result i32)
    local.get 0 i32.const 16 call $ibytes i32.const 16)
  (func (export "test:probe/rng#seed") (result i32) i32.const 16 call $seed i32.const 16)
  (func (export "test:probe/rng#wall") (result i64) i32.const 16 call $now i32.const 16 i64.load)
  (func (export "test:probe/rng#wall-nanos") (result i32)
    i32.const 16 call $now i32.const 24 i32.load)
  (func (export "test:probe/rng#monotonic") (result i64) call $mono)
  (func (export "test:probe/rng#env") (result i32) i32.const 16 call $env i32.const 16)
  (func (export "test:probe/rng#args") (result i32) i32.const 16 call $args i32.const 16)
  (func (export "test:probe/rng#cwd") (result i32) i32.const 16 call $cwd i32.const 16)
)"#;

/// The probe composed alone, nothing granted, with these virtual values.
fn probe(dir: &std::path::Path, virtuals: Virtuals) -> Vec<u8> {
    let path = dir.join("probe.wasm");
    let bytes = airlock::testkit::component_from_wat(
        PROBE_WIT,
        PROBE_WAT,
        Some(&workspace().join("wit/deps")),
    )
    .unwrap();
    std::fs::write(&path, bytes).unwrap();
    let mut spec = CompositionSpec::from_plugs(&path, &[], &[], &[], &[]).unwrap();
    spec.instances[0].virtuals = virtuals;
    let composed = compose(&spec).unwrap();
    assert_eq!(import_names(&composed.bytes).unwrap(), Vec::<String>::new());
    composed.bytes
}

fn session(bytes: &[u8]) -> Session {
    let config = HostConfig {
        env: vec![("HOME".into(), "/host".into())],
        args: vec!["host-prog".into()],
        ..HostConfig::default()
    };
    Session::new(&host::engine(), bytes, &config).unwrap()
}

fn call(s: &mut Session, func: &str, args: &[Val]) -> Val {
    let mut out = s.call_export(Some("test:probe/rng"), func, args).unwrap();
    assert_eq!(out.len(), 1, "{func}");
    out.remove(0)
}

fn bytes(v: Val) -> Vec<u8> {
    match v {
        Val::List(items) => items
            .into_iter()
            .map(|b| match b {
                Val::U8(b) => b,
                other => panic!("not a byte: {other:?}"),
            })
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

fn u64_of(v: Val) -> u64 {
    match v {
        Val::U64(x) => x,
        other => panic!("not a u64: {other:?}"),
    }
}

fn seeded(seed: u64) -> Virtuals {
    Virtuals {
        random_seed: Some(seed),
        ..Virtuals::default()
    }
}

/// What the stub should return: splitmix64 outputs, little-endian, in order.
fn expected_stream(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::new();
    while out.len() < n {
        out.extend(splitmix64(&mut state).to_le_bytes());
    }
    out.truncate(n);
    out
}

#[test]
fn seeded_random_is_deterministic_and_differs_by_seed() {
    let dir = tempfile::tempdir().unwrap();
    let draw = |bytes: &[u8]| {
        let mut s = session(bytes);
        let a = self::bytes(call(&mut s, "bytes", &[Val::U64(16)]));
        let b = self::bytes(call(&mut s, "bytes", &[Val::U64(5)]));
        let c = u64_of(call(&mut s, "random-u64", &[]));
        (a, b, c)
    };
    let first = draw(&probe(dir.path(), seeded(42)));
    let again = draw(&probe(dir.path(), seeded(42)));
    let other = draw(&probe(dir.path(), seeded(43)));
    assert_eq!(first, again);
    assert_ne!(first.0, other.0);
    assert_eq!(first.0.len(), 16);
    assert_eq!(first.1.len(), 5);
    // One stream: 16 bytes (two draws), 5 bytes (one draw, truncated), a u64.
    let stream = expected_stream(42, 32);
    assert_eq!(first.0, stream[..16]);
    assert_eq!(first.1, stream[16..21]);
    assert_eq!(first.2.to_le_bytes(), stream[24..32]);

    // Insecure random and the insecure seed come from the same generator.
    let mut s = session(&probe(dir.path(), seeded(7)));
    assert_eq!(
        bytes(call(&mut s, "insecure-bytes", &[Val::U64(3)])),
        expected_stream(7, 3)
    );
    let Val::Tuple(pair) = call(&mut s, "seed", &[]) else {
        panic!("a tuple")
    };
    let stream = expected_stream(7, 24);
    let pair: Vec<u64> = pair.into_iter().map(u64_of).collect();
    assert_eq!(pair[0].to_le_bytes(), stream[8..16]);
    assert_eq!(pair[1].to_le_bytes(), stream[16..24]);

    // Without a seed, secure random is denied: get-random-u64 traps, bytes are empty.
    let mut s = session(&probe(dir.path(), Virtuals::default()));
    assert!(bytes(call(&mut s, "bytes", &[Val::U64(16)])).is_empty());
    let err = s
        .call_export(Some("test:probe/rng"), "random-u64", &[])
        .unwrap_err();
    assert!(format!("{err:?}").contains("get-random-u64"), "{err:?}");
}

#[test]
fn frozen_clock_and_fixed_environment_are_served_inside() {
    let dir = tempfile::tempdir().unwrap();
    let virtuals = Virtuals {
        env: Some(vec![
            ("LOG_LEVEL".into(), "info".into()),
            ("REGION".into(), "eu-west-1".into()),
        ]),
        args: Some(vec!["prog".into(), "--flag".into()]),
        cwd: Some("/work".into()),
        clock: Some(1_704_067_200),
        ..Virtuals::default()
    };
    let bytes = probe(dir.path(), virtuals);
    let mut s = session(&bytes);
    for _ in 0..2 {
        assert_eq!(u64_of(call(&mut s, "wall", &[])), 1_704_067_200);
        assert_eq!(call(&mut s, "wall-nanos", &[]), Val::U32(0));
        assert_eq!(u64_of(call(&mut s, "monotonic", &[])), 0);
    }
    let s2 = |a: &str, b: &str| Val::Tuple(vec![Val::String(a.into()), Val::String(b.into())]);
    assert_eq!(
        call(&mut s, "env", &[]),
        Val::List(vec![s2("LOG_LEVEL", "info"), s2("REGION", "eu-west-1")])
    );
    assert_eq!(
        call(&mut s, "args", &[]),
        Val::List(vec![
            Val::String("prog".into()),
            Val::String("--flag".into())
        ])
    );
    assert_eq!(
        call(&mut s, "cwd", &[]),
        Val::Option(Some(Box::new(Val::String("/work".into()))))
    );
    assert!(s.calls().values().all(|n| *n == 0), "{:?}", s.calls());

    // Only `env` set: arguments and cwd keep their denial; no clock: zero.
    let only_env = Virtuals {
        env: Some(vec![("HOME".into(), "/virtual".into())]),
        ..Virtuals::default()
    };
    let mut s = session(&probe(dir.path(), only_env));
    assert_eq!(
        call(&mut s, "env", &[]),
        Val::List(vec![s2("HOME", "/virtual")])
    );
    assert_eq!(call(&mut s, "args", &[]), Val::List(vec![]));
    assert_eq!(call(&mut s, "cwd", &[]), Val::Option(None));
    assert_eq!(u64_of(call(&mut s, "wall", &[])), 0);
}

//! Virtual values (`env`, `args`, `cwd`, `clock`, `random` in airlock.toml),
//! served inside the composed output: proven in wasmtime with a host that
//! records every authority-yielding call it serves.

use airlock_core::spec::CompositionSpec;
use airlock_core::virtualize::{Virtuals, splitmix64};
use airlock_host::{HostConfig, Session, Val};
use airlock_tests::probe::write_probe;
use airlock_tests::{
    compose, example_spec_with_telemetry, import_names, set_grant, telemetry_env_attempt,
};

#[test]
fn telemetry_sees_exactly_its_virtual_environment_and_never_the_hosts() {
    let spec = example_spec_with_telemetry(r#"env = { HOME = "/virtual" }"#);
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
    let (line, host_calls) = telemetry_env_attempt(&composed.bytes);
    assert!(
        line.contains("1 variables visible; HOME found, AWS_SECRET_ACCESS_KEY not found"),
        "{line}"
    );
    assert_eq!(host_calls, 0, "get-environment reached the host");

    // Control: granted the environment, the same library sees the host's
    // three variables through the host, and the recorder counts the call.
    let mut granted = example_spec_with_telemetry("");
    set_grant(&mut granted, "telemetry", &["wasi:cli/environment"]);
    let composed = compose(&granted).unwrap();
    let (line, host_calls) = telemetry_env_attempt(&composed.bytes);
    assert!(
        line.contains("3 variables visible; HOME found, AWS_SECRET_ACCESS_KEY found"),
        "{line}"
    );
    assert!(host_calls >= 1);
}

#[test]
fn virtual_values_for_a_granted_interface_are_refused() {
    let mut spec = example_spec_with_telemetry(r#"env = { HOME = "/virtual" }"#);
    set_grant(&mut spec, "telemetry", &["wasi:cli/environment"]);
    let err = compose(&spec).err().expect("refused").to_string();
    assert!(
        err.contains("`telemetry` is given virtual values (`env`) for `wasi:cli/environment@"),
        "{err}"
    );
    assert!(err.contains("granted (by `wasi:cli/environment`)"), "{err}");
}

/// The probe composed alone, nothing granted, with these virtual values.
fn probe(dir: &std::path::Path, virtuals: Virtuals) -> Vec<u8> {
    let path = dir.join("probe.wasm");
    write_probe(&path);
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
    Session::new(&airlock_host::engine(), bytes, &config).unwrap()
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

//! Attenuated capabilities served by the built-in interposers that need no
//! other test fixture: `env-from-host`, offset clocks, `exit`, and `--set`
//! (the same keys from the command line). Each is composed, run in wasmtime
//! with a recording host, and checked against a control that lets more
//! through, so a leaking slice fails the test.

use airlock_core::settings;
use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Session, Val};
use airlock_tests::probe::write_probe;
use airlock_tests::{
    compose, example_manifest, example_spec_with_telemetry, import_names, telemetry_env_attempt,
    workspace,
};
use std::time::{SystemTime, UNIX_EPOCH};

#[test]
fn env_from_host_passes_only_the_named_variables() {
    let spec =
        example_spec_with_telemetry("env-from-host = [\"HOME\"]\nenv = { LOG_LEVEL = \"info\" }");
    let composed = compose(&spec).unwrap();
    let audit = composed.report.to_text();
    assert!(
        audit.contains("telemetry: env HOME (host), env LOG_LEVEL=info (fixed)"),
        "{audit}"
    );
    assert!(audit.contains("linked to `telemetry.env`"), "{audit}");
    // The host holds HOME, AWS_SECRET_ACCESS_KEY and LANG; the library sees
    // HOME from the host and LOG_LEVEL from the output, nothing else.
    let (line, host_calls) = telemetry_env_attempt(&composed.bytes);
    assert!(
        line.contains("2 variables visible; HOME found, AWS_SECRET_ACCESS_KEY not found"),
        "{line}"
    );
    assert!(host_calls >= 1, "the filter asks the host");

    // Control: name the secret too and it gets through the same filter.
    let spec = example_spec_with_telemetry(
        "env-from-host = [\"HOME\", \"AWS_SECRET_ACCESS_KEY\"]\nenv = { LOG_LEVEL = \"info\" }",
    );
    let (line, _) = telemetry_env_attempt(&compose(&spec).unwrap().bytes);
    assert!(
        line.contains("3 variables visible; HOME found, AWS_SECRET_ACCESS_KEY found"),
        "{line}"
    );
}

#[test]
fn env_from_host_needs_the_environment_in_the_allow_list() {
    let mut spec = example_spec_with_telemetry("env-from-host = [\"HOME\"]");
    airlock_tests::set_allow(&mut spec, &["wasi:cli/std*@0.2", "wasi:io/*@0.2"]);
    let err = compose(&spec).err().expect("refused").to_string();
    assert!(err.contains("telemetry.env"), "{err}");
    assert!(err.contains("wasi:cli/environment"), "{err}");
}

/// The probe (tests/src/probe.rs) composed alone with `allow` and `--set` settings.
fn probe_with(dir: &std::path::Path, allow: &[&str], sets: &[&str]) -> Vec<u8> {
    let path = dir.join("probe.wasm");
    write_probe(&path);
    let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
    let sets: Vec<settings::Setting> = sets.iter().map(|s| settings::parse(s).unwrap()).collect();
    let spec = CompositionSpec::from_plugs(&path, &[], &allow, &[], &[])
        .unwrap()
        .with_settings(&sets, dir)
        .unwrap();
    compose(&spec).unwrap().bytes
}

fn wall_seconds(bytes: &[u8]) -> u64 {
    let mut s = Session::new(&airlock_host::engine(), bytes, &HostConfig::default()).unwrap();
    match s
        .call_export(Some("test:probe/rng"), "wall", &[])
        .unwrap()
        .remove(0)
    {
        Val::U64(x) => x,
        other => panic!("not a u64: {other:?}"),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn an_offset_clock_shifts_the_hosts_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    let allow = ["wasi:clocks/wall-clock@0.2"];
    let shifted = probe_with(dir.path(), &allow, &["probe.clock=offset:+86400"]);
    let imports = import_names(&shifted).unwrap();
    assert_eq!(imports.len(), 1, "{imports:?}");
    assert!(
        imports[0].starts_with("wasi:clocks/wall-clock@"),
        "{imports:?}"
    );
    let before = now();
    let seen = wall_seconds(&shifted);
    let after = now();
    assert!(
        (before + 86400..=after + 86400).contains(&seen),
        "{seen} not a day after {before}..{after}"
    );
    // Control: the same probe with the clock granted plainly sees the host's time.
    let plain = probe_with(dir.path(), &allow, &[]);
    let seen = wall_seconds(&plain);
    assert!(seen <= now() && seen + 60 > now(), "{seen}");
}

#[test]
fn bad_offsets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.wasm");
    write_probe(&path);
    let sets = [settings::parse("probe.clock=offset:soon").unwrap()];
    let err = CompositionSpec::from_plugs(&path, &[], &[], &[], &[])
        .unwrap()
        .with_settings(&sets, dir.path())
        .expect_err("refused")
        .to_string();
    assert!(err.contains("`offset:soon`"), "{err}");
    assert!(err.contains("clock"), "{err}");
}

const ESCAPE_PROBE: &str = "airlock:escape/probe";

/// Composes the escape component alone, allowing `wasi:cli/exit`, with `sets`,
/// then runs its exit probe: the output's imports, the host calls and the result.
fn escape_exit(sets: &[&str]) -> (Vec<String>, u64, Result<Vec<Val>, String>) {
    let path = workspace().join("target/wasm32-wasip2/component/escape.wasm");
    assert!(path.exists(), "run `just build-components` first");
    let sets: Vec<settings::Setting> = sets.iter().map(|s| settings::parse(s).unwrap()).collect();
    let spec = CompositionSpec::from_plugs(&path, &[], &["wasi:cli/exit@0.2".into()], &[], &[])
        .unwrap()
        .with_settings(&sets, ".".as_ref())
        .unwrap();
    let bytes = compose(&spec).unwrap().bytes;
    let mut s = Session::new(&airlock_host::engine(), &bytes, &HostConfig::default()).unwrap();
    let result = s
        .call_export(
            Some(ESCAPE_PROBE),
            "probe",
            &[Val::String("wasi:cli/exit#exit".into())],
        )
        .map_err(|e| format!("{e:?}"));
    let calls = s.calls().get("wasi:cli/exit#exit").copied().unwrap_or(0);
    (import_names(&bytes).unwrap(), calls, result)
}

#[test]
fn exit_deny_wins_over_the_plug_forms_grant_and_allow_reaches_the_host() {
    let (imports, calls, result) = escape_exit(&["escape.exit=deny"]);
    assert!(imports.is_empty(), "{imports:?}");
    assert_eq!(calls, 0);
    let trap = result.expect_err("a denied exit traps");
    assert!(trap.contains("exit"), "{trap}");

    let (imports, calls, result) = escape_exit(&["escape.exit=allow"]);
    assert!(
        imports.iter().any(|i| i.starts_with("wasi:cli/exit@")),
        "{imports:?}"
    );
    assert_eq!(calls, 1, "the exit reached the host");
    assert!(result.is_err(), "the host's exit ends the run");
}

#[test]
fn set_applies_to_a_manifest_and_names_unknown_components() {
    let path = example_manifest();
    let sets = [settings::parse(r#"telemetry.env-from-host=["HOME"]"#).unwrap()];
    let manifest = settings::load_manifest(&path, &sets).unwrap();
    let spec = CompositionSpec::from_manifest(&manifest, &path).unwrap();
    let telemetry = spec.instance("telemetry").unwrap();
    assert_eq!(
        telemetry
            .slices
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["env HOME (host)"]
    );
    assert!(spec.instance("telemetry.env").is_some());

    let sets = [settings::parse("nobody.exit=deny").unwrap()];
    let err = settings::load_manifest(&path, &sets)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("`--set nobody.exit`"), "{err}");
    assert!(err.contains("`telemetry`"), "{err}");
}

#[test]
fn a_slice_of_something_the_library_does_not_import_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let allow = [
        "wasi:http/*@0.2",
        "wasi:io/*@0.2",
        "wasi:clocks/wall-clock@0.2",
    ];
    // The probe imports clocks, random and the environment, never HTTP.
    let sliced = probe_with(
        dir.path(),
        &allow,
        &[r#"probe.http=["GET api.example.com"]"#],
    );
    let plain = probe_with(dir.path(), &allow, &[]);
    let imports = import_names(&sliced).unwrap();
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:http/")),
        "{imports:?}"
    );
    assert_eq!(imports, import_names(&plain).unwrap());
    // No interposer inside: only the provenance's mention of the slice differs.
    assert!(
        sliced.len() < plain.len() + 200,
        "{} vs {}",
        sliced.len(),
        plain.len()
    );
    // And it runs: the wall clock it is granted still answers.
    let seen = wall_seconds(&sliced);
    assert!(seen <= now() && seen + 60 > now(), "{seen}");
}

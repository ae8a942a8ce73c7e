//! Virtual values on WASI 0.3 (issue #13, item 4): the `env`, `args`, `cwd`,
//! `clock` and `random` keys serve a library's `@0.3.0` imports inside the
//! output as they serve 0.2's, where 0.3 renamed a function
//! (`get-initial-cwd`, `get-insecure-seed`) or an interface (`system-clock`)
//! too; `exit = "allow"` grants 0.3's `exit`.
//!
//! `tests/probes/async-probe` calls each WASI 0.3 entry point by name and
//! answers with a summary (`2 variables`, `1704067200 s since the epoch`).
//! Every check has its control: the same call without the value gets the
//! denial (the table of `async_denials.rs`), with everything on the host
//! permitted, so a value that leaked through would show.

use airlock_core::manifest::Manifest;
use airlock_core::spec::CompositionSpec;
use airlock_host::{Component, HostConfig, Session, Val};
use airlock_tests::{built_component, compose, import_names, permissive_host, workspace};
use std::collections::BTreeMap;

const PROBE: &str = "airlock:async-probe/probe";

/// The probe alone, its vault denied, with `keys` under its table and
/// `allow` (TOML array items) as the allow-list.
fn probe_with(keys: &str, allow: &str) -> Vec<u8> {
    let path = built_component("async_probe");
    let text = format!(
        "[output]\nroot = \"probe\"\n\n[allow]\ninterfaces = [{allow}]\n\n\
         [components.probe]\npath = '{}'\ndeny = [\"airlock:async-probe/*\"]\n{keys}\n",
        path.display()
    );
    let manifest_path = workspace().join("airlock.toml");
    let manifest = Manifest::parse(&text, &manifest_path).unwrap();
    let spec = CompositionSpec::from_manifest(&manifest, &manifest_path).unwrap();
    compose(&spec).unwrap().bytes
}

/// Each named call's answer (or its trap's last line) and the host calls it made,
/// each in a fresh instance, from the async export.
fn answers(bytes: &[u8], config: &HostConfig, calls: &[&str]) -> BTreeMap<String, (String, u64)> {
    let engine = airlock_host::engine();
    let component: Component = airlock_host::compile(&engine, bytes).unwrap();
    calls
        .iter()
        .map(|name| {
            let mut s = Session::instantiate(&engine, &component, config).unwrap();
            let answer =
                match s.call_export(Some(PROBE), "call-async", &[Val::String(name.to_string())]) {
                    Ok(results) => match &results[0] {
                        Val::String(s) => s.clone(),
                        other => panic!("`{name}` returned {other:?}"),
                    },
                    Err(e) => format!("trap: {e:?}"),
                };
            let host_calls = s.calls().values().sum();
            (name.to_string(), (answer, host_calls))
        })
        .collect()
}

/// The calls the values serve.
const SERVED: [&str; 9] = [
    "wasi:cli/environment#get-environment",
    "wasi:cli/environment#get-arguments",
    "wasi:cli/environment#get-initial-cwd",
    "wasi:clocks/system-clock#now",
    "wasi:clocks/monotonic-clock#now",
    "wasi:random/random#get-random-bytes",
    "wasi:random/random#get-random-u64",
    "wasi:random/insecure#get-insecure-random-bytes",
    "wasi:random/insecure-seed#get-insecure-seed",
];

#[test]
fn fixed_environment_frozen_clock_and_seeded_random_serve_wasi_0_3_inside() {
    let dir = tempfile::tempdir().unwrap();
    // The host has one variable and two arguments to give.
    let host = permissive_host(dir.path(), "probe.wasm");
    let keys = "env = { A = \"1\", B = \"2\" }\nargs = [\"p\", \"q\", \"r\"]\ncwd = \"/w\"\n\
                clock = \"frozen:1704067200\"\nrandom = { seed = 42 }";
    let bytes = probe_with(keys, "");
    assert_eq!(import_names(&bytes).unwrap(), Vec::<String>::new());
    let served = answers(&bytes, &host, &SERVED);
    let expected = [
        "2 variables",
        "3 arguments",
        "some",
        "1704067200 s since the epoch",
        "0",
        "16 bytes",
        // Any number: it did not trap (secure random without a seed does).
        "",
        "16 bytes",
        "1",
    ];
    for (name, want) in SERVED.iter().zip(expected) {
        let (answer, host_calls) = &served[*name];
        assert_eq!(*host_calls, 0, "`{name}` reached the host");
        if want.is_empty() {
            assert!(!answer.starts_with("trap"), "`{name}`: {answer}");
        } else {
            assert_eq!(answer, want, "`{name}` with values");
        }
    }

    // Control: without values, the same calls get their denials.
    let denied = answers(&probe_with("", ""), &host, &SERVED);
    let denials = [
        "0 variables",
        "0 arguments",
        "none",
        "0 s since the epoch",
        "0",
        "0 bytes",
        "trap",
        "0 bytes",
        "0",
    ];
    for (name, want) in SERVED.iter().zip(denials) {
        let (answer, host_calls) = &denied[*name];
        assert_eq!(*host_calls, 0, "`{name}` reached the host");
        assert!(answer.starts_with(want), "`{name}` denied: {answer}");
    }
}

#[test]
fn seeded_wasi_0_3_random_is_the_seeds_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let host = permissive_host(dir.path(), "probe.wasm");
    let calls = ["wasi:random/random#get-random-u64"];
    let run = |seed: u64| {
        let bytes = probe_with(&format!("random = {{ seed = {seed} }}"), "");
        answers(&bytes, &host, &calls)[calls[0]].0.clone()
    };
    // The same seed, the same first number, in two outputs; another seed, another.
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn exit_allowed_reaches_the_hosts_wasi_0_3_exit_and_denied_traps() {
    let dir = tempfile::tempdir().unwrap();
    let host = permissive_host(dir.path(), "probe.wasm");
    let calls = ["wasi:cli/exit#exit"];
    let allowed = probe_with("exit = \"allow\"", "\"wasi:cli/exit@0.3\"");
    assert_eq!(
        import_names(&allowed).unwrap(),
        vec!["wasi:cli/exit@0.3.0".to_string()]
    );
    let (answer, host_calls) = &answers(&allowed, &host, &calls)[calls[0]];
    assert_eq!(*host_calls, 1, "{answer}");
    assert!(!answer.contains("airlock denied"), "{answer}");
    // Control: denied, the call traps with its name and the host sees nothing.
    let denied = probe_with("exit = \"deny\"", "\"wasi:cli/exit@0.3\"");
    assert_eq!(import_names(&denied).unwrap(), Vec::<String>::new());
    let (answer, host_calls) = &answers(&denied, &host, &calls)[calls[0]];
    assert_eq!(*host_calls, 0);
    assert!(
        answer.contains("airlock denied wasi:cli/exit@0.3.0#exit"),
        "{answer}"
    );
}

//! The async suite: `tests/probes/async-probe` calls every function of
//! `airlock:async-probe/vault` (async functions, streams and futures, as
//! results and as parameters) and every WASI 0.3 entry point that can yield
//! authority, from a sync export (`call`, like a WASI 0.2 app) and from an
//! async export (`call-async`).
//!
//! - Composed with everything denied, the output imports nothing, nothing
//!   reaches the host (the recording host counts zero calls) and every call
//!   gets its graceful denial: the error case, an empty list, `none`, zero, an
//!   ended stream, a future that resolves at once with the denial. `count` (no
//!   error case), `get-random-u64` and `exit` trap, and the trap names the
//!   function.
//! - Composed with `tests/probes/async-vault` (the control), every vault call
//!   gets the real answer: a sync app calling a library's async functions,
//!   and an async app calling its sync ones, link and run.
//! - Composed with WASI 0.3 allowed and granted, every WASI entry point
//!   reaches the host (wasmtime-wasi's `p3`), counted by the recording host.
//!   Only from the async export: a sync export may not wait (see
//!   [`a_sync_export_cannot_wait_for_the_host`]).
//!
//! The host calls every export through `call_async` (`Session::call_export`):
//! wasmtime's sync `call` cannot suspend for the guest-to-guest async calls
//! inside. Each call runs in a fresh instance (a trap poisons an instance).

use airlock_core::spec::CompositionSpec;
use airlock_host::{Component, HostConfig, RECORDED_P3, Session, Val};
use airlock_tests::{built_component, compose, import_names, permissive_host, probe_names};
use std::collections::BTreeMap;
use std::path::Path;

const PROBE: &str = "airlock:async-probe/probe";

/// The two exports that make calls: sync and async.
const EXPORTS: [&str; 2] = ["call", "call-async"];

/// The probe with the vault and all of WASI denied.
fn denied() -> Vec<u8> {
    let deny = ["airlock:async-probe/*".to_string()];
    let spec =
        CompositionSpec::from_plugs(&built_component("async_probe"), &[], &[], &[], &deny).unwrap();
    compose(&spec).unwrap().bytes
}

/// The probe linked to the real vault, WASI allowed (and granted to the
/// probe) as `allow` says, the rest denied.
fn linked(allow: &[&str]) -> Vec<u8> {
    let plugs = [built_component("async_vault")];
    let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
    let spec =
        CompositionSpec::from_plugs(&built_component("async_probe"), &plugs, &allow, &[], &[])
            .unwrap();
    compose(&spec).unwrap().bytes
}

/// A host that would permit everything the probe could ask for.
fn permissive(dir: &Path) -> HostConfig {
    permissive_host(dir, "probe.wasm")
}

/// What one call did: its answer or the trap (with its backtrace), the host
/// calls it made and what it wrote to stdout.
#[derive(Debug)]
struct Run {
    answer: Result<String, String>,
    calls: BTreeMap<String, u64>,
    stdout: Vec<u8>,
}

/// Calls `export` of the probe with `name`, in a fresh instance.
fn call(component: &Component, config: &HostConfig, export: &str, name: &str) -> Run {
    let engine = airlock_host::engine();
    let mut s = Session::instantiate(&engine, component, config).unwrap();
    let answer = s
        .call_export(Some(PROBE), export, &[Val::String(name.to_string())])
        .map_err(|e| format!("{e:?}"))
        .map(|results| match &results[0] {
            Val::String(s) => s.clone(),
            other => panic!("`{export}({name})` returned {other:?}"),
        });
    Run {
        answer,
        calls: s.calls().clone(),
        stdout: s.stdout(),
    }
}

fn names(component: &Component, config: &HostConfig) -> Vec<String> {
    probe_names(component, config, PROBE)
}

/// The graceful denial of each call, from either export.
const DENIED: &[(&str, &str)] = &[
    ("get", "err(access-denied)"),
    ("read", "stream of 0 bytes, then err(access-denied)"),
    ("fetch", "future of err(access-denied)"),
    ("write", "0 of 3 bytes taken, then err(access-denied)"),
    ("keys", "err(access-denied)"),
    ("size", "err(access-denied)"),
    ("stats", "err(access-denied)"),
    ("wasi:cli/environment#get-environment", "0 variables"),
    ("wasi:cli/environment#get-arguments", "0 arguments"),
    ("wasi:cli/environment#get-initial-cwd", "none"),
    (
        "wasi:cli/stdin#read-via-stream",
        "stream of 0 bytes, then err(io)",
    ),
    (
        "wasi:cli/stdout#write-via-stream",
        "0 of 5 bytes taken, then err(io)",
    ),
    (
        "wasi:cli/stderr#write-via-stream",
        "0 of 5 bytes taken, then err(io)",
    ),
    ("wasi:cli/terminal-stdin#get-terminal-stdin", "none"),
    ("wasi:clocks/system-clock#now", "0 s since the epoch"),
    ("wasi:clocks/monotonic-clock#now", "0"),
    ("wasi:clocks/monotonic-clock#wait-for", "returned"),
    ("wasi:random/random#get-random-bytes", "0 bytes"),
    ("wasi:random/insecure#get-insecure-random-bytes", "0 bytes"),
    ("wasi:random/insecure-seed#get-insecure-seed", "0"),
    ("wasi:filesystem/preopens#get-directories", "0 directories"),
    (
        "wasi:sockets/types#[static]tcp-socket.create",
        "err(access-denied)",
    ),
    (
        "wasi:sockets/types#[static]udp-socket.create",
        "err(access-denied)",
    ),
    (
        "wasi:sockets/ip-name-lookup#resolve-addresses",
        "err(access-denied)",
    ),
    (
        "wasi:http/client#send",
        "err(http-request-denied), then err(http-request-denied)",
    ),
];

/// The calls that trap when denied, and the denied function their trap names.
const TRAPPING: &[(&str, &str)] = &[
    (
        "count",
        "airlock denied airlock:async-probe/vault@0.1.0#count",
    ),
    (
        "wasi:random/random#get-random-u64",
        "airlock denied wasi:random/random@0.3.0#get-random-u64",
    ),
    (
        "wasi:cli/exit#exit",
        "airlock denied wasi:cli/exit@0.3.0#exit",
    ),
];

#[test]
fn deny_all_every_async_stream_and_future_call_is_denied_gracefully() {
    let bytes = denied();
    assert_eq!(import_names(&bytes).unwrap(), Vec::<String>::new());
    let component = airlock_host::compile(&airlock_host::engine(), &bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = permissive(dir.path());
    let names = names(&component, &config);
    assert_eq!(names.len(), DENIED.len() + TRAPPING.len(), "{names:?}");
    let mut table = String::new();
    for name in &names {
        for export in EXPORTS {
            let run = call(&component, &config, export, name);
            assert!(run.calls.is_empty(), "`{name}` reached the host: {run:?}");
            assert!(run.stdout.is_empty(), "`{name}` wrote to the host's stdout");
            let denied = DENIED.iter().find(|(n, _)| n == name);
            let trapping = TRAPPING.iter().find(|(n, _)| n == name);
            match (&run.answer, denied, trapping) {
                (Ok(answer), Some((_, expected)), None) => {
                    assert_eq!(answer, expected, "`{export}({name})`");
                    table.push_str(&format!("{export:<10} {name:<48} {answer}\n"));
                }
                (Err(trap), None, Some((_, named))) => {
                    assert!(
                        trap.contains(named),
                        "the trap of `{export}({name})` does not name `{named}`: {trap}"
                    );
                    table.push_str(&format!("{export:<10} {name:<48} trap\n"));
                }
                (answer, _, _) => panic!("`{export}({name})`: unexpected {answer:?}"),
            }
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    eprintln!("deny-all answers:\n{table}");
}

/// The vault's real answers, for either export.
const VAULT: &[(&str, &str)] = &[
    ("get", "ok(\"value of motd\")"),
    ("count", "42"),
    // A sync function cannot fill a stream; the vault's future says `ok`.
    ("read", "stream of 0 bytes, then ok(())"),
    ("fetch", "future of ok(\"fetched\")"),
    ("write", "0 of 3 bytes taken, then ok(())"),
    ("keys", "ok(0 keys)"),
    ("size", "ok(4)"),
    ("stats", "ok(17)"),
];

#[test]
fn linked_to_a_real_vault_sync_and_async_callers_get_the_real_answers() {
    let bytes = linked(&[]);
    assert_eq!(import_names(&bytes).unwrap(), Vec::<String>::new());
    let component = airlock_host::compile(&airlock_host::engine(), &bytes).unwrap();
    for (name, answer) in VAULT {
        for export in EXPORTS {
            let run = call(&component, &HostConfig::default(), export, name);
            assert_eq!(
                run.answer.as_deref(),
                Ok(*answer),
                "`{export}({name})` linked to the vault"
            );
        }
    }
}

/// The host-call key (`interface@0.3#function`, see `RECORDED_P3`) of a probe name.
fn key(name: &str) -> String {
    let (interface, function) = name.split_once('#').unwrap();
    format!("{interface}@0.3#{function}")
}

/// What the host answers, through the async export, with everything granted.
/// The rest (clocks, random, sockets, HTTP) vary or depend on the machine;
/// they must not be denials and must not trap.
const GRANTED: &[(&str, &str)] = &[
    ("wasi:cli/environment#get-environment", "1 variables"),
    ("wasi:cli/environment#get-arguments", "2 arguments"),
    ("wasi:filesystem/preopens#get-directories", "1 directories"),
    (
        "wasi:cli/stdin#read-via-stream",
        "stream of 10 bytes, then ok(())",
    ),
    (
        "wasi:cli/stdout#write-via-stream",
        "5 of 5 bytes taken, then ok(())",
    ),
    (
        "wasi:cli/stderr#write-via-stream",
        "5 of 5 bytes taken, then ok(())",
    ),
    ("wasi:sockets/types#[static]tcp-socket.create", "ok(())"),
    ("wasi:sockets/types#[static]udp-socket.create", "ok(())"),
    ("wasi:clocks/monotonic-clock#wait-for", "returned"),
];

#[test]
fn with_wasi_0_3_granted_every_entry_point_reaches_the_host() {
    let bytes = linked(&["wasi:*@0.3"]);
    let imports = import_names(&bytes).unwrap();
    assert!(
        !imports.is_empty() && imports.iter().all(|i| i.ends_with("@0.3.0")),
        "{imports:?}"
    );
    let component = airlock_host::compile(&airlock_host::engine(), &bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = permissive(dir.path());
    let mut runs = BTreeMap::new();
    for name in names(&component, &config)
        .into_iter()
        .filter(|n| n.starts_with("wasi:"))
    {
        let run = call(&component, &config, "call-async", &name);
        runs.insert(name, run);
    }
    let answers: BTreeMap<&str, String> = runs
        .iter()
        .map(|(name, run)| {
            let answer = match &run.answer {
                Ok(answer) => answer.clone(),
                Err(trap) => format!("trap: {}", trap.lines().last().unwrap_or_default()),
            };
            (name.as_str(), answer)
        })
        .collect();
    let table: Vec<String> = answers
        .iter()
        .map(|(name, answer)| format!("{name:<48} {answer}"))
        .collect();
    eprintln!(
        "WASI 0.3 granted, from the async export:\n{}",
        table.join("\n")
    );
    for (name, run) in &runs {
        let answer = &answers[name.as_str()];
        if name.ends_with("#exit") {
            // `exit` ends the run, through the host.
            let trap = run.answer.as_ref().unwrap_err();
            assert!(!trap.contains("airlock denied"), "{trap}");
            continue;
        }
        assert!(run.answer.is_ok(), "`{name}` trapped: {run:?}");
        if let Some((_, expected)) = GRANTED.iter().find(|(n, _)| n == name) {
            assert_eq!(answer, expected, "`{name}` with everything granted");
        }
        // Nothing tells a host's answer from a denial's by its shape for
        // these (no terminal is attached, the host sets no working directory).
        let same_shape = ["clock", "random", "terminal", "initial-cwd"];
        if !same_shape.iter().any(|n| name.contains(n)) {
            let denial = DENIED.iter().find(|(n, _)| n == name).map(|(_, d)| *d);
            assert_ne!(Some(answer.as_str()), denial, "`{name}` got the denial");
        }
    }
    // Every recorded 0.3 entry point was reached by the probe of its name.
    for recorded in RECORDED_P3 {
        let (name, run) = runs
            .iter()
            .find(|(name, _)| key(name) == *recorded)
            .unwrap_or_else(|| panic!("no probe for `{recorded}`"));
        assert_eq!(
            run.calls.get(*recorded),
            Some(&1),
            "`{name}` did not reach the host: {run:?}"
        );
    }
    assert_eq!(runs["wasi:cli/stdout#write-via-stream"].stdout, b"hello");
}

/// A sync export (a WASI 0.2-style app) may call async functions only where
/// they need not wait: its task may not block before it returns (the
/// component model's rule; wasmtime traps). With WASI 0.3 granted, waiting
/// for the host's clock makes it wait, and the call traps instead. The denial
/// stubs never make a caller wait, so under deny-all the sync export gets
/// every answer (see above), and so it does linked to the vault.
#[test]
fn a_sync_export_cannot_wait_for_the_host() {
    let bytes = linked(&["wasi:*@0.3"]);
    let component = airlock_host::compile(&airlock_host::engine(), &bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = permissive(dir.path());
    let name = "wasi:clocks/monotonic-clock#wait-for";
    let run = call(&component, &config, "call", name);
    let trap = run.answer.unwrap_err();
    assert!(
        trap.contains("cannot block a synchronous task before returning"),
        "{trap}"
    );
    let run = call(&component, &config, "call-async", name);
    assert_eq!(run.answer.as_deref(), Ok("returned"));
}

#[test]
fn a_denied_future_resolves_the_same_on_every_call_of_one_instance() {
    // Each call leaves a future write pending until the probe reads it; the
    // next call drops the finished ones first (`waitable-set.poll`), so one
    // instance answers the same however often it is called.
    let engine = airlock_host::engine();
    let component = airlock_host::compile(&engine, &denied()).unwrap();
    let mut s = Session::instantiate(&engine, &component, &HostConfig::default()).unwrap();
    for name in ["read", "fetch", "write", "wasi:http/client#send"] {
        let expected = DENIED.iter().find(|(n, _)| *n == name).unwrap().1;
        for export in EXPORTS {
            for round in 0..50 {
                let results = s
                    .call_export(Some(PROBE), export, &[Val::String(name.to_string())])
                    .unwrap_or_else(|e| panic!("`{export}({name})` call {round}: {e:?}"));
                assert_eq!(
                    results[0],
                    Val::String(expected.to_string()),
                    "`{export}({name})` call {round}"
                );
            }
        }
    }
}

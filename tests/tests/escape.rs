//! The escape suite: `tests/probes/escape` tries every authority-yielding entry
//! point of WASI 0.2. Composed deny-all, nothing reaches the host (the output
//! imports nothing, the recording host counts zero calls) and every attempt gets
//! the graceful denial, except the two documented traps (`exit`,
//! `get-random-u64`), whose trap names the function. Composed allow-all, the
//! same attempts reach the host. And composing with everything granted changes
//! nothing: the uncomposed component answers exactly as the composed one.
//!
//! Each probe runs in a fresh instance (a trap poisons an instance).

use airlock_core::spec::CompositionSpec;
use airlock_host::{Component, HostConfig, RECORDED, Session, Val};
use airlock_tests::{built_component, compose, import_names, permissive_host, probe_names};
use std::collections::BTreeMap;
use std::path::PathBuf;

const PROBE: &str = "airlock:escape/probe";

fn escape_wasm() -> PathBuf {
    built_component("escape")
}

/// Composes the escape component alone, allowing (and granting it) `allow`.
fn composed(allow: &[&str]) -> Vec<u8> {
    let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
    let spec = CompositionSpec::from_plugs(&escape_wasm(), &[], &allow, &[], &[]).unwrap();
    compose(&spec).unwrap().bytes
}

/// A host that would permit everything the component could ask for.
fn permissive(dir: &std::path::Path) -> HostConfig {
    permissive_host(dir, "escape.wasm")
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    reached: bool,
    detail: String,
}

/// What one probe did: its outcome or the trap, the host calls it made, and its stdout.
#[derive(Debug)]
struct Run {
    result: Result<Outcome, String>,
    calls: BTreeMap<String, u64>,
    stdout: Vec<u8>,
}

fn field<'a>(fields: &'a [(String, Val)], name: &str) -> &'a Val {
    &fields.iter().find(|(n, _)| n == name).unwrap().1
}

fn outcome(v: &Val) -> (String, Outcome) {
    let Val::Record(fields) = v else {
        panic!("not a record: {v:?}")
    };
    let (Val::String(function), Val::Bool(reached), Val::String(detail)) = (
        field(fields, "function"),
        field(fields, "reached"),
        field(fields, "detail"),
    ) else {
        panic!("unexpected outcome: {v:?}")
    };
    (
        function.clone(),
        Outcome {
            reached: *reached,
            detail: detail.clone(),
        },
    )
}

fn names(component: &Component, config: &HostConfig) -> Vec<String> {
    probe_names(component, config, PROBE)
}

/// Runs every probe, each in a fresh instance.
fn run_all(bytes: &[u8], config: &HostConfig) -> BTreeMap<String, Run> {
    let engine = airlock_host::engine();
    let component = airlock_host::compile(&engine, bytes).unwrap();
    let mut out = BTreeMap::new();
    for name in names(&component, config) {
        let mut s = Session::instantiate(&engine, &component, config).unwrap();
        let result = s
            .call_export(Some(PROBE), "probe", &[Val::String(name.clone())])
            .map(|r| {
                let (function, o) = outcome(&r[0]);
                assert_eq!(function, name);
                o
            })
            .map_err(|e| format!("{e:?}"));
        let run = Run {
            result,
            calls: s.calls().clone(),
            stdout: s.stdout(),
        };
        out.insert(name, run);
    }
    out
}

/// The two probes that trap when denied, and a word their trap must contain.
const TRAPPING: [(&str, &str); 2] = [
    ("wasi:random/random#get-random-u64", "get-random-u64"),
    ("wasi:cli/exit#exit", "exit"),
];

#[test]
fn deny_all_nothing_reaches_the_host() {
    let bytes = composed(&[]);
    assert_eq!(import_names(&bytes).unwrap(), Vec::<String>::new());
    let dir = tempfile::tempdir().unwrap();
    let runs = run_all(&bytes, &permissive(dir.path()));
    assert_eq!(runs.len(), 23, "every probe ran");
    let mut table = String::new();
    for (name, run) in &runs {
        assert!(
            run.calls.is_empty(),
            "`{name}` reached the host: {:?}",
            run.calls
        );
        assert!(run.stdout.is_empty(), "`{name}` wrote to the host's stdout");
        match (&run.result, TRAPPING.iter().find(|(n, _)| n == name)) {
            (Ok(o), None) => {
                assert!(!o.reached, "`{name}` got through: {}", o.detail);
                table.push_str(&format!("{name:<50} {}\n", o.detail));
            }
            (Err(trap), Some((_, word))) => {
                assert!(
                    trap.contains(word),
                    "the trap of `{name}` does not name `{word}`: {trap}"
                );
                table.push_str(&format!("{name:<50} trap\n"));
            }
            (Ok(o), Some(_)) => panic!("`{name}` was expected to trap: {o:?}"),
            (Err(trap), None) => panic!("`{name}` trapped: {trap}"),
        }
    }
    // Nothing touched the preopened directory either.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    eprintln!("deny-all outcomes:\n{table}");
}

#[test]
fn allow_all_every_attempt_reaches_the_host() {
    let bytes = composed(&["wasi:*"]);
    assert!(!import_names(&bytes).unwrap().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let runs = run_all(&bytes, &permissive(dir.path()));
    // Every recorded entry point is called by the probe of that name.
    for key in RECORDED {
        let probe = runs
            .get(*key)
            .or_else(|| runs.values().find(|r| r.calls.contains_key(*key)))
            .unwrap_or_else(|| panic!("no probe for `{key}`"));
        assert!(
            probe.calls.get(*key).copied().unwrap_or(0) > 0,
            "`{key}` did not reach the host: {probe:?}"
        );
    }
    // Every probe that has something real to find here finds it. (No terminal
    // is attached and the host sets no working directory, so the terminal
    // probes and `initial-cwd` answer `none` from the host too; they are
    // recorded calls all the same.)
    let nothing_to_find = ["terminal", "instance-network", "initial-cwd", "#exit"];
    for (name, run) in &runs {
        if nothing_to_find.iter().any(|n| name.contains(n)) {
            continue;
        }
        match &run.result {
            Ok(o) => assert!(o.reached, "`{name}` did not get through: {}", o.detail),
            Err(trap) => panic!("`{name}` trapped: {trap}"),
        }
    }
    assert_eq!(
        std::fs::read(dir.path().join("escape.txt")).unwrap(),
        b"escaped"
    );
    let table: Vec<String> = runs
        .iter()
        .map(|(name, run)| match &run.result {
            Ok(o) => format!("{name:<50} {} {}", o.reached, o.detail),
            Err(_) => format!("{name:<50} ended the run"),
        })
        .collect();
    eprintln!("allow-all outcomes:\n{}", table.join("\n"));
}

#[test]
fn composing_with_everything_granted_changes_nothing() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let uncomposed = std::fs::read(escape_wasm()).unwrap();
    let a = run_all(&uncomposed, &permissive(dir_a.path()));
    let b = run_all(&composed(&["wasi:*"]), &permissive(dir_b.path()));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, ra) in &a {
        let rb = &b[name];
        if name.ends_with("#exit") {
            // Both end the run through the host's `exit`.
            assert!(ra.result.is_err() && rb.result.is_err(), "{ra:?} {rb:?}");
        } else {
            assert_eq!(ra.result, rb.result, "`{name}` differs");
        }
        assert_eq!(ra.calls, rb.calls, "`{name}` made different host calls");
        assert_eq!(ra.stdout, rb.stdout, "`{name}` wrote differently");
    }
    assert_eq!(
        std::fs::read(dir_a.path().join("escape.txt")).unwrap(),
        std::fs::read(dir_b.path().join("escape.txt")).unwrap()
    );
}

//! Stdio per stream (`stdout`, `stderr`, `stdin` in airlock.toml): the
//! `stdio-probe` component composed alone with each configuration, then run
//! in wasmtime with the host's streams captured. What the guest saw is
//! checked against what the host received; every test has a control with
//! the opposite configuration, so it would fail if the slice passed the bytes.

use airlock_core::manifest::Manifest;
use airlock_core::pipeline::Composed;
use airlock_host::{HostConfig, Session, Stdin, Val};
use airlock_tests::{compose, import_names, workspace};

const PROBE: &str = "airlock:stdio-probe/probe";

/// What the host's stdin holds in every run: it must never reach a guest
/// whose stdin is fixed or denied.
const HOST_STDIN: &[u8] = b"host secret stdin bytes";

/// The allow-list of [`compose_probe`]: the three host streams.
const STDIO: &str = "\"wasi:cli/stdin@0.2\", \"wasi:cli/stdout@0.2\", \"wasi:cli/stderr@0.2\"";

/// The probe alone, with `keys` under `[components.probe]`; the allow-list
/// permits the three host streams.
fn compose_probe(keys: &str) -> anyhow::Result<Composed> {
    compose_probe_allowing(STDIO, keys)
}

/// [`compose_probe`] with the allow-list `allow` (TOML array items).
fn compose_probe_allowing(allow: &str, keys: &str) -> anyhow::Result<Composed> {
    let probe = workspace().join("target/wasm32-wasip2/component/stdio_probe.wasm");
    assert!(
        probe.exists(),
        "`{}` is missing: run `just build-components` first",
        probe.display()
    );
    let text = format!(
        "[output]\nroot = \"probe\"\n\n[allow]\ninterfaces = [{allow}]\n\n\
         [components.probe]\npath = '{}'\n{keys}\n",
        probe.display()
    );
    let path = workspace().join("airlock.toml");
    let manifest = Manifest::parse(&text, &path)?;
    let spec = airlock_core::spec::CompositionSpec::from_manifest(&manifest, &path)?;
    compose(&spec)
}

fn session(bytes: &[u8]) -> Session {
    let config = HostConfig {
        stdin: Stdin::Bytes(HOST_STDIN.to_vec()),
        ..HostConfig::default()
    };
    Session::new(&airlock_host::engine(), bytes, &config).expect("the output instantiates")
}

/// `write-stdout` or `write-stderr`: `Ok(())` or the error word.
fn write(s: &mut Session, func: &str, text: &str) -> Result<(), String> {
    let out = s
        .call_export(Some(PROBE), func, &[Val::String(text.into())])
        .unwrap();
    match &out[..] {
        [Val::Result(Ok(None))] => Ok(()),
        [Val::Result(Err(Some(e)))] => match &**e {
            Val::String(word) => Err(word.clone()),
            other => panic!("not a string: {other:?}"),
        },
        other => panic!("not a result: {other:?}"),
    }
}

/// `read-stdin`: the bytes read and how the stream ended.
fn read_stdin(s: &mut Session) -> (Vec<u8>, String) {
    let out = s.call_export(Some(PROBE), "read-stdin", &[]).unwrap();
    let [Val::Tuple(pair)] = &out[..] else {
        panic!("not a tuple: {out:?}")
    };
    let (Val::List(bytes), Val::String(end)) = (&pair[0], &pair[1]) else {
        panic!("not (list<u8>, string): {pair:?}")
    };
    let bytes = bytes
        .iter()
        .map(|b| match b {
            Val::U8(b) => *b,
            other => panic!("not a byte: {other:?}"),
        })
        .collect();
    (bytes, end.clone())
}

fn imports_stream(bytes: &[u8], stream: &str) -> bool {
    let prefix = format!("wasi:cli/{stream}@");
    import_names(bytes)
        .unwrap()
        .iter()
        .any(|n| n.starts_with(&prefix))
}

#[test]
fn discarded_stdout_succeeds_in_the_guest_and_never_reaches_the_host() {
    let composed = compose_probe("stdout = \"discard\"\nstderr = \"allow\"").unwrap();
    let audit = composed.report.to_text();
    assert!(
        audit.contains("stdout discard, stderr allow, stdin deny"),
        "{audit}"
    );
    // The output cannot write the host's stdout at all: it does not import it.
    assert!(!imports_stream(&composed.bytes, "stdout"));
    assert!(!imports_stream(&composed.bytes, "stdin"));
    assert!(imports_stream(&composed.bytes, "stderr"));

    let mut s = session(&composed.bytes);
    assert_eq!(write(&mut s, "write-stdout", "to stdout\n"), Ok(()));
    assert_eq!(write(&mut s, "write-stderr", "to stderr\n"), Ok(()));
    assert_eq!(s.stdout(), b"", "discarded stdout reached the host");
    assert_eq!(s.stderr(), b"to stderr\n");
    // Stdin was not asked for: closed, the host's bytes stay out.
    assert_eq!(read_stdin(&mut s), (Vec::new(), "closed".into()));
    // The monotonic clock's pollables are the interposer's (denied: zero, ready at once).
    let now = s
        .call_export(Some(PROBE), "sleep", &[Val::U64(3_600_000_000_000)])
        .unwrap();
    assert_eq!(now, [Val::U64(0)]);

    // Control: the opposite configuration lets stdout through and discards stderr.
    let composed = compose_probe("stdout = \"allow\"\nstderr = \"discard\"").unwrap();
    let mut s = session(&composed.bytes);
    assert_eq!(write(&mut s, "write-stdout", "to stdout\n"), Ok(()));
    assert_eq!(write(&mut s, "write-stderr", "to stderr\n"), Ok(()));
    assert_eq!(s.stdout(), b"to stdout\n");
    assert_eq!(s.stderr(), b"", "discarded stderr reached the host");
}

#[test]
fn fixed_stdin_yields_exactly_its_bytes_then_end_of_stream() {
    let composed = compose_probe("stdout = \"allow\"\nstdin = { fixed = \"hello\" }").unwrap();
    let audit = composed.report.to_text();
    assert!(
        audit.contains("stdout allow, stderr deny, stdin fixed (5 bytes)"),
        "{audit}"
    );
    // The host's stdin is not even imported: its bytes cannot reach the guest.
    assert!(!imports_stream(&composed.bytes, "stdin"));

    let mut s = session(&composed.bytes);
    assert_eq!(read_stdin(&mut s), (b"hello".to_vec(), "closed".into()));
    // A second read does not start over: the stream has ended.
    assert_eq!(read_stdin(&mut s), (Vec::new(), "closed".into()));
    // Stdout is the host's, through the interposer.
    assert_eq!(write(&mut s, "write-stdout", "out\n"), Ok(()));
    assert_eq!(s.stdout(), b"out\n");
    assert_eq!(write(&mut s, "write-stderr", "err\n"), Err("closed".into()));
    assert_eq!(s.stderr(), b"");

    // Control: `stdin = "allow"` hands the guest the host's bytes.
    let composed = compose_probe("stdout = \"discard\"\nstdin = \"allow\"").unwrap();
    let mut s = session(&composed.bytes);
    assert_eq!(read_stdin(&mut s), (HOST_STDIN.to_vec(), "closed".into()));
}

#[test]
fn denied_stdout_is_closed_in_the_guest_and_empty_on_the_host() {
    // Denied beside an allowed stream: the interposer's closed stream (a
    // denial stub could only trap, as it cannot make a host stream).
    let composed = compose_probe("stdout = \"deny\"\nstderr = \"allow\"").unwrap();
    assert!(!imports_stream(&composed.bytes, "stdout"));
    let mut s = session(&composed.bytes);
    assert_eq!(
        write(&mut s, "write-stdout", "to stdout\n"),
        Err("closed".into())
    );
    assert_eq!(s.stdout(), b"", "denied stdout reached the host");
    assert_eq!(write(&mut s, "write-stderr", "to stderr\n"), Ok(()));
    assert_eq!(s.stderr(), b"to stderr\n");

    // Denied alone: the default denial, no interposer, nothing of the host.
    let composed = compose_probe("stdout = \"deny\"").unwrap();
    assert!(import_names(&composed.bytes).unwrap().is_empty());
    let mut s = session(&composed.bytes);
    assert_eq!(
        write(&mut s, "write-stdout", "to stdout\n"),
        Err("closed".into())
    );
    assert_eq!(s.stdout(), b"");

    // Control: allowed (a plain grant), the same write arrives.
    let composed = compose_probe("stdout = \"allow\"").unwrap();
    assert!(imports_stream(&composed.bytes, "stdout"));
    let mut s = session(&composed.bytes);
    assert_eq!(write(&mut s, "write-stdout", "to stdout\n"), Ok(()));
    assert_eq!(s.stdout(), b"to stdout\n");
}

#[test]
fn unset_streams_follow_the_grants_and_a_granted_clock_stays_the_hosts() {
    let allow = format!("{STDIO}, \"wasi:clocks/monotonic-clock@0.2\"");
    let keys = "grant = [\"wasi:cli/*\", \"wasi:clocks/monotonic-clock\"]\nstdout = \"discard\"";
    let composed = compose_probe_allowing(&allow, keys).unwrap();
    let audit = composed.report.to_text();
    assert!(
        audit.contains("stdout discard, stderr allow, stdin allow, monotonic clock allow"),
        "{audit}"
    );
    let mut s = session(&composed.bytes);
    assert_eq!(write(&mut s, "write-stdout", "to stdout\n"), Ok(()));
    assert_eq!(write(&mut s, "write-stderr", "to stderr\n"), Ok(()));
    assert_eq!(s.stdout(), b"", "discarded stdout reached the host");
    assert_eq!(s.stderr(), b"to stderr\n");
    assert_eq!(read_stdin(&mut s), (HOST_STDIN.to_vec(), "closed".into()));
    // The host's clock, its pollable wrapped by the interposer: a real sleep.
    let now = s
        .call_export(Some(PROBE), "sleep", &[Val::U64(1_000_000)])
        .unwrap();
    assert!(matches!(now[..], [Val::U64(n)] if n > 0), "{now:?}");
}

#[test]
fn host_io_beside_the_interposer_is_refused_with_the_key() {
    let err = compose_probe("stdout = \"discard\"\ngrant = [\"wasi:filesystem/*\"]")
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("components.probe.stdout"), "{err}");
    assert!(err.contains("`wasi:filesystem/types`"), "{err}");
    // An allowed stream that the allow-list does not permit: a policy error.
    let err = compose_probe_allowing(
        "\"wasi:cli/stdout@0.2\"",
        "stdout = \"discard\"\nstderr = \"allow\"",
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(
        err.contains("`probe.stdio` is granted `wasi:cli/stderr@"),
        "{err}"
    );
    assert!(err.contains("allow-list does not permit it"), "{err}");
}

/// The escape suite's probe, which imports every authority-yielding WASI
/// interface: with its streams interposed, the denials of files, sockets and
/// HTTP (whose types are `wasi:io`'s) take the interposer's streams, and
/// nothing but the allowed stderr reaches a host that would permit everything.
#[test]
fn every_other_capability_stays_denied_beside_the_interposer() {
    let escape = workspace().join("target/wasm32-wasip2/component/escape.wasm");
    assert!(escape.exists(), "run `just build-components` first");
    let text = format!(
        "[output]\nroot = \"escape\"\n\n[allow]\ninterfaces = [\"wasi:*\"]\n\n\
         [components.escape]\npath = '{}'\nstdout = \"discard\"\nstderr = \"allow\"\n\
         stdin = {{ fixed = \"abc\" }}\n",
        escape.display()
    );
    let path = workspace().join("airlock.toml");
    let manifest = Manifest::parse(&text, &path).unwrap();
    let spec = airlock_core::spec::CompositionSpec::from_manifest(&manifest, &path).unwrap();
    let composed = compose(&spec).unwrap();
    assert_eq!(
        import_names(&composed.bytes).unwrap(),
        [
            "wasi:cli/stderr@0.2.12",
            "wasi:io/error@0.2.12",
            "wasi:io/poll@0.2.12",
            "wasi:io/streams@0.2.12"
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let config = HostConfig {
        args: vec!["escape.wasm".into()],
        env: vec![("ESCAPE_SECRET".into(), "hunter2".into())],
        dirs: vec![airlock_host::Preopen {
            host: dir.path().into(),
            guest: "/data".into(),
            read_only: false,
        }],
        allow_net: true,
        allow_http: true,
        stdin: Stdin::Bytes(HOST_STDIN.to_vec()),
        ..HostConfig::default()
    };
    let mut s = Session::new(&airlock_host::engine(), &composed.bytes, &config).unwrap();
    let out = s
        .call_export(Some("airlock:escape/probe"), "try-all", &[])
        .unwrap();
    let [Val::List(outcomes)] = &out[..] else {
        panic!("not a list: {out:?}")
    };
    let mut reached = Vec::new();
    for o in outcomes {
        let Val::Record(fields) = o else {
            panic!("not a record: {o:?}")
        };
        let get = |name: &str| &fields.iter().find(|(n, _)| n == name).unwrap().1;
        let (Val::String(function), Val::Bool(hit), Val::String(detail)) =
            (get("function"), get("reached"), get("detail"))
        else {
            panic!("unexpected outcome: {o:?}")
        };
        if *hit {
            reached.push(format!("{function}: {detail}"));
        }
    }
    // Stdout "took the bytes" (discarded); stdin is the fixed text.
    assert_eq!(
        reached,
        [
            "wasi:cli/stdin#get-stdin: read 3 bytes",
            "wasi:cli/stdout#get-stdout: wrote 15 bytes",
            "wasi:cli/stderr#get-stderr: wrote 15 bytes",
        ]
    );
    assert_eq!(s.stdout(), b"", "discarded stdout reached the host");
    assert_eq!(s.stderr(), b"escape: stderr\n");
    assert!(s.calls().values().all(|n| *n == 0), "{:?}", s.calls());
}

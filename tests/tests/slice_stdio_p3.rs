//! The stdio slice on WASI 0.3 (issue #13 item 4): `stdout`, `stderr` and
//! `stdin` set for a library that imports `wasi:cli/stdout@0.3.0` and friends
//! (`tests/probes/p3-stdio-probe`), composed alone and run in wasmtime with
//! the host's streams captured and a secret on the host's stdin. Every test
//! has a control with the opposite setting, so it would fail if the slice
//! passed the bytes.
//!
//! In 0.3 the three streams are independent (no `wasi:io`): `allow` is a
//! grant of that stream's interface, `deny` a denial (the stream is not
//! read, its future says `err(io)`), and `discard` and `{ fixed = "text" }`
//! go to the stdio3 interposer (`probe.stdio3`): a sync half that exports the
//! library's stream functions (not `async func`, so lifted sync) and an
//! async half it calls, which keeps the stream going after the call returned
//! (see `composer/interposers/stdio3`).

use airlock_core::manifest::Manifest;
use airlock_core::pipeline::Composed;
use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Session, Stdin, Val};
use airlock_tests::{built_component, compose, import_names, workspace};

/// The probe's export.
const PROBE: &str = "airlock:p3-stdio-probe/probe";

/// What the host's stdin holds in every run: it must never reach a guest
/// whose stdin is fixed or denied.
const HOST_STDIN: &str = "host secret stdin bytes";

/// The allow-list: the three host streams of WASI 0.3 (and their types,
/// which a wildcard grant names).
const ALLOW: [&str; 4] = [
    "wasi:cli/stdin@0.3",
    "wasi:cli/stdout@0.3",
    "wasi:cli/stderr@0.3",
    "wasi:cli/types@0.3",
];

/// The probe alone with `table` under `[components.probe]`.
fn composed(table: &str) -> Composed {
    let probe = built_component("p3_stdio_probe");
    let manifest = format!(
        "[output]\nroot = \"probe\"\n[allow]\ninterfaces = {ALLOW:?}\n[components.probe]\npath = {:?}\n{table}\n",
        probe.display().to_string()
    );
    let path = workspace().join("target/p3-stdio-probe-airlock.toml");
    let manifest = Manifest::parse(&manifest, &path).expect("a valid manifest");
    let spec = CompositionSpec::from_manifest(&manifest, &path).expect("a valid spec");
    compose(&spec).unwrap_or_else(|e| panic!("composing `{table}`: {e:#}"))
}

/// A fresh instance (a trap poisons one), the host's stdin holding the secret.
fn session(bytes: &[u8]) -> Session {
    let config = HostConfig {
        stdin: Stdin::Bytes(HOST_STDIN.as_bytes().to_vec()),
        ..HostConfig::default()
    };
    Session::new(&airlock_host::engine(), bytes, &config).expect("the probe instantiates")
}

/// Calls `func` of the probe: what it says, or the trap.
fn call(s: &mut Session, func: &str, args: &[Val]) -> Result<String, String> {
    match s.call_export(Some(PROBE), func, args) {
        Ok(results) => match &results[..] {
            [Val::String(answer)] => Ok(answer.clone()),
            other => panic!("`{func}` returned {other:?}"),
        },
        Err(e) => Err(format!("{e:?}")),
    }
}

fn write_out(s: &mut Session, text: &str) -> Result<String, String> {
    call(s, "write-out", &[Val::String(text.into())])
}

fn write_err(s: &mut Session, text: &str) -> Result<String, String> {
    call(s, "write-err", &[Val::String(text.into())])
}

fn read_in(s: &mut Session) -> Result<String, String> {
    call(s, "read-in", &[])
}

/// The output's imports, as read from its bytes, sorted.
fn imports(out: &Composed) -> Vec<String> {
    let mut names = import_names(&out.bytes).unwrap();
    names.sort();
    names
}

/// The audit, checked for the one line of the slice and for which stdio
/// interposer the output holds (`probe.stdio3` or none; never the 0.2 one).
fn audit(out: &Composed, line: &str, stdio3: bool) -> String {
    let audit = out.report.to_text();
    assert!(audit.contains(&format!("probe: {line}")), "{audit}");
    assert_eq!(
        audit.matches(line).count(),
        1,
        "one audit line for the slice: {audit}"
    );
    assert_eq!(audit.contains("probe.stdio3:"), stdio3, "{audit}");
    assert!(!audit.contains("probe.stdio:"), "{audit}");
    if stdio3 {
        assert!(!audit.contains("(unused"), "{audit}");
    }
    audit
}

#[test]
fn discarded_stdout_succeeds_in_the_guest_and_never_reaches_the_host() {
    let out = composed("stdout = \"discard\"\nstderr = \"allow\"");
    audit(&out, "stdout discard, stderr allow, stdin deny", true);
    // The host's stdout is not even imported.
    assert_eq!(
        imports(&out),
        ["wasi:cli/stderr@0.3.0", "wasi:cli/types@0.3.0"]
    );
    let mut s = session(&out.bytes);
    // Every byte taken (the stream read to its end after `write-via-stream`
    // returned), the future `ok`; a second stream too, and a large one.
    assert_eq!(
        write_out(&mut s, "to stdout\n").unwrap(),
        "10 of 10 bytes taken, then ok"
    );
    let big = "x".repeat(3 << 20);
    assert_eq!(
        write_out(&mut s, &big).unwrap(),
        "3145728 of 3145728 bytes taken, then ok"
    );
    assert_eq!(s.stdout(), b"", "discarded stdout reached the host");
    // Stderr, the host's, works beside it.
    assert_eq!(
        write_err(&mut s, "to stderr\n").unwrap(),
        "10 of 10 bytes taken, then ok"
    );
    assert_eq!(s.stderr(), b"to stderr\n");
    assert_eq!(s.stdout(), b"");

    // Control: the opposite configuration lets stdout through and discards stderr.
    let out = composed("stdout = \"allow\"\nstderr = \"discard\"");
    let mut s = session(&out.bytes);
    assert_eq!(
        write_out(&mut s, "to stdout\n").unwrap(),
        "10 of 10 bytes taken, then ok"
    );
    assert_eq!(
        write_err(&mut s, "to stderr\n").unwrap(),
        "10 of 10 bytes taken, then ok"
    );
    assert_eq!(s.stdout(), b"to stdout\n");
    assert_eq!(s.stderr(), b"", "discarded stderr reached the host");
}

#[test]
fn denied_stderr_is_a_graceful_error_and_empty_on_the_host() {
    let out = composed("stderr = \"deny\"\nstdout = \"allow\"\ngrant = [\"wasi:cli/*\"]");
    // A plain grant and a denial (which wins over the grant): no interposer.
    // (The audit line then says `unused: not imported`, as the 0.2 stdio
    // interposer that a closed stream beside a host one needs is left out;
    // `attenuate::keep_used` does not know of the 0.3 grants and denials.)
    audit(&out, "stdout allow, stderr deny, stdin allow", false);
    assert_eq!(
        imports(&out),
        [
            "wasi:cli/stdin@0.3.0",
            "wasi:cli/stdout@0.3.0",
            "wasi:cli/types@0.3.0"
        ]
    );
    let mut s = session(&out.bytes);
    assert_eq!(
        write_err(&mut s, "to stderr\n").unwrap(),
        "0 of 10 bytes taken, then err(io)"
    );
    assert_eq!(s.stderr(), b"", "denied stderr reached the host");
    assert_eq!(
        write_out(&mut s, "to stdout\n").unwrap(),
        "10 of 10 bytes taken, then ok"
    );
    assert_eq!(s.stdout(), b"to stdout\n");
    // Stdin follows the grant: the host's.
    assert_eq!(read_in(&mut s).unwrap(), format!("{HOST_STDIN:?}, then ok"));

    // Control: stderr allowed.
    let out = composed("stderr = \"allow\"");
    let mut s = session(&out.bytes);
    assert_eq!(
        write_err(&mut s, "to stderr\n").unwrap(),
        "10 of 10 bytes taken, then ok"
    );
    assert_eq!(s.stderr(), b"to stderr\n");
    // Unset streams not granted: denied by default, not imported.
    assert_eq!(
        imports(&out),
        ["wasi:cli/stderr@0.3.0", "wasi:cli/types@0.3.0"]
    );
    assert_eq!(
        write_out(&mut s, "to stdout\n").unwrap(),
        "0 of 10 bytes taken, then err(io)"
    );
}

#[test]
fn fixed_stdin_yields_exactly_its_bytes_then_end_of_stream() {
    let out = composed("stdin = { fixed = \"hello\\nworld\" }");
    audit(
        &out,
        "stdout deny, stderr deny, stdin fixed (11 bytes)",
        true,
    );
    // Nothing of the host: its stdin is not even imported.
    assert_eq!(imports(&out), Vec::<String>::new());
    let mut s = session(&out.bytes);
    assert_eq!(read_in(&mut s).unwrap(), "\"hello\\nworld\", then ok");
    // Each `read-via-stream` is a new stream of the same text.
    assert_eq!(read_in(&mut s).unwrap(), "\"hello\\nworld\", then ok");

    // The empty text: an ended stream at once.
    let out = composed("stdin = { fixed = \"\" }");
    audit(
        &out,
        "stdout deny, stderr deny, stdin fixed (0 bytes)",
        true,
    );
    let mut s = session(&out.bytes);
    assert_eq!(read_in(&mut s).unwrap(), "\"\", then ok");

    // Control: `stdin = "allow"` hands the guest the host's bytes.
    let out = composed("stdin = \"allow\"");
    assert_eq!(
        imports(&out),
        ["wasi:cli/stdin@0.3.0", "wasi:cli/types@0.3.0"]
    );
    let mut s = session(&out.bytes);
    assert_eq!(read_in(&mut s).unwrap(), format!("{HOST_STDIN:?}, then ok"));
}

#[test]
fn mixed_streams_each_as_set() {
    let out = composed("stdout = \"allow\"\nstderr = \"discard\"\nstdin = { fixed = \"abc\" }");
    audit(
        &out,
        "stdout allow, stderr discard, stdin fixed (3 bytes)",
        true,
    );
    // Only the allowed stream's interface (and its types) from the host.
    assert_eq!(
        imports(&out),
        ["wasi:cli/stdout@0.3.0", "wasi:cli/types@0.3.0"]
    );
    let mut s = session(&out.bytes);
    assert_eq!(
        write_out(&mut s, "out\n").unwrap(),
        "4 of 4 bytes taken, then ok"
    );
    assert_eq!(
        write_err(&mut s, "err\n").unwrap(),
        "4 of 4 bytes taken, then ok"
    );
    assert_eq!(read_in(&mut s).unwrap(), "\"abc\", then ok");
    assert_eq!(s.stdout(), b"out\n");
    assert_eq!(s.stderr(), b"", "discarded stderr reached the host");

    // Control: all three the host's.
    let out = composed("stdout = \"allow\"\nstderr = \"allow\"\nstdin = \"allow\"");
    audit(&out, "stdout allow, stderr allow, stdin allow", false);
    assert_eq!(
        imports(&out),
        [
            "wasi:cli/stderr@0.3.0",
            "wasi:cli/stdin@0.3.0",
            "wasi:cli/stdout@0.3.0",
            "wasi:cli/types@0.3.0"
        ]
    );
    let mut s = session(&out.bytes);
    assert_eq!(
        write_err(&mut s, "err\n").unwrap(),
        "4 of 4 bytes taken, then ok"
    );
    assert_eq!(s.stderr(), b"err\n");
    assert_eq!(read_in(&mut s).unwrap(), format!("{HOST_STDIN:?}, then ok"));
}

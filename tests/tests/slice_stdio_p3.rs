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
use airlock_tests::{
    WASI_0_3_RC, built_component, compose, import_names, wasi_resolve_all_tracks, workspace,
    write_component,
};

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
    // The slice is in force (by the interposer, or by direct grants and denials).
    assert!(!audit.contains("(unused"), "{audit}");
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
    // A plain grant and a denial (which wins over the grant): no interposer
    // (the 0.2 stdio interposer that a closed stream beside a host one needs
    // is left out; the slice's grant and denial stay in force).
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

/// The `0.3.0-rc-*` pre-release that toolchains still emit.
const RC: &str = WASI_0_3_RC;

/// A library (trapping code) importing `wasi:cli/stdout` and `stdin` at
/// 0.2.12, 0.3.0 and [`RC`] (a toolchain mixing them), written to `dir`.
fn mixed_library(dir: &std::path::Path) -> std::path::PathBuf {
    let mut resolve = wasi_resolve_all_tracks();
    let imports: String = ["0.2.12", "0.3.0", RC]
        .iter()
        .flat_map(|v| {
            [
                format!("wasi:cli/stdout@{v}"),
                format!("wasi:cli/stdin@{v}"),
            ]
        })
        .map(|i| format!("  import {i};\n"))
        .collect();
    let wit = format!(
        "package test:mixed@0.1.0;\nworld mixed {{\n{imports}  export api: interface {{ go: func(); }}\n}}\n"
    );
    write_component(&mut resolve, &wit, None, dir, "mixed")
}

/// The mixed library as the root, with `table` after its `path`; every
/// version of the streams allowed.
fn mixed(lib: &std::path::Path, table: &str) -> anyhow::Result<Composed> {
    let allow = [
        "wasi:cli/*@0.2",
        "wasi:io/*@0.2",
        "wasi:cli/*@0.3",
        "wasi:cli/*@0.3.0-rc-*",
    ];
    let manifest = format!(
        "[output]\nroot = \"mixed\"\n[allow]\ninterfaces = {allow:?}\n[components.mixed]\npath = {:?}\n{table}\n",
        lib.display().to_string()
    );
    let path = lib.with_file_name("airlock.toml");
    let manifest = Manifest::parse(&manifest, &path)?;
    compose(&CompositionSpec::from_manifest(&manifest, &path)?)
}

#[test]
fn each_wasi_version_gets_its_own_interposer_and_the_pre_release_is_denied() {
    let dir = tempfile::tempdir().unwrap();
    let lib = mixed_library(dir.path());
    // A wider grant beside the keys: the pre-release, which neither
    // interposer serves, must not get the host's streams through it.
    let table = "stdout = \"discard\"\nstdin = { fixed = \"x\" }\ngrant = [\"wasi:cli/*\"]";
    let out = mixed(&lib, table).unwrap();
    let text = out.report.to_text();
    // The library's own section of the audit.
    let audit = text
        .split("component `mixed`\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap_or_else(|| panic!("{text}"));
    for (import, to) in [
        ("wasi:cli/stdout@0.2.12", "mixed.stdio"),
        ("wasi:cli/stdin@0.2.12", "mixed.stdio"),
        ("wasi:cli/stdout@0.3.0", "mixed.stdio3"),
        ("wasi:cli/stdin@0.3.0", "mixed.stdio3"),
    ] {
        let line = audit
            .lines()
            .find(|l| l.trim_start().starts_with(import))
            .unwrap_or_else(|| panic!("{import}: {audit}"));
        assert!(line.ends_with(&format!("linked to `{to}`")), "{line}");
    }
    for rc in [
        format!("wasi:cli/stdout@{RC}"),
        format!("wasi:cli/stdin@{RC}"),
    ] {
        let line = audit
            .lines()
            .find(|l| l.trim_start().starts_with(&rc))
            .unwrap_or_else(|| panic!("{rc}: {audit}"));
        assert!(line.contains("denied (explicitly)"), "{line}");
    }
    assert!(
        text.contains("mixed: stdout discard, stderr allow, stdin fixed (1 bytes)"),
        "{text}"
    );
    assert!(!text.contains("(unused"), "{text}");
    // Nothing of the host's stdout or stdin, at any version.
    let names = imports(&out);
    assert!(
        !names
            .iter()
            .any(|i| i.starts_with("wasi:cli/stdout") || i.starts_with("wasi:cli/stdin")),
        "{names:?}"
    );

    // Control: the same grant without the keys hands every version the
    // host's streams, the pre-release included.
    let out = mixed(&lib, "grant = [\"wasi:cli/*\"]").unwrap();
    let names = imports(&out);
    for v in ["0.2.12", "0.3.0", RC] {
        assert!(
            names.contains(&format!("wasi:cli/stdout@{v}")),
            "{v}: {names:?}"
        );
    }
}

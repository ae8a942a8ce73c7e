//! The `sockets` slice: TCP passed through for listed addresses only,
//! enforced inside the output by an interposer that wraps the host's
//! `tcp-socket`. Proven with real listeners on 127.0.0.1 that count the
//! connections they accept; a control without the slice connects to the
//! same listeners, so a leaking filter fails the test.

use airlock_tests::net::{call, probe_session, probe_spec};
use airlock_tests::{compose, import_names};
use std::net::TcpListener;
use std::time::Duration;

/// What the output may import for the probe's TCP (and its WASI type deps).
const ALLOW: &[&str] = &[
    "wasi:sockets/*@0.2",
    "wasi:io/*@0.2",
    "wasi:clocks/monotonic-clock@0.2",
];

/// A listener on an ephemeral port of 127.0.0.1 and its port.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// How many connections are waiting to be accepted (connects complete in the
/// kernel's backlog, so the probe's connect has finished when it returns).
fn accepted(l: &TcpListener) -> usize {
    std::thread::sleep(Duration::from_millis(50));
    std::iter::from_fn(|| l.accept().ok()).count()
}

/// A free port on 127.0.0.1 (bound, then released).
fn free_port() -> u16 {
    listener().1
}

#[test]
fn only_listed_addresses_can_be_connected_to() {
    let (allowed, port) = listener();
    let (other, other_port) = listener();
    let table = format!("sockets = {{ connect = [\"127.0.0.1:{port}\"] }}");
    let composed = compose(&probe_spec(ALLOW, &table)).unwrap();

    let audit = composed.report.to_text();
    assert!(
        audit.contains(&format!("probe: tcp connect 127.0.0.1:{port}")),
        "{audit}"
    );
    assert!(audit.contains("linked to `probe.sockets`"), "{audit}");
    let imports = import_names(&composed.bytes).unwrap();
    assert!(
        imports.iter().any(|i| i.starts_with("wasi:sockets/tcp@")),
        "{imports:?}"
    );
    assert!(
        !imports
            .iter()
            .any(|i| i.starts_with("wasi:sockets/udp") || i.starts_with("wasi:http/")),
        "{imports:?}"
    );

    let mut probe = probe_session(&composed.bytes);
    let here = format!("127.0.0.1:{port}");
    assert_eq!(call(&mut probe, "tcp-connect", &[&here]), Ok(None));
    assert_eq!(accepted(&allowed), 1);

    let there = format!("127.0.0.1:{other_port}");
    assert_eq!(
        call(&mut probe, "tcp-connect", &[&there]),
        Err("start-connect: access-denied".into())
    );
    assert_eq!(accepted(&other), 0);
    // Another loopback address: the kernel would route it to a wildcard
    // listener; the filter never lets it out.
    let host2 = format!("127.0.0.2:{port}");
    assert_eq!(
        call(&mut probe, "tcp-connect", &[&host2]),
        Err("start-connect: access-denied".into())
    );
    // Bind is not listed: neither bind nor listen gets through.
    let local = format!("127.0.0.1:{}", free_port());
    assert_eq!(
        call(&mut probe, "tcp-listen", &[&local]),
        Err("start-bind: access-denied".into())
    );
    assert_eq!(accepted(&allowed), 0);
}

#[test]
fn listed_bind_addresses_can_listen() {
    let port = free_port();
    let table = format!("sockets = {{ bind = [\"127.0.0.1:{port}\"] }}");
    let composed = compose(&probe_spec(ALLOW, &table)).unwrap();
    let audit = composed.report.to_text();
    assert!(
        audit.contains(&format!("probe: tcp bind 127.0.0.1:{port}")),
        "{audit}"
    );
    let mut probe = probe_session(&composed.bytes);
    assert_eq!(
        call(&mut probe, "tcp-listen", &[&format!("127.0.0.1:{port}")]),
        Ok(None)
    );
    // The listener is real: the host's kernel accepts a connection to it.
    std::net::TcpStream::connect(("127.0.0.1", port)).expect("the probe listens");
    let other = format!("127.0.0.1:{}", free_port());
    assert_eq!(
        call(&mut probe, "tcp-listen", &[&other]),
        Err("start-bind: access-denied".into())
    );
    // Connecting is not listed.
    assert_eq!(
        call(&mut probe, "tcp-connect", &[&format!("127.0.0.1:{port}")]),
        Err("start-connect: access-denied".into())
    );
}

#[test]
fn without_the_slice_the_same_connections_get_through() {
    let (allowed, port) = listener();
    let (other, other_port) = listener();
    let composed = compose(&probe_spec(ALLOW, "grant = [\"wasi:sockets/*\"]")).unwrap();
    let mut probe = probe_session(&composed.bytes);
    for p in [port, other_port] {
        let address = format!("127.0.0.1:{p}");
        assert_eq!(call(&mut probe, "tcp-connect", &[&address]), Ok(None));
    }
    assert_eq!(accepted(&allowed), 1);
    assert_eq!(accepted(&other), 1);
    let local = format!("127.0.0.1:{}", free_port());
    assert_eq!(call(&mut probe, "tcp-listen", &[&local]), Ok(None));
}

#[test]
fn any_port_rules_cover_every_port_of_one_address() {
    let (a, port_a) = listener();
    let (b, port_b) = listener();
    let composed = compose(&probe_spec(
        ALLOW,
        "sockets = { connect = [\"127.0.0.1:*\"] }",
    ))
    .unwrap();
    let mut probe = probe_session(&composed.bytes);
    for p in [port_a, port_b] {
        let address = format!("127.0.0.1:{p}");
        assert_eq!(call(&mut probe, "tcp-connect", &[&address]), Ok(None));
    }
    assert_eq!(accepted(&a) + accepted(&b), 2);
    assert_eq!(
        call(&mut probe, "tcp-connect", &[&format!("127.0.0.2:{port_a}")]),
        Err("start-connect: access-denied".into())
    );
}

#[test]
fn bad_addresses_are_refused_naming_the_address() {
    for (table, says) in [
        (
            "sockets = { connect = [\"localhost:80\"] }",
            "`localhost:80`",
        ),
        ("sockets = { bind = [\"127.0.0.1\"] }", "`127.0.0.1`"),
        ("sockets = { connect = [] }", "no addresses"),
    ] {
        let text = format!(
            "[output]\nroot = \"probe\"\n[components.probe]\npath = \"probe.wasm\"\n{table}\n"
        );
        let path = std::path::Path::new("airlock.toml");
        let manifest = airlock_core::manifest::Manifest::parse(&text, path).unwrap();
        let err = airlock_core::spec::CompositionSpec::from_manifest(&manifest, path)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("sockets"), "{err}");
        assert!(err.contains(says), "{err}");
    }
}

/// The example app with `extra` on its telemetry library and TCP allowed;
/// runs it and returns the telemetry's `tcp` attempt (`connect 127.0.0.1:9`).
fn telemetry_tcp_attempt(extra: &str) -> String {
    let composed = airlock_tests::example_with_telemetry_allowing(extra, ALLOW);
    let host = airlock_host::HostConfig {
        allow_net: true,
        ..Default::default()
    };
    airlock_tests::telemetry_attempt(&composed.bytes, "tcp", host).0
}

#[test]
fn the_example_telemetry_library_connects_only_where_its_slice_says() {
    let line = telemetry_tcp_attempt("sockets = { connect = [\"127.0.0.1:8080\"] }");
    assert!(line.contains("start-connect: access-denied"), "{line}");
    // Control: listed, its connect reaches the host (nothing listens on port 9).
    let line = telemetry_tcp_attempt("sockets = { connect = [\"127.0.0.1:9\"] }");
    assert!(!line.contains("access-denied"), "{line}");
    assert!(line.contains("finish-connect"), "{line}");
}

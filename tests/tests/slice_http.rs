//! The `http` slice: outgoing HTTP passed through for listed methods and
//! authorities only, enforced inside the output. Proven against a real
//! HTTP/1.1 server on 127.0.0.1 that counts what arrives: allowed requests
//! arrive, denied ones get `HTTP-request-denied` and never do. A control
//! without the slice lets the same requests through, so a leaking filter
//! fails the test.

use airlock_tests::net::{HttpServer, call, probe_session, probe_spec};
use airlock_tests::{compose, import_names};

/// What the output may import for the probe's HTTP (`wasi:io` and the
/// monotonic clock come along as type dependencies).
const ALLOW: &[&str] = &["wasi:http/*@0.2"];

#[test]
fn only_listed_methods_and_authorities_reach_the_server() {
    let server = HttpServer::start();
    let other = HttpServer::start();
    let table = format!("http = [\"GET 127.0.0.1:{}\"]", server.port);
    let composed = compose(&probe_spec(ALLOW, &table)).unwrap();

    let audit = composed.report.to_text();
    assert!(
        audit.contains(&format!("probe: http GET 127.0.0.1:{}", server.port)),
        "{audit}"
    );
    let handler_line = audit
        .lines()
        .find(|l| l.contains("wasi:http/outgoing-handler") && l.contains("probe.http"))
        .unwrap_or_else(|| panic!("the probe's handler is not linked to the filter:\n{audit}"));
    assert!(handler_line.contains("linked to `probe.http`"), "{audit}");
    // The output imports the host's handler, for the filter to call.
    let imports = import_names(&composed.bytes).unwrap();
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("wasi:http/outgoing-handler@")),
        "{imports:?}"
    );
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:sockets/")),
        "{imports:?}"
    );

    let mut probe = probe_session(&composed.bytes);
    assert_eq!(
        call(
            &mut probe,
            "http-request",
            &["GET", &server.url("/allowed")]
        ),
        Ok(Some(200))
    );
    assert_eq!(server.count("GET", "/allowed"), 1);

    let denied = server.off_rule_requests(&other);
    for (method, url) in &denied {
        assert_eq!(
            call(&mut probe, "http-request", &[method, url]),
            Err("handle: HTTP-request-denied".into()),
            "{method} {url}"
        );
    }
    assert_eq!(server.total(), 1, "only the allowed request arrived");
    assert_eq!(other.total(), 0, "nothing arrived on the other port");
    let handled = probe.calls().get("wasi:http/outgoing-handler#handle");
    assert_eq!(handled, Some(&1), "denied requests never reached the host");
}

#[test]
fn without_the_slice_the_same_requests_arrive() {
    let server = HttpServer::start();
    let other = HttpServer::start();
    let composed = compose(&probe_spec(ALLOW, "grant = [\"wasi:http/*\"]")).unwrap();
    let mut probe = probe_session(&composed.bytes);
    for (method, url) in [
        ("GET", server.url("/allowed")),
        ("POST", server.url("/post")),
        ("GET", other.url("/other-port")),
    ] {
        assert_eq!(
            call(&mut probe, "http-request", &[method, &url]),
            Ok(Some(200)),
            "{method} {url}"
        );
    }
    assert_eq!(server.count("POST", "/post"), 1);
    assert_eq!(other.count("GET", "/other-port"), 1);
}

#[test]
fn without_any_grant_every_request_is_denied_inside() {
    let server = HttpServer::start();
    let composed = compose(&probe_spec(ALLOW, "")).unwrap();
    let imports = import_names(&composed.bytes).unwrap();
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:http/")),
        "{imports:?}"
    );
    let mut probe = probe_session(&composed.bytes);
    assert!(call(&mut probe, "http-request", &["GET", &server.url("/x")]).is_err());
    assert_eq!(server.total(), 0);
}

#[test]
fn wildcards_and_method_lists_are_enforced() {
    let server = HttpServer::start();
    // `*.0.0.1`-style wildcards are refused at compose time, so the wildcard
    // is proven on names that never resolve: a denial says `HTTP-request-denied`
    // before any lookup, an allowed one fails later, in the host.
    let table = format!(
        "http = [\"GET,PUT 127.0.0.1:{}\", \"* *.invalid\"]",
        server.port
    );
    let composed = compose(&probe_spec(ALLOW, &table)).unwrap();
    let mut probe = probe_session(&composed.bytes);
    assert_eq!(
        call(&mut probe, "http-request", &["PUT", &server.url("/put")]),
        Ok(Some(200))
    );
    assert_eq!(
        call(
            &mut probe,
            "http-request",
            &["DELETE", &server.url("/delete")]
        ),
        Err("handle: HTTP-request-denied".into())
    );
    let sub = call(
        &mut probe,
        "http-request",
        &["DELETE", "http://a.b.invalid/"],
    );
    assert!(
        sub.as_ref()
            .is_err_and(|e| !e.contains("HTTP-request-denied")),
        "a subdomain passes the filter: {sub:?}"
    );
    assert_eq!(
        call(&mut probe, "http-request", &["GET", "http://invalid/"]),
        Err("handle: HTTP-request-denied".into()),
        "the bare domain is not a subdomain"
    );
    assert_eq!(server.total(), 1);
}

#[test]
fn bad_rules_are_refused_naming_the_rule() {
    for (rule, says) in [
        ("GET", "a rule is `METHODS AUTHORITY`"),
        ("GET *", "a host is needed"),
        ("GET example.com:0", "`0` is not a port"),
    ] {
        let table = format!("http = [{rule:?}]");
        let err = airlock_core::manifest::Manifest::parse(
            &format!(
                "[output]\nroot = \"probe\"\n[components.probe]\npath = \"probe.wasm\"\n{table}\n"
            ),
            "airlock.toml".as_ref(),
        )
        .map_err(|e| e.to_string())
        .and_then(|m| {
            airlock_core::spec::CompositionSpec::from_manifest(&m, "airlock.toml".as_ref())
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .expect_err("refused");
        assert!(err.contains("http"), "{err}");
        assert!(err.contains(&format!("`{rule}`")), "{err}");
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn the_allow_list_must_permit_the_filters_host_interfaces() {
    let table = "http = [\"GET 127.0.0.1:8080\"]";
    let err = compose(&probe_spec(&["wasi:io/*@0.2"], table))
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("probe.http"), "{err}");
    assert!(err.contains("wasi:http/"), "{err}");
}

/// The example app with `extra` on its telemetry library and `wasi:http`
/// allowed; runs it and returns the telemetry's `http` attempt and how many
/// requests reached the host's handler.
fn telemetry_http_attempt(extra: &str) -> (String, u64) {
    let composed = airlock_tests::example_with_telemetry_allowing(extra, ALLOW);
    let host = airlock_host::HostConfig {
        allow_http: true,
        ..Default::default()
    };
    let (line, out) = airlock_tests::telemetry_attempt(&composed.bytes, "http", host);
    (
        line,
        airlock_tests::host_calls(&out, "wasi:http/outgoing-handler#handle"),
    )
}

#[test]
fn the_example_telemetry_library_phones_home_only_where_its_slice_says() {
    // Its request (`GET http://example.com/`) matches no rule: dropped inside.
    let (line, handled) = telemetry_http_attempt("http = [\"GET 127.0.0.1:8080\"]");
    assert!(line.starts_with("denied"), "{line}");
    assert!(line.contains("http-request-denied"), "{line}");
    assert_eq!(handled, 0, "the request reached the host");
    // Control: a rule for example.com lets the same request through to the
    // host (which the test host may fail to connect; the library does not wait).
    let (line, handled) = telemetry_http_attempt("http = [\"GET example.com\"]");
    assert!(line.starts_with("got-through"), "{line}");
    assert_eq!(handled, 1);
}

//! The `env-from-host` and `http` slices on WASI 0.3 (issue #13): a 0.3
//! library (`tests/probes/p3-slice-probe`) reads `wasi:cli/environment@0.3.0`
//! and sends requests through `wasi:http/client@0.3.0`; composed with a slice,
//! its imports are wired to the 0.3 interposers (`LIBRARY.env3`,
//! `LIBRARY.http3`), the 0.2 ones are left out, and the output imports only
//! what the allow-list permits. Run in wasmtime with a recording host that
//! holds a secret (a variable, a second HTTP server), each against a control
//! that grants the interface whole, so a leaking filter fails the test.

use airlock_core::manifest::Manifest;
use airlock_core::pipeline::Composed;
use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Session, Val};
use airlock_tests::net::HttpServer;
use airlock_tests::{
    WASI_0_3_RC, built_component, compose, import_names, wasi_resolve_all_tracks, workspace,
    write_component,
};
use std::path::Path;

/// The probe's export.
const PROBE: &str = "airlock:p3-slice-probe/probe";

/// The probe alone, as the root of a composition whose manifest has `allow`
/// as its allow-list and `table` as the probe's table (after `path`).
fn spec(allow: &[&str], table: &str) -> CompositionSpec {
    let probe = built_component("p3_slice_probe");
    let manifest = format!(
        "[output]\nroot = \"probe\"\n[allow]\ninterfaces = {allow:?}\n[components.probe]\npath = {:?}\n{table}\n",
        probe.display().to_string()
    );
    let path = workspace().join("target/p3-slice-probe-airlock.toml");
    let manifest = Manifest::parse(&manifest, &path).expect("a valid manifest");
    CompositionSpec::from_manifest(&manifest, &path).expect("a valid spec")
}

fn composed(allow: &[&str], table: &str) -> Composed {
    compose(&spec(allow, table)).unwrap_or_else(|e| panic!("composing `{table}`: {e:#}"))
}

/// The host: `LANG` and a secret in the environment, HTTP linked.
fn session(bytes: &[u8]) -> Session {
    let config = HostConfig {
        env: vec![
            ("LANG".into(), "C.UTF-8".into()),
            ("SECRET".into(), "hunter2".into()),
        ],
        allow_http: true,
        ..HostConfig::default()
    };
    Session::new(&airlock_host::engine(), bytes, &config).expect("the probe instantiates")
}

/// The environment the probe sees.
fn env(s: &mut Session) -> Vec<(String, String)> {
    let results = s.call_export(Some(PROBE), "env", &[]).unwrap();
    let Val::List(items) = &results[0] else {
        panic!("env: {results:?}")
    };
    items
        .iter()
        .map(|item| match item {
            Val::Tuple(kv) => match &kv[..] {
                [Val::String(k), Val::String(v)] => (k.clone(), v.clone()),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect()
}

/// `fetch(method, url)`: the status or the error, as the probe says it.
fn fetch(s: &mut Session, method: &str, url: &str) -> String {
    let args = [Val::String(method.into()), Val::String(url.into())];
    match s.call_export(Some(PROBE), "fetch", &args) {
        Ok(results) => match &results[0] {
            Val::String(answer) => answer.clone(),
            other => panic!("fetch: {other:?}"),
        },
        Err(e) => panic!("calling `fetch({method}, {url})`: {e:#}"),
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn env_from_host_on_wasi_0_3_passes_only_the_named_variables() {
    let allow = ["wasi:cli/environment@0.3"];
    let out = composed(
        &allow,
        "env-from-host = [\"LANG\"]\nenv = { FIXED = \"1\" }",
    );
    let audit = out.report.to_text();
    assert!(
        audit.contains("probe: env LANG (host), env FIXED=1 (fixed)"),
        "{audit}"
    );
    assert!(audit.contains("linked to `probe.env3`"), "{audit}");
    // The 0.2 interposer is left out: the probe imports nothing it serves.
    assert!(!audit.contains("probe.env:"), "{audit}");
    assert!(!audit.contains("(unused"), "{audit}");
    // The output imports the host's 0.3 environment (for the filter) and
    // nothing else: HTTP is denied inside, nothing of 0.2 comes in.
    assert_eq!(
        import_names(&out.bytes).unwrap(),
        ["wasi:cli/environment@0.3.0"]
    );

    let mut s = session(&out.bytes);
    assert_eq!(env(&mut s), pairs(&[("LANG", "C.UTF-8"), ("FIXED", "1")]));
    assert_eq!(
        s.calls().get("wasi:cli/environment@0.3#get-environment"),
        Some(&1),
        "the filter asks the host"
    );

    // Control: the environment granted whole shows the secret.
    let out = composed(&allow, "grant = [\"wasi:cli/environment@0.3\"]");
    let seen = env(&mut session(&out.bytes));
    assert!(
        seen.contains(&("SECRET".into(), "hunter2".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("LANG".into(), "C.UTF-8".into())),
        "{seen:?}"
    );
}

#[test]
fn env_from_host_on_wasi_0_3_without_host_names_never_asks_the_host() {
    let out = composed(
        &["wasi:cli/environment@0.3"],
        "env-from-host = []\nenv = { FIXED = \"1\" }",
    );
    let mut s = session(&out.bytes);
    assert_eq!(env(&mut s), pairs(&[("FIXED", "1")]));
    assert_eq!(
        s.calls().get("wasi:cli/environment@0.3#get-environment"),
        None
    );
}

#[test]
fn env_from_host_on_wasi_0_3_needs_the_environment_in_the_allow_list() {
    // Allowing 0.2 does not permit what the 0.3 filter needs.
    let err = compose(&spec(
        &["wasi:cli/environment@0.2"],
        "env-from-host = [\"LANG\"]",
    ))
    .err()
    .expect("refused")
    .to_string();
    assert!(err.contains("probe.env3"), "{err}");
    assert!(err.contains("wasi:cli/environment@0.3.0"), "{err}");
}

/// What the output may import for the probe's HTTP.
const HTTP_ALLOW: &[&str] = &["wasi:http/*@0.3"];

#[test]
fn http_on_wasi_0_3_lets_only_listed_methods_and_authorities_reach_the_server() {
    let server = HttpServer::start();
    let other = HttpServer::start();
    let table = format!("http = [\"GET 127.0.0.1:{}\"]", server.port);
    let out = composed(HTTP_ALLOW, &table);

    let audit = out.report.to_text();
    assert!(
        audit.contains(&format!("probe: http GET 127.0.0.1:{}", server.port)),
        "{audit}"
    );
    let send = audit
        .lines()
        .find(|l| l.contains("wasi:http/client@0.3.0") && l.contains("probe.http3"))
        .unwrap_or_else(|| panic!("the probe's client is not linked to the filter:\n{audit}"));
    assert!(send.contains("linked to `probe.http3`"), "{audit}");
    assert!(!audit.contains("probe.http:"), "{audit}");
    // The host's client and types (for the filter and the library's own
    // requests) and nothing else: no environment (not granted), nothing of
    // 0.2, no sockets.
    let imports = import_names(&out.bytes).unwrap();
    assert_eq!(
        imports,
        ["wasi:http/client@0.3.0", "wasi:http/types@0.3.0"],
        "{imports:?}"
    );

    let mut s = session(&out.bytes);
    assert_eq!(
        fetch(&mut s, "GET", &server.url("/allowed")),
        "200; sent ok"
    );
    assert_eq!(server.count("GET", "/allowed"), 1);

    let denied = server.off_rule_requests(&other);
    for (method, url) in &denied {
        assert_eq!(
            fetch(&mut s, method, url),
            "err(http-request-denied); sent ok",
            "{method} {url}"
        );
    }
    assert_eq!(server.total(), 1, "only the allowed request arrived");
    assert_eq!(other.total(), 0, "nothing arrived on the other port");
    assert_eq!(
        s.calls().get("wasi:http/client@0.3#send"),
        Some(&1),
        "denied requests never reached the host"
    );
}

#[test]
fn http_on_wasi_0_3_without_the_slice_the_same_requests_arrive() {
    let server = HttpServer::start();
    let other = HttpServer::start();
    let out = composed(HTTP_ALLOW, "grant = [\"wasi:http/*@0.3\"]");
    let mut s = session(&out.bytes);
    for (method, url) in [
        ("GET", server.url("/allowed")),
        ("POST", server.url("/post")),
        ("GET", other.url("/other-port")),
    ] {
        assert_eq!(
            fetch(&mut s, method, &url),
            "200; sent ok",
            "{method} {url}"
        );
    }
    assert_eq!(server.count("POST", "/post"), 1);
    assert_eq!(other.count("GET", "/other-port"), 1);
    assert_eq!(s.calls().get("wasi:http/client@0.3#send"), Some(&3));
}

#[test]
fn http_on_wasi_0_3_needs_the_client_in_the_allow_list() {
    let err = compose(&spec(
        &["wasi:http/*@0.2"],
        "http = [\"GET 127.0.0.1:8080\"]",
    ))
    .err()
    .expect("refused")
    .to_string();
    assert!(err.contains("probe.http3"), "{err}");
    assert!(err.contains("wasi:http/client@0.3.0"), "{err}");
}

#[test]
fn http_on_wasi_0_3_wildcards_and_method_lists_are_enforced() {
    let server = HttpServer::start();
    // As in `slice_http`: the wildcard is proven on names that never
    // resolve. A denial says `HTTP-request-denied` before any lookup; an
    // allowed request fails later, in the host.
    let table = format!(
        "http = [\"GET,PUT 127.0.0.1:{}\", \"* *.invalid\"]",
        server.port
    );
    let out = composed(HTTP_ALLOW, &table);
    let mut s = session(&out.bytes);
    assert_eq!(fetch(&mut s, "PUT", &server.url("/put")), "200; sent ok");
    assert_eq!(
        fetch(&mut s, "DELETE", &server.url("/delete")),
        "err(http-request-denied); sent ok"
    );
    let sub = fetch(&mut s, "DELETE", "http://a.b.invalid/");
    assert!(
        sub.starts_with("err(") && !sub.contains("http-request-denied"),
        "a subdomain passes the filter: {sub}"
    );
    assert_eq!(
        fetch(&mut s, "GET", "http://invalid/"),
        "err(http-request-denied); sent ok",
        "the bare domain is not a subdomain"
    );
    assert_eq!(server.total(), 1);
    assert_eq!(s.calls().get("wasi:http/client@0.3#send"), Some(&2));
}

/// The `0.3.0-rc-*` pre-release that toolchains still emit.
const RC: &str = WASI_0_3_RC;

/// A library importing `wasi:cli/environment` three times, at 0.2.12, 0.3.0
/// and [`RC`], and exporting each as `env02`, `env03` and `envrc` (the core
/// code calls the import and returns its answer), written to `dir`.
fn mixed_library(dir: &Path) -> std::path::PathBuf {
    let mut resolve = wasi_resolve_all_tracks();
    let wit = format!(
        "package test:mixed;
interface probe {{
    env02: func() -> list<tuple<string, string>>;
    env03: func() -> list<tuple<string, string>>;
    envrc: func() -> list<tuple<string, string>>;
}}
world mixed {{
    import wasi:cli/environment@0.2.12;
    import wasi:cli/environment@0.3.0;
    import wasi:cli/environment@{RC};
    export probe;
}}"
    );
    let wat = format!(
        r#"(module
  (import "wasi:cli/environment@0.2.12" "get-environment" (func $e2 (param i32)))
  (import "wasi:cli/environment@0.3.0" "get-environment" (func $e3 (param i32)))
  (import "wasi:cli/environment@{RC}" "get-environment" (func $erc (param i32)))
  (memory (export "memory") 1)
  {realloc}
  (func (export "test:mixed/probe#env02") (result i32) i32.const 16 call $e2 i32.const 16)
  (func (export "test:mixed/probe#env03") (result i32) i32.const 16 call $e3 i32.const 16)
  (func (export "test:mixed/probe#envrc") (result i32) i32.const 16 call $erc i32.const 16)
)"#,
        realloc = airlock_core::testkit::bump_realloc(1024)
    );
    write_component(&mut resolve, &wit, Some(&wat), dir, "mixed")
}

/// The mixed library as the root, with `table` after its `path`.
fn mixed_spec(lib: &Path, table: &str) -> CompositionSpec {
    let allow = [
        "wasi:cli/environment@0.2",
        "wasi:cli/environment@0.3",
        "wasi:cli/environment@0.3.0-rc-*",
    ];
    let manifest = format!(
        "[output]\nroot = \"mixed\"\n[allow]\ninterfaces = {allow:?}\n[components.mixed]\npath = {:?}\n{table}\n",
        lib.display().to_string()
    );
    let path = lib.with_file_name("airlock.toml");
    let manifest = Manifest::parse(&manifest, &path).expect("a valid manifest");
    CompositionSpec::from_manifest(&manifest, &path).expect("a valid spec")
}

#[test]
fn env_from_host_serves_0_2_and_0_3_side_by_side_and_denies_the_pre_release() {
    let dir = tempfile::tempdir().unwrap();
    let lib = mixed_library(dir.path());
    // A wider grant beside the slice: the pre-release, which neither
    // interposer serves, must not get the host's environment through it.
    let table = "env-from-host = [\"LANG\"]\ngrant = [\"wasi:cli/*\"]";
    let out = compose(&mixed_spec(&lib, table)).unwrap();
    let audit = out.report.to_text();
    assert!(audit.contains("linked to `mixed.env`"), "{audit}");
    assert!(audit.contains("linked to `mixed.env3`"), "{audit}");
    assert!(audit.contains("mixed: env LANG (host)"), "{audit}");
    assert!(!audit.contains("(unused"), "{audit}");
    assert_eq!(
        import_names(&out.bytes).unwrap(),
        ["wasi:cli/environment@0.2.12", "wasi:cli/environment@0.3.0"]
    );
    let mut s = session(&out.bytes);
    let call = |s: &mut Session, f: &str| {
        let results = s.call_export(Some("test:mixed/probe"), f, &[]).unwrap();
        let Val::List(items) = &results[0] else {
            panic!("{f}: {results:?}")
        };
        items.len()
    };
    assert_eq!(call(&mut s, "env02"), 1, "LANG alone");
    assert_eq!(call(&mut s, "env03"), 1, "LANG alone");
    assert_eq!(call(&mut s, "envrc"), 0, "denied inside: no variables");
    assert_eq!(
        s.calls().get("wasi:cli/environment#get-environment"),
        Some(&1)
    );
    assert_eq!(
        s.calls().get("wasi:cli/environment@0.3#get-environment"),
        Some(&1)
    );

    // Control: the same grant without the slice hands the pre-release the
    // host's environment (the output imports it).
    let out = compose(&mixed_spec(&lib, "grant = [\"wasi:cli/*\"]")).unwrap();
    let imports = import_names(&out.bytes).unwrap();
    assert!(
        imports.contains(&format!("wasi:cli/environment@{RC}")),
        "{imports:?}"
    );
}

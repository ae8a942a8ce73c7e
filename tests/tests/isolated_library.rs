//! A library whose every import is denied composes into a component with no
//! imports at all, and still does its job in a host that provides nothing.

use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Session, Val};
use airlock_tests::{compose, import_names, workspace};

fn component(name: &str) -> std::path::PathBuf {
    workspace().join(format!("target/wasm32-wasip2/component/{name}.wasm"))
}

#[test]
fn markdown_with_all_of_std_denied_has_no_imports_and_still_renders() {
    let path = component("markdown");
    assert!(path.exists(), "run `just build-components` first");
    // The library imports std's stdio, environment, exit and random: all WASI, all denied.
    let before = import_names(&std::fs::read(&path).unwrap()).unwrap();
    assert!(
        before.iter().any(|n| n.starts_with("wasi:cli/stdout")),
        "{before:?}"
    );

    let spec = CompositionSpec::from_plugs(&path, &[], &[], &[], &[]).unwrap();
    let composed = compose(&spec).unwrap();
    assert_eq!(import_names(&composed.bytes).unwrap(), Vec::<String>::new());

    let mut session = Session::new(
        &airlock_host::engine(),
        &composed.bytes,
        &HostConfig::default(),
    )
    .unwrap();
    let doc = "# Hi *there*\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
    let html = session
        .call_export(
            Some("airlock:markdown/markdown"),
            "to-html",
            &[Val::String(doc.into()), Val::Flags(vec!["tables".into()])],
        )
        .unwrap();
    let [Val::String(html)] = html.as_slice() else {
        panic!("{html:?}")
    };
    assert!(html.starts_with("<h1>Hi <em>there</em></h1>"), "{html}");
    assert!(html.contains("<table>"), "{html}");
    assert!(
        session.calls().values().all(|n| *n == 0),
        "{:?}",
        session.calls()
    );
}

#[test]
fn import_free_libraries_compose_to_no_imports_and_run() {
    // Components that import nothing keep an output with no imports (libraries
    // that import each other are covered by the golden case `link-only-no-imports`).
    for name in ["stats", "digest", "text"] {
        let path = component(name);
        let spec = CompositionSpec::from_plugs(&path, &[], &[], &[], &[]).unwrap();
        let composed = compose(&spec).unwrap();
        assert!(import_names(&composed.bytes).unwrap().is_empty(), "{name}");
    }
    let mut session = Session::new(
        &airlock_host::engine(),
        &compose(&CompositionSpec::from_plugs(&component("stats"), &[], &[], &[], &[]).unwrap())
            .unwrap()
            .bytes,
        &HostConfig::default(),
    )
    .unwrap();
    let values: Vec<Val> = [1.0, 2.0, 3.0, 10.0]
        .iter()
        .map(|v| Val::Float64(*v))
        .collect();
    let mean = session
        .call_export(Some("airlock:stats/stats"), "mean", &[Val::List(values)])
        .unwrap();
    assert!(
        matches!(mean.as_slice(), [Val::Result(Ok(Some(v)))] if **v == Val::Float64(4.0)),
        "{mean:?}"
    );
}

//! Transparency: granting everything must not change what the example app
//! computes. The app cannot run uncomposed (it imports the libraries), so the
//! baseline is the app composed with its default policy; composed with every
//! instance granted `wasi:*`, every section of its output is the same except
//! the telemetry library's capability attempts, which now get through.
//! (The escape component is compared composed vs uncomposed in `escape.rs`.)

use airlock_host::{HostConfig, Preopen, Stdin};
use airlock_tests::{
    app_sections, compose, example_spec, import_names, sample_document, set_allow, set_grant,
};
use std::collections::BTreeMap;

fn run(bytes: &[u8], dir: &std::path::Path) -> BTreeMap<String, Vec<String>> {
    let config = HostConfig {
        args: vec!["app.wasm".into()],
        stdin: Stdin::Bytes(sample_document()),
        dirs: vec![Preopen {
            host: dir.into(),
            guest: "/data".into(),
            read_only: true,
        }],
        allow_net: true,
        allow_http: true,
        ..HostConfig::default()
    };
    let out = airlock_host::run_command(&airlock_host::engine(), bytes, &config)
        .expect("the app instantiates");
    assert_eq!(out.exit_code, 0, "trap: {:?}", out.trap);
    app_sections(&out.stdout)
}

#[test]
fn granting_everything_changes_nothing_but_the_attempts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "a file telemetry may read").unwrap();

    let default = compose(&example_spec().unwrap()).unwrap().bytes;

    let mut spec = example_spec().unwrap();
    set_allow(&mut spec, &["wasi:*"]);
    let names: Vec<String> = spec.instances.iter().map(|i| i.name.clone()).collect();
    for name in &names {
        set_grant(&mut spec, name, &["wasi:*"]);
    }
    let open = compose(&spec).unwrap().bytes;
    assert!(import_names(&open).unwrap().len() > import_names(&default).unwrap().len());

    let (a, b) = (run(&default, dir.path()), run(&open, dir.path()));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (section, lines) in &a {
        if section == "telemetry" {
            // The word statistics are the same; only the attempt lines differ.
            let keep = |l: &&String| !l.starts_with("attempt ");
            let (x, y): (Vec<_>, Vec<_>) = (
                lines.iter().filter(keep).collect(),
                b[section].iter().filter(keep).collect(),
            );
            assert_eq!(x, y, "telemetry's statistics differ");
            assert_ne!(
                lines, &b[section],
                "granting everything let nothing through"
            );
        } else {
            assert_eq!(lines, &b[section], "section `{section}` differs");
        }
    }
}

//! Per-instance verification reads the OUTPUT bytes, not the plan: bytes
//! composed under one policy are checked against another. Where the other
//! policy gives an instance less, the verifier must name that instance and
//! what of the host reaches it; where it gives the same, it must pass.
//! (The planner never produces such bytes for the stricter policy itself: this
//! is how the independent check is shown to catch a planner that would.)

use airlock_core::spec::CompositionSpec;
use airlock_core::verify::{self, VerifyError};
use airlock_tests::{compose, example_spec, set_grant, workspace};

/// The verifier's complaints about `bytes` under `spec`, one line each.
fn violations(bytes: &[u8], spec: &CompositionSpec) -> Vec<String> {
    match verify::check(bytes, spec) {
        Ok(_) => Vec::new(),
        Err(VerifyError::BeyondGrants(v)) => v.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("unexpected verification error: {e}"),
    }
}

#[test]
fn the_example_app_passes_under_its_own_policy() {
    let spec = example_spec().unwrap();
    let composed = compose(&spec).unwrap();
    assert_eq!(violations(&composed.bytes, &spec), Vec::<String>::new());
}

#[test]
fn a_library_given_the_environment_is_caught_under_a_policy_that_does_not_grant_it() {
    let strict = example_spec().unwrap();
    let mut loose = strict.clone();
    set_grant(&mut loose, "telemetry", &["wasi:cli/environment"]);
    let bytes = compose(&loose).unwrap().bytes;
    // Control: under the policy it was composed for, nothing to say.
    assert_eq!(violations(&bytes, &loose), Vec::<String>::new());
    let found = violations(&bytes, &strict);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("`telemetry` reaches `wasi:cli/environment@")
            && found[0].contains("get-environment")
            && found[0].ends_with("which its grants do not permit"),
        "{found:#?}"
    );
}

#[test]
fn the_allow_list_alone_grants_nothing() {
    // The app may reach the environment (the allow-list permits it and the app
    // is granted it). A library that reaches it is caught though the output's
    // imports are all within the allow-list.
    let spec = example_spec().unwrap();
    let mut loose = spec.clone();
    set_grant(&mut loose, "markdown", &["wasi:cli/*"]);
    let bytes = compose(&loose).unwrap().bytes;
    let found = violations(&bytes, &spec);
    assert!(
        found
            .iter()
            .all(|v| v.starts_with("`markdown` reaches `wasi:"))
            && found
                .iter()
                .any(|v| v.starts_with("`markdown` reaches `wasi:cli/environment@")),
        "{found:#?}"
    );
}

/// A library that imports the whole of `wasi:filesystem/types` (whose
/// `descriptor-stat` holds `wasi:clocks/wall-clock.datetime`) and the wall clock.
fn files_and_clock_library(dir: &std::path::Path) -> std::path::PathBuf {
    let wit = r#"
        package test:files-lib@0.1.0;
        world lib {
            import wasi:filesystem/types@0.2.12;
            import wasi:clocks/wall-clock@0.2.12;
            export api: interface { go: func(); }
        }
    "#;
    let deps = workspace().join("wit/deps");
    let bytes = airlock_core::testkit::component_from_wit(wit, Some(&deps)).unwrap();
    let path = dir.join("files-lib.wasm");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_type_dependency_with_functions_of_its_own_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let lib = files_and_clock_library(dir.path());
    let allow = [
        "wasi:filesystem/*@0.2".to_string(),
        "wasi:clocks/wall-clock@0.2".into(),
    ];
    let granted = CompositionSpec::from_plugs(&lib, &[], &allow, &[], &[]).unwrap();
    let bytes = compose(&granted).unwrap().bytes;
    assert_eq!(violations(&bytes, &granted), Vec::<String>::new());

    // Granted the files alone, the clock is only a type dependency: its
    // methods-free functions (`now`, `resolution`) must not reach the library.
    let mut files_only = granted.clone();
    set_grant(&mut files_only, "files-lib", &["wasi:filesystem/*"]);
    let found = violations(&bytes, &files_only);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`wasi:clocks/wall-clock@0.2.12`")
            && found[0].contains("functions that carry authority: now, resolution"),
        "{found:#?}"
    );

    // And the planner, given that policy, makes the clock a types-only view
    // that passes the same check.
    let composed = compose(&files_only).unwrap();
    assert_eq!(
        violations(&composed.bytes, &files_only),
        Vec::<String>::new()
    );
    assert!(
        composed
            .report
            .to_text()
            .contains("types only (for `wasi:filesystem/types@0.2.12`)"),
        "{}",
        composed.report.to_text()
    );
}

#[test]
fn an_instance_the_policy_does_not_know_is_caught() {
    let spec = example_spec().unwrap();
    let bytes = compose(&spec).unwrap().bytes;
    let mut renamed = spec.clone();
    let stats = renamed
        .instances
        .iter_mut()
        .find(|i| i.name == "stats")
        .unwrap();
    stats.name = "statistics".into();
    let found = violations(&bytes, &renamed);
    assert!(
        found.contains(&"`stats` is not an instance of the policy".to_string())
            && found.contains(&"`statistics` is not instantiated in the output".to_string()),
        "{found:#?}"
    );
}

#[test]
fn a_bare_function_reaches_the_host_only_where_its_exact_name_is_granted() {
    let dir = tempfile::tempdir().unwrap();
    let wit = r#"
        package test:bare@0.1.0;
        world app {
            import thing-in: func(key: string) -> result<string, string>;
            export run: func() -> u32;
        }
    "#;
    let app = dir.path().join("app.wasm");
    std::fs::write(
        &app,
        airlock_core::testkit::component_from_wit(wit, None).unwrap(),
    )
    .unwrap();
    // The plug form grants the root the allow-list, which names it exactly.
    let allow = ["thing-in".to_string()];
    let loose = CompositionSpec::from_plugs(&app, &[], &allow, &[], &[]).unwrap();
    let bytes = compose(&loose).unwrap().bytes;
    assert_eq!(violations(&bytes, &loose), Vec::<String>::new());
    // A wildcard grant is not its name: the same bytes are caught.
    let mut strict = loose.clone();
    set_grant(&mut strict, "app", &["*"]);
    assert_eq!(
        violations(&bytes, &strict),
        ["`app` reaches `thing-in` from the host (thing-in), which its grants do not permit"]
    );
    // Nor does a wildcard in the allow-list permit the output to import it.
    let any = airlock_core::policy::PatternSet::parse(&["*"]).unwrap();
    match verify::check_output(&bytes, &any) {
        Err(VerifyError::OutsideAllowList(names)) => assert_eq!(names, ["thing-in"]),
        other => panic!("{other:?}"),
    }
}

//! `airlock-core` is the pipeline alone: a library user who depends on it gets
//! no command line, async runtime, registry client or wasm runtime. Checked
//! on the workspace's `Cargo.lock`, whose entries list every dependency a
//! package may use (all targets and features): a superset, so an absence here
//! is an absence in any build.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const NOT_IN_CORE: [&str; 7] = [
    "clap",
    "tokio",
    "oci-client",
    "reqwest",
    "wasmtime",
    "wasmtime-wasi",
    "terminal_size",
];

/// Package name -> the names of its dependencies, from `Cargo.lock`.
fn lock_graph() -> BTreeMap<String, BTreeSet<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../Cargo.lock");
    let text = std::fs::read_to_string(&path).expect("the workspace has a Cargo.lock");
    let lock: toml::Table = text.parse().expect("Cargo.lock is TOML");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in lock["package"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("a name").to_string();
        let deps = package
            .get("dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            // `name` or `name version` when two versions are locked.
            .map(|d| {
                d.as_str()
                    .expect("a string")
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string()
            });
        graph.entry(name).or_default().extend(deps);
    }
    graph
}

fn closure(graph: &BTreeMap<String, BTreeSet<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_string()];
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            todo.extend(graph.get(&name).into_iter().flatten().cloned());
        }
    }
    seen
}

#[test]
fn core_has_no_cli_runtime_or_registry_client() {
    let graph = lock_graph();
    let core = closure(&graph, "airlock-core");
    let found: Vec<&str> = NOT_IN_CORE
        .into_iter()
        .filter(|n| core.contains(*n))
        .collect();
    assert!(found.is_empty(), "airlock-core depends on {found:?}");
    // The control: the command line does reach each of them.
    let cli = closure(&graph, "airlock");
    for name in NOT_IN_CORE {
        assert!(cli.contains(name), "`airlock` should depend on `{name}`");
    }
}

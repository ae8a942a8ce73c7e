//! Which WASI interfaces `use` types of which, taken from the WASI WIT vendored
//! in `wit/deps` and compiled into the composer, never from the components being
//! composed: a component declares its own import types, so its claim that
//! `wasi:clocks/wall-clock` uses a type of `wasi:cli/environment` must not make
//! the environment reachable as a "type dependency".

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use wit_parser::Resolve;

/// The vendored WASI packages, in dependency order.
const WASI_WIT: [(&str, &str); 7] = [
    ("io.wit", include_str!("../../wit/deps/io/io.wit")),
    (
        "clocks.wit",
        include_str!("../../wit/deps/clocks/clocks.wit"),
    ),
    (
        "random.wit",
        include_str!("../../wit/deps/random/random.wit"),
    ),
    (
        "filesystem.wit",
        include_str!("../../wit/deps/filesystem/filesystem.wit"),
    ),
    (
        "sockets.wit",
        include_str!("../../wit/deps/sockets/sockets.wit"),
    ),
    ("cli.wit", include_str!("../../wit/deps/cli/cli.wit")),
    ("http.wit", include_str!("../../wit/deps/http/http.wit")),
];

/// Unversioned interface name -> the unversioned names of the interfaces it `use`s directly.
fn graph() -> &'static BTreeMap<String, BTreeSet<String>> {
    static GRAPH: OnceLock<BTreeMap<String, BTreeSet<String>>> = OnceLock::new();
    GRAPH.get_or_init(|| {
        let mut resolve = Resolve {
            all_features: true,
            ..Resolve::default()
        };
        for (path, text) in WASI_WIT {
            resolve
                .push_str(path, text)
                .expect("the vendored WASI WIT parses");
        }
        let unversioned = |id| {
            let iface = &resolve.interfaces[id];
            let pkg = &resolve.packages[iface.package.expect("WASI interfaces have packages")];
            format!(
                "{}:{}/{}",
                pkg.name.namespace,
                pkg.name.name,
                iface.name.as_deref().unwrap_or_default()
            )
        };
        resolve
            .interfaces
            .iter()
            .filter(|(_, i)| i.name.is_some() && i.package.is_some())
            .map(|(id, _)| {
                let deps = resolve.interface_direct_deps(id).map(unversioned).collect();
                (unversioned(id), deps)
            })
            .collect()
    })
}

/// True when WASI's own WIT says `interface` uses types of `dependency` directly
/// (both unversioned, e.g. `wasi:cli/stdout` and `wasi:io/streams`).
pub fn uses(interface: &str, dependency: &str) -> bool {
    graph()
        .get(interface)
        .is_some_and(|deps| deps.contains(dependency))
}

/// Every interface that the given WASI interfaces use, directly or not, each
/// with the listed interface it was reached from (unversioned names).
pub fn closure<'a>(roots: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    let mut reached = BTreeMap::new();
    let mut stack: Vec<(String, String)> = roots
        .into_iter()
        .map(|r| (r.to_string(), r.to_string()))
        .collect();
    while let Some((name, via)) = stack.pop() {
        for dep in graph().get(&name).into_iter().flatten() {
            if !reached.contains_key(dep) {
                reached.insert(dep.clone(), via.clone());
                stack.push((dep.clone(), via.clone()));
            }
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_wasi_type_dependencies() {
        assert!(uses("wasi:cli/stdout", "wasi:io/streams"));
        assert!(uses("wasi:filesystem/types", "wasi:clocks/wall-clock"));
        assert!(!uses("wasi:clocks/wall-clock", "wasi:cli/environment"));
        assert!(!uses("evil:x/y", "wasi:io/streams"));
        let c = closure(["wasi:cli/stdout"]);
        assert!(c.contains_key("wasi:io/streams") && c.contains_key("wasi:io/error"));
        assert!(!c.contains_key("wasi:cli/environment"));
    }
}

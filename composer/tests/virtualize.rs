//! Deny stubs synthesized by `airlock_core::virtualize` from the vendored WASI
//! 0.2.12 WIT and from user WIT, in two kinds of test (one libtest-mimic binary).
//!
//! Cases, one folder per case under `tests/virtualize/`, one test each:
//! - `deny`: the interfaces to deny, one name a line (`wasi:cli/stdout@0.2.12`);
//!   `*` alone: every interface the component of `component.wit` imports.
//!   Lines starting with `#` say what the case shows.
//! - where those names are looked up: the vendored WASI 0.2.12 packages, and
//!   `package.wit` (a WIT package, which may `use` WASI) if present; or, with
//!   `component.wit` (a single world), the resolve decoded from the component
//!   built for that world, by its import names: what the composer sees.
//! - goldens, that `BLESS=1` rewrites (a missing one fails, a stale one too):
//!   `stub.wit`, the stub's WIT as `wasm-tools component wit` prints it, and
//!   `fates.txt`, what each denied function does; or `error.txt` when no stub
//!   can be made.
//!
//! Each case's stub is also checked against properties no blessing changes: it
//! validates, exports exactly the denied interfaces, imports all their direct
//! type dependencies and nothing beyond their transitive ones, has one fate per
//! function, and has the same bytes when the deny list is given reversed.
//!
//! Rust tests, for what is not one case: properties over all of WASI (each
//! interface alone, all in one stub, each package, determinism, fates of
//! chosen functions) and, with the `host` feature, calls into stubs through
//! wasmtime (some on the WIT of a case folder).

mod support;

use airlock_core::virtualize::{DenyComponent, Fate, synthesize};
use anyhow::{Context, Result, bail, ensure};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::{check_absent, check_golden, wit_of};
use wit_component::DecodedWasm;
use wit_parser::{InterfaceId, Resolve, WorldKey};

fn main() {
    let root = cases_root();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/virtualize exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let mut trials: Vec<Trial> = cases
        .into_iter()
        .map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || {
                run_case(&case).map_err(|e| Failed::from(format!("{e:#}")))
            })
        })
        .collect();
    let mut tests: Vec<(&str, fn())> = vec![
        ("every_wasi_interface_alone", every_wasi_interface_alone),
        ("all_of_wasi_in_one_stub", all_of_wasi_in_one_stub),
        (
            "one_wasi_package_imports_its_type_dependencies",
            one_wasi_package_imports_its_type_dependencies,
        ),
        ("same_input_same_bytes", same_input_same_bytes),
        ("fates_follow_the_wit", fates_follow_the_wit),
    ];
    #[cfg(feature = "host")]
    tests.extend(runtime::TESTS);
    trials.extend(tests.into_iter().map(|(name, test)| {
        Trial::test(name, move || {
            test();
            Ok(())
        })
    }));
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}

fn cases_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/virtualize")
}

/// The files a case folder may hold: inputs, then goldens.
const CASE_FILES: [&str; 6] = [
    "deny",
    "package.wit",
    "component.wit",
    "stub.wit",
    "fates.txt",
    "error.txt",
];

fn run_case(case: &Path) -> Result<()> {
    for entry in std::fs::read_dir(case)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        ensure!(
            CASE_FILES.contains(&name.as_str()),
            "unknown file `{name}`; a case holds only {CASE_FILES:?}"
        );
    }
    let read = |name: &str| -> Result<Option<String>> {
        let path = case.join(name);
        match path.exists() {
            true => {
                Ok(Some(std::fs::read_to_string(&path).with_context(|| {
                    format!("reading `{}`", path.display())
                })?))
            }
            false => Ok(None),
        }
    };
    let deny = read("deny")?.context("no `deny`")?;
    let deny: Vec<&str> = deny
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();

    // The resolve, and the interfaces it offers to deny, by name.
    let (resolve, offered) = match (read("package.wit")?, read("component.wit")?) {
        (Some(_), Some(_)) => bail!("both `package.wit` and `component.wit`; keep one"),
        (package, None) => {
            let mut resolve = wasi(false);
            if let Some(text) = package {
                resolve.push_str("package.wit", &text)?;
            }
            let offered = interfaces(&resolve);
            (resolve, offered)
        }
        (None, Some(world)) => {
            let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/deps");
            let bytes = airlock_core::testkit::component_from_wit(&world, Some(&deps))?;
            let DecodedWasm::Component(resolve, world) = wit_component::decode(&bytes)? else {
                bail!("`component.wit` did not make a component")
            };
            let imports = imported_interfaces(&resolve, &resolve.worlds[world].imports);
            (resolve, imports)
        }
    };
    let names: Vec<String> = match deny.as_slice() {
        ["*"] if case.join("component.wit").exists() => {
            offered.iter().map(|(n, _)| n.clone()).collect()
        }
        _ => deny.iter().map(|n| n.to_string()).collect(),
    };
    let ids: Vec<InterfaceId> = names
        .iter()
        .map(|name| {
            offered
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, id)| *id)
                .with_context(|| format!("no interface `{name}` to deny"))
        })
        .collect::<Result<_>>()?;

    let label = case.file_name().unwrap().to_string_lossy();
    let (stub_wit, fates_txt, error_txt) = match synthesize(&resolve, &ids, &label) {
        Ok(stub) => {
            check_stub(&resolve, &ids, &names, &stub, &label)?;
            let mut fates = String::new();
            for (iface, functions) in &stub.fates {
                fates.push_str(&format!("{iface}\n"));
                for f in functions {
                    fates.push_str(&format!("  {}: {}\n", f.function, f.fate));
                }
            }
            (Some(wit_of(&stub.bytes)?), Some(fates), None)
        }
        Err(e) => (None, None, Some(format!("{e}\n"))),
    };
    for (file, text) in [
        ("stub.wit", stub_wit),
        ("fates.txt", fates_txt),
        ("error.txt", error_txt),
    ] {
        let path = case.join(file);
        match text {
            Some(text) => check_golden(&path, &text)?,
            None if file == "error.txt" => check_absent(&path, "a stub was made")?,
            None => check_absent(&path, "no stub can be made")?,
        }
    }
    Ok(())
}

/// The properties of a case's stub that hold whatever the goldens say.
fn check_stub(
    resolve: &Resolve,
    ids: &[InterfaceId],
    names: &[String],
    stub: &DenyComponent,
    label: &str,
) -> Result<()> {
    let (imports, exports) = surface(&stub.bytes);
    let denied: BTreeSet<String> = names.iter().cloned().collect();
    ensure!(
        exports == denied,
        "the stub exports {exports:?}, not the denied {denied:?}"
    );
    assert_imports(resolve, ids, &imports, label);
    for (name, id) in names.iter().zip(ids) {
        let functions = resolve.interfaces[*id].functions.len();
        let fates = stub.fates.get(name).map_or(0, Vec::len);
        ensure!(
            fates == functions,
            "`{name}`: {fates} fates for {functions} functions"
        );
    }
    let reversed: Vec<InterfaceId> = ids.iter().rev().copied().collect();
    let again = synthesize(resolve, &reversed, label)?;
    ensure!(
        again.bytes == stub.bytes,
        "the deny list reversed gives other bytes"
    );
    Ok(())
}

/// The interface imports among `items` (a world's), by name.
fn imported_interfaces(
    resolve: &Resolve,
    items: &wit_parser::IndexMap<WorldKey, wit_parser::WorldItem>,
) -> Vec<(String, InterfaceId)> {
    items
        .iter()
        .filter_map(|(key, item)| match item {
            wit_parser::WorldItem::Interface { id, .. } => Some((resolve.name_world_key(key), *id)),
            _ => None,
        })
        .collect()
}

const WASI: [&str; 7] = airlock_core::testkit::WASI_PACKAGES;

/// The vendored WASI packages; `all_features` includes `@unstable` items.
fn wasi(all_features: bool) -> Resolve {
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/deps");
    let mut resolve = Resolve {
        all_features,
        ..Resolve::default()
    };
    for name in WASI {
        resolve.push_path(deps.join(name)).unwrap();
    }
    resolve
}

/// Every interface of the resolve, by name (`wasi:io/streams@0.2.12`).
fn interfaces(resolve: &Resolve) -> Vec<(String, InterfaceId)> {
    let mut all: Vec<_> = resolve
        .interfaces
        .iter()
        .filter(|(_, i)| i.name.is_some())
        .map(|(id, _)| (resolve.name_world_key(&WorldKey::Interface(id)), id))
        .collect();
    all.sort();
    all
}

/// The transitive `use` dependencies of `ids`, excluding `ids`.
fn deps_of(resolve: &Resolve, ids: &[InterfaceId]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<InterfaceId> = ids.to_vec();
    while let Some(id) = todo.pop() {
        for dep in resolve.interface_direct_deps(id) {
            if seen.insert(dep) {
                todo.push(dep);
            }
        }
    }
    seen.retain(|d| !ids.contains(d));
    seen.iter()
        .map(|d| resolve.name_world_key(&WorldKey::Interface(*d)))
        .collect()
}

/// The interfaces `ids` use types from directly, excluding `ids`.
fn direct_deps_of(resolve: &Resolve, ids: &[InterfaceId]) -> BTreeSet<String> {
    ids.iter()
        .flat_map(|id| resolve.interface_direct_deps(*id))
        .filter(|d| !ids.contains(d))
        .map(|d| resolve.name_world_key(&WorldKey::Interface(d)))
        .collect()
}

/// A stub imports the interfaces whose types the denied ones use: all direct
/// dependencies, and of the transitive ones only those its types reach.
fn assert_imports(resolve: &Resolve, ids: &[InterfaceId], imports: &BTreeSet<String>, what: &str) {
    let direct = direct_deps_of(resolve, ids);
    let all = deps_of(resolve, ids);
    assert!(
        imports.is_superset(&direct),
        "{what}: {imports:?} lacks some of {direct:?}"
    );
    assert!(
        imports.is_subset(&all),
        "{what}: {imports:?} is more than {all:?}"
    );
}

/// Validates `bytes` and returns its (imports, exports) names, decoded back.
fn surface(bytes: &[u8]) -> (BTreeSet<String>, BTreeSet<String>) {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .expect("stub validates");
    let DecodedWasm::Component(resolve, world) = wit_component::decode(bytes).unwrap() else {
        panic!("not a component")
    };
    let names = |items: &wit_parser::IndexMap<WorldKey, _>| {
        items.keys().map(|k| resolve.name_world_key(k)).collect()
    };
    let world = &resolve.worlds[world];
    (names(&world.imports), names(&world.exports))
}

fn every_wasi_interface_alone() {
    for all_features in [false, true] {
        let resolve = wasi(all_features);
        for (name, id) in interfaces(&resolve) {
            let stub =
                synthesize(&resolve, &[id], "test").unwrap_or_else(|e| panic!("{name}: {e}"));
            let (imports, exports) = surface(&stub.bytes);
            assert_eq!(exports, BTreeSet::from([name.clone()]), "{name}");
            assert_imports(&resolve, &[id], &imports, &name);
            let functions = resolve.interfaces[id].functions.len();
            assert_eq!(stub.fates[&name].len(), functions, "{name}");
        }
    }
}

fn all_of_wasi_in_one_stub() {
    let resolve = wasi(true);
    let all: Vec<_> = interfaces(&resolve).into_iter().map(|(_, id)| id).collect();
    let stub = synthesize(&resolve, &all, "all").unwrap();
    let (imports, exports) = surface(&stub.bytes);
    assert!(imports.is_empty(), "{imports:?}");
    assert_eq!(exports.len(), all.len());
    println!("deny-all-WASI stub: {} bytes", stub.bytes.len());
    // Most of it is wit-component's encoding of the WASI types; a regression
    // guard, measured at 46,395 bytes (88,240 before internal names were shortened
    // and identical denial bodies shared).
    assert!(stub.bytes.len() <= 52 * 1024, "{} bytes", stub.bytes.len());
    // With everything stubbed, only the documented exceptions trap.
    let traps: Vec<String> = stub
        .fates
        .iter()
        .flat_map(|(i, fates)| fates.iter().map(move |f| (i, f)))
        .filter(|(_, f)| matches!(f.fate, Fate::Trap { .. }))
        .map(|(i, f)| format!("{i}#{}", f.function))
        .collect();
    assert_eq!(
        traps,
        [
            "wasi:cli/exit@0.2.12#exit",
            "wasi:cli/exit@0.2.12#exit-with-code",
            "wasi:random/random@0.2.12#get-random-u64",
        ]
    );
}

fn one_wasi_package_imports_its_type_dependencies() {
    let resolve = wasi(false);
    for package in ["wasi:sockets", "wasi:filesystem", "wasi:http", "wasi:cli"] {
        let ids: Vec<_> = interfaces(&resolve)
            .into_iter()
            .filter(|(n, _)| n.starts_with(&format!("{package}/")))
            .map(|(_, id)| id)
            .collect();
        let stub = synthesize(&resolve, &ids, package).unwrap();
        let (imports, exports) = surface(&stub.bytes);
        assert_eq!(exports.len(), ids.len());
        assert_imports(&resolve, &ids, &imports, package);
        println!("{package} stub: {} bytes", stub.bytes.len());
    }
}

fn same_input_same_bytes() {
    let resolve = wasi(false);
    let mut ids: Vec<_> = interfaces(&resolve).into_iter().map(|(_, id)| id).collect();
    let a = synthesize(&resolve, &ids, "x").unwrap();
    ids.reverse();
    let b = synthesize(&resolve, &ids, "x").unwrap();
    assert_eq!(a.bytes, b.bytes);
}

fn fates_follow_the_wit() {
    let resolve = wasi(false);
    let ids: Vec<_> = interfaces(&resolve).into_iter().map(|(_, id)| id).collect();
    let stub = synthesize(&resolve, &ids, "x").unwrap();
    let fate = |iface: &str, func: &str| {
        stub.fates[iface]
            .iter()
            .find(|f| f.function == func)
            .unwrap_or_else(|| panic!("{iface}#{func}"))
            .fate
            .to_string()
    };
    let cases = [
        (
            "wasi:filesystem/types@0.2.12",
            "[method]descriptor.read-via-stream",
            "err(access)",
        ),
        (
            "wasi:sockets/tcp@0.2.12",
            "[method]tcp-socket.start-connect",
            "err(access-denied)",
        ),
        (
            "wasi:http/types@0.2.12",
            "[static]fields.from-list",
            "err(forbidden)",
        ),
        (
            "wasi:http/types@0.2.12",
            "[method]outgoing-request.set-method",
            "err",
        ),
        (
            "wasi:http/types@0.2.12",
            "[method]outgoing-request.body",
            "ok(new `outgoing-body`)",
        ),
        (
            "wasi:http/types@0.2.12",
            "[method]outgoing-request.headers",
            "new `fields`",
        ),
        (
            "wasi:http/outgoing-handler@0.2.12",
            "handle",
            "err(HTTP-request-denied)",
        ),
        (
            "wasi:io/streams@0.2.12",
            "[method]input-stream.read",
            "err(closed)",
        ),
        (
            "wasi:cli/environment@0.2.12",
            "get-environment",
            "empty list",
        ),
        ("wasi:cli/environment@0.2.12", "initial-cwd", "none"),
        ("wasi:clocks/wall-clock@0.2.12", "now", "zero"),
        ("wasi:io/poll@0.2.12", "[method]pollable.block", "no-op"),
    ];
    for (iface, func, want) in cases {
        assert_eq!(fate(iface, func), want, "{iface}#{func}");
    }
}

#[cfg(feature = "host")]
mod runtime {
    use super::*;
    use wasmtime::component::{Component, Instance, Linker, Val};
    use wasmtime::{Engine, Store};

    struct Running {
        store: Store<()>,
        instance: Instance,
    }

    impl Running {
        fn new(bytes: &[u8]) -> Running {
            let engine = Engine::default();
            let component = Component::new(&engine, bytes).unwrap();
            let mut store = Store::new(&engine, ());
            let instance = Linker::new(&engine)
                .instantiate(&mut store, &component)
                .unwrap();
            Running { store, instance }
        }

        fn call(
            &mut self,
            iface: &str,
            func: &str,
            params: &[Val],
        ) -> wasmtime::Result<Option<Val>> {
            let store = &mut self.store;
            let i = self
                .instance
                .get_export_index(&mut *store, None, iface)
                .unwrap();
            let f = self
                .instance
                .get_export_index(&mut *store, Some(&i), func)
                .unwrap();
            let f = self.instance.get_func(&mut *store, f).unwrap();
            let mut results = vec![Val::Bool(false); f.ty(&*store).results().len()];
            f.call(&mut *store, params, &mut results)?;
            Ok(results.pop())
        }
    }

    /// The runtime tests, by name.
    pub const TESTS: [(&str, fn()); 5] = [
        (
            "runtime::all_of_wasi_denies_gracefully",
            all_of_wasi_denies_gracefully,
        ),
        (
            "runtime::http_requests_are_built_inertly_and_denied",
            http_requests_are_built_inertly_and_denied,
        ),
        (
            "runtime::traps_name_the_denied_function",
            traps_name_the_denied_function,
        ),
        (
            "runtime::owned_handles_of_imported_resources_are_dropped",
            owned_handles_of_imported_resources_are_dropped,
        ),
        (
            "runtime::user_interface_at_run_time",
            user_interface_at_run_time,
        ),
    ];

    /// The `package.wit` of the case folder `case`, as its own resolve.
    fn case_package(case: &str) -> (Resolve, wit_parser::PackageId) {
        let path = cases_root().join(case).join("package.wit");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut resolve = Resolve::default();
        let pkg = resolve.push_str(&path, &text).unwrap();
        (resolve, pkg)
    }

    fn err(v: Val) -> Option<Val> {
        Some(Val::Result(Err(Some(Box::new(v)))))
    }

    fn all_of_wasi_denies_gracefully() {
        let resolve = wasi(true);
        let all: Vec<_> = interfaces(&resolve).into_iter().map(|(_, id)| id).collect();
        let stub = synthesize(&resolve, &all, "all").unwrap();
        let mut run = Running::new(&stub.bytes);

        let tcp = "wasi:sockets/tcp-create-socket@0.2.12";
        let got = run.call(tcp, "create-tcp-socket", &[Val::Enum("ipv4".into())]);
        assert_eq!(got.unwrap(), err(Val::Enum("access-denied".into())));

        let env = "wasi:cli/environment@0.2.12";
        assert_eq!(
            run.call(env, "get-environment", &[]).unwrap(),
            Some(Val::List(vec![]))
        );
        assert_eq!(
            run.call(env, "get-arguments", &[]).unwrap(),
            Some(Val::List(vec![]))
        );
        assert_eq!(
            run.call(env, "initial-cwd", &[]).unwrap(),
            Some(Val::Option(None))
        );

        let preopens = "wasi:filesystem/preopens@0.2.12";
        let got = run.call(preopens, "get-directories", &[]).unwrap();
        assert_eq!(got, Some(Val::List(vec![])));

        let zero_time = Val::Record(vec![
            ("seconds".into(), Val::U64(0)),
            ("nanoseconds".into(), Val::U32(0)),
        ]);
        let wall = "wasi:clocks/wall-clock@0.2.12";
        assert_eq!(run.call(wall, "now", &[]).unwrap(), Some(zero_time));
        let mono = "wasi:clocks/monotonic-clock@0.2.12";
        assert_eq!(run.call(mono, "now", &[]).unwrap(), Some(Val::U64(0)));

        let seed = "wasi:random/insecure-seed@0.2.12";
        let got = run.call(seed, "insecure-seed", &[]).unwrap();
        assert_eq!(got, Some(Val::Tuple(vec![Val::U64(0), Val::U64(0)])));
        let random = "wasi:random/random@0.2.12";
        let got = run
            .call(random, "get-random-bytes", &[Val::U64(16)])
            .unwrap();
        assert_eq!(got, Some(Val::List(vec![])));

        // A pollable from the stub: blocking on it returns at once.
        let Some(Val::Resource(pollable)) = run
            .call(mono, "subscribe-duration", &[Val::U64(1_000_000_000)])
            .unwrap()
        else {
            panic!("no pollable")
        };
        let poll = "wasi:io/poll@0.2.12";
        run.call(poll, "[method]pollable.block", &[Val::Resource(pollable)])
            .unwrap();
        pollable.resource_drop(&mut run.store).unwrap();

        // stdout is an inert stream: writing reports it closed.
        let Some(Val::Resource(out)) = run
            .call("wasi:cli/stdout@0.2.12", "get-stdout", &[])
            .unwrap()
        else {
            panic!("no stream")
        };
        let streams = "wasi:io/streams@0.2.12";
        let got = run.call(
            streams,
            "[method]output-stream.check-write",
            &[Val::Resource(out)],
        );
        assert_eq!(got.unwrap(), err(Val::Variant("closed".into(), None)));
        let bytes = Val::List(vec![Val::U8(b'x'); 4096]);
        let got = run.call(
            streams,
            "[method]output-stream.blocking-write-and-flush",
            &[Val::Resource(out), bytes],
        );
        assert_eq!(got.unwrap(), err(Val::Variant("closed".into(), None)));
    }

    fn http_requests_are_built_inertly_and_denied() {
        let resolve = wasi(false);
        let all: Vec<_> = interfaces(&resolve).into_iter().map(|(_, id)| id).collect();
        let stub = synthesize(&resolve, &all, "all").unwrap();
        let mut run = Running::new(&stub.bytes);
        let types = "wasi:http/types@0.2.12";

        let Some(Val::Resource(fields)) = run.call(types, "[constructor]fields", &[]).unwrap()
        else {
            panic!("no fields")
        };
        // Big arguments are copied into the stub's memory, which grows; twice.
        for _ in 0..2 {
            let value = Val::List(vec![Val::U8(7); 300_000]);
            let args = [Val::Resource(fields), Val::String("x-big".into()), value];
            let got = run.call(types, "[method]fields.append", &args).unwrap();
            assert_eq!(got, err(Val::Variant("forbidden".into(), None)));
        }
        let Some(Val::Resource(request)) = run
            .call(
                types,
                "[constructor]outgoing-request",
                &[Val::Resource(fields)],
            )
            .unwrap()
        else {
            panic!("no request")
        };
        let got = run.call(
            types,
            "[method]outgoing-request.set-method",
            &[Val::Resource(request), Val::Variant("get".into(), None)],
        );
        assert_eq!(got.unwrap(), Some(Val::Result(Err(None))));
        let Some(Val::Result(Ok(Some(body)))) = run
            .call(
                types,
                "[method]outgoing-request.body",
                &[Val::Resource(request)],
            )
            .unwrap()
        else {
            panic!("no body")
        };
        let Val::Resource(body) = *body else {
            panic!("not a handle")
        };
        body.resource_drop(&mut run.store).unwrap();

        let handler = "wasi:http/outgoing-handler@0.2.12";
        let got = run.call(
            handler,
            "handle",
            &[Val::Resource(request), Val::Option(None)],
        );
        assert_eq!(
            got.unwrap(),
            err(Val::Variant("HTTP-request-denied".into(), None))
        );
    }

    fn traps_name_the_denied_function() {
        let resolve = wasi(true);
        let all: Vec<_> = interfaces(&resolve).into_iter().map(|(_, id)| id).collect();
        let stub = synthesize(&resolve, &all, "all").unwrap();
        let mut run = Running::new(&stub.bytes);
        let exit = run.call("wasi:cli/exit@0.2.12", "exit", &[Val::Result(Ok(None))]);
        let text = format!("{:?}", exit.unwrap_err());
        assert!(
            text.contains("airlock denied wasi:cli/exit@0.2.12#exit"),
            "{text}"
        );

        let mut run = Running::new(&stub.bytes);
        let random = run.call("wasi:random/random@0.2.12", "get-random-u64", &[]);
        let text = format!("{:?}", random.unwrap_err());
        assert!(
            text.contains("airlock denied wasi:random/random@0.2.12#get-random-u64"),
            "{text}"
        );
    }

    fn owned_handles_of_imported_resources_are_dropped() {
        // The case folder shows this stub's WIT; here it runs.
        let (resolve, pkg) = case_package("resource-imported-owned-param");
        let api = resolve.packages[pkg].interfaces["api"];
        let stub = synthesize(&resolve, &[api], "res").unwrap();
        let (imports, _) = surface(&stub.bytes);
        assert_eq!(imports, BTreeSet::from(["demo:res/types".to_string()]));

        struct Thing;
        let engine = Engine::default();
        let component = Component::new(&engine, &stub.bytes).unwrap();
        let mut store = Store::new(&engine, Vec::<u32>::new());
        let mut linker = Linker::new(&engine);
        let thing = wasmtime::component::ResourceType::host::<Thing>();
        let dropped = |mut store: wasmtime::StoreContextMut<'_, Vec<u32>>, rep| {
            store.data_mut().push(rep);
            Ok(())
        };
        let mut types = linker.instance("demo:res/types").unwrap();
        types.resource("thing", thing, dropped).unwrap();
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let i = instance
            .get_export_index(&mut store, None, "demo:res/api")
            .unwrap();
        let f = instance
            .get_export_index(&mut store, Some(&i), "consume")
            .unwrap();
        let f = instance.get_func(&mut store, f).unwrap();
        let own = wasmtime::component::Resource::<Thing>::new_own(42);
        let own = wasmtime::component::ResourceAny::try_from_resource(own, &mut store).unwrap();
        let mut result = [Val::Bool(false)];
        f.call(&mut store, &[Val::Resource(own)], &mut result)
            .unwrap();
        assert_eq!(result[0], Val::Result(Err(None)));
        assert_eq!(store.data(), &[42], "the stub dropped the handle");
    }

    fn user_interface_at_run_time() {
        // The case folder shows this stub's WIT and fates; here it runs.
        let (resolve, pkg) = case_package("user-interface");
        let store = resolve.packages[pkg].interfaces["store"];
        let stub = synthesize(&resolve, &[store], "kv").unwrap();
        let mut run = Running::new(&stub.bytes);
        let got = run
            .call("demo:kv/store", "get", &[Val::String("key".into())])
            .unwrap();
        let denied = Val::Variant("denied".into(), Some(Box::new(Val::String(String::new()))));
        assert_eq!(got, err(denied));
        let text = format!("{:?}", run.call("demo:kv/store", "count", &[]).unwrap_err());
        assert!(
            text.contains("airlock denied demo:kv/store#count"),
            "{text}"
        );
    }
}

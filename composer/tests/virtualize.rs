//! Deny stubs synthesized from the vendored WASI 0.2.12 WIT and from user WIT:
//! their exports and imports (decoded back), validity, size, determinism, and
//! what their functions do when called through wasmtime.

use airlock_core::virtualize::{Fate, synthesize};
use std::collections::BTreeSet;
use std::path::Path;
use wit_component::DecodedWasm;
use wit_parser::{InterfaceId, Resolve, WorldKey};

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

fn find(resolve: &Resolve, name: &str) -> InterfaceId {
    interfaces(resolve)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no interface `{name}`"))
        .1
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

#[test]
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

#[test]
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

#[test]
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

#[test]
fn same_input_same_bytes() {
    let resolve = wasi(false);
    let mut ids: Vec<_> = interfaces(&resolve).into_iter().map(|(_, id)| id).collect();
    let a = synthesize(&resolve, &ids, "x").unwrap();
    ids.reverse();
    let b = synthesize(&resolve, &ids, "x").unwrap();
    assert_eq!(a.bytes, b.bytes);
}

#[test]
fn a_split_type_group_is_an_error() {
    // `wasi:io/error` denied while `wasi:io/streams` (which uses it) is imported
    // by the denied `wasi:cli/stdout`: the stub would need both copies of `error`.
    let resolve = wasi(false);
    let ids = [
        find(&resolve, "wasi:io/error@0.2.12"),
        find(&resolve, "wasi:cli/stdout@0.2.12"),
    ];
    let err = synthesize(&resolve, &ids, "x").unwrap_err().to_string();
    assert!(err.contains("`wasi:io/error@0.2.12`"), "{err}");
}

#[test]
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

#[test]
fn a_resource_the_stub_imports_cannot_be_made() {
    let resolve = wasi(false);
    let stdout = find(&resolve, "wasi:cli/stdout@0.2.12");
    let stub = synthesize(&resolve, &[stdout], "x").unwrap();
    let fates = &stub.fates["wasi:cli/stdout@0.2.12"];
    assert!(
        matches!(fates[0].fate, Fate::Trap { .. }),
        "{}",
        fates[0].fate
    );
}

#[test]
fn imports_of_a_decoded_component_are_served_by_exact_name() {
    // The real input: the resolve of a component, decoded from its bytes.
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/deps");
    let app = airlock_core::testkit::component_from_wit(
        "package demo:app;
        world app {
            import wasi:sockets/tcp-create-socket@0.2.12;
            import wasi:cli/environment@0.2.12;
            export run: func();
        }",
        Some(&deps),
    )
    .unwrap();
    let DecodedWasm::Component(resolve, world) = wit_component::decode(&app).unwrap() else {
        panic!("not a component")
    };
    let imports: Vec<(String, InterfaceId)> = resolve.worlds[world]
        .imports
        .iter()
        .filter_map(|(key, item)| match item {
            wit_parser::WorldItem::Interface { id, .. } => Some((resolve.name_world_key(key), *id)),
            _ => None,
        })
        .collect();
    let all: Vec<_> = imports.iter().map(|(_, id)| *id).collect();
    let stub = synthesize(&resolve, &all, "app").unwrap();
    let (stub_imports, stub_exports) = surface(&stub.bytes);
    assert!(stub_imports.is_empty());
    assert_eq!(
        stub_exports,
        imports.iter().map(|(n, _)| n.clone()).collect()
    );

    // Deny only the two, and the stub imports the types they use from the
    // app's source (`tcp-socket`, `network`).
    let named = |n: &str| imports.iter().find(|(i, _)| i == n).unwrap().1;
    let two = [
        named("wasi:sockets/tcp-create-socket@0.2.12"),
        named("wasi:cli/environment@0.2.12"),
    ];
    let (stub_imports, _) = surface(&synthesize(&resolve, &two, "app").unwrap().bytes);
    let want = ["wasi:sockets/network@0.2.12", "wasi:sockets/tcp@0.2.12"];
    assert_eq!(stub_imports, want.map(String::from).into());
}

const KV: &str = "package demo:kv;
interface store {
    variant error { not-found, denied(string) }
    get: func(k: string) -> result<string, error>;
    count: func() -> u32;
    clear: func();
}";

#[test]
fn user_interfaces_deny_with_err_or_trap() {
    let mut resolve = Resolve::default();
    let pkg = resolve.push_str("kv.wit", KV).unwrap();
    let store = resolve.packages[pkg].interfaces["store"];
    let stub = synthesize(&resolve, &[store], "kv").unwrap();
    let (imports, exports) = surface(&stub.bytes);
    assert!(imports.is_empty());
    assert_eq!(exports, BTreeSet::from(["demo:kv/store".to_string()]));
    let fates: Vec<String> = stub.fates["demo:kv/store"]
        .iter()
        .map(|f| format!("{}: {}", f.function, f.fate))
        .collect();
    assert_eq!(fates[0], "get: err(denied)");
    assert!(fates[1].starts_with("count: trap"), "{}", fates[1]);
    assert!(fates[2].starts_with("clear: trap"), "{}", fates[2]);
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

    fn err(v: Val) -> Option<Val> {
        Some(Val::Result(Err(Some(Box::new(v)))))
    }

    #[test]
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

    #[test]
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

    #[test]
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

    #[test]
    fn owned_handles_of_imported_resources_are_dropped() {
        let mut resolve = Resolve::default();
        let wit = "package demo:res;
            interface types { resource thing; }
            interface api { use types.{thing}; consume: func(t: thing) -> result; }";
        let pkg = resolve.push_str("res.wit", wit).unwrap();
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

    #[test]
    fn user_interface_at_run_time() {
        let mut resolve = Resolve::default();
        let pkg = resolve.push_str("kv.wit", KV).unwrap();
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

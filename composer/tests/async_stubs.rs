//! Denial stubs for component-model async, built from WIT: all of WASI 0.3.0
//! (`wit/deps-0.3`) denied at once answers gracefully everywhere but the
//! documented traps, async functions get the fates of their sync twins, and
//! every stub validates. (Running them is `tests/tests/async_denials.rs`.)

use airlock_core::virtualize::{self, Fate};
use std::path::Path;
use wit_parser::{InterfaceId, Resolve};

/// The WASI 0.3.0 packages of `wit/deps-0.3`, in dependency order.
const WASI_03: [&str; 6] = ["clocks", "random", "filesystem", "sockets", "cli", "http"];

/// A resolve of WASI 0.3.0 and its named interfaces.
fn wasi_03() -> (Resolve, Vec<InterfaceId>) {
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/deps-0.3");
    let mut resolve = Resolve::default();
    for name in WASI_03 {
        resolve.push_path(deps.join(name)).unwrap();
    }
    let interfaces = resolve
        .interfaces
        .iter()
        .filter(|(_, i)| i.name.is_some())
        .map(|(id, _)| id)
        .collect();
    (resolve, interfaces)
}

fn validate(bytes: &[u8]) {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .expect("the stub validates");
}

#[test]
fn all_of_wasi_0_3_denied_answers_gracefully_but_exit_and_secure_random() {
    let (resolve, all) = wasi_03();
    let stub = virtualize::synthesize(&resolve, &all, "wasi-0.3").unwrap();
    validate(&stub.bytes);
    let mut traps = Vec::new();
    for (iface, fates) in &stub.fates {
        assert!(iface.ends_with("@0.3.0"), "{iface}");
        for f in fates {
            if let Fate::Trap { .. } = f.fate {
                traps.push(format!("{iface}#{}", f.function));
            }
        }
    }
    assert_eq!(
        traps,
        [
            "wasi:cli/exit@0.3.0#exit",
            "wasi:cli/exit@0.3.0#exit-with-code",
            "wasi:random/random@0.3.0#get-random-u64",
        ]
    );
    let fate = |iface: &str, func: &str| {
        let fates = &stub.fates[iface];
        let f = fates.iter().find(|f| f.function == func).unwrap();
        f.fate.to_string()
    };
    // Streams end, futures resolve with the interface's own error.
    assert_eq!(
        fate("wasi:cli/stdin@0.3.0", "read-via-stream"),
        "(ended stream, future of err(io))"
    );
    assert_eq!(
        fate(
            "wasi:filesystem/types@0.3.0",
            "[method]descriptor.write-via-stream"
        ),
        "future of err(access)"
    );
    assert_eq!(
        fate("wasi:sockets/types@0.3.0", "[method]tcp-socket.receive"),
        "(ended stream, future of err(access-denied))"
    );
    assert_eq!(
        fate("wasi:http/types@0.3.0", "[static]request.new"),
        "(new `request`, future of err(HTTP-request-denied))"
    );
    // Async functions: the same fates as sync ones.
    assert_eq!(
        fate("wasi:http/client@0.3.0", "send"),
        "err(HTTP-request-denied)"
    );
    assert_eq!(
        fate("wasi:sockets/ip-name-lookup@0.3.0", "resolve-addresses"),
        "err(access-denied)"
    );
    assert_eq!(
        fate("wasi:filesystem/types@0.3.0", "[method]descriptor.open-at"),
        "err(access)"
    );
    assert_eq!(
        fate("wasi:clocks/monotonic-clock@0.3.0", "wait-for"),
        "no-op"
    );
    eprintln!("all of WASI 0.3.0 denied: {} bytes", stub.bytes.len());
}

/// An interface of `n` functions of each shape, `async func` or `func`.
fn shapes_wit(n: usize, kind: &str) -> String {
    let mut wit = String::from(
        "package demo:shapes@1.0.0;\ninterface t {\n  enum error { not-found, access-denied }\n  resource handle;\n",
    );
    for i in 0..n {
        wit.push_str(&format!(
            "  get{i}: {kind}(key: string, at: u64) -> result<u32, error>;\n\
             \x20 read{i}: {kind}(h: borrow<handle>) -> result<list<u8>, error>;\n\
             \x20 put{i}: {kind}() -> result<_, error>;\n\
             \x20 count{i}: {kind}() -> u32;\n"
        ));
    }
    wit.push_str("}\n");
    wit
}

fn stub_of(wit: &str) -> virtualize::DenyComponent {
    let mut resolve = Resolve::default();
    let pkg = resolve.push_str("shapes.wit", wit).unwrap();
    let t = resolve.packages[pkg].interfaces["t"];
    let stub = virtualize::synthesize(&resolve, &[t], "shapes").unwrap();
    validate(&stub.bytes);
    stub
}

#[test]
fn async_functions_get_the_fates_of_their_sync_twins() {
    let sync = stub_of(&shapes_wit(2, "func"));
    let asynchronous = stub_of(&shapes_wit(2, "async func"));
    assert_eq!(sync.fates, asynchronous.fates);
    let fates: Vec<String> = sync.fates["demo:shapes/t@1.0.0"]
        .iter()
        .take(4)
        .map(|f| f.fate.to_string())
        .collect();
    assert_eq!(
        fates,
        [
            "err(access-denied)",
            "err(access-denied)",
            "err(access-denied)",
            "trap (no error case to report the denial)"
        ]
    );
}

#[test]
fn denying_an_async_interface_costs_little_more_than_its_sync_twin() {
    let size = |n, kind| stub_of(&shapes_wit(n, kind)).bytes.len();
    let (sync_1, sync_41) = (size(1, "func"), size(41, "func"));
    let (async_1, async_41) = (size(1, "async func"), size(41, "async func"));
    let per_sync = (sync_41 - sync_1) / 160;
    let per_async = (async_41 - async_1) / 160;
    eprintln!(
        "4 functions: sync {sync_1} bytes, async {async_1}; 164 functions: sync {sync_41}, \
         async {async_41}; per function: sync {per_sync}, async {per_async}"
    );
    // Async functions of equal result types share their `task.return`.
    assert!(
        per_async < 2 * per_sync,
        "{per_async} bytes per async function, {per_sync} per sync one"
    );
}

/// A component (wit-component's dummy code) importing every interface of
/// the WASI packages in `resolve`, and the bytes added by composing it with
/// all of them denied.
fn deny_all_added_bytes(mut resolve: Resolve, version: &str) -> (usize, usize) {
    let mut wit = String::from("package test:all;\nworld all {\n");
    let mut names: Vec<String> = resolve
        .interfaces
        .iter()
        .filter_map(|(id, i)| i.name.as_ref().map(|_| resolve.id_of(id).unwrap()))
        .filter(|name| name.ends_with(version) && !name.contains("/run@"))
        .collect();
    names.sort();
    for name in &names {
        wit.push_str(&format!("  import {name};\n"));
    }
    wit.push_str("  export run: func() -> u32;\n}\n");
    let pkg = resolve.push_str("all.wit", &wit).unwrap();
    let world = resolve.select_world(&[pkg], None).unwrap();
    let mut module =
        wit_component::dummy_module(&resolve, world, wit_parser::ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .unwrap();
    let input = wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (lib, out) = (dir.path().join("lib.wasm"), dir.path().join("out.wasm"));
    std::fs::write(&lib, &input).unwrap();
    let args = [
        "airlock",
        "compose",
        "--no-cache",
        lib.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = airlock::main(args.map(String::from), &mut stdout, &mut stderr);
    let stderr = String::from_utf8_lossy(&stderr);
    assert_eq!(code, 0, "{}{stderr}", String::from_utf8_lossy(&stdout));
    let output = std::fs::read(&out).unwrap();
    (names.len(), output.len() - input.len())
}

#[test]
fn bytes_added_by_denying_all_of_wasi_0_3_and_of_wasi_0_2() {
    let (resolve, _) = wasi_03();
    let (n3, added3) = deny_all_added_bytes(resolve, "@0.3.0");
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/deps");
    let resolve = airlock_core::testkit::wasi_resolve(&deps).unwrap();
    let (n2, added2) = deny_all_added_bytes(resolve, "@0.2.12");
    eprintln!(
        "denying all of WASI to one library adds: 0.3.0 ({n3} interfaces) {added3} bytes, \
         0.2.12 ({n2} interfaces) {added2} bytes"
    );
    assert!(added3 <= added2, "0.3: {added3} bytes, 0.2: {added2}");
}

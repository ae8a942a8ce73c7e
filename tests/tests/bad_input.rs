//! Bad input at the CLI (`airlock::main`, the whole CLI as a function):
//! truncated and corrupted components, enormous and deeply nested WIT, non-UTF-8
//! paths, unwritable output folders, the output equal to an input. Each gets a
//! clear error or a valid output; never a panic, never a partial file, and the
//! inputs are never modified. (More cases are golden tests in `composer/tests/golden`.)

use airlock_core::testkit::component_from_wit;
use airlock_tests::randgen::{Rng, wasi_deps};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Runs the CLI; a panic fails the test with the arguments.
fn cli(args: &[OsString]) -> (i32, String) {
    let all: Vec<OsString> = std::iter::once(OsString::from("airlock"))
        .chain(args.iter().cloned())
        .collect();
    let result = std::panic::catch_unwind(|| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = airlock::main(
            airlock_tests::without_user_cache(all.clone()),
            &mut out,
            &mut err,
        );
        (code, String::from_utf8_lossy(&err).into_owned())
    });
    result.unwrap_or_else(|_| panic!("the CLI panicked on {args:?}"))
}

fn os(items: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    items.iter().map(|s| s.as_ref().to_os_string()).collect()
}

/// Every file of `dir` with its contents, to prove nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

/// `compose ROOT --plug LIB -o OUT` must fail cleanly (no output, inputs
/// untouched), or succeed with a valid output.
fn compose_checked(dir: &Path, root: &Path, plugs: &[&Path], out: &Path) -> (i32, String) {
    let before = snapshot(dir);
    let existed = out.exists();
    let mut args = os(&[&"compose", &root]);
    for p in plugs {
        args.extend(os(&[&"--plug", p]));
    }
    args.extend(os(&[&"--deny", &"*", &"-o", &out]));
    let (code, err) = cli(&args);
    if code == 0 {
        let bytes = std::fs::read(out).expect("success writes the output");
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&bytes)
            .expect("the output validates");
        std::fs::remove_file(out).unwrap();
    } else {
        assert!(err.starts_with("error: "), "unclear error: {err}");
        assert_eq!(
            out.exists(),
            existed,
            "a failed run left `{}`",
            out.display()
        );
    }
    assert_eq!(snapshot(dir), before, "the folder changed: {err}");
    (code, err)
}

const LIB: &str = "package test:lib@1.0.0;\n\ninterface math {\n  record point { x: f64, y: f64 }\n  variant shape { circle(f64), poly(list<point>) }\n  area: func(s: shape) -> result<f64, string>;\n}\n\nworld lib {\n  import wasi:cli/environment@0.2.12;\n  export math;\n}\n";
const APP: &str = "package test:app@1.0.0;\n\nworld app {\n  import test:lib/math@1.0.0;\n  import wasi:cli/stdout@0.2.12;\n  export run: func() -> u32;\n}\n\npackage test:lib@1.0.0 {\n  interface math {\n    record point { x: f64, y: f64 }\n    variant shape { circle(f64), poly(list<point>) }\n    area: func(s: shape) -> result<f64, string>;\n  }\n}\n";

/// A root importing `iface` of the package `pkg` whose interface body is `body`.
fn app_for(pkg: &str, iface: &str, body: &str) -> String {
    format!(
        "package test:app@1.0.0;\n\nworld app {{\n  import {pkg}/{iface}@1.0.0;\n  export run: func();\n}}\n\npackage {pkg}@1.0.0 {{\n  interface {iface} {{\n{body}  }}\n}}\n"
    )
}

/// A library exporting `iface` with `body`.
fn lib_for(pkg: &str, iface: &str, body: &str) -> String {
    format!(
        "package {pkg}@1.0.0;\n\ninterface {iface} {{\n{body}}}\n\nworld lib {{\n  export {iface};\n}}\n"
    )
}

fn fixture() -> (tempfile::TempDir, PathBuf, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let lib = component_from_wit(LIB, Some(&wasi_deps())).unwrap();
    let app = component_from_wit(APP, Some(&wasi_deps())).unwrap();
    let (lib_path, app_path) = (dir.path().join("lib.wasm"), dir.path().join("app.wasm"));
    std::fs::write(&lib_path, &lib).unwrap();
    std::fs::write(&app_path, app).unwrap();
    (dir, app_path, lib_path, lib)
}

#[test]
fn truncated_components_are_refused_cleanly() {
    let (dir, app, lib, bytes) = fixture();
    let out = dir.path().join("out.wasm");
    let (ok, _) = compose_checked(dir.path(), &app, &[&lib], &out);
    assert_eq!(ok, 0, "the intact inputs compose");
    let mut cuts: Vec<usize> = (0..=32).map(|i| bytes.len() * i / 32).collect();
    cuts.extend([1, 4, 7, 8, 9, 10, bytes.len() - 1]);
    let mut refused = 0;
    for cut in cuts {
        if cut == bytes.len() {
            continue;
        }
        std::fs::write(&lib, &bytes[..cut]).unwrap();
        let (code, err) = compose_checked(dir.path(), &app, &[&lib], &out);
        if cut == 8 {
            // The header alone is a valid, empty component.
            assert_eq!(code, 0, "{err}");
            continue;
        }
        assert_ne!(code, 0, "a component cut at {cut} bytes was accepted");
        assert!(err.contains("lib.wasm"), "the error names the file: {err}");
        refused += 1;
    }
    eprintln!("truncations refused: {refused}");
}

#[test]
fn corrupted_components_never_panic_or_leak() {
    let (dir, app, lib, bytes) = fixture();
    let out = dir.path().join("out.wasm");
    let mut rng = Rng::new(8);
    let (mut accepted, mut refused) = (0, 0);
    // `just fuzz` runs more (`AIRLOCK_CORRUPT_CASES`).
    let cases: usize = std::env::var("AIRLOCK_CORRUPT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for _ in 0..cases {
        let mut corrupt = bytes.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(corrupt.len());
            corrupt[at] ^= 1 << rng.below(8);
        }
        std::fs::write(&lib, &corrupt).unwrap();
        let (code, err) = compose_checked(dir.path(), &app, &[&lib], &out);
        if code == 0 {
            accepted += 1; // e.g. a flipped bit in a custom section or a name
        } else {
            // The file is named, or the import whose type the flip changed.
            assert!(
                err.contains("lib.wasm") || err.contains("test:lib/math"),
                "unclear error: {err}"
            );
            refused += 1;
        }
    }
    eprintln!("bit flips: {accepted} still valid and composed, {refused} refused");
}

/// Composes `lib` (linked) and then the root alone (the import denied), and inspects `lib`.
fn compose_big(name: &str, pkg: &str, iface: &str, body: &str) {
    let dir = tempfile::tempdir().unwrap();
    let lib_path = dir.path().join(format!("{name}.wasm"));
    let app_path = dir.path().join("app.wasm");
    let lib = component_from_wit(&lib_for(pkg, iface, body), None).unwrap();
    let app = component_from_wit(&app_for(pkg, iface, body), None).unwrap();
    std::fs::write(&lib_path, lib).unwrap();
    std::fs::write(&app_path, app).unwrap();
    let out = dir.path().join("out.wasm");
    let start = std::time::Instant::now();
    let (code, err) = compose_checked(dir.path(), &app_path, &[&lib_path], &out);
    assert_eq!(code, 0, "{err}");
    // Denied explicitly (`--deny *`): the denial synthesizer walks every type.
    let (code, err) = compose_checked(dir.path(), &app_path, &[], &out);
    assert_eq!(code, 0, "{err}");
    let (code, err) = cli(&os(&[&"inspect", &lib_path]));
    assert_eq!(code, 0, "{err}");
    eprintln!(
        "{name}: linked, denied and inspected in {:.1?}",
        start.elapsed()
    );
}

/// Runs `f` on a thread with the main thread's usual stack (8 MiB), as the CLI has.
fn with_main_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deeply_nested_types_compose() {
    // The component model caps type nesting at 100 (wasmparser's
    // `MAX_WASM_COMPONENT_TYPE_DEPTH`, and wit-parser's per-expression limit):
    // 90 levels inline...
    let depth = 90;
    let ty = format!("{}u8{}", "list<".repeat(depth), ">".repeat(depth));
    let body = format!("  f: func(x: {ty}) -> option<{ty}>;\n");
    with_main_stack(move || compose_big("inline", "test:deep", "nest", &body));
    // ...and 95 through aliases of list, option and result.
    let mut body = String::from("  type t0 = u8;\n");
    for i in 1..=95 {
        let inner = format!("t{}", i - 1);
        let ty = match i % 3 {
            0 => format!("list<{inner}>"),
            1 => format!("option<{inner}>"),
            _ => format!("result<{inner}, string>"),
        };
        body.push_str(&format!("  type t{i} = {ty};\n"));
    }
    body.push_str("  f: func(x: t95) -> t95;\n");
    with_main_stack(move || compose_big("aliased", "test:deeper", "nest", &body));
}

#[test]
fn types_nested_beyond_the_limit_are_refused() {
    // 1000 nested list types, written by hand: wasmparser refuses it, and so must we.
    let mut wat = String::from("(component\n  (type (;0;) (list u8))\n");
    for i in 1..1000 {
        wat.push_str(&format!("  (type (;{i};) (list {}))\n", i - 1));
    }
    wat.push_str(")\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.wasm");
    std::fs::write(&path, airlock_core::testkit::wat(&wat).unwrap()).unwrap();
    let out = dir.path().join("out.wasm");
    let (code, err) = compose_checked(dir.path(), &path, &[], &out);
    assert_ne!(code, 0);
    assert!(
        err.contains("deep.wasm") && err.contains("too deep"),
        "{err}"
    );
    let (code, err) = cli(&os(&[&"inspect", &path]));
    assert_ne!(code, 0);
    assert!(err.contains("too deep"), "{err}");
}

#[test]
fn thousands_of_functions_compose() {
    let body: String = (0..3000)
        .map(|i| format!("  fn{i}: func(a: string, b: list<u32>) -> result<string, u32>;\n"))
        .collect();
    compose_big("wide", "test:big", "api", &body);
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_work_or_are_named() {
    use std::os::unix::ffi::OsStrExt;

    let (dir, app, lib, _) = fixture();
    let odd = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"lib-\xff\xfe.wasm"));
    std::fs::rename(&lib, &odd).unwrap();
    let out = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"out-\xe9.wasm"));
    // The instance is named after the file stem, which is not UTF-8: a clear
    // error naming the file, or a valid output.
    let (code, err) = compose_checked(dir.path(), &app, &[&odd], &out);
    if code != 0 {
        assert!(err.contains("lib-"), "the error names the file: {err}");
    }
    eprintln!("non-UTF-8 plug: exit {code} {}", err.trim());
    // As the root, and as the output only.
    let app_odd = dir.path().join(std::ffi::OsStr::from_bytes(b"\xff.wasm"));
    std::fs::copy(&app, &app_odd).unwrap();
    let (code, err) = compose_checked(dir.path(), &app_odd, &[&odd], &out);
    if code != 0 {
        assert!(err.contains(".wasm"), "{err}");
    }
    eprintln!("non-UTF-8 root: exit {code} {}", err.trim());
    std::fs::remove_file(&app_odd).unwrap();
    std::fs::rename(&odd, &lib).unwrap();
    let (code, err) = compose_checked(dir.path(), &app, &[&lib], &out);
    assert_eq!(code, 0, "a non-UTF-8 output path works: {err}");
    // The inspector too.
    let (code, err) = cli(&os(&[
        &"inspect",
        &dir.path().join(std::ffi::OsStr::from_bytes(b"\xff")),
    ]));
    assert_ne!(code, 0);
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn unwritable_output_folders_are_refused_cleanly() {
    let (dir, app, lib, _) = fixture();
    // A missing folder.
    let missing = dir.path().join("no/such/dir/out.wasm");
    let (code, err) = compose_checked(dir.path(), &app, &[&lib], &missing);
    assert_ne!(code, 0);
    assert!(err.contains("does not exist"), "{err}");
    // A read-only folder. As root, permissions do not stop writes, so fall
    // back to a folder no one can create files in.
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let writable = std::fs::write(ro.join("probe"), b"").is_ok();
    let target = if writable {
        std::fs::remove_file(ro.join("probe")).unwrap();
        PathBuf::from("/proc/airlock-out.wasm")
    } else {
        ro.join("out.wasm")
    };
    let (code, err) = compose_checked(dir.path(), &app, &[&lib], &target);
    assert_ne!(code, 0, "writing into `{}` succeeded", target.display());
    assert!(
        err.contains("airlock-out.wasm") || err.contains("out.wasm"),
        "{err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // A folder as the output.
    let (code, err) = compose_checked(dir.path(), &app, &[&lib], &ro);
    assert_ne!(code, 0, "a folder was overwritten");
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn the_output_is_never_an_input() {
    let (dir, app, lib, _) = fixture();
    for target in [&app, &lib] {
        let (code, err) = compose_checked(dir.path(), &app, &[&lib], target);
        assert_ne!(code, 0);
        assert!(err.contains("is the input"), "{err}");
        // The same file through another spelling of its path.
        let dotted = dir.path().join(".").join(target.file_name().unwrap());
        let (code, err) = compose_checked(dir.path(), &app, &[&lib], &dotted);
        assert_ne!(code, 0, "`{}` overwrote an input", dotted.display());
        assert!(err.contains("is the input"), "{err}");
    }
    // With a manifest, the output path given in `[output] path`.
    let manifest = dir.path().join("airlock.toml");
    std::fs::write(
        &manifest,
        "[output]\nroot = \"app\"\npath = \"lib.wasm\"\n\n[components.app]\npath = \"app.wasm\"\n\n[components.lib]\npath = \"lib.wasm\"\n",
    )
    .unwrap();
    let before = snapshot(dir.path());
    let (code, err) = cli(&os(&[&"compose", &"--manifest", &manifest]));
    assert_ne!(code, 0, "the manifest's output overwrote an input");
    assert!(err.contains("is the input"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

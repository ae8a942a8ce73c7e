//! Bare function imports (`thing-in: func(..)`) and inline interfaces
//! (`lists: interface { .. }`), run in wasmtime: denied explicitly, they
//! answer with their `err` case or trap under their own name, and the output
//! imports nothing; linked to a component that exports the same plain name,
//! the call reaches it.

use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Session, Val};
use airlock_tests::{compose, import_names};
use std::path::{Path, PathBuf};

/// A library that imports two bare functions and an inline interface, and
/// exports one function per import that calls it and returns what came back
/// (a result's discriminant, or the value).
const APP_WIT: &str = r#"
    package test:bare-app;
    world app {
        import thing-in: func(key: string) -> result<string, string>;
        import count: func() -> u32;
        import lists: interface {
            sum: func(values: list<u32>) -> result<u64, string>;
        }
        export try-thing: func() -> u32;
        export try-count: func() -> u32;
        export try-sum: func() -> u32;
    }
"#;

/// The app's code: arguments and return areas in the first page.
fn app_core() -> String {
    format!(
        r#"(module
          (import "$root" "thing-in" (func $thing_in (param i32 i32 i32)))
          (import "$root" "count" (func $count (result i32)))
          (import "lists" "sum" (func $sum (param i32 i32 i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "key")
          {}
          ;; result<string, string> at 64: discriminant, then the string.
          (func (export "try-thing") (result i32)
            (call $thing_in (i32.const 16) (i32.const 3) (i32.const 64))
            (i32.load8_u (i32.const 64)))
          (func (export "try-count") (result i32)
            (call $count))
          ;; result<u64, string> at 128.
          (func (export "try-sum") (result i32)
            (i32.store (i32.const 32) (i32.const 7))
            (call $sum (i32.const 32) (i32.const 1) (i32.const 128))
            (i32.load8_u (i32.const 128))))"#,
        airlock_core::testkit::bump_realloc(1024)
    )
}

/// A provider of `thing-in` that answers `ok("v")`.
const LIB_WIT: &str = r#"
    package test:bare-lib;
    world lib {
        export thing-in: func(key: string) -> result<string, string>;
    }
"#;

const LIB_CORE: &str = r#"(module
  (memory (export "memory") 1)
  (data (i32.const 8) "v")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 256))
  (func (export "thing-in") (param i32 i32) (result i32)
    (i32.store8 (i32.const 64) (i32.const 0))
    (i32.store (i32.const 68) (i32.const 8))
    (i32.store (i32.const 72) (i32.const 1))
    (i32.const 64)))"#;

fn write(dir: &Path, name: &str, wit: &str, core: &str) -> PathBuf {
    let bytes = airlock_core::testkit::component_from_wat(wit, core, None).unwrap();
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn call(session: &mut Session, func: &str) -> anyhow::Result<u32> {
    match session.call_export(None, func, &[])?.as_slice() {
        [Val::U32(v)] => Ok(*v),
        other => panic!("`{func}` returned {other:?}"),
    }
}

#[test]
fn denied_bare_imports_answer_err_or_trap_by_name_and_the_output_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = write(dir.path(), "app", APP_WIT, &app_core());
    // Unsatisfied until denied: nothing is stubbed silently.
    let spec = CompositionSpec::from_plugs(&app, &[], &[], &[], &[]).unwrap();
    let Err(refused) = compose(&spec) else {
        panic!("composed with bare imports nobody denied")
    };
    let refused = refused.to_string();
    for name in ["thing-in", "count", "lists"] {
        assert!(refused.contains(&format!("`--deny {name}`")), "{refused}");
    }

    let deny = ["thing-in", "count", "lists"].map(String::from);
    let spec = CompositionSpec::from_plugs(&app, &[], &[], &[], &deny).unwrap();
    let composed = compose(&spec).unwrap();
    assert_eq!(import_names(&composed.bytes).unwrap(), Vec::<String>::new());

    let engine = airlock_host::engine();
    let mut session = Session::new(&engine, &composed.bytes, &HostConfig::default()).unwrap();
    assert_eq!(call(&mut session, "try-thing").unwrap(), 1, "err");
    assert_eq!(call(&mut session, "try-sum").unwrap(), 1, "err");
    let trap = format!("{:?}", call(&mut session, "try-count").unwrap_err());
    assert!(trap.contains("airlock denied count"), "{trap}");
    assert!(
        session.calls().values().all(|n| *n == 0),
        "{:?}",
        session.calls()
    );
}

#[test]
fn a_bare_function_linked_to_its_provider_reaches_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = write(dir.path(), "app", APP_WIT, &app_core());
    let lib = write(dir.path(), "lib", LIB_WIT, LIB_CORE);
    let deny = ["count", "lists"].map(String::from);
    let spec = CompositionSpec::from_plugs(&app, &[lib], &[], &[], &deny).unwrap();
    let composed = compose(&spec).unwrap();
    assert!(
        composed.report.to_text().contains("linked to `lib`"),
        "{}",
        composed.report.to_text()
    );
    assert_eq!(import_names(&composed.bytes).unwrap(), Vec::<String>::new());
    let engine = airlock_host::engine();
    let mut session = Session::new(&engine, &composed.bytes, &HostConfig::default()).unwrap();
    assert_eq!(call(&mut session, "try-thing").unwrap(), 0, "ok from `lib`");
}

/// An app whose world has a resource of its own (`resource r` in the world,
/// as jco's and wit-component's resource fixtures have), with a static
/// function and a constructor, and a function that takes it.
const WORLD_TYPES_WIT: &str = r#"
    package test:world-types-app;
    world app {
        resource r {
            constructor();
            make: static func() -> result<r, string>;
        }
        import take: func(a: borrow<r>) -> u32;
        export try-make: func() -> u32;
        export try-new: func() -> u32;
    }
"#;

/// `try-make` returns `make`'s discriminant, `try-new` the new handle.
fn world_types_core() -> String {
    format!(
        r#"(module
          (import "$root" "[static]r.make" (func $make (param i32)))
          (import "$root" "[constructor]r" (func $new (result i32)))
          (import "$root" "take" (func $take (param i32) (result i32)))
          (import "$root" "[resource-drop]r" (func $drop (param i32)))
          (memory (export "memory") 1)
          {}
          (func (export "try-make") (result i32)
            (call $make (i32.const 64))
            (i32.load8_u (i32.const 64)))
          (func (export "try-new") (result i32)
            (call $new)))"#,
        airlock_core::testkit::bump_realloc(1024)
    )
}

#[test]
fn types_of_the_world_itself_are_denied_with_the_functions_that_use_them() {
    let dir = tempfile::tempdir().unwrap();
    let app = write(dir.path(), "app", WORLD_TYPES_WIT, &world_types_core());
    // Control: not denied, the type is refused by name (never imported from
    // the host, never stubbed silently).
    let spec = CompositionSpec::from_plugs(&app, &[], &[], &[], &[]).unwrap();
    let refused = compose(&spec).err().expect("refused").to_string();
    assert!(
        refused.contains("imports `r`, a type at the top level"),
        "{refused}"
    );

    let deny = ["*".to_string()];
    let spec = CompositionSpec::from_plugs(&app, &[], &[], &[], &deny).unwrap();
    let composed = compose(&spec).unwrap();
    assert_eq!(import_names(&composed.bytes).unwrap(), Vec::<String>::new());
    let engine = airlock_host::engine();
    let mut session = Session::new(&engine, &composed.bytes, &HostConfig::default()).unwrap();
    assert_eq!(call(&mut session, "try-make").unwrap(), 1, "err");
    let trap = format!("{:?}", call(&mut session, "try-new").unwrap_err());
    assert!(trap.contains("airlock denied [constructor]r"), "{trap}");
}

/// An app whose world `use`s a type of an interface it imports (`use
/// types.{thing};` in the world, as jco's `resource-import-and-export`
/// fixtures have), with a bare function that takes it.
const WORLD_USE_WIT: &str = r#"
    package test:world-use-app;
    interface types {
        resource thing;
    }
    world app {
        use types.{thing};
        import probe: func(a: option<thing>) -> result<u32, string>;
        export try-probe: func() -> u32;
    }
"#;

/// `try-probe` passes `none` and returns the result's discriminant.
fn world_use_core() -> String {
    format!(
        r#"(module
          (import "$root" "probe" (func $probe (param i32 i32 i32)))
          (memory (export "memory") 1)
          {}
          (func (export "try-probe") (result i32)
            (call $probe (i32.const 0) (i32.const 0) (i32.const 64))
            (i32.load8_u (i32.const 64))))"#,
        airlock_core::testkit::bump_realloc(1024)
    )
}

#[test]
fn a_type_the_world_uses_from_an_interface_is_denied_with_that_interface() {
    let dir = tempfile::tempdir().unwrap();
    let app = write(dir.path(), "app", WORLD_USE_WIT, &world_use_core());
    // Control: the interface denied but not the world's own names: refused by name.
    let deny = ["test:world-use-app/*".to_string()];
    let spec = CompositionSpec::from_plugs(&app, &[], &[], &[], &deny).unwrap();
    let refused = compose(&spec).err().expect("refused").to_string();
    assert!(
        refused.contains("imports `thing`, a type at the top level"),
        "{refused}"
    );

    let deny = ["test:world-use-app/*".to_string(), "*".to_string()];
    let spec = CompositionSpec::from_plugs(&app, &[], &[], &[], &deny).unwrap();
    let composed = compose(&spec).unwrap();
    assert_eq!(import_names(&composed.bytes).unwrap(), Vec::<String>::new());
    let engine = airlock_host::engine();
    let mut session = Session::new(&engine, &composed.bytes, &HostConfig::default()).unwrap();
    assert_eq!(call(&mut session, "try-probe").unwrap(), 1, "err");
}

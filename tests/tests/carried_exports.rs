//! An exported interface that `use`s types of an interface satisfied inside
//! the output (here denied): the output exports that interface first, so
//! that the types are named (wasmparser would reject the output otherwise),
//! and the exported function still runs in wasmtime. This is how a WASI 0.3
//! `wasi:http/handler` export composes deny-all: `wasi:http/types` is
//! exported beside it.

use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Session, Val};
use airlock_tests::{compose, import_names};

const APP_WIT: &str = r#"
    package test:app@1.0.0;

    interface geo {
        use test:shapes/types@1.0.0.{point};
        origin: func() -> point;
    }

    world app {
        export geo;
    }

    package test:shapes@1.0.0 {
        interface types {
            enum kind { dot, cross }
            record point { x: f64, y: f64, kind: kind }
        }
    }
"#;

/// `origin` returns the record at 64: x = 1.5, y = -2, kind = cross.
const APP_CORE: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "test:app/geo@1.0.0#origin") (result i32)
    (f64.store (i32.const 64) (f64.const 1.5))
    (f64.store (i32.const 72) (f64.const -2))
    (i32.store8 (i32.const 80) (i32.const 1))
    (i32.const 64)))"#;

#[test]
fn an_export_whose_types_are_denied_inside_carries_their_interface_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = airlock_core::testkit::component_from_wat(APP_WIT, APP_CORE, None).unwrap();
    let app = dir.path().join("app.wasm");
    std::fs::write(&app, bytes).unwrap();

    let deny = ["test:shapes/*".to_string()];
    let spec = CompositionSpec::from_plugs(&app, &[], &[], &[], &deny).unwrap();
    let composed = compose(&spec).unwrap();
    assert_eq!(import_names(&composed.bytes).unwrap(), Vec::<String>::new());
    assert_eq!(
        composed.report.output_exports,
        ["test:shapes/types@1.0.0", "test:app/geo@1.0.0"]
    );

    let engine = airlock_host::engine();
    let mut session = Session::new(&engine, &composed.bytes, &HostConfig::default()).unwrap();
    let result = session
        .call_export(Some("test:app/geo@1.0.0"), "origin", &[])
        .unwrap();
    let [Val::Record(fields)] = result.as_slice() else {
        panic!("`origin` returned {result:?}")
    };
    let fields: Vec<(&str, &Val)> = fields.iter().map(|(n, v)| (n.as_str(), v)).collect();
    assert_eq!(
        fields,
        [
            ("x", &Val::Float64(1.5)),
            ("y", &Val::Float64(-2.0)),
            ("kind", &Val::Enum("cross".into())),
        ]
    );
}

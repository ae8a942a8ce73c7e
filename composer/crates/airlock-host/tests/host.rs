//! The wasmtime host (`airlock_host`) and `airlock run`, with small components
//! built on the fly from WAT core modules and WIT worlds.

use airlock_core::testkit::bump_realloc;
use airlock_host::{
    self, HostConfig, Preopen, Reason, Session, UnsatisfiedImport, UnsatisfiedImports, Val,
};
use anyhow::Result;
use std::path::{Path, PathBuf};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

fn deps() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../wit/deps")
}

/// A component from a core module (WAT, standard name mangling) and the WIT
/// world it implements; WASI 0.2.12 from the workspace's `wit/deps` is available.
fn component(world: &str, module: &str) -> Result<Vec<u8>> {
    component_with_wasi("0.2.12", world, module)
}

/// [`component`] with the WASI packages relabelled as `version`, as older
/// toolchains import them (`wasi:cli/environment@0.2.0`).
fn component_with_wasi(version: &str, world: &str, module: &str) -> Result<Vec<u8>> {
    let mut resolve = Resolve::default();
    for name in airlock_core::testkit::WASI_PACKAGES {
        let path = deps().join(name).join(format!("{name}.wit"));
        let mut text = std::fs::read_to_string(&path)?.replace("@0.2.12", &format!("@{version}"));
        // Feature gates may not name versions after the package's own.
        for patch in 1..=12 {
            text = text.replace(&format!("version = 0.2.{patch})"), "version = 0.2.0)");
        }
        resolve.push_str(&path, &text)?;
    }
    let pkg = resolve.push_str("test.wit", world)?;
    let world = resolve.select_world(&[pkg], None)?;
    let mut module = airlock_core::testkit::wat(module)?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
}

fn captured() -> HostConfig {
    HostConfig {
        args: vec!["app.wasm".into()],
        ..HostConfig::default()
    }
}

#[test]
fn records_environment_calls_and_captures_stdout() -> Result<()> {
    let world = r#"
        package test:app;
        world app {
          import wasi:cli/environment@0.2.0;
          import wasi:cli/stdout@0.2.0;
          export wasi:cli/run@0.2.0;
        }"#;
    // get-environment twice, get-arguments once, then print the first
    // variable's value and a newline.
    let realloc = bump_realloc(1024);
    let module = format!(
        r#"(module
          (import "wasi:cli/environment@0.2.0" "get-environment" (func $get_env (param i32)))
          (import "wasi:cli/environment@0.2.0" "get-arguments" (func $get_args (param i32)))
          (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get_stdout (result i32)))
          (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
            (func $write (param i32 i32 i32 i32)))
          (memory (export "memory") 1)
          {realloc}
          (func (export "wasi:cli/run@0.2.0#run") (result i32)
            (local $out i32) (local $entry i32)
            (call $get_env (i32.const 16))
            (call $get_env (i32.const 16))
            (call $get_args (i32.const 32))
            (local.set $out (call $get_stdout))
            (local.set $entry (i32.load (i32.const 16)))
            (call $write (local.get $out)
              (i32.load offset=8 (local.get $entry)) (i32.load offset=12 (local.get $entry))
              (i32.const 48))
            (call $write (local.get $out) (i32.const 256) (i32.const 1) (i32.const 48))
            (i32.const 0))
          (data (i32.const 256) "\n"))"#
    );
    // Imports at 0.2.0 are served (and counted) by the 0.2.12 host.
    let bytes = component_with_wasi("0.2.0", world, &module)?;
    let config = HostConfig {
        env: vec![("GREETING".into(), "hello from the host".into())],
        ..captured()
    };
    let outcome = airlock_host::run_command(&airlock_host::engine(), &bytes, &config)?;
    assert_eq!(outcome.trap, None);
    assert_eq!(outcome.exit_code, 0);
    assert_eq!(
        String::from_utf8_lossy(&outcome.stdout),
        "hello from the host\n"
    );
    let calls: Vec<(&str, u64)> = outcome
        .calls
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        calls,
        [
            ("wasi:cli/environment#get-arguments", 1),
            ("wasi:cli/environment#get-environment", 2),
        ]
    );
    Ok(())
}

/// Calls `wasi:cli/exit` with `err` when given arguments beyond argv[0], else `ok`.
fn exit_component() -> Result<Vec<u8>> {
    airlock_core::testkit::exit_command(&deps())
}

#[test]
fn exit_code_comes_from_wasi_cli_exit() -> Result<()> {
    let engine = airlock_host::engine();
    let component = airlock_host::compile(&engine, &exit_component()?)?;

    let ok = airlock_host::run_component(&engine, &component, &captured())?;
    assert_eq!((ok.exit_code, ok.trap.as_deref()), (0, None));
    assert_eq!(ok.calls.get("wasi:cli/exit#exit"), Some(&1));

    let mut config = captured();
    config.args.push("--fail".into());
    let err = airlock_host::run_component(&engine, &component, &config)?;
    assert_eq!((err.exit_code, err.trap.as_deref()), (1, None));
    Ok(())
}

fn tcp_component() -> Result<Vec<u8>> {
    let world = r#"
        package test:app;
        world app {
          import wasi:sockets/tcp-create-socket@0.2.12;
          export wasi:cli/run@0.2.12;
        }"#;
    // run returns ok exactly when create-tcp-socket(ipv4) returned ok.
    let module = r#"(module
          (import "wasi:sockets/tcp-create-socket@0.2.12" "create-tcp-socket"
            (func $create (param i32 i32)))
          (memory (export "memory") 1)
          (func (export "wasi:cli/run@0.2.12#run") (result i32)
            (call $create (i32.const 0) (i32.const 16))
            (i32.load8_u (i32.const 16))))"#;
    component(world, module)
}

#[test]
fn sockets_need_allow_net() -> Result<()> {
    let engine = airlock_host::engine();
    let bytes = tcp_component()?;

    let err = airlock_host::run_command(&engine, &bytes, &captured()).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains(
            "`wasi:sockets/tcp-create-socket@0.2.12` is imported but not permitted; pass --allow-net"
        ),
        "{message}"
    );
    let unsatisfied = err
        .downcast_ref::<UnsatisfiedImports>()
        .expect("the typed error");
    let names: Vec<&str> = unsatisfied
        .imports
        .iter()
        .map(|i| i.import.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "wasi:sockets/network@0.2.12",
            "wasi:sockets/tcp-create-socket@0.2.12",
            "wasi:sockets/tcp@0.2.12",
        ]
    );

    let config = HostConfig {
        allow_net: true,
        ..captured()
    };
    let outcome = airlock_host::run_command(&engine, &bytes, &config)?;
    assert_eq!((outcome.exit_code, outcome.trap.as_deref()), (0, None));
    assert_eq!(
        outcome
            .calls
            .get("wasi:sockets/tcp-create-socket#create-tcp-socket"),
        Some(&1)
    );
    Ok(())
}

#[test]
fn every_unsatisfied_import_is_listed() -> Result<()> {
    let wit = r#"
        package test:app;
        interface custom { get: func() -> u32; }
        world app {
          import custom;
          import wasi:filesystem/preopens@0.2.12;
          import wasi:http/outgoing-handler@0.2.12;
          import wasi:cli/stdout@0.2.12;
          export wasi:cli/run@0.2.12;
        }"#;
    let bytes = airlock_core::testkit::component_from_wit(wit, Some(&deps()))?;
    let err = Session::new(&airlock_host::engine(), &bytes, &captured())
        .err()
        .expect("instantiation fails");
    let unsatisfied = err
        .downcast_ref::<UnsatisfiedImports>()
        .expect("the typed error");
    let dir = Reason::NotPermitted {
        flag: "--dir HOST[::GUEST]",
    };
    let http = Reason::NotPermitted {
        flag: "--allow-http",
    };
    let expected = [
        ("test:app/custom", Reason::NotWasi),
        ("wasi:filesystem/preopens@0.2.12", dir.clone()),
        ("wasi:filesystem/types@0.2.12", dir),
        ("wasi:http/outgoing-handler@0.2.12", http.clone()),
        ("wasi:http/types@0.2.12", http),
    ]
    .map(|(import, reason)| UnsatisfiedImport {
        import: import.into(),
        reason,
    });
    assert_eq!(unsatisfied.imports, expected);
    let message = err.to_string();
    assert!(
        message.starts_with("the host will not provide 5 imports"),
        "{message}"
    );
    assert!(
        message.contains("`test:app/custom` is imported but is not a WASI interface"),
        "{message}"
    );

    // With the flags, the same component links (its dummy code is never run).
    let dir = tempfile::tempdir()?;
    let config = HostConfig {
        allow_http: true,
        dirs: vec![Preopen {
            host: dir.path().into(),
            guest: "/data".into(),
            read_only: true,
        }],
        ..captured()
    };
    let err = Session::new(&airlock_host::engine(), &bytes, &config)
        .err()
        .expect("custom is still missing");
    let unsatisfied = err
        .downcast_ref::<UnsatisfiedImports>()
        .expect("the typed error");
    assert_eq!(unsatisfied.imports.len(), 1, "{err:#}");
    Ok(())
}

/// Every recorded function is redefined with a counting wrapper; instantiating a
/// component that imports them all type-checks every wrapper.
#[test]
fn recorders_type_check_against_real_imports() -> Result<()> {
    let wit = r#"
        package test:app;
        world app {
          import wasi:cli/environment@0.2.12;
          import wasi:cli/exit@0.2.12;
          import wasi:filesystem/preopens@0.2.12;
          import wasi:sockets/instance-network@0.2.12;
          import wasi:sockets/tcp-create-socket@0.2.12;
          import wasi:sockets/udp-create-socket@0.2.12;
          import wasi:sockets/ip-name-lookup@0.2.12;
          import wasi:http/outgoing-handler@0.2.12;
          export wasi:cli/run@0.2.12;
        }"#;
    let bytes = airlock_core::testkit::component_from_wit(wit, Some(&deps()))?;
    let dir = tempfile::tempdir()?;
    let config = HostConfig {
        allow_net: true,
        allow_http: true,
        dirs: vec![Preopen {
            host: dir.path().into(),
            guest: "/data".into(),
            read_only: false,
        }],
        ..captured()
    };
    Session::new(&airlock_host::engine(), &bytes, &config)?;
    Ok(())
}

#[test]
fn preopens_are_served_and_recorded() -> Result<()> {
    let world = r#"
        package test:app;
        world app {
          import wasi:filesystem/preopens@0.2.12;
          export wasi:cli/run@0.2.12;
        }"#;
    // run returns ok exactly when there is one preopen, named "/data".
    let realloc = bump_realloc(1024);
    let module = format!(
        r#"(module
          (import "wasi:filesystem/preopens@0.2.12" "get-directories" (func $dirs (param i32)))
          (memory (export "memory") 1)
          {realloc}
          (func (export "wasi:cli/run@0.2.12#run") (result i32)
            (local $entry i32)
            (call $dirs (i32.const 16))
            (if (i32.ne (i32.load offset=4 (i32.const 16)) (i32.const 1))
              (then (return (i32.const 1))))
            (local.set $entry (i32.load (i32.const 16)))
            (i32.ne (i32.load offset=8 (local.get $entry)) (i32.const 5))))"#
    );
    let bytes = component(world, &module)?;
    let dir = tempfile::tempdir()?;
    let config = HostConfig {
        dirs: vec![Preopen {
            host: dir.path().into(),
            guest: "/data".into(),
            read_only: true,
        }],
        ..captured()
    };
    let outcome = airlock_host::run_command(&airlock_host::engine(), &bytes, &config)?;
    assert_eq!((outcome.exit_code, outcome.trap.as_deref()), (0, None));
    assert_eq!(
        outcome
            .calls
            .get("wasi:filesystem/preopens#get-directories"),
        Some(&1)
    );
    Ok(())
}

#[test]
fn library_exports_are_callable_and_traps_name_functions() -> Result<()> {
    let world = r#"
        package test:lib@0.1.0;
        interface math {
          add: func(a: u32, b: u32) -> u32;
          boom: func();
        }
        world lib { export math; }"#;
    let module = r#"(module
          (func $airlock_denied_wasi_sockets_tcp (unreachable))
          (func (export "test:lib/math@0.1.0#add") (param i32 i32) (result i32)
            (i32.add (local.get 0) (local.get 1)))
          (func (export "test:lib/math@0.1.0#boom")
            (call $airlock_denied_wasi_sockets_tcp)))"#;
    let bytes = component(world, module)?;
    let mut session = Session::new(&airlock_host::engine(), &bytes, &HostConfig::default())?;
    let sum = session.call_export(Some("test:lib/math"), "add", &[Val::U32(2), Val::U32(40)])?;
    assert_eq!(sum, [Val::U32(42)]);
    let sum = session.call_export(
        Some("test:lib/math@0.1.0"),
        "add",
        &[Val::U32(1), Val::U32(1)],
    )?;
    assert_eq!(sum, [Val::U32(2)]);

    let trap = session
        .call_export(Some("test:lib/math"), "boom", &[])
        .unwrap_err();
    let text = format!("{trap:?}");
    assert!(text.contains("airlock_denied_wasi_sockets_tcp"), "{text}");
    assert!(text.contains("unreachable"), "{text}");

    let missing = session
        .call_export(Some("test:lib/nope"), "add", &[])
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("exports `test:lib/math@0.1.0`"),
        "{missing}"
    );
    Ok(())
}

#[test]
fn a_trap_in_run_is_reported_with_its_backtrace() -> Result<()> {
    let world = r#"
        package test:app;
        world app { export wasi:cli/run@0.2.12; }"#;
    let module = r#"(module
          (func $airlock_denied_wasi_cli_environment (unreachable))
          (func (export "wasi:cli/run@0.2.12#run") (result i32)
            (call $airlock_denied_wasi_cli_environment)
            (i32.const 0)))"#;
    let bytes = component(world, module)?;
    let outcome = airlock_host::run_command(&airlock_host::engine(), &bytes, &captured())?;
    assert_eq!(outcome.exit_code, airlock_host::TRAP_EXIT_CODE);
    let trap = outcome.trap.expect("a trap");
    assert!(
        trap.contains("airlock_denied_wasi_cli_environment"),
        "{trap}"
    );
    assert!(trap.contains("wasm backtrace"), "{trap}");
    Ok(())
}

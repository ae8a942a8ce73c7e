//! Transparency on WASI 0.3 (as `transparency.rs` for 0.2): composed with
//! every 0.3 interface allowed and granted, a WASI 0.3 command
//! (`tests/probes/p3-command`) computes exactly what it computes uncomposed:
//! the same output, error stream and exit code, reading its arguments,
//! environment, preopens, a file through the filesystem and a TCP connection.
//! And composed deny-all, the same runs differ (the control: the comparison
//! can fail).

use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Output, Preopen, RunOutcome};
use airlock_tests::{built_component, compose, import_names};
use std::net::TcpListener;
use std::path::Path;

fn config(dir: &Path, args: &[&str]) -> HostConfig {
    HostConfig {
        args: args.iter().map(|a| a.to_string()).collect(),
        env: vec![("GREETING".into(), "hello".into())],
        dirs: vec![Preopen {
            host: dir.into(),
            guest: "/data".into(),
            read_only: true,
        }],
        allow_net: true,
        stdout: Output::Capture,
        stderr: Output::Capture,
        ..HostConfig::default()
    }
}

fn run(bytes: &[u8], config: &HostConfig) -> RunOutcome {
    airlock_host::run_command(&airlock_host::engine(), bytes, config).expect("it instantiates")
}

/// The command composed alone with `allow` (the plug form grants its root
/// what the allow-list permits).
fn composed(allow: &[&str]) -> Vec<u8> {
    let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
    let spec =
        CompositionSpec::from_plugs(&built_component("p3_command"), &[], &allow, &[], &[]).unwrap();
    compose(&spec).unwrap().bytes
}

#[test]
fn a_wasi_0_3_command_granted_everything_computes_what_it_does_uncomposed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "the file's text\n").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    // Accepts every connection the runs make, and keeps them open until the end.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });

    let plain = std::fs::read(built_component("p3_command")).unwrap();
    let granted = composed(&["wasi:*@0.3"]);
    let imports = import_names(&granted).unwrap();
    assert!(
        !imports.is_empty() && imports.iter().all(|i| i.ends_with("@0.3.0")),
        "{imports:?}"
    );
    let denied = composed(&[]);
    assert_eq!(import_names(&denied).unwrap(), Vec::<String>::new());

    // Each run with a line its output must have, so the comparison is of real work.
    let connected = format!("connected to {address}");
    let runs = [
        (vec!["p3.wasm"], "env GREETING=hello"),
        (vec!["p3.wasm", "cat", "/data/notes.txt"], "the file's text"),
        (vec!["p3.wasm", "cat", "/data/missing.txt"], "preopen /data"),
        (
            vec!["p3.wasm", "connect", address.as_str()],
            connected.as_str(),
        ),
    ];
    for (args, line) in runs {
        let config = config(dir.path(), &args);
        let want = run(&plain, &config);
        let text = String::from_utf8_lossy(&want.stdout);
        assert!(text.contains(line), "{args:?}: {text}");
        let got = run(&granted, &config);
        assert_eq!(
            (got.exit_code, &got.stdout, &got.stderr),
            (want.exit_code, &want.stdout, &want.stderr),
            "{args:?}: composed with everything granted"
        );
        // Control: deny-all prints nothing at all (stdout is denied too).
        let got = run(&denied, &config);
        assert_ne!(got.stdout, want.stdout, "{args:?}: deny-all");
    }
}

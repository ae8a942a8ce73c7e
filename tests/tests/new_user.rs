//! What a new user trips over (issue #15): a program composed deny-all still
//! exits as it would; a denial that would trap where a program may well call
//! it is named in a warning with what avoids it; the audit fits 80 columns.

use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, TRAP_EXIT_CODE};
use airlock_tests::cli::Cli;
use airlock_tests::{compose, example_manifest, import_names, workspace};
use std::path::{Path, PathBuf};

airlock_tests::cli_child!();

/// Runs `airlock ARGS` in this process: exit code, stdout, stderr.
fn cli(args: &[&str]) -> (i32, String, String) {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let args = airlock_tests::without_user_cache(args.iter().copied());
    let code = airlock::main(args, &mut stdout, &mut stderr);
    let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8 output");
    (code, text(stdout), text(stderr))
}

/// A command (exports `wasi:cli/run`) that calls `exit(ok)` or `exit(err)`.
fn exit_program(dir: &Path, ok: bool) -> PathBuf {
    let wit = r#"
        package test:exit-program;
        world program {
            import wasi:cli/exit@0.2.12;
            export wasi:cli/run@0.2.12;
        }
    "#;
    let status = if ok { 0 } else { 1 };
    let core = format!(
        r#"(module
            (import "wasi:cli/exit@0.2.12" "exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
            (func (export "wasi:cli/run@0.2.12#run") (result i32)
                (call $exit (i32.const {status}))
                unreachable))"#
    );
    let deps = workspace().join("wit/deps");
    let bytes = airlock_core::testkit::component_from_wat(wit, &core, Some(&deps)).unwrap();
    let path = dir.join(if ok { "exit0.wasm" } else { "exit1.wasm" });
    std::fs::write(&path, bytes).unwrap();
    path
}

fn exit_code(bytes: &[u8]) -> i32 {
    airlock_host::run_command(&airlock_host::engine(), bytes, &HostConfig::default())
        .unwrap()
        .exit_code
}

#[test]
fn a_program_composed_deny_all_still_exits_as_it_would() {
    let dir = tempfile::tempdir().unwrap();
    for (ok, code) in [(true, 0), (false, 1)] {
        let program = exit_program(dir.path(), ok);
        let original = exit_code(&std::fs::read(&program).unwrap());
        assert_eq!(original, code);

        let spec = CompositionSpec::from_plugs(&program, &[], &[], &[], &[]).unwrap();
        let composed = compose(&spec).unwrap();
        let imports = import_names(&composed.bytes).unwrap();
        assert_eq!(imports, vec!["wasi:cli/exit@0.2.12".to_string()]);
        assert!(
            composed
                .report
                .to_text()
                .contains("`exit0` keeps `wasi:cli/exit`")
                || composed
                    .report
                    .to_text()
                    .contains("`exit1` keeps `wasi:cli/exit`"),
            "{}",
            composed.report.to_text()
        );
        assert_eq!(exit_code(&composed.bytes), original);

        // Control: denied explicitly, exit traps, as documented.
        let deny = ["wasi:cli/exit".to_string()];
        let spec = CompositionSpec::from_plugs(&program, &[], &[], &[], &deny).unwrap();
        let denied = compose(&spec).unwrap();
        assert_eq!(import_names(&denied.bytes).unwrap(), Vec::<String>::new());
        assert_eq!(exit_code(&denied.bytes), TRAP_EXIT_CODE);
    }
}

#[test]
fn a_library_composed_alone_keeps_nothing() {
    // Exit is kept for programs only: a library alone imports nothing.
    let stats = workspace().join("target/wasm32-wasip2/component/markdown.wasm");
    let spec = CompositionSpec::from_plugs(&stats, &[], &[], &[], &[]).unwrap();
    let composed = compose(&spec).unwrap();
    assert_eq!(import_names(&composed.bytes).unwrap(), Vec::<String>::new());
    assert!(!composed.report.to_text().contains("keeps `wasi:cli/exit`"));
}

/// A command that asks for all three standard streams at start-up, as the
/// preview1 adapter does.
fn stdio_program(dir: &Path) -> PathBuf {
    let wit = r#"
        package test:stdio-program;
        world program {
            import wasi:cli/stdin@0.2.12;
            import wasi:cli/stdout@0.2.12;
            import wasi:cli/stderr@0.2.12;
            export wasi:cli/run@0.2.12;
        }
    "#;
    let deps = workspace().join("wit/deps");
    let bytes = airlock_core::testkit::component_from_wit(wit, Some(&deps)).unwrap();
    let path = dir.join("stdio.wasm");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_denied_stream_that_would_trap_is_named_with_what_avoids_it() {
    let dir = tempfile::tempdir().unwrap();
    let program = stdio_program(dir.path());
    let out = dir.path().join("out.wasm");
    let args = [
        "airlock",
        "compose",
        program.to_str().unwrap(),
        "--allow",
        "wasi:cli/stdout@0.2",
        "-o",
        out.to_str().unwrap(),
    ];
    let (code, _, stderr) = cli(&args);
    assert_eq!(code, 0, "{stderr}");
    for stream in ["stdin", "stderr"] {
        let warning = stderr
            .lines()
            .find(|l| l.contains(&format!("`get-{stream}`")))
            .unwrap_or_else(|| panic!("no warning for {stream}:\n{stderr}"));
        assert!(
            warning.starts_with("warning: `stdio` traps if it calls")
                && warning.contains(&format!("--allow wasi:cli/{stream}@0.2"))
                && warning.contains(&format!("--set stdio.{stream}=deny")),
            "{warning}"
        );
    }
    // Control: stdout is granted, so nothing is said of it.
    assert!(!stderr.contains("`get-stdout`"), "{stderr}");
}

#[test]
fn the_example_audit_fits_80_columns_with_a_summary_first() {
    let manifest = example_manifest();
    let args = ["airlock", "check", "--manifest", manifest.to_str().unwrap()];
    let (code, audit, stderr) = cli(&args);
    assert_eq!(code, 0, "{stderr}");
    let wide: Vec<&str> = audit.lines().filter(|l| l.chars().count() > 80).collect();
    assert!(wide.is_empty(), "lines over 80 columns: {wide:#?}");
    // One summary line per component, before any detail.
    let first_detail = audit.find("\ncomponent `").unwrap();
    let summary = &audit[..first_detail];
    assert!(
        summary.contains("  telemetry: 13 imports: 0 granted, 0 linked, 13 denied"),
        "{summary}"
    );
    assert_eq!(
        summary.lines().filter(|l| l.starts_with("  ")).count(),
        6,
        "{summary}"
    );
    // A link to a provider of the same name is not spelled twice.
    assert!(
        audit.contains("airlock:stats/stats@0.1.0") && !audit.contains("(airlock:stats/stats@"),
        "{audit}"
    );
}

#[test]
fn a_closed_stream_is_what_the_warning_says_it_is() {
    // Following the warning's advice: no warning, and the program composes.
    let dir = tempfile::tempdir().unwrap();
    let program = stdio_program(dir.path());
    let out = dir.path().join("out.wasm");
    let args = [
        "airlock",
        "compose",
        program.to_str().unwrap(),
        "--allow",
        "wasi:cli/stdout@0.2",
        "--set",
        "stdio.stdin=deny",
        "--set",
        "stdio.stderr=deny",
        "-o",
        out.to_str().unwrap(),
    ];
    let (code, _, stderr) = cli(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning:"), "{stderr}");
}

#[test]
fn compose_and_check_find_airlock_toml_in_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(example_manifest()).unwrap();
    let components = workspace().join("target/wasm32-wasip2/component");
    let manifest = manifest
        .replace(
            "../../target/wasm32-wasip2/component",
            components.to_str().unwrap(),
        )
        .replace("../../target/airlock/app.wasm", "app.wasm");
    std::fs::write(dir.path().join("airlock.toml"), manifest).unwrap();
    let check = Cli::new(&["check", "--quiet"])
        .current_dir(dir.path())
        .run();
    assert_eq!(check.code, Some(0), "{}", check.stderr);
    let compose = Cli::new(&["compose", "-q"]).current_dir(dir.path()).run();
    assert_eq!(compose.code, Some(0), "{}", compose.stderr);
    assert!(dir.path().join("app.wasm").is_file());
    // `--quiet`: the summary alone, on stdout; `wrote` on stderr.
    assert!(
        compose.stdout.starts_with("airlock audit: 6 component(s)"),
        "{}",
        compose.stdout
    );
    assert!(
        !compose.stdout.contains("component `"),
        "{}",
        compose.stdout
    );
    assert!(
        compose.stderr.contains("wrote app.wasm"),
        "{}",
        compose.stderr
    );
    // The capability lock it created is announced, once.
    assert!(
        compose.stderr.contains("info: created `airlock.lock`"),
        "{}",
        compose.stderr
    );
    let again = Cli::new(&["compose", "-q"]).current_dir(dir.path()).run();
    assert!(!again.stderr.contains("info: created"), "{}", again.stderr);

    // Control: with no manifest there, the message says what to give.
    let empty = tempfile::tempdir().unwrap();
    let none = Cli::new(&["compose"]).current_dir(empty.path()).run();
    assert_eq!(none.code, Some(2), "{}", none.stderr);
    assert!(
        none.stderr.contains("no `airlock.toml` here"),
        "{}",
        none.stderr
    );
}

#[test]
fn check_json_prints_the_problems_when_the_policy_fails() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(example_manifest()).unwrap();
    let components = workspace().join("target/wasm32-wasip2/component");
    let manifest = manifest
        .replace(
            "../../target/wasm32-wasip2/component",
            components.to_str().unwrap(),
        )
        .replace(
            "[components.telemetry]",
            "[components.telemetry]\ngrant = [\"wasi:sockets/*\"]",
        );
    let path = dir.path().join("airlock.toml");
    std::fs::write(&path, manifest).unwrap();
    let args = ["airlock", "check", "-m", path.to_str().unwrap(), "--json"];
    let (code, stdout, _) = cli(&args);
    assert_eq!(code, 3);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["ok"], false);
    let problems = json["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p
            .as_str()
            .unwrap()
            .contains("`telemetry` is granted `wasi:sockets/")),
        "{json:#}"
    );
}

#[test]
fn inspect_and_compose_take_the_same_format_flag() {
    let lib = workspace().join("target/wasm32-wasip2/component/telemetry.wasm");
    let lib = lib.to_str().unwrap();
    let run = cli;
    let (code, json, _) = run(&["airlock", "inspect", lib, "--format", "json"]);
    assert_eq!(code, 0);
    assert!(
        serde_json::from_str::<serde_json::Value>(&json).is_ok(),
        "{json}"
    );
    let (code, _, err) = run(&["airlock", "inspect", lib, "--format", "dot"]);
    assert_eq!(code, 2);
    assert!(err.contains("airlock compose ... --format dot"), "{err}");
}

#[test]
fn help_examples_stay_whole_at_80_columns() {
    for command in ["compose", "check", "inspect", "lock", "publish", "run"] {
        let help = Cli::new(&[command, "--help"]).env("COLUMNS", "80").run();
        assert_eq!(help.code, Some(0), "{}", help.stderr);
        let wide: Vec<&str> = help
            .stdout
            .lines()
            .filter(|l| l.chars().count() > 80)
            .collect();
        assert!(
            wide.is_empty(),
            "`{command} --help` is wider than 80: {wide:#?}"
        );
        // In the examples, a command goes on only after a trailing backslash,
        // and never breaks anywhere else.
        let examples = help.stdout.split("Examples:").nth(1).unwrap_or_default();
        let mut continued = false;
        for line in examples.lines().take_while(|l| !l.trim().is_empty()) {
            if continued {
                assert!(line.starts_with("      "), "`{command}`: {line}");
            } else {
                assert!(line.starts_with("  airlock "), "`{command}`: {line:?}");
            }
            continued = line.trim_end().ends_with('\\');
        }
    }
}

/// A `wasm32-wasip1` program as toolchains emit it: a core module importing
/// `wasi_snapshot_preview1`, printing `hello` and exiting 0.
fn preview1_hello(dir: &Path) -> PathBuf {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 16) "hello\n")
        (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16))
            (i32.store (i32.const 4) (i32.const 6))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;
    let path = dir.join("hello-p1.wasm");
    std::fs::write(&path, airlock_core::testkit::wat(wat).unwrap()).unwrap();
    path
}

#[test]
fn a_preview1_module_is_adapted_and_composed() {
    let dir = tempfile::tempdir().unwrap();
    let module = preview1_hello(dir.path());
    let out = dir.path().join("out.wasm");
    let args = [
        "airlock",
        "compose",
        module.to_str().unwrap(),
        "--allow",
        "wasi:cli/std*@0.2",
        "-o",
        out.to_str().unwrap(),
    ];
    let (code, _, stderr) = cli(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("is a wasi_snapshot_preview1 module: adapted to a component with the official command adapter"),
        "{stderr}"
    );
    // It runs: `hello` on stdout, exit 0, with only stdio (and exit) from the host.
    let bytes = std::fs::read(&out).unwrap();
    let imports = import_names(&bytes).unwrap();
    assert!(
        imports
            .iter()
            .all(|i| i.starts_with("wasi:cli/") || i.starts_with("wasi:io/")),
        "{imports:?}"
    );
    let run =
        airlock_host::run_command(&airlock_host::engine(), &bytes, &HostConfig::default()).unwrap();
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout, b"hello\n");
}

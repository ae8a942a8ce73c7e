//! `airlock run` runs ordinary programs as `wasmtime run` does: it links every
//! WASI interface a program imports that a flag need not make useful, with
//! nothing in it (no preopens, an empty environment, no network), takes the
//! program's arguments after the component without `--`, caches compiled code,
//! and says what `inspect` says about a core module.
//!
//! The programs are in `tests/fixtures/run` (sources, a build script, and the
//! components built from them; see its README): Rust std programs for
//! `wasm32-wasip2` whose imports come from the toolchain, one of them a
//! preview1 program adapted by the toolchain's WASI adapter, which imports the
//! filesystem just to print `hello`. Each run is the whole CLI
//! (`airlock::main`, what the `airlock` binary runs) in a child process,
//! so the program's stdio is real.

use airlock_host::{HostConfig, Reason, UnsatisfiedImports};
use std::path::{Path, PathBuf};

airlock_tests::cli_child!();

/// What one `airlock` command did.
type Run = airlock_tests::cli::Outcome;

/// Runs `airlock ARGS` in a child process with `env` set (and no cache
/// location from the test's own environment), stdin empty.
fn airlock_with(args: &[&dyn AsRef<std::ffi::OsStr>], env: &[(&str, &Path)]) -> Run {
    let args: Vec<&str> = args
        .iter()
        .map(|a| a.as_ref().to_str().expect("UTF-8 arguments"))
        .collect();
    let mut cli = airlock_tests::cli::Cli::new(&args)
        .env_remove("AIRLOCK_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME");
    for (key, value) in env {
        cli = cli.env(key, value.as_os_str());
    }
    cli.run()
}

/// [`airlock_with`] with the compilation cache in `cache`.
fn airlock(cache: &Path, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    airlock_with(args, &[("AIRLOCK_CACHE_DIR", cache)])
}

fn program(name: &str) -> PathBuf {
    airlock_tests::workspace()
        .join("tests/fixtures/run")
        .join(name)
}

/// The lines a run of `args.wasm` printed, by kind.
fn lines<'a>(stdout: &'a str, kind: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(kind)?.strip_prefix(' '))
        .collect()
}

fn imports(name: &str) -> Vec<String> {
    let bytes = std::fs::read(program(name)).unwrap();
    airlock_tests::import_names(&bytes).unwrap()
}

#[test]
fn hello_prints_hello_and_exits_0() {
    let cache = tempfile::tempdir().unwrap();
    let run = airlock(cache.path(), &[&"run", &program("hello.wasm")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "hello\n");
    assert_eq!(run.stderr, "");
}

/// The issue's case: a wasip1 program adapted to a component imports the
/// filesystem to print `hello`; wasmtime links it with no preopens and the
/// program prints `hello`, and so does `airlock run`.
#[test]
fn a_wasip1_hello_that_imports_the_filesystem_runs_with_no_preopens() {
    let imported = imports("hello-p1.wasm");
    assert!(
        imported
            .iter()
            .any(|i| i.starts_with("wasi:filesystem/preopens@")),
        "{imported:?}"
    );
    let cache = tempfile::tempdir().unwrap();
    let run = airlock(cache.path(), &[&"run", &program("hello-p1.wasm")]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "hello\n"),
        "{run:?}"
    );
    assert_eq!(run.stderr, "");

    // The library host: `HostConfig::command` (what `airlock run` uses) links
    // the filesystem empty; the strict default, for tests, still refuses it.
    let bytes = std::fs::read(program("hello-p1.wasm")).unwrap();
    let config = HostConfig {
        stdout: airlock_host::Output::Capture,
        stderr: airlock_host::Output::Capture,
        stdin: airlock_host::Stdin::Empty,
        ..HostConfig::command("hello-p1.wasm")
    };
    let outcome = airlock_host::run_command(&airlock_host::engine(), &bytes, &config).unwrap();
    assert_eq!(outcome.exit_code, 0, "{outcome:?}");
    assert_eq!(String::from_utf8_lossy(&outcome.stdout), "hello\n");
    let strict = airlock_host::run_command(&airlock_host::engine(), &bytes, &HostConfig::default())
        .unwrap_err();
    let refused = strict
        .downcast_ref::<UnsatisfiedImports>()
        .expect("a refusal");
    assert!(
        refused
            .imports
            .iter()
            .all(|i| i.import.starts_with("wasi:filesystem/")
                && matches!(i.reason, Reason::NotPermitted { .. })),
        "{refused}"
    );
}

/// Composed with everything allowed, the program behaves as it does uncomposed.
#[test]
fn composed_with_everything_allowed_it_behaves_as_uncomposed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = dir.path().join("hello-all.wasm");
    let composed = airlock(
        cache.path(),
        &[
            &"compose",
            &program("hello-p1.wasm"),
            &"--allow",
            &"wasi:*",
            &"-o",
            &out,
        ],
    );
    assert_eq!(composed.code, Some(0), "{composed:?}");
    let original = airlock(cache.path(), &[&"run", &program("hello-p1.wasm")]);
    let run = airlock(cache.path(), &[&"run", &out]);
    assert_eq!(
        (run.code, &run.stdout, &run.stderr),
        (original.code, &original.stdout, &original.stderr)
    );
    assert_eq!(run.stdout, "hello\n");
}

#[test]
fn arguments_after_the_component_reach_it_without_dashes() {
    let cache = tempfile::tempdir().unwrap();
    let app = program("args.wasm");

    // As `wasmtime run app.wasm a b`: everything after the component is the
    // program's, hyphens included.
    let run = airlock(
        cache.path(),
        &[&"run", &app, &"--verbose", &"a", &"-x", &"b"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        lines(&run.stdout, "arg"),
        ["args.wasm", "--verbose", "a", "-x", "b"]
    );

    // `--` still ends airlock's flags; flags of `airlock run` may come before
    // the component or between it and the program's arguments.
    let run = airlock(cache.path(), &[&"run", &app, &"--", &"--dir", &"x"]);
    assert_eq!(
        lines(&run.stdout, "arg"),
        ["args.wasm", "--dir", "x"],
        "{run:?}"
    );
    let run = airlock(
        cache.path(),
        &[&"run", &"--env", &"A=1", &app, &"--env", &"B=2", &"b"],
    );
    assert_eq!(lines(&run.stdout, "arg"), ["args.wasm", "b"], "{run:?}");
    assert_eq!(lines(&run.stdout, "env"), ["A=1", "B=2"]);
    // After the first program argument, `--env` is the program's.
    let run = airlock(cache.path(), &[&"run", &app, &"b", &"--env", &"C=3"]);
    assert_eq!(
        lines(&run.stdout, "arg"),
        ["args.wasm", "b", "--env", "C=3"]
    );
}

/// The environment is empty, as in wasmtime, whatever the host's is.
#[test]
fn the_environment_is_empty_unless_given() {
    let cache = tempfile::tempdir().unwrap();
    let app = program("args.wasm");
    let run = airlock_with(
        &[&"run", &app],
        &[
            ("AIRLOCK_CACHE_DIR", cache.path()),
            ("SECRET_TOKEN", Path::new("s3cr3t")),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(lines(&run.stdout, "env"), Vec::<&str>::new());
    let run = airlock_with(
        &[&"run", &"--env", &"SECRET_TOKEN", &app],
        &[
            ("AIRLOCK_CACHE_DIR", cache.path()),
            ("SECRET_TOKEN", Path::new("s3cr3t")),
        ],
    );
    assert_eq!(
        lines(&run.stdout, "env"),
        ["SECRET_TOKEN=s3cr3t"],
        "{run:?}"
    );
}

#[test]
fn a_file_read_without_dir_is_a_filesystem_error_and_with_dir_succeeds() {
    let cache = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("notes.txt"), "from the host\n").unwrap();
    let app = program("cat.wasm");

    // No preopens: the program runs and its open fails, as under wasmtime.
    let run = airlock(cache.path(), &[&"run", &app, &"/data/notes.txt"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("cat: /data/notes.txt: No such file or directory"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("will not provide"), "{run:?}");

    let mapped = format!("{}::/data", data.path().display());
    for flag in ["--dir", "--dir-ro"] {
        let run = airlock(
            cache.path(),
            &[&"run", &flag, &mapped, &app, &"/data/notes.txt"],
        );
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (Some(0), "from the host\n"),
            "{run:?}"
        );
    }
}

#[test]
fn the_network_stays_off_without_allow_net() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let cache = tempfile::tempdir().unwrap();
    let app = program("connect.wasm");

    // The sockets are linked (the program starts) but every address is refused.
    let run = airlock(cache.path(), &[&"run", &app, &addr]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("(PermissionDenied)"),
        "expected access-denied from wasi:sockets: {run:?}"
    );
    assert!(!run.stderr.contains("will not provide"), "{run:?}");

    let run = airlock(cache.path(), &[&"run", &"--allow-net", &app, &addr]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("connected to {addr}\n"));
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_ok(), "the connection reached the host");
}

/// The entries of a cache directory (`compiled/`).
fn entries(compiled: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(compiled) {
        Ok(dir) => {
            let mut paths: Vec<PathBuf> = dir.map(|e| e.unwrap().path()).collect();
            paths.sort();
            paths
        }
        Err(_) => Vec::new(),
    }
}

#[test]
fn compiled_code_is_cached_unless_no_cache() {
    let root = tempfile::tempdir().unwrap();
    let compiled = root.path().join("compiled");
    let app = program("hello.wasm");

    let run = airlock(root.path(), &[&"run", &"--no-cache", &app]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "hello\n"),
        "{run:?}"
    );
    assert_eq!(
        entries(&compiled),
        Vec::<PathBuf>::new(),
        "--no-cache wrote"
    );

    let run = airlock(root.path(), &[&"run", &app]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "hello\n"),
        "{run:?}"
    );
    let first = entries(&compiled);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(
        first[0].extension().is_some_and(|e| e == "cwasm"),
        "{first:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&compiled).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the cache is private");
    }

    // From the cache: the same output, the same single entry.
    let run = airlock(root.path(), &[&"run", &app]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "hello\n"),
        "{run:?}"
    );
    assert_eq!(run.stderr, "");
    assert_eq!(entries(&compiled), first);

    // A corrupt entry is not loaded: compiled again, replaced, with a warning.
    let mut bytes = std::fs::read(&first[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&first[0], &bytes).unwrap();
    let run = airlock(root.path(), &[&"run", &app]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "hello\n"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("discarded (checksum mismatch"),
        "{run:?}"
    );
    assert_ne!(std::fs::read(&first[0]).unwrap(), bytes, "replaced");

    // XDG_CACHE_HOME is used when AIRLOCK_CACHE_DIR is not set.
    let xdg = tempfile::tempdir().unwrap();
    let run = airlock_with(&[&"run", &app], &[("XDG_CACHE_HOME", xdg.path())]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(entries(&xdg.path().join("airlock/compiled")).len(), 1);
}

/// A cache directory others can write to is not used (deserializing trusts
/// its input); the program still runs.
#[cfg(unix)]
#[test]
fn a_cache_open_to_others_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let compiled = root.path().join("compiled");
    std::fs::create_dir(&compiled).unwrap();
    std::fs::set_permissions(&compiled, std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = airlock(root.path(), &[&"run", &program("hello.wasm")]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "hello\n"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("not using the compilation cache") && run.stderr.contains("chmod 700"),
        "{run:?}"
    );
    assert_eq!(entries(&compiled), Vec::<PathBuf>::new());
}

/// A wasip1 program as a core module (the classic `fd_write` hello), and a
/// plain core module: `run` says what `inspect` says, and exits 1.
#[test]
fn a_wasip1_module_runs_and_any_other_core_module_gets_the_message_of_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let wasip1 = airlock_core::testkit::wat(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "hello\n")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16))
            (i32.store (i32.const 4) (i32.const 6))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    // A wasip1 program is adapted and runs, as `wasmtime run` runs it.
    let p1 = dir.path().join("hello-wasip1.wasm");
    std::fs::write(&p1, wasip1).unwrap();
    let run = airlock(dir.path(), &[&"run", &p1]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "hello\n", "{run:?}");
    assert!(
        run.stderr
            .contains("is a wasi_snapshot_preview1 module: adapted"),
        "{run:?}"
    );
    // Any other core module gets what `inspect` says of it.
    let plain = airlock_core::testkit::wat(r#"(module (func (export "main")))"#).unwrap();
    {
        let path = dir.path().join("plain.wasm");
        std::fs::write(&path, plain).unwrap();
        let inspect = airlock(dir.path(), &[&"inspect", &path]);
        let run = airlock(dir.path(), &[&"run", &path]);
        assert_eq!(run.code, Some(1), "{run:?}");
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr.contains("is a core WebAssembly module"),
            "{run:?}"
        );
        assert!(!run.stderr.contains("component parser"), "{run:?}");
        let said = |r: &Run| {
            r.stderr
                .lines()
                .find(|l| l.contains("core WebAssembly module"))
                .map(|l| l.trim_start_matches("error: ").to_string())
        };
        assert_eq!(
            said(&run),
            said(&inspect),
            "run: {run:?}\ninspect: {inspect:?}"
        );
    }
}

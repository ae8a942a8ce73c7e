//! `airlock run` runs WASI 0.3 commands (`wasi:cli/run@0.3.0`) as it runs 0.2
//! ones (`run_like_wasmtime.rs`), with the same rule: only the interfaces the
//! component imports and the flags permit are linked, 0.3 ones from
//! wasmtime-wasi's `p3`; the environment is empty without `--env`, there are no
//! preopens without `--dir`, the sockets are linked with every address refused
//! without `--allow-net`; the strict library host refuses what is not permitted,
//! naming the flag.
//!
//! The command is `tests/probes/p3-command` (Rust, wit-bindgen's async
//! support, `no_std`: its imports are 0.3 alone), built by
//! `just build-components`. Each run is the whole CLI (`airlock::main`) in a
//! child process, so the program's stdio is real.

use airlock_host::{HostConfig, Output, Reason, UnsatisfiedImports};
use std::path::{Path, PathBuf};

airlock_tests::cli_child!();

type Run = airlock_tests::cli::Outcome;

/// Runs `airlock ARGS` in a child process, with the compilation cache in `cache`.
fn airlock(cache: &Path, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    airlock_with(cache, args, &[])
}

/// [`airlock`] with more environment variables for the child.
fn airlock_with(cache: &Path, args: &[&dyn AsRef<std::ffi::OsStr>], env: &[(&str, &str)]) -> Run {
    let args: Vec<&str> = args
        .iter()
        .map(|a| a.as_ref().to_str().expect("UTF-8 arguments"))
        .collect();
    let mut cli = airlock_tests::cli::Cli::new(&args)
        .env_remove("XDG_CACHE_HOME")
        .env("AIRLOCK_CACHE_DIR", cache.as_os_str());
    for (key, value) in env {
        cli = cli.env(key, std::ffi::OsStr::new(value));
    }
    cli.run()
}

/// The 0.3 command, built by `just build-components`.
fn command() -> PathBuf {
    airlock_tests::built_component("p3_command")
}

/// `airlock compose` of the command alone to `out`, allowing `allow`.
fn compose(cache: &Path, out: &Path, allow: &[&str]) {
    let command = command();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"compose", &command, &"-o", &out];
    for pattern in allow {
        args.extend([&"--allow" as &dyn AsRef<std::ffi::OsStr>, pattern]);
    }
    let composed = airlock(cache, &args);
    assert_eq!(composed.code, Some(0), "{composed:?}");
}

/// The lines a run printed, by kind (`arg`, `env`, `preopen`).
fn lines<'a>(stdout: &'a str, kind: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(kind)?.strip_prefix(' '))
        .collect()
}

#[test]
fn the_command_imports_wasi_0_3_alone_and_exports_run_0_3() {
    let bytes = std::fs::read(command()).unwrap();
    let imports = airlock_tests::import_names(&bytes).unwrap();
    assert!(!imports.is_empty());
    for import in &imports {
        assert!(
            import.starts_with("wasi:") && import.ends_with("@0.3.0"),
            "{imports:?}"
        );
    }
    for family in ["cli/environment", "cli/stdout", "filesystem/", "sockets/"] {
        assert!(
            imports.iter().any(|i| i.contains(family)),
            "no `{family}` in {imports:?}"
        );
    }
}

#[test]
fn it_runs_and_prints_its_arguments_and_environment() {
    let cache = tempfile::tempdir().unwrap();
    let app = command();
    let run = airlock(
        cache.path(),
        &[&"run", &"--env", &"A=1", &app, &"--verbose", &"b"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("hello from WASI 0.3\n"), "{run:?}");
    assert_eq!(
        lines(&run.stdout, "arg"),
        ["p3_command.wasm", "--verbose", "b"]
    );
    assert_eq!(lines(&run.stdout, "env"), ["A=1"]);
    assert_eq!(lines(&run.stdout, "preopen"), Vec::<&str>::new());
    assert_eq!(run.stderr, "");
}

/// The environment is empty, as for 0.2, whatever the host's is.
#[test]
fn without_env_the_environment_is_empty() {
    let cache = tempfile::tempdir().unwrap();
    let app = command();
    let secret = [("SECRET_TOKEN", "s3cr3t")];
    let run = airlock_with(cache.path(), &[&"run", &app], &secret);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(lines(&run.stdout, "env"), Vec::<&str>::new(), "{run:?}");
    let run = airlock_with(
        cache.path(),
        &[&"run", &"--env", &"SECRET_TOKEN", &app],
        &secret,
    );
    assert_eq!(
        lines(&run.stdout, "env"),
        ["SECRET_TOKEN=s3cr3t"],
        "{run:?}"
    );
}

#[test]
fn without_dir_there_is_no_preopen_and_with_dir_it_reads_the_file() {
    let cache = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("notes.txt"), "from the host\n").unwrap();
    let app = command();

    // No preopens: the filesystem is linked (the command starts) but empty.
    let run = airlock(cache.path(), &[&"run", &app, &"cat", &"/data/notes.txt"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(lines(&run.stdout, "preopen"), Vec::<&str>::new());
    assert_eq!(
        run.stderr,
        "cat: /data/notes.txt: no preopened directory holds it\n"
    );

    let mapped = format!("{}::/data", data.path().display());
    for flag in ["--dir", "--dir-ro"] {
        let run = airlock(
            cache.path(),
            &[&"run", &flag, &mapped, &app, &"cat", &"/data/notes.txt"],
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(lines(&run.stdout, "preopen"), ["/data"]);
        assert!(run.stdout.ends_with("\nfrom the host\n"), "{run:?}");
    }

    // A file outside the preopen stays out of reach.
    std::fs::write(data.path().join("../outside-p3.txt"), "outside\n").ok();
    let run = airlock(
        cache.path(),
        &[
            &"run",
            &"--dir",
            &mapped,
            &app,
            &"cat",
            &"/data/../outside-p3.txt",
        ],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.starts_with("cat: /data/../outside-p3.txt: "),
        "{run:?}"
    );
    let _ = std::fs::remove_file(data.path().join("../outside-p3.txt"));
}

/// As for 0.2: the sockets are linked (the command starts) but every address
/// is refused without `--allow-net`; with it, the connection reaches the host.
#[test]
fn the_network_stays_off_without_allow_net() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let cache = tempfile::tempdir().unwrap();
    let app = command();

    let run = airlock(cache.path(), &[&"run", &app, &"connect", &addr]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stderr, format!("connect: {addr}: access-denied\n"));
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "nothing reached the host");

    let run = airlock(
        cache.path(),
        &[&"run", &"--allow-net", &app, &"connect", &addr],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.ends_with(&format!("\nconnected to {addr}\n")),
        "{run:?}"
    );
    listener.set_nonblocking(false).unwrap();
    assert!(listener.accept().is_ok(), "the connection reached the host");
}

/// The library host with its strict default (for tests) refuses the 0.3
/// filesystem and sockets unless permitted, naming the flag, as for 0.2; the
/// rest (stdio, environment) is linked.
#[test]
fn the_strict_host_refuses_what_is_not_permitted_naming_the_flag() {
    let bytes = std::fs::read(command()).unwrap();
    let engine = airlock_host::engine();
    let refused = airlock_host::run_command(&engine, &bytes, &HostConfig::default())
        .unwrap_err()
        .downcast::<UnsatisfiedImports>()
        .expect("a refusal");
    // Sorted by import name.
    let named: Vec<(&str, &Reason)> = refused
        .imports
        .iter()
        .map(|i| (i.import.as_str(), &i.reason))
        .collect();
    assert_eq!(
        named,
        [
            (
                "wasi:filesystem/preopens@0.3.0",
                &Reason::NotPermitted {
                    flag: "--dir HOST[::GUEST]"
                }
            ),
            (
                "wasi:filesystem/types@0.3.0",
                &Reason::NotPermitted {
                    flag: "--dir HOST[::GUEST]"
                }
            ),
            (
                "wasi:sockets/types@0.3.0",
                &Reason::NotPermitted {
                    flag: "--allow-net"
                }
            ),
        ],
        "{refused}"
    );
    assert!(
        refused
            .to_string()
            .contains("`wasi:sockets/types@0.3.0` is imported but not permitted; pass --allow-net"),
        "{refused}"
    );

    // Permitted, it runs in the library host too, and the recording host
    // counts the 0.3 entry points it reached.
    let data = tempfile::tempdir().unwrap();
    let config = HostConfig {
        args: vec!["p3.wasm".into()],
        dirs: vec![airlock_host::Preopen {
            host: data.path().into(),
            guest: "/data".into(),
            read_only: true,
        }],
        allow_net: true,
        stdout: Output::Capture,
        ..HostConfig::default()
    };
    let outcome = airlock_host::run_command(&engine, &bytes, &config).unwrap();
    assert_eq!(outcome.exit_code, 0, "{outcome:?}");
    assert_eq!(
        String::from_utf8_lossy(&outcome.stdout),
        "hello from WASI 0.3\narg p3.wasm\npreopen /data\n"
    );
    for key in [
        "wasi:cli/environment@0.3#get-arguments",
        "wasi:cli/environment@0.3#get-environment",
        "wasi:filesystem/preopens@0.3#get-directories",
    ] {
        assert_eq!(outcome.calls.get(key), Some(&1), "{:?}", outcome.calls);
    }
}

/// The whole path: `airlock compose` the 0.3 command with only its stdout
/// allowed, then `airlock run` the output. The output imports stdout alone;
/// inside, the environment, preopens and sockets are denied gracefully
/// (empty lists, `access-denied`), so the command runs and says so, and its
/// stderr (denied) is silent.
#[test]
fn composed_with_stdout_allowed_it_runs_with_everything_else_denied() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = dir.path().join("p3-stdout.wasm");
    compose(cache.path(), &out, &["wasi:cli/stdout@0.3"]);
    let imports = airlock_tests::import_names(&std::fs::read(&out).unwrap()).unwrap();
    assert!(
        imports.contains(&"wasi:cli/stdout@0.3.0".to_string())
            && imports
                .iter()
                .all(|i| i == "wasi:cli/stdout@0.3.0" || i == "wasi:cli/types@0.3.0"),
        "{imports:?}"
    );

    let run = airlock_with(
        cache.path(),
        &[
            &"run",
            &"--env",
            &"A=1",
            &"--dir",
            &dir.path(),
            &"--allow-net",
            &out,
            &"x",
        ],
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "hello from WASI 0.3\n", "{run:?}");
    assert_eq!(run.stderr, "");

    // With the environment allowed too, the arguments arrive; the sockets
    // stay denied inside (`access-denied`, whatever `--allow-net` says), and
    // the command's error message goes to its stderr, which is denied too.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let out = dir.path().join("p3-env.wasm");
    let allow = ["wasi:cli/stdout@0.3", "wasi:cli/environment@0.3"];
    compose(cache.path(), &out, &allow);
    let run = airlock(
        cache.path(),
        &[&"run", &"--allow-net", &out, &"connect", &addr],
    );
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            Some(1),
            format!("hello from WASI 0.3\narg p3-env.wasm\narg connect\narg {addr}\n").as_str(),
            ""
        ),
        "{run:?}"
    );
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "nothing reached the host");
}

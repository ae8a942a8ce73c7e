//! Issue #12, tried as an attacker would: a library that lies about WASI in its
//! own WIT (a `use` that WASI's WIT does not have, a `use` of another version,
//! a cycle with the app's real WIT) to reach what the example app's allow-list
//! permits for the app. Each attack must be refused (exit code 3 at the CLI, no
//! output file) or hold at run time with a secret in the host (an environment
//! variable and a file of a preopen); each has a control that lets the secret
//! through when it is legitimately granted, so that every test can fail.
//! (Before the fix, each attack here composed and its library read the secret
//! or the clock, and the cycle with the app's WIT overflowed the stack.)
//!
//! The libraries are built here from WIT text and core WAT (forged WASI
//! packages are nested packages of the library's own WIT) and swapped in for
//! the example app's telemetry library.

use airlock_core::error::Error;
use airlock_core::plan::{DenyReason, Fate, Problem};
use airlock_core::spec::CompositionSpec;
use airlock_core::testkit::{component_from_wat, component_from_wit};
use airlock_host::{HostConfig, Preopen, Session, Val};
use airlock_tests::{
    example_manifest_with_library, example_spec_with_library, import_names, workspace,
};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const SECRET_VAR: &str = "AWS_SECRET_ACCESS_KEY";
const SECRET_VALUE: &str = "secret-value";
const SECRET_FILE: &str = "secret.txt";

// ---------------------------------------------------------------------------
// Building hostile (and honest) libraries

/// One function of the library's `airlock:attack/probe` export: its WIT, the
/// core imports it needs and its core code. With empty `wit` and `code`, only
/// imports: wit-component leaves out of a component every interface its core
/// module does not import, so the interface an attack goes through must be
/// imported by the code, as a real library's would be.
struct ProbeFn {
    wit: &'static str,
    imports: &'static str,
    code: &'static str,
}

/// `read-env`: the environment, as `get-environment` returns it.
const READ_ENV: ProbeFn = ProbeFn {
    wit: "read-env: func() -> list<tuple<string, string>>;",
    imports: r#"(import "wasi:cli/environment@0.2.12" "get-environment" (func $env (param i32)))"#,
    code: r#"(func (export "airlock:attack/probe@0.1.0#read-env") (result i32)
    i32.const 16 call $env i32.const 16)"#,
};

/// `now-seconds`: the wall clock's seconds.
const NOW_SECONDS: ProbeFn = ProbeFn {
    wit: "now-seconds: func() -> u64;",
    imports: r#"(import "wasi:clocks/wall-clock@0.2.12" "now" (func $now (param i32)))"#,
    code: r#"(func (export "airlock:attack/probe@0.1.0#now-seconds") (result i64)
    i32.const 16 call $now i32.const 16 i64.load)"#,
};

/// `mono-now`: the monotonic clock.
const MONO_NOW: ProbeFn = ProbeFn {
    wit: "mono-now: func() -> u64;",
    imports: r#"(import "wasi:clocks/monotonic-clock@0.2.12" "now" (func $mono (result i64)))"#,
    code: r#"(func (export "airlock:attack/probe@0.1.0#mono-now") (result i64) call $mono)"#,
};

/// The library sends HTTP requests (`wasi:http/types` fields, the request's
/// `method` and `outgoing-handler.handle`), or could. (A type is in a
/// component's import only when a function it imports mentions it.)
const USES_HTTP: ProbeFn = ProbeFn {
    wit: "",
    imports: r#"(import "wasi:http/types@0.2.12" "[constructor]fields" (func $fields (result i32)))
  (import "wasi:http/types@0.2.12" "[method]outgoing-request.set-method" (func $set_method (param i32 i32 i32 i32) (result i32)))
  (import "wasi:http/outgoing-handler@0.2.12" "handle" (func $handle (param i32 i32 i32 i32)))"#,
    code: "",
};

/// The library stats files (`descriptor.stat`, whose `descriptor-stat` holds
/// the wall clock's `datetime`), or could.
const USES_STAT: ProbeFn = ProbeFn {
    wit: "",
    imports: r#"(import "wasi:filesystem/types@0.2.12" "[method]descriptor.stat" (func $stat (param i32 i32)))"#,
    code: "",
};

/// The library calls `evil:host/api.lookup`, or could.
const USES_EVIL_HOST: ProbeFn = ProbeFn {
    wit: "",
    imports: r#"(import "evil:host/api@1.0.0" "lookup" (func $lookup (param i32 i32 i32)))"#,
    code: "",
};

/// `list-files`: the names in the first preopened directory (`get-directories`,
/// `read-directory`, then `read-directory-entry` until none or an error).
const LIST_FILES: ProbeFn = ProbeFn {
    wit: "list-files: func() -> list<string>;",
    imports: r#"(import "wasi:filesystem/preopens@0.2.12" "get-directories" (func $dirs (param i32)))
  (import "wasi:filesystem/types@0.2.12" "[method]descriptor.read-directory" (func $readdir (param i32 i32)))
  (import "wasi:filesystem/types@0.2.12" "[method]directory-entry-stream.read-directory-entry" (func $entry (param i32 i32)))"#,
    code: r#"(func (export "airlock:attack/probe@0.1.0#list-files") (result i32)
    (local $n i32) (local $stream i32)
    ;; list<tuple<descriptor, string>> at 32: (ptr, len)
    i32.const 32 call $dirs
    (block $done
      i32.const 36 i32.load i32.eqz br_if $done
      ;; the first preopen's handle, then result<stream, error-code> at 48
      i32.const 32 i32.load i32.load
      i32.const 48 call $readdir
      i32.const 48 i32.load8_u br_if $done
      i32.const 52 i32.load local.set $stream
      (loop $next
        ;; result<option<directory-entry>, error-code> at 64: name at 76/80
        local.get $stream i32.const 64 call $entry
        i32.const 64 i32.load8_u br_if $done
        i32.const 68 i32.load8_u i32.eqz br_if $done
        i32.const 4096 local.get $n i32.const 8 i32.mul i32.add
        i32.const 76 i32.load i32.store
        i32.const 4100 local.get $n i32.const 8 i32.mul i32.add
        i32.const 80 i32.load i32.store
        local.get $n i32.const 1 i32.add local.tee $n
        i32.const 256 i32.lt_u br_if $next))
    i32.const 16 i32.const 4096 i32.store
    i32.const 20 local.get $n i32.store
    i32.const 16)"#,
};

/// The core module of a library: `probes`, a bump allocator, and a
/// `summarize` that traps (the app's import of the telemetry interface must be
/// satisfied; nothing here calls it).
fn core_wat(probes: &[&ProbeFn]) -> String {
    let imports: Vec<&str> = probes.iter().map(|p| p.imports).collect();
    let code: Vec<&str> = probes.iter().map(|p| p.code).collect();
    format!(
        r#"(module
  {}
  (memory (export "memory") 4)
  {}
  (func (export "airlock:telemetry/telemetry@0.1.0#summarize") (param i32 i32 i32) (result i32)
    unreachable)
  {}
)"#,
        imports.join("\n  "),
        airlock_tests::probe::bump_realloc(8192),
        code.join("\n  ")
    )
}

/// A WIT file of `wit/` or `wit/deps` as a nested package block, its worlds
/// left out, after the textual `edits` (each must apply).
fn nested(file: &str, edits: &[(&str, &str)]) -> String {
    let path = workspace().join(file);
    let mut text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading `{}`: {e}", path.display()));
    for (from, to) in edits {
        assert!(text.contains(from), "`{file}` has no `{from}`");
        text = text.replace(from, to);
    }
    let mut out: Vec<String> = Vec::new();
    let mut lines = text.lines();
    for line in lines.by_ref() {
        if let Some(name) = line.strip_prefix("package ") {
            out.push(format!("package {} {{", name.trim_end_matches(';')));
            break;
        }
    }
    let mut in_world = false;
    for line in lines {
        if in_world {
            in_world = line != "}";
            continue;
        }
        if line.starts_with("world ") {
            // Its attributes and docs go with it.
            while out
                .last()
                .is_some_and(|l| l.starts_with('@') || l.starts_with("///"))
            {
                out.pop();
            }
            in_world = true;
            continue;
        }
        out.push(line.to_string());
    }
    out.push("}".into());
    out.join("\n")
}

/// The telemetry interface the app imports, as a nested package.
fn telemetry_package() -> String {
    nested("wit/telemetry/telemetry.wit", &[])
}

/// A library for the example app: imports `imports` (WIT names), exports the
/// telemetry interface (a trap) and `airlock:attack/probe` with `probes`.
/// `packages` are nested packages of its WIT (forged WASI among them); with
/// `honest`, WASI comes from `wit/deps` instead.
fn library(imports: &[&str], probes: &[&ProbeFn], packages: &[String], honest: bool) -> Vec<u8> {
    let wit = format!(
        "package airlock:attack@0.1.0;\n\ninterface probe {{\n  {}\n}}\n\nworld library {{\n{}  export airlock:telemetry/telemetry@0.1.0;\n  export probe;\n}}\n\n{}\n\n{}\n",
        probes
            .iter()
            .map(|p| p.wit)
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("\n  "),
        imports
            .iter()
            .map(|i| format!("  import {i};\n"))
            .collect::<String>(),
        telemetry_package(),
        packages.join("\n\n"),
    );
    let deps = workspace().join("wit/deps");
    component_from_wat(&wit, &core_wat(probes), honest.then_some(deps.as_path()))
        .unwrap_or_else(|e| panic!("building the library: {e:#}\n{wit}"))
}

/// Writes `bytes` as `dir/name`.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

// ---------------------------------------------------------------------------
// Composing, refusals, running

/// The problems of a refused composition; panics (with the audit) if it composed
/// or failed otherwise.
fn refused(spec: &CompositionSpec) -> Vec<Problem> {
    match airlock_core::pipeline::compose(spec) {
        Err(Error::Policy(e)) => e.0,
        Err(other) => panic!("refused, but not as a policy error: {other}"),
        Ok(c) => panic!("the attack composed; its audit:\n{}", c.report.to_text()),
    }
}

fn composes(spec: &CompositionSpec) -> airlock_core::pipeline::Composed {
    airlock_core::pipeline::compose(spec).unwrap_or_else(|e| panic!("the control is refused: {e}"))
}

/// A host holding the secrets: the environment variable, and a file in the
/// directory it preopens as `/data` (read-write, as the app's).
fn secret_host(dir: &Path) -> HostConfig {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join(SECRET_FILE), "the secret file").unwrap();
    HostConfig {
        env: vec![
            ("HOME".into(), "/host".into()),
            (SECRET_VAR.into(), SECRET_VALUE.into()),
        ],
        dirs: vec![Preopen {
            host: data,
            guest: "/data".into(),
            read_only: false,
        }],
        ..HostConfig::default()
    }
}

/// Instantiates the composed example app (with the library re-exported) on a
/// host holding the secrets, and calls the library's probe `func`.
fn call_probe(bytes: &[u8], config: &HostConfig, func: &str) -> Val {
    let mut session =
        Session::new(&airlock_host::engine(), bytes, config).expect("the output instantiates");
    let mut out = session
        .call_export(Some("airlock:attack/probe"), func, &[])
        .unwrap_or_else(|e| panic!("calling `{func}`: {e:#}"));
    assert_eq!(out.len(), 1, "{func}");
    out.remove(0)
}

fn env_of(v: Val) -> Vec<(String, String)> {
    let Val::List(items) = v else {
        panic!("not a list: {v:?}")
    };
    items
        .into_iter()
        .map(|item| match item {
            Val::Tuple(mut kv) if kv.len() == 2 => match (kv.remove(0), kv.remove(0)) {
                (Val::String(k), Val::String(v)) => (k, v),
                other => panic!("not strings: {other:?}"),
            },
            other => panic!("not a pair: {other:?}"),
        })
        .collect()
}

fn strings_of(v: Val) -> Vec<String> {
    let Val::List(items) = v else {
        panic!("not a list: {v:?}")
    };
    items
        .into_iter()
        .map(|item| match item {
            Val::String(s) => s,
            other => panic!("not a string: {other:?}"),
        })
        .collect()
}

fn u64_of(v: Val) -> u64 {
    match v {
        Val::U64(x) => x,
        other => panic!("not a u64: {other:?}"),
    }
}

/// The `ForgedUse` of `instance` for `import` (by its unversioned name), if any.
fn forged_use<'a>(problems: &'a [Problem], instance: &str, import: &str) -> Option<&'a Problem> {
    problems.iter().find(|p| {
        matches!(p, Problem::ForgedUse { instance: i, import: n, .. }
            if i == instance && n.split('@').next() == Some(import))
    })
}

/// Asserts a `ForgedUse` of `instance`: `import` uses `ty` of `dependency`
/// (both unversioned, `dependency_version` the start of its version).
fn assert_forged(
    problems: &[Problem],
    instance: &str,
    import: &str,
    dependency: &str,
    dependency_version: &str,
    ty: &str,
) {
    let Some(Problem::ForgedUse {
        dependency: d,
        ty: t,
        ..
    }) = forged_use(problems, instance, import)
    else {
        panic!("no forged use of `{import}` by `{instance}` among:\n{problems:#?}");
    };
    let (name, version) = d.split_once('@').unwrap_or((d, ""));
    assert_eq!(name, dependency, "{problems:#?}");
    assert!(
        version.starts_with(dependency_version),
        "`{d}` is not at {dependency_version}: {problems:#?}"
    );
    assert_eq!(t, ty, "{problems:#?}");
    let text = problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains(&format!("`{instance}`")), "{text}");
    assert!(text.contains(&format!("`{ty}`")), "{text}");
}

/// The audit lines of component `name`.
fn audit_of(audit: &str, name: &str) -> Vec<String> {
    let header = format!("component `{name}`");
    let mut entries: Vec<String> = Vec::new();
    for line in audit
        .lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
    {
        // An import's entry goes on over lines indented further (the audit
        // wraps at 80 columns).
        match entries.last_mut() {
            Some(entry) if line.starts_with("      ") => {
                entry.push(' ');
                entry.push_str(line.trim());
            }
            _ => entries.push(line.to_string()),
        }
    }
    entries
}

/// The fate of `instance`'s import whose unversioned name is `import`.
fn fate(composed: &airlock_core::pipeline::Composed, instance: &str, import: &str) -> Fate {
    let inst = composed
        .report
        .plan
        .instances
        .iter()
        .find(|i| i.name == instance)
        .unwrap_or_else(|| panic!("no instance `{instance}`"));
    inst.imports
        .iter()
        .find(|i| i.name.split('@').next() == Some(import))
        .unwrap_or_else(|| panic!("`{instance}` does not import `{import}`"))
        .fate
        .clone()
}

// ---------------------------------------------------------------------------
// The CLI, in a child process: a crash (stack overflow: exit 134) is observed,
// not suffered.

airlock_tests::cli_child!();

/// Runs the CLI with `args` in a child process: its exit code (`None`: killed
/// by a signal) and what it wrote to stderr.
fn cli(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (Option<i32>, String) {
    let args: Vec<&str> = args
        .iter()
        .map(|a| a.as_ref().to_str().expect("UTF-8"))
        .collect();
    let run = airlock_tests::cli::run(&args);
    (run.code, run.stderr)
}

/// `compose -m MANIFEST -o OUT` and `check -m MANIFEST` both exit 3 with a
/// message containing every one of `words`, and no output file is written.
fn assert_cli_refuses(manifest: &Path, words: &[&str]) {
    let out = manifest.with_file_name("out.wasm");
    let default_out = manifest.with_file_name("app.wasm");
    for args in [
        vec![
            OsString::from("compose"),
            "-m".into(),
            manifest.into(),
            "-o".into(),
            out.clone().into(),
        ],
        vec!["check".into(), "-m".into(), manifest.into()],
    ] {
        let refs: Vec<&dyn AsRef<std::ffi::OsStr>> = args
            .iter()
            .map(|a| a as &dyn AsRef<std::ffi::OsStr>)
            .collect();
        let (code, err) = cli(&refs);
        assert_eq!(code, Some(3), "{args:?}: exit {code:?}\n{err}");
        assert!(
            err.starts_with("error: "),
            "{args:?}: unclear error:\n{err}"
        );
        for w in words {
            assert!(err.contains(w), "{args:?}: no `{w}` in:\n{err}");
        }
        assert!(!out.exists(), "{args:?} wrote `{}`", out.display());
        assert!(
            !default_out.exists(),
            "{args:?} wrote `{}`",
            default_out.display()
        );
    }
}

// ---------------------------------------------------------------------------
// Forged WASI packages

/// `wasi:cli/environment@0.2.12` as the attacker writes it: the real functions
/// plus `more` (types the attacker's other interfaces `use`).
fn forged_environment(more: &str) -> String {
    format!(
        "package wasi:cli@0.2.12 {{\n  interface environment {{\n    {more}\n    get-environment: func() -> list<tuple<string, string>>;\n    get-arguments: func() -> list<string>;\n    initial-cwd: func() -> option<string>;\n  }}\n}}"
    )
}

/// The real `wasi:io@0.2.12`.
fn real_io() -> String {
    nested("wit/deps/io/io.wit", &[])
}

/// `wasi:filesystem@0.2.12` without its real `use` of the wall clock (its
/// `datetime` is its own, so the forged clock can `use` the filesystem without
/// a cycle among the library's own packages), and `preopens` with `extra`.
fn forged_filesystem(preopens_extra: &str) -> String {
    nested(
        "wit/deps/filesystem/filesystem.wit",
        &[
            (
                "use wasi:clocks/wall-clock@0.2.12.{datetime};",
                "record datetime { seconds: u64, nanoseconds: u32 }",
            ),
            ("  use types.{descriptor};\n", preopens_extra),
        ],
    )
}

// ---------------------------------------------------------------------------
// Case 1: the environment through a clock grant

#[test]
fn case1_environment_through_a_clock_grant_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let packages = [
        forged_environment("record datetime { seconds: u64, nanoseconds: u32 }"),
        "package wasi:clocks@0.2.12 {\n  interface wall-clock {\n    use wasi:cli/environment@0.2.12.{datetime};\n    now: func() -> datetime;\n    resolution: func() -> datetime;\n  }\n}".to_string(),
    ];
    let lib = library(
        &["wasi:clocks/wall-clock@0.2.12"],
        &[&READ_ENV, &NOW_SECONDS],
        &packages,
        false,
    );
    let lib = write(dir.path(), "clock-thief.wasm", &lib);
    // Granted only the wall clock; the app's allow-list permits the environment.
    let extra = r#"grant = ["wasi:clocks/wall-clock"]"#;
    let spec = example_spec_with_library(dir.path(), &lib, extra, &[]);
    let problems = refused(&spec);
    assert_forged(
        &problems,
        "telemetry",
        "wasi:clocks/wall-clock",
        "wasi:cli/environment",
        "0.2",
        "datetime",
    );
    let manifest = example_manifest_with_library(dir.path(), &lib, extra, &[]);
    assert_cli_refuses(
        &manifest,
        &[
            "`telemetry`",
            "wasi:clocks/wall-clock@",
            "wasi:cli/environment@",
            "`datetime`",
        ],
    );
}

#[test]
fn case1_control_the_same_code_granted_the_environment_reads_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(
        &[
            "wasi:clocks/wall-clock@0.2.12",
            "wasi:cli/environment@0.2.12",
        ],
        &[&READ_ENV, &NOW_SECONDS],
        &[],
        true,
    );
    let lib = write(dir.path(), "honest.wasm", &lib);
    let extra = r#"grant = ["wasi:clocks/wall-clock", "wasi:cli/environment"]"#;
    let composed = composes(&example_spec_with_library(dir.path(), &lib, extra, &[]));
    let env = env_of(call_probe(
        &composed.bytes,
        &secret_host(dir.path()),
        "read-env",
    ));
    assert!(
        env.contains(&(SECRET_VAR.into(), SECRET_VALUE.into())),
        "the granted library does not see the secret: {env:?}"
    );
    // Without the grant, the same honest library sees nothing.
    let extra = r#"grant = ["wasi:clocks/wall-clock"]"#;
    let composed = composes(&example_spec_with_library(dir.path(), &lib, extra, &[]));
    let env = env_of(call_probe(
        &composed.bytes,
        &secret_host(dir.path()),
        "read-env",
    ));
    assert_eq!(env, vec![], "the environment reached an ungranted library");
}

// ---------------------------------------------------------------------------
// Case 2: the app's preopen through a monotonic-clock grant

#[test]
fn case2_preopens_through_a_monotonic_clock_grant_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let packages = [
        real_io(),
        forged_filesystem("  use types.{descriptor};\n  type instant = u64;\n"),
        "package wasi:clocks@0.2.12 {\n  interface monotonic-clock {\n    use wasi:filesystem/preopens@0.2.12.{instant};\n    now: func() -> instant;\n  }\n}".to_string(),
    ];
    let lib = library(
        &["wasi:clocks/monotonic-clock@0.2.12"],
        &[&LIST_FILES, &MONO_NOW],
        &packages,
        false,
    );
    let lib = write(dir.path(), "preopen-thief.wasm", &lib);
    let extra = r#"grant = ["wasi:clocks/monotonic-clock"]"#;
    // The allow-list permits the monotonic clock too, so that only the forged
    // `use` stands between the library and the app's files.
    let allow = ["wasi:clocks/monotonic-clock@0.2"];
    let spec = example_spec_with_library(dir.path(), &lib, extra, &allow);
    let problems = refused(&spec);
    assert_forged(
        &problems,
        "telemetry",
        "wasi:clocks/monotonic-clock",
        "wasi:filesystem/preopens",
        "0.2",
        "instant",
    );
    let manifest = example_manifest_with_library(dir.path(), &lib, extra, &allow);
    assert_cli_refuses(
        &manifest,
        &[
            "`telemetry`",
            "wasi:clocks/monotonic-clock@",
            "wasi:filesystem/preopens@",
        ],
    );
}

#[test]
fn case2_control_the_same_code_granted_the_filesystem_lists_the_secret_file() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(
        &[
            "wasi:clocks/monotonic-clock@0.2.12",
            "wasi:filesystem/preopens@0.2.12",
        ],
        &[&LIST_FILES, &MONO_NOW],
        &[],
        true,
    );
    let lib = write(dir.path(), "honest.wasm", &lib);
    let extra = r#"grant = ["wasi:filesystem/*"]"#;
    let composed = composes(&example_spec_with_library(dir.path(), &lib, extra, &[]));
    let files = strings_of(call_probe(
        &composed.bytes,
        &secret_host(dir.path()),
        "list-files",
    ));
    assert_eq!(files, vec![SECRET_FILE.to_string()]);
    // Granted the monotonic clock only, the same library sees no preopen.
    let extra = r#"grant = ["wasi:clocks/monotonic-clock"]"#;
    let allow = ["wasi:clocks/monotonic-clock@0.2"];
    let composed = composes(&example_spec_with_library(dir.path(), &lib, extra, &allow));
    let files = strings_of(call_probe(
        &composed.bytes,
        &secret_host(dir.path()),
        "list-files",
    ));
    assert_eq!(
        files,
        Vec::<String>::new(),
        "an ungranted library listed the preopen"
    );
}

// ---------------------------------------------------------------------------
// Case 3: the environment through an HTTP slice alone

/// `wasi:http@0.2.12` whose `types` takes `method` from `wasi:cli/environment`
/// instead of defining it.
fn forged_http() -> String {
    let method = "  @since(version = 0.2.0)\n  variant method {\n    get,\n    head,\n    post,\n    put,\n    delete,\n    connect,\n    options,\n    trace,\n    patch,\n    other(string),\n  }\n";
    nested(
        "wit/deps/http/http.wit",
        &[(method, "  use wasi:cli/environment@0.2.12.{method};\n")],
    )
}

const METHOD: &str = "variant method { get, head, post, put, delete, connect, options, trace, patch, other(string) }";

#[test]
fn case3_environment_through_an_http_slice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let packages = [
        real_io(),
        nested("wit/deps/clocks/clocks.wit", &[]),
        forged_environment(METHOD),
        forged_http(),
    ];
    let lib = library(
        &[
            "wasi:http/types@0.2.12",
            "wasi:http/outgoing-handler@0.2.12",
        ],
        &[&READ_ENV, &USES_HTTP],
        &packages,
        false,
    );
    let lib = write(dir.path(), "http-thief.wasm", &lib);
    let extra = r#"http = ["GET api.example.com"]"#;
    let allow = ["wasi:http/*@0.2"];
    let problems = refused(&example_spec_with_library(dir.path(), &lib, extra, &allow));
    assert_forged(
        &problems,
        "telemetry",
        "wasi:http/types",
        "wasi:cli/environment",
        "0.2",
        "method",
    );
    let manifest = example_manifest_with_library(dir.path(), &lib, extra, &allow);
    assert_cli_refuses(
        &manifest,
        &[
            "`telemetry`",
            "wasi:http/types@",
            "wasi:cli/environment@",
            "`method`",
        ],
    );
}

#[test]
fn case3_control_the_same_code_with_the_slice_reads_the_secret_only_when_granted() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(
        &[
            "wasi:http/types@0.2.12",
            "wasi:http/outgoing-handler@0.2.12",
            "wasi:cli/environment@0.2.12",
        ],
        &[&READ_ENV, &USES_HTTP],
        &[],
        true,
    );
    let lib = write(dir.path(), "honest.wasm", &lib);
    let allow = ["wasi:http/*@0.2"];
    let host = HostConfig {
        allow_http: true,
        ..secret_host(dir.path())
    };
    let granted = "http = [\"GET api.example.com\"]\ngrant = [\"wasi:cli/environment\"]";
    let composed = composes(&example_spec_with_library(
        dir.path(),
        &lib,
        granted,
        &allow,
    ));
    let env = env_of(call_probe(&composed.bytes, &host, "read-env"));
    assert!(
        env.contains(&(SECRET_VAR.into(), SECRET_VALUE.into())),
        "the granted library does not see the secret: {env:?}"
    );
    // The slice alone gives the honest library no environment.
    let slice = r#"http = ["GET api.example.com"]"#;
    let composed = composes(&example_spec_with_library(dir.path(), &lib, slice, &allow));
    let env = env_of(call_probe(&composed.bytes, &host, "read-env"));
    assert_eq!(
        env,
        vec![],
        "the environment reached a library with an http slice"
    );
}

// ---------------------------------------------------------------------------
// Case 4: cycles among declared uses

/// A library whose forged wall clock `use`s `wasi:filesystem/preopens`, while
/// the app's real `wasi:filesystem/types` uses the wall clock: together, a cycle.
fn cyclic_clock_library() -> Vec<u8> {
    let packages = [
        real_io(),
        forged_filesystem("  use types.{descriptor, datetime};\n"),
        "package wasi:clocks@0.2.12 {\n  interface wall-clock {\n    use wasi:filesystem/preopens@0.2.12.{datetime};\n    now: func() -> datetime;\n    resolution: func() -> datetime;\n  }\n}".to_string(),
    ];
    library(
        &["wasi:clocks/wall-clock@0.2.12"],
        &[&LIST_FILES, &NOW_SECONDS],
        &packages,
        false,
    )
}

#[test]
fn case4_a_cycle_with_the_apps_real_wit_is_refused_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let lib = write(dir.path(), "cyclic-clock.wasm", &cyclic_clock_library());
    let extra = r#"grant = ["wasi:clocks/wall-clock"]"#;
    // The CLI first, in a child process: were wac-graph to see the cycle, a
    // stack overflow would abort this whole test binary.
    let manifest = example_manifest_with_library(dir.path(), &lib, extra, &[]);
    assert_cli_refuses(
        &manifest,
        &["cycle", "wasi:clocks/wall-clock@", "`telemetry`"],
    );
    let problems = refused(&example_spec_with_library(dir.path(), &lib, extra, &[]));
    let cycle = problems.iter().find_map(|p| match p {
        Problem::UseCycle {
            interfaces,
            declared_by,
        } => Some((interfaces, declared_by)),
        _ => None,
    });
    let Some((interfaces, declared_by)) = cycle else {
        panic!("no use cycle among:\n{problems:#?}");
    };
    for name in [
        "wasi:clocks/wall-clock",
        "wasi:filesystem/preopens",
        "wasi:filesystem/types",
    ] {
        assert!(
            interfaces.iter().any(|i| i.split('@').next() == Some(name)),
            "`{name}` is not in the cycle {interfaces:?}"
        );
    }
    assert!(
        declared_by.contains(&"telemetry".to_string()),
        "{declared_by:?}"
    );
    assert!(declared_by.contains(&"app".to_string()), "{declared_by:?}");
}

/// `evil:a/x` uses `evil:b/y` in one component, `evil:b/y` uses `evil:a/x` in
/// the other: each component's own WIT is acyclic. The first is the root and
/// imports `evil:c/z`, which the second exports.
fn cyclic_pair() -> (Vec<u8>, Vec<u8>) {
    let a = "package evil:root@1.0.0;\n\nworld root {\n  import evil:a/x@1.0.0;\n  import evil:c/z@1.0.0;\n  export run: func();\n}\n\npackage evil:a@1.0.0 {\n  interface x {\n    use evil:b/y@1.0.0.{t};\n    record u { v: u32 }\n    f: func(a: t) -> u;\n  }\n}\n\npackage evil:b@1.0.0 {\n  interface y {\n    record t { v: u32 }\n    g: func() -> t;\n  }\n}\n\npackage evil:c@1.0.0 {\n  interface z {\n    h: func();\n  }\n}\n";
    let b = "package evil:plug@1.0.0;\n\nworld plug {\n  import evil:b/y@1.0.0;\n  export evil:c/z@1.0.0;\n}\n\npackage evil:b@1.0.0 {\n  interface y {\n    use evil:a/x@1.0.0.{u};\n    record t { v: u32 }\n    g: func(a: u) -> t;\n  }\n}\n\npackage evil:a@1.0.0 {\n  interface x {\n    record u { v: u32 }\n    k: func() -> u;\n  }\n}\n\npackage evil:c@1.0.0 {\n  interface z {\n    h: func();\n  }\n}\n";
    (
        component_from_wit(a, None).expect("the first builds"),
        component_from_wit(b, None).expect("the second builds"),
    )
}

#[test]
fn case4_a_cycle_between_two_components_is_refused_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = cyclic_pair();
    let a = write(dir.path(), "a.wasm", &a);
    let b = write(dir.path(), "b.wasm", &b);
    let manifest = dir.path().join("airlock.toml");
    std::fs::write(
        &manifest,
        format!(
            "[output]\nroot = \"a\"\npath = \"app.wasm\"\n\n[allow]\ninterfaces = [\"evil:a/*\", \"evil:b/*\"]\n\n[components.a]\npath = {:?}\ngrant = [\"evil:a/*\", \"evil:b/*\"]\n\n[components.b]\npath = {:?}\ngrant = [\"evil:a/*\", \"evil:b/*\"]\n",
            a.display().to_string(),
            b.display().to_string()
        ),
    )
    .unwrap();
    let spec = CompositionSpec::from_manifest(
        &airlock_core::manifest::Manifest::load(&manifest).unwrap(),
        &manifest,
    )
    .unwrap();
    // The CLI first, in child processes (see above).
    assert_cli_refuses(
        &manifest,
        &["cycle", "`evil:a/x@1.0.0`", "`evil:b/y@1.0.0`"],
    );
    // The plug form too.
    let out = dir.path().join("plugged.wasm");
    let (code, err) = cli(&[
        &"compose",
        &a,
        &"--plug",
        &b,
        &"--allow",
        &"evil:a/*",
        &"--allow",
        &"evil:b/*",
        &"--grant",
        &"b=evil:a/*",
        &"--grant",
        &"b=evil:b/*",
        &"-o",
        &out,
    ]);
    assert_eq!(code, Some(3), "exit {code:?}\n{err}");
    assert!(err.contains("cycle"), "{err}");
    assert!(!out.exists());
    let problems = refused(&spec);
    let cycle = problems.iter().find_map(|p| match p {
        Problem::UseCycle {
            interfaces,
            declared_by,
        } => Some((interfaces, declared_by)),
        _ => None,
    });
    let Some((interfaces, declared_by)) = cycle else {
        panic!("no use cycle among:\n{problems:#?}");
    };
    assert!(
        interfaces.iter().any(|i| i.starts_with("evil:a/x")),
        "{interfaces:?}"
    );
    assert!(
        interfaces.iter().any(|i| i.starts_with("evil:b/y")),
        "{interfaces:?}"
    );
    assert_eq!(declared_by, &vec!["a".to_string(), "b".to_string()]);
    // Control: each alone composes (their own WIT is acyclic).
    // (`a` alone must deny `evil:c/z`, which only `b` provides.)
    for (root, deny) in [(&a, vec!["evil:c/*".to_string()]), (&b, vec![])] {
        let allow = vec!["evil:a/*".to_string(), "evil:b/*".to_string()];
        let spec = CompositionSpec::from_plugs(root, &[], &allow, &[], &deny).unwrap();
        let composed = composes(&spec);
        let imports = import_names(&composed.bytes).unwrap();
        assert!(
            imports.iter().any(|i| i.starts_with("evil:a/x")),
            "{imports:?}"
        );
    }
}

/// Writes the cyclic components into the compose fuzz target's corpus (a
/// policy byte, then the root component): `AIRLOCK_FUZZ_CORPUS=composer/fuzz/corpus`.
/// The target composes one component, so each side of a cycle goes alone.
#[test]
#[ignore = "writes the fuzz corpus"]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("AIRLOCK_FUZZ_CORPUS") else {
        return;
    };
    let dir = PathBuf::from(dir).join("compose");
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = cyclic_pair();
    // Policy 4 allows `*`; policy 2 allows `wasi:*`.
    for (name, policy, bytes) in [
        ("seed-use-cycle-a", 4u8, a),
        ("seed-use-cycle-b", 4u8, b),
        (
            "seed-forged-wall-clock-uses-preopens",
            2u8,
            cyclic_clock_library(),
        ),
    ] {
        let mut data = vec![policy];
        data.extend(bytes);
        std::fs::write(dir.join(name), data).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Case 6: another version as a type dependency

fn stdout_component(io_version: &str, io_package: String) -> Vec<u8> {
    let wit = format!(
        "package airlock:attack@0.1.0;\n\nworld writer {{\n  import wasi:cli/stdout@0.2.6;\n  export run: func();\n}}\n\npackage wasi:cli@0.2.6 {{\n  interface stdout {{\n    use wasi:io/streams@{io_version}.{{output-stream}};\n    get-stdout: func() -> output-stream;\n  }}\n}}\n\n{io_package}\n"
    );
    component_from_wit(&wit, None).unwrap_or_else(|e| panic!("{e:#}\n{wit}"))
}

#[test]
fn case6_a_type_dependency_at_another_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rc = "0.3.0-rc-2025-09-16";
    let io = format!(
        "package wasi:io@{rc} {{\n  interface streams {{\n    resource output-stream {{\n      blocking-write-and-flush: func(contents: list<u8>) -> result;\n    }}\n  }}\n}}"
    );
    let root = write(dir.path(), "writer.wasm", &stdout_component(rc, io));
    let allow = vec!["wasi:cli/stdout@0.2".to_string()];
    let spec = CompositionSpec::from_plugs(&root, &[], &allow, &[], &[]).unwrap();
    let problems = refused(&spec);
    assert_forged(
        &problems,
        "writer",
        "wasi:cli/stdout",
        "wasi:io/streams",
        "0.3.0-rc",
        "output-stream",
    );
    let out = dir.path().join("out.wasm");
    let (code, err) = cli(&[
        &"compose",
        &root,
        &"--allow",
        &"wasi:cli/stdout@0.2",
        &"-o",
        &out,
    ]);
    assert_eq!(code, Some(3), "exit {code:?}\n{err}");
    assert!(err.contains(&format!("wasi:io/streams@{rc}")), "{err}");
    assert!(err.contains("`writer`"), "{err}");
    assert!(!out.exists(), "a refused composition wrote its output");
}

#[test]
fn case6_control_the_same_version_composes_with_the_real_streams() {
    let dir = tempfile::tempdir().unwrap();
    let io = nested("wit/deps/io/io.wit", &[("0.2.12", "0.2.6")]);
    let root = write(dir.path(), "writer.wasm", &stdout_component("0.2.6", io));
    let allow = vec!["wasi:cli/stdout@0.2".to_string()];
    let spec = CompositionSpec::from_plugs(&root, &[], &allow, &[], &[]).unwrap();
    let composed = composes(&spec);
    let imports = import_names(&composed.bytes).unwrap();
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("wasi:io/streams@0.2.")),
        "{imports:?}"
    );
    assert!(imports.iter().all(|i| !i.contains("@0.3")), "{imports:?}");
}

// ---------------------------------------------------------------------------
// Case 7: a type dependency gives types, not authority

#[test]
fn case7_a_filesystem_grant_gives_the_clocks_types_not_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(
        &["wasi:filesystem/preopens@0.2.12"],
        &[&LIST_FILES, &NOW_SECONDS, &USES_STAT],
        &[],
        true,
    );
    let lib = write(dir.path(), "files-only.wasm", &lib);
    let extra = r#"grant = ["wasi:filesystem/*"]"#;
    let composed = composes(&example_spec_with_library(dir.path(), &lib, extra, &[]));
    let audit = composed.report.to_text();
    let lines = audit_of(&audit, "telemetry");
    let clock = lines
        .iter()
        .find(|l| l.trim_start().starts_with("wasi:clocks/wall-clock@"))
        .unwrap_or_else(|| panic!("no wall-clock line:\n{audit}"));
    assert!(clock.contains("types only"), "{clock}\n{audit}");
    assert!(clock.contains("wasi:filesystem/types@"), "{clock}\n{audit}");
    assert!(
        matches!(fate(&composed, "telemetry", "wasi:clocks/wall-clock"),
            Fate::Denied { reason: DenyReason::TypesOnly, of: Some(ref of), .. }
                if of.starts_with("wasi:filesystem/types@")),
        "{audit}"
    );
    let host = secret_host(dir.path());
    assert_eq!(
        u64_of(call_probe(&composed.bytes, &host, "now-seconds")),
        0,
        "the library read the host's clock"
    );
    // The types still line up with the host's: the granted files work.
    assert_eq!(
        strings_of(call_probe(&composed.bytes, &host, "list-files")),
        vec![SECRET_FILE.to_string()]
    );
}

#[test]
fn case7_control_granted_the_wall_clock_too_the_library_reads_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(
        &["wasi:filesystem/preopens@0.2.12"],
        &[&LIST_FILES, &NOW_SECONDS, &USES_STAT],
        &[],
        true,
    );
    let lib = write(dir.path(), "files-and-clock.wasm", &lib);
    let extra = r#"grant = ["wasi:filesystem/*", "wasi:clocks/wall-clock"]"#;
    let composed = composes(&example_spec_with_library(dir.path(), &lib, extra, &[]));
    let seconds = u64_of(call_probe(
        &composed.bytes,
        &secret_host(dir.path()),
        "now-seconds",
    ));
    assert!(seconds > 1_577_836_800, "the granted clock says {seconds}");
    assert!(
        matches!(
            fate(&composed, "telemetry", "wasi:clocks/wall-clock"),
            Fate::Granted { .. }
        ),
        "{}",
        composed.report.to_text()
    );
}

// ---------------------------------------------------------------------------
// A non-WASI host interface declaring a use of a WASI one

fn evil_host_library() -> Vec<u8> {
    let packages = [
        forged_environment("record env-var { key: string, value: string }"),
        "package evil:host@1.0.0 {\n  interface api {\n    use wasi:cli/environment@0.2.12.{env-var};\n    lookup: func(key: string) -> option<env-var>;\n  }\n}".to_string(),
    ];
    library(
        &["evil:host/api@1.0.0"],
        &[&READ_ENV, &USES_EVIL_HOST],
        &packages,
        false,
    )
}

#[test]
fn a_granted_host_interface_does_not_bring_its_declared_dependency() {
    let dir = tempfile::tempdir().unwrap();
    let lib = write(dir.path(), "evil-host.wasm", &evil_host_library());
    let allow = ["evil:host/*"];
    let extra = r#"grant = ["evil:host/api"]"#;
    let problems = refused(&example_spec_with_library(dir.path(), &lib, extra, &allow));
    let found = problems.iter().any(|p| {
        matches!(p, Problem::UndeclaredDependency { instance, import, dependency }
            if instance == "telemetry"
                && import.starts_with("evil:host/api@1.0.0")
                && dependency.starts_with("wasi:cli/environment@0.2"))
    });
    assert!(found, "no undeclared dependency among:\n{problems:#?}");
    let manifest = example_manifest_with_library(dir.path(), &lib, extra, &allow);
    assert_cli_refuses(
        &manifest,
        &[
            "`telemetry`",
            "evil:host/api@1.0.0",
            "wasi:cli/environment@",
        ],
    );
}

#[test]
fn a_granted_host_interface_with_its_dependency_granted_too_composes() {
    let dir = tempfile::tempdir().unwrap();
    let lib = write(dir.path(), "evil-host.wasm", &evil_host_library());
    let allow = ["evil:host/*"];
    let extra = r#"grant = ["evil:host/api", "wasi:cli/environment"]"#;
    let composed = composes(&example_spec_with_library(dir.path(), &lib, extra, &allow));
    assert!(
        matches!(
            fate(&composed, "telemetry", "wasi:cli/environment"),
            Fate::Granted { .. }
        ),
        "{}",
        composed.report.to_text()
    );
    let imports = import_names(&composed.bytes).unwrap();
    assert!(
        imports.iter().any(|i| i.starts_with("evil:host/api@1.0.0")),
        "{imports:?}"
    );
}

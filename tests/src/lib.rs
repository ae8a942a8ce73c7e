//! Helpers shared by the end-to-end tests: where the built components are,
//! composing the example app with a tweaked policy, and reading an output's
//! imports straight from its bytes (independently of the composer's plan).

pub mod cli;
pub mod hostile;
pub mod net;
pub mod probe;
pub mod randgen;
pub mod registry;

use airlock_core::manifest::Manifest;
use airlock_core::pipeline::{self, Composed};
use airlock_core::policy::PatternSet;
use airlock_core::spec::CompositionSpec;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The arguments of an `airlock::main` run in a test's own process, with
/// `--no-cache` after a subcommand that reads components (`compose`, `check`,
/// `lock`): tests never write validation verdicts into the user's cache.
/// (Child processes get a cache folder of their own: see [`cli::Cli::run`].)
pub fn without_user_cache<T: Into<OsString>>(args: impl IntoIterator<Item = T>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if args
        .get(1)
        .is_some_and(|c| ["compose", "check", "lock"].iter().any(|k| c == k))
    {
        args.insert(2, "--no-cache".into());
    }
    args
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A component that `just build-components` builds:
/// `target/wasm32-wasip2/component/STEM.wasm` (asserted to exist).
pub fn built_component(stem: &str) -> PathBuf {
    let path = workspace().join(format!("target/wasm32-wasip2/component/{stem}.wasm"));
    assert!(
        path.exists(),
        "`{}` is missing: run `just build-components` first",
        path.display()
    );
    path
}

/// A host that would permit everything a probe could ask for: the arguments
/// `[program, "--probe"]`, one environment variable, `dir` preopened
/// read-write as `/data`, the network, outgoing HTTP, and `from stdin` on stdin.
pub fn permissive_host(dir: &Path, program: &str) -> airlock_host::HostConfig {
    airlock_host::HostConfig {
        args: vec![program.into(), "--probe".into()],
        env: vec![("PROBE_SECRET".into(), "hunter2".into())],
        dirs: vec![airlock_host::Preopen {
            host: dir.into(),
            guest: "/data".into(),
            read_only: false,
        }],
        allow_net: true,
        allow_http: true,
        stdin: airlock_host::Stdin::Bytes(b"from stdin".to_vec()),
        ..airlock_host::HostConfig::default()
    }
}

/// What a probe component says it can try: its export `interface#names`
/// (`func() -> list<string>`), called in a fresh instance.
pub fn probe_names(
    component: &airlock_host::Component,
    config: &airlock_host::HostConfig,
    interface: &str,
) -> Vec<String> {
    use airlock_host::Val;
    let engine = airlock_host::engine();
    let mut s = airlock_host::Session::instantiate(&engine, component, config).unwrap();
    let results = s.call_export(Some(interface), "names", &[]).unwrap();
    let Val::List(items) = &results[0] else {
        panic!("names: {results:?}")
    };
    items
        .iter()
        .map(|v| match v {
            Val::String(s) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The example app's manifest.
pub fn example_manifest() -> PathBuf {
    workspace().join("examples/app/airlock.toml")
}

/// The sample document the example app reads.
pub fn sample_document() -> Vec<u8> {
    std::fs::read(workspace().join("examples/app/sample.md")).expect("examples/app/sample.md")
}

/// The example app's spec, as its manifest says. Components must have been
/// built first (`just build-components`; `just test` does it).
pub fn example_spec() -> Result<CompositionSpec> {
    let path = example_manifest();
    let manifest = Manifest::load(&path)?;
    let spec = CompositionSpec::from_manifest(&manifest, &path)?;
    for inst in spec.instances.iter().filter(|i| i.builtin.is_none()) {
        anyhow::ensure!(
            inst.path.exists(),
            "`{}` is missing: run `just build-components` first",
            inst.path.display()
        );
    }
    Ok(spec)
}

/// The example app's spec with `extra` appended to its manifest (whose last
/// table is `[components.telemetry]`).
pub fn example_spec_with_telemetry(extra: &str) -> CompositionSpec {
    try_example_spec_with_telemetry(extra).unwrap()
}

/// [`example_spec_with_telemetry`], returning the manifest's or spec's error.
pub fn try_example_spec_with_telemetry(extra: &str) -> Result<CompositionSpec> {
    let path = example_manifest();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.trim_end()
            .rsplit("\n\n")
            .next()
            .unwrap()
            .starts_with("[components.telemetry]"),
        "the example manifest ends with the telemetry table"
    );
    let text = format!("{}\n{extra}\n", text.trim_end());
    let manifest = Manifest::parse(&text, &path)?;
    let spec = CompositionSpec::from_manifest(&manifest, &path)?;
    for inst in spec.instances.iter().filter(|i| i.builtin.is_none()) {
        anyhow::ensure!(
            inst.path.exists(),
            "`{}` is missing: run `just build-components` first",
            inst.path.display()
        );
    }
    Ok(spec)
}

/// Runs the composed app on the sample; returns the telemetry `env` attempt and
/// how many `get-environment` calls reached the host.
pub fn telemetry_env_attempt(bytes: &[u8]) -> (String, u64) {
    let host = airlock_host::HostConfig {
        env: vec![
            ("HOME".into(), "/host".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "host-secret".into()),
            ("LANG".into(), "C".into()),
        ],
        ..airlock_host::HostConfig::default()
    };
    let (line, out) = telemetry_attempt(bytes, "env", host);
    (
        line,
        host_calls(&out, "wasi:cli/environment#get-environment"),
    )
}

/// Runs a composed example app with `host` (and an empty read-only `/data`
/// preopen); returns the telemetry library's `attempt CAPABILITY:` line and the run.
pub fn telemetry_attempt(
    bytes: &[u8],
    capability: &str,
    mut host: airlock_host::HostConfig,
) -> (String, airlock_host::RunOutcome) {
    let dir = tempfile::tempdir().unwrap();
    host.dirs.push(airlock_host::Preopen {
        host: dir.path().into(),
        guest: "/data".into(),
        read_only: true,
    });
    let out = run_app(bytes, host);
    let prefix = format!("attempt {capability}: ");
    let line = app_sections(&out.stdout)["telemetry"]
        .iter()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("telemetry reports no {capability} attempt"))
        .to_string();
    (line, out)
}

/// How many calls of `function` (`interface#name`) reached the host in a run.
pub fn host_calls(out: &airlock_host::RunOutcome, function: &str) -> u64 {
    out.calls.get(function).copied().unwrap_or(0)
}

/// The example app with `extra` on its telemetry library and `allow` added to
/// its allow-list, composed.
pub fn example_with_telemetry_allowing(extra: &str, allow: &[&str]) -> Composed {
    let mut spec = example_spec_with_telemetry(extra);
    spec.allow
        .0
        .extend(PatternSet::parse(allow).expect("valid patterns").0);
    compose(&spec).expect("the example composes")
}

/// Replaces the allow-list of a spec.
pub fn set_allow(spec: &mut CompositionSpec, patterns: &[&str]) {
    spec.allow = PatternSet::parse(patterns).expect("valid patterns");
}

/// Replaces the grants of one instance.
pub fn set_grant(spec: &mut CompositionSpec, instance: &str, patterns: &[&str]) {
    let inst = spec
        .instances
        .iter_mut()
        .find(|i| i.name == instance)
        .unwrap_or_else(|| panic!("no instance `{instance}`"));
    inst.grant = PatternSet::parse(patterns).expect("valid patterns");
}

/// Composes, or fails with the composer's message.
pub fn compose(spec: &CompositionSpec) -> Result<Composed> {
    pipeline::compose(spec).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The top-level import names of a component, read with wasmparser alone.
pub fn import_names(component: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload.context("parsing the output")? {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    names.push(import?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    names.sort();
    Ok(names)
}

/// The `== NAME ==` sections of the example app's output: name -> its lines.
pub fn app_sections(stdout: &[u8]) -> BTreeMap<String, Vec<String>> {
    let text = String::from_utf8_lossy(stdout);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.strip_prefix("== ").and_then(|l| l.strip_suffix(" ==")) {
            Some(name) => {
                current = name.to_string();
                out.entry(current.clone()).or_default();
            }
            None => out
                .entry(current.clone())
                .or_default()
                .push(line.to_string()),
        }
    }
    out
}

/// The example app's paragraphs, by its documented rule, written again here so
/// tests check the app against an independent reading: blank-line separated
/// blocks without their ATX heading lines; blocks of headings only are dropped.
pub fn paragraphs(doc: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    for block in doc.split("\n\n") {
        let body: Vec<&str> = block
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter(|l| {
                let hashes = l.chars().take_while(|c| *c == '#').count();
                !((1..=6).contains(&hashes) && l[hashes..].starts_with(' '))
            })
            .collect();
        if !body.is_empty() {
            blocks.push(body.join("\n"));
        }
    }
    blocks
}

/// Runs a composed example app on the sample document (stdin, argv `app.wasm`),
/// with `config` for everything else, and asserts it exited 0.
pub fn run_app(bytes: &[u8], mut config: airlock_host::HostConfig) -> airlock_host::RunOutcome {
    config.args = vec!["app.wasm".into()];
    config.stdin = airlock_host::Stdin::Bytes(sample_document());
    let outcome = airlock_host::run_command(&airlock_host::engine(), bytes, &config)
        .expect("the app instantiates");
    assert_eq!(
        outcome.exit_code,
        0,
        "stderr: {}\ntrap: {:?}",
        String::from_utf8_lossy(&outcome.stderr),
        outcome.trap
    );
    outcome
}

/// The example app's manifest, written into `dir` with absolute paths, with its
/// telemetry library swapped for `library` and re-exported by the output (so a
/// test can call the library's own exports), `extra` appended to the library's
/// table and `allow` added to the allow-list. The output path is
/// `dir/app.wasm`. Returns the manifest's path.
pub fn example_manifest_with_library(
    dir: &Path,
    library: &Path,
    extra: &str,
    allow: &[&str],
) -> PathBuf {
    let root = workspace()
        .canonicalize()
        .expect("the workspace root exists");
    let text = std::fs::read_to_string(example_manifest()).unwrap();
    let swaps = [
        (
            "path = \"../../target/wasm32-wasip2/component/telemetry.wasm\"".to_string(),
            format!("path = {:?}", library.display().to_string()),
        ),
        (
            "path = \"../../target/airlock/app.wasm\"".to_string(),
            format!(
                "export = [\"telemetry\"]\npath = {:?}",
                dir.join("app.wasm").display().to_string()
            ),
        ),
        (
            "interfaces = [\n".to_string(),
            format!(
                "interfaces = [\n{}",
                allow
                    .iter()
                    .map(|a| format!("  {a:?},\n"))
                    .collect::<String>()
            ),
        ),
        (
            "\"../../target/".to_string(),
            format!("\"{}/target/", root.display()),
        ),
    ];
    let mut text = text;
    for (from, to) in swaps {
        assert!(text.contains(&from), "the example manifest has no `{from}`");
        text = text.replace(&from, &to);
    }
    let text = format!("{}\n{extra}\n", text.trim_end());
    let path = dir.join("airlock.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The spec of [`example_manifest_with_library`].
pub fn example_spec_with_library(
    dir: &Path,
    library: &Path,
    extra: &str,
    allow: &[&str],
) -> CompositionSpec {
    let path = example_manifest_with_library(dir, library, extra, allow);
    let manifest = Manifest::load(&path).expect("the manifest loads");
    CompositionSpec::from_manifest(&manifest, &path).expect("a valid spec")
}

/// The pre-release name of WASI 0.3 that toolchains still emit, for tests of
/// components mixing versions.
pub const WASI_0_3_RC: &str = "0.3.0-rc-2026-03-15";

/// A resolve holding WASI 0.2 (`wit/deps`) and two copies of WASI 0.3
/// (`wit/deps-0.3`): at 0.3.0 and at [`WASI_0_3_RC`], so that one component
/// can import the same interface at all three versions.
pub fn wasi_resolve_all_tracks() -> wit_parser::Resolve {
    let mut resolve = airlock_core::testkit::wasi_resolve(&workspace().join("wit/deps")).unwrap();
    // `clocks-timezone` is `@unstable` in 0.3.0.
    resolve.all_features = true;
    for version in ["0.3.0", WASI_0_3_RC] {
        for pkg in ["clocks", "random", "filesystem", "sockets", "cli"] {
            let mut map = wit_parser::SourceMap::new();
            for entry in std::fs::read_dir(workspace().join("wit/deps-0.3").join(pkg)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                map.push_str(&path.display().to_string(), text.replace("0.3.0", version));
            }
            resolve
                .push_group(map.parse().map_err(|(_, e)| e).unwrap())
                .unwrap();
        }
    }
    resolve
}

/// Writes `dir/NAME.wasm`: the component of the single world of `wit`
/// (parsed into `resolve`), with `core` (WebAssembly text) as its code, or
/// trapping code when `None`.
pub fn write_component(
    resolve: &mut wit_parser::Resolve,
    wit: &str,
    core: Option<&str>,
    dir: &Path,
    name: &str,
) -> PathBuf {
    let pkg = resolve.push_str(format!("{name}.wit"), wit).unwrap();
    let world = resolve.select_world(&[pkg], None).unwrap();
    let module = match core {
        Some(text) => airlock_core::testkit::wat(text).unwrap(),
        None => wit_component::dummy_module(resolve, world, wit_parser::ManglingAndAbi::Standard32),
    };
    let bytes = airlock_core::testkit::encode_world(resolve, world, module).unwrap();
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    path
}

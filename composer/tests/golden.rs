//! Golden tests: one folder per case under `tests/golden/`, one test per case.
//!
//! A case folder holds:
//! - `cmd`: the `airlock` arguments, one line; `$DIR` is the case's scratch copy.
//! - `*.wit` (but the goldens below): each becomes `<stem>.wasm`, a component
//!   for the file's single world (WASI from the workspace's `wit/deps` is available).
//! - `*.wat`: each becomes `<stem>.wasm` as written (core modules, broken input).
//! - anything else (`airlock.toml`, raw files) is copied as is.
//! - `expected.txt`: exit code, stdout and stderr.
//! - `output.wit`: when the command succeeds and writes `$DIR/out.wasm`, the
//!   output's WIT (its world, then the packages it uses), as
//!   `wasm-tools component wit` prints it.
//! - `stubs.wit`: when that output holds synthesized components, the WIT of
//!   each, in the output's instance order, each under a header line
//!   (``// instance `lib (denials)` ``).
//!   A synthesized component is one instantiated under a name ending in
//!   ` (denials)` (an instance's denials and virtual values) or ` (types only)`
//!   (its types-only views), the names `compose` gives them and `verify` reads.
//!   Its bytes are the nested component that instance instantiates, found by
//!   walking the output's top-level index spaces (component sections, imports,
//!   aliases, instantiations, exports) and its `component-name` section; the
//!   walk's instance names must be the ones `airlock_core::reach` reads.
//!
//! `expected.txt`, `output.wit` and `stubs.wit` are goldens: a difference fails
//! the case, `BLESS=1` rewrites them; a missing one fails ("run with BLESS=1"),
//! and one the case does not produce (an `output.wit` for a failed command) is
//! stale and fails too (`BLESS=1` removes it). They are never inputs.
//!
//! After comparing, an output component (`out.wasm`) is validated and must exist
//! exactly when the command succeeded; a failed command must leave no file behind.

mod support;

use anyhow::{Context, Result, bail};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::{check_absent, check_golden, wit_of};

/// The goldens a case folder may hold; none of them is an input.
const GOLDENS: [&str; 3] = ["expected.txt", "output.wit", "stubs.wit"];

fn main() {
    // Validation verdicts go to a cache of this run's own (shared by the
    // cases, which run concurrently), never into the user's.
    let cache = tempfile::tempdir().expect("a temporary folder");
    // SAFETY: no other thread runs yet (the cases start below).
    unsafe { std::env::set_var("AIRLOCK_CACHE_DIR", cache.path()) };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/golden exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let trials = cases
        .into_iter()
        .map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || {
                run_case(&case).map_err(|e| Failed::from(format!("{e:#}")))
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&Arguments::from_args(), trials);
    drop(cache);
    conclusion.exit();
}

fn wasi_deps() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/deps")
}

fn run_case(case: &Path) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let dir = scratch.path();
    for entry in std::fs::read_dir(case)? {
        let path = entry?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if GOLDENS.contains(&name.as_str()) || name == "cmd" {
            continue;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("wit") => {
                let text = std::fs::read_to_string(&path)?;
                let bytes = airlock_core::testkit::component_from_wit(&text, Some(&wasi_deps()))
                    .with_context(|| format!("building `{name}`"))?;
                std::fs::write(dir.join(format!("{stem}.wasm")), bytes)?;
            }
            Some("wat") => {
                let bytes = airlock_core::testkit::wat(&std::fs::read_to_string(&path)?)?;
                std::fs::write(dir.join(format!("{stem}.wasm")), bytes)?;
            }
            _ => {
                std::fs::copy(&path, dir.join(&name))?;
            }
        }
    }
    let before = listing(dir)?;
    let cmd = std::fs::read_to_string(case.join("cmd")).context("reading `cmd`")?;
    let dir_text = dir.to_string_lossy();
    let args = std::iter::once("airlock".to_string())
        .chain(cmd.split_whitespace().map(|a| a.replace("$DIR", &dir_text)));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = airlock::main(args, &mut out, &mut err);
    let actual = format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8(out)?,
        String::from_utf8(err)?
    )
    .replace(dir_text.as_ref(), "$DIR");

    check_golden(&case.join("expected.txt"), &actual)?;

    // The output exists exactly on success, and validates; its WIT and that
    // of the components synthesized into it are goldens.
    let output = dir.join("out.wasm");
    let (output_wit, stubs_wit) = if code == 0 && cmd.contains("out.wasm") {
        let bytes = std::fs::read(&output).context("success without `out.wasm`")?;
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&bytes)
            .context("the output does not validate")?;
        let output_wit = wit_of(&bytes).context("the output's WIT")?;
        let mut stubs_wit = String::new();
        for (name, stub) in synthesized(&bytes)? {
            let wit = wit_of(stub).with_context(|| format!("the WIT of `{name}`"))?;
            if !stubs_wit.is_empty() {
                stubs_wit.push('\n');
            }
            stubs_wit.push_str(&format!("// instance `{name}`\n{wit}"));
        }
        (Some(output_wit), Some(stubs_wit).filter(|s| !s.is_empty()))
    } else {
        (None, None)
    };
    let output_path = case.join("output.wit");
    match output_wit {
        Some(wit) => check_golden(&output_path, &wit)?,
        None => check_absent(&output_path, "the command writes no `out.wasm`")?,
    }
    let stubs_path = case.join("stubs.wit");
    match stubs_wit {
        Some(wit) => check_golden(&stubs_path, &wit)?,
        None => check_absent(&stubs_path, "no output with synthesized components")?,
    }
    if code != 0 {
        let after = listing(dir)?;
        if after != before {
            bail!("a failed command changed the folder: before {before:?}, after {after:?}");
        }
    }
    Ok(())
}

/// File names and sizes in a folder, to prove nothing was written or modified.
fn listing(dir: &Path) -> Result<Vec<(String, u64)>> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)?
        .map(|e| {
            let e = e?;
            Ok((
                e.file_name().to_string_lossy().into_owned(),
                e.metadata()?.len(),
            ))
        })
        .collect::<Result<_>>()?;
    files.sort();
    Ok(files)
}

/// The components `airlock` synthesized into `output`, in instance order: the
/// name of each instance named `NAME (denials)` or `NAME (types only)` and the
/// bytes of the nested component it instantiates.
fn synthesized(output: &[u8]) -> Result<Vec<(String, &[u8])>> {
    let top = airlock_core::nested::top_level(output)?;
    // The walk must see the instantiations `airlock_core::reach` sees, by the same names.
    let instantiated: BTreeSet<&str> = top.instances.iter().map(|(n, _)| n.as_str()).collect();
    let reach = airlock_core::reach::host_reach(output)?;
    let reached: BTreeSet<&str> = reach.instances.keys().map(String::as_str).collect();
    if instantiated != reached {
        bail!("instance names: the walk found {instantiated:?}, `reach` {reached:?}");
    }
    Ok(top
        .instances
        .into_iter()
        .filter(|(name, _)| name.ends_with(" (denials)") || name.ends_with(" (types only)"))
        .collect())
}
